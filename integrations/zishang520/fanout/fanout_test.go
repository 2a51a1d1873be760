package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary serve as server B, as the command does.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		if err := serveChild(os.Stdin, os.Stdout); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestSmoke runs every server with 10 clients for a short window: every
// broadcast reaches every client, and the table has a row per server and
// the goal line.
func TestSmoke(t *testing.T) {
	cfg, err := parseFlags([]string{"-clients", "10", "-rate", "20", "-warmup", "200ms", "-duration", "500ms", "-drain", "300ms"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rows, err := run(ctx, cfg, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(allServers) {
		t.Fatalf("%d rows, want %d", len(rows), len(allServers))
	}
	for _, r := range rows {
		if r.Emitted == 0 || r.Received == 0 || r.CPUMicros <= 0 {
			t.Errorf("%s: nothing measured: %+v", r.Server, r)
		}
		if r.Lost != 0 || r.Disconnects != 0 || r.Dropped != 0 {
			t.Errorf("%s: lost %d, disconnects %d, drops %d", r.Server, r.Lost, r.Disconnects, r.Dropped)
		}
	}
	var out strings.Builder
	report(&out, cfg, rows)
	for _, want := range append(allServers, "goal: CPU per delivery, sioredis ÷ in-memory") {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report has no %q:\n%s", want, out.String())
		}
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{{"-clients", "0"}, {"-rate", "0"}, {"-servers", "sioredis,bogus"}, {"-rounds", "0"}, {"extra"}} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}
