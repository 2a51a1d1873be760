package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/rueidis"
	"github.com/sioredis/sioredis/internal/redistest"
)

// TestMain also serves as the child of -procs runs: runProcs re-executes
// the running binary (here the test binary) with -child N.
func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == "-child" {
		i, _ := strconv.Atoi(os.Args[2])
		if err := runChild(i); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	if len(os.Args) == 2 && os.Args[1] == "-scaleout-child" { // -scaleout -procs
		if err := runScaleChild(); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	redistest.Main(m)
}

// testRunner returns a runner on the shared test Redis.
func testRunner(t *testing.T, cfg *Config) *runner {
	t.Helper()
	srv := redistest.Standalone(t)
	cfg.RedisURL = srv.URL()
	client, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{srv.Addr}, DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	return &runner{cfg: cfg, redis: client}
}

func tinyConfig(t *testing.T, extra ...string) *Config {
	t.Helper()
	args := append([]string{"-key", "bench-" + t.Name(), "-nodes", "3", "-pub-nodes", "2", "-rooms", "3", "-sockets", "4", "-goroutines", "2",
		"-duration", "1s", "-warmup", "100ms", "-rate", "1500"}, extra...)
	cfg, err := parseFlags(args, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// checkRun asserts that every node delivered what was published, times its
// recipients, with no drop and no error, at about the asked rate.
func checkRun(t *testing.T, cfg *Config, res *runResult) {
	t.Helper()
	s := checkDeliveries(t, cfg, res)
	// Fixed rate: about 1500/s per publishing node over the 1 s window.
	if s.PublishedPerSec < 2*1500*0.8 || s.PublishedPerSec > 2*1500*1.2 {
		t.Errorf("published %.0f/s, want about %d", s.PublishedPerSec, 2*1500)
	}
}

// checkDeliveries is checkRun without the rate: structural assertions
// only. Every broadcast is delivered exactly once per recipient (the
// counts are equal, so neither lost nor duplicated).
func checkDeliveries(t *testing.T, cfg *Config, res *runResult) *Summary {
	t.Helper()
	if !res.Drained {
		t.Errorf("not drained")
	}
	var expected, published uint64
	for _, n := range res.Nodes {
		expected += n.Final.Expected
		published += n.Final.Published
		if n.Publisher != cfg.isPublisher(n.Index) {
			t.Errorf("node %d: publisher %v", n.Index, n.Publisher)
		}
	}
	if published == 0 {
		t.Fatal("nothing published")
	}
	for _, n := range res.Nodes {
		f := n.Final
		if f.Local != f.Expected {
			t.Errorf("node %d: %d local deliveries, want %d", n.Index, f.Local, f.Expected)
		}
		if want := expected - f.Expected; f.Remote != want {
			t.Errorf("node %d: %d remote deliveries, want %d", n.Index, f.Remote, want)
		}
		if d := f.realDrops(); d != 0 || f.EmitErrors != 0 || f.PublishErrs != 0 || f.RedisErrors != 0 || f.BadFrames != 0 {
			t.Errorf("node %d: drops %v, emit errors %d, publish errors %d, redis errors %d, bad frames %d",
				n.Index, f.Dropped, f.EmitErrors, f.PublishErrs, f.RedisErrors, f.BadFrames)
		}
	}
	s := summarize(res)
	if s.Lost != 0 || s.Latency.Count == 0 {
		t.Errorf("summary: lost %d, %d latency samples", s.Lost, s.Latency.Count)
	}
	return s
}

func TestHarnessInProcess(t *testing.T) {
	t.Parallel()
	cfg := tinyConfig(t)
	res, err := testRunner(t, cfg).run(context.Background(), cfg.Rate)
	if err != nil {
		t.Fatal(err)
	}
	checkRun(t, cfg, res)
}

func TestHarnessProcs(t *testing.T) {
	t.Parallel()
	cfg := tinyConfig(t, "-nodes", "2", "-procs", "-duration", "500ms")
	res, err := testRunner(t, cfg).run(context.Background(), cfg.Rate)
	if err != nil {
		t.Fatal(err)
	}
	checkRun(t, cfg, res)
	for _, n := range res.Nodes {
		if n.Usage == nil || n.Usage.CPU <= 0 {
			t.Errorf("node %d: no process usage", n.Index)
		}
	}
}

func TestHarnessTargetAll(t *testing.T) {
	t.Parallel()
	cfg := tinyConfig(t, "-target", "all", "-nodes", "2")
	res, err := testRunner(t, cfg).run(context.Background(), cfg.Rate)
	if err != nil {
		t.Fatal(err)
	}
	checkRun(t, cfg, res)
	if got := res.Nodes[0].Final.Expected; got != res.Nodes[0].Final.Published*4 {
		t.Errorf("to everyone: expected %d deliveries for %d broadcasts × 4 sockets", got, res.Nodes[0].Final.Published)
	}
}

func TestReportPrintsAndEncodes(t *testing.T) {
	t.Parallel()
	cfg := tinyConfig(t, "-nodes", "2", "-pub-nodes", "1", "-duration", "300ms")
	res, err := testRunner(t, cfg).run(context.Background(), cfg.Rate)
	if err != nil {
		t.Fatal(err)
	}
	r := &Result{Mode: "in-process", Redis: cfg.RedisURL, Config: cfg, Run: summarize(res)}
	var out bytes.Buffer
	r.print(&out)
	for _, want := range []string{"published/s", "received bc/s", "p99 ms", "per published broadcast", "every expected delivery arrived"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	if err := json.NewEncoder(&out).Encode(r); err != nil {
		t.Fatal(err)
	}
}

func TestFrameParsing(t *testing.T) {
	for _, tc := range []struct {
		text   string
		origin int
		ts     int64
		ok     bool
	}{
		{`42["n0",123456789,"xx"]`, 0, 123456789, true},
		{`42["n12",5,"xx"]`, 12, 5, true},
		{`42["x0",5,"xx"]`, 0, 0, false},
		{`42["n",5]`, 0, 0, false},
	} {
		o, ok := frameOrigin([]byte(tc.text))
		if ok != tc.ok || o != tc.origin {
			t.Errorf("frameOrigin(%s) = %d, %v", tc.text, o, ok)
		}
		if !tc.ok {
			continue
		}
		ts, ok := frameTimestamp([]byte(tc.text))
		if !ok || ts != tc.ts {
			t.Errorf("frameTimestamp(%s) = %d, %v", tc.text, ts, ok)
		}
	}
}

func TestFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"-rate", "50%", "-profile-dir", "p"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RatePercent != 50 || cfg.Rate != 0 || cfg.CPUProfile != "p/cpu.pprof" || profilePath(cfg.CPUProfile, 1) != "p/cpu-node1.pprof" {
		t.Errorf("%+v", cfg)
	}
	if _, err := parseFlags([]string{"-target", "nobody"}, &bytes.Buffer{}); err == nil {
		t.Error("bad -target accepted")
	}
	var help bytes.Buffer
	_, _ = parseFlags([]string{"-h"}, &help)
	if !strings.Contains(help.String(), "-compare") || strings.Contains(help.String(), "-child") {
		t.Errorf("usage:\n%s", help.String())
	}
	if cfg.recipients(-1) != 16 || tinyConfigRecipients() != [3]int{2, 1, 1} {
		t.Error("recipients")
	}
}

func tinyConfigRecipients() [3]int {
	c := &Config{Sockets: 4, Rooms: 3}
	return [3]int{c.recipients(0), c.recipients(1), c.recipients(2)}
}
