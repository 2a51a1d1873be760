package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/redis/rueidis"
	"github.com/sioredis/sioredis/internal/redistest"
)

// TestScaleout runs the scale-out scenario briefly on its own Redis (its
// INFO counters must see only this test) and checks what cannot be flaky:
// exact counts, never speed. In rooms mode a receiving node reads only the
// broadcasts of its own rooms (1/N of them); in pattern mode every node
// reads every broadcast; every broadcast is delivered once; subscribing
// sockets costs SUBSCRIBE commands (batched) in rooms mode only.
func TestScaleout(t *testing.T) {
	t.Parallel()
	srv := redistest.NewStandalone(t)
	cfg, err := parseFlags([]string{"-scaleout", "-scaleout-nodes", "1,2", "-scaleout-rooms", "20", "-scaleout-sockets", "2000",
		"-duration", "1s", "-warmup", "100ms", "-rate", "4000", "-goroutines", "4", "-redis", srv.URL()}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	client, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{srv.Addr}, DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	r := &runner{cfg: cfg, redis: client}
	res, err := r.runScaleout(context.Background(), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 4 || len(res.Subscribe) != 2 {
		t.Fatalf("%d rows, %d subscription costs", len(res.Rows), len(res.Subscribe))
	}
	for _, row := range res.Rows {
		tot := row.Totals
		if tot.Published == 0 || row.Published == 0 || !row.Drained || row.Lost != 0 || row.EmitErrors != 0 || row.RedisErrors != 0 || mapSum(row.Drops) != 0 {
			t.Errorf("%s N=%d: published %d (window %d), drained %v, lost %d, emit errors %d, redis errors %d, drops %v",
				row.Mode, row.Receivers, tot.Published, row.Published, row.Drained, row.Lost, row.EmitErrors, row.RedisErrors, row.Drops)
			continue
		}
		n := row.Receivers
		var sumTo uint64
		for i := range n {
			sumTo += tot.PublishedTo[i]
			// Round robin over every room through one sequence: each node
			// hosts 1/N of the broadcasts, give or take one per goroutine.
			if d := int64(tot.PublishedTo[i]) - int64(tot.Published)/int64(n); d < -int64(cfg.Goroutines) || d > int64(cfg.Goroutines) {
				t.Errorf("%s N=%d: node %d hosts %d of %d broadcasts", row.Mode, n, i, tot.PublishedTo[i], tot.Published)
			}
			// Exactly one socket per room: one delivery per broadcast, on
			// the hosting node only.
			if tot.Delivered[i] != tot.PublishedTo[i] {
				t.Errorf("%s N=%d: node %d delivered %d, want %d", row.Mode, n, i, tot.Delivered[i], tot.PublishedTo[i])
			}
			perBC := float64(tot.Received[i]) / float64(tot.Published)
			switch row.Mode {
			case "rooms":
				// Only its own rooms' broadcasts (nothing else is
				// published on this key during the run).
				if tot.Received[i] != tot.PublishedTo[i] || perBC > 1/float64(n)+0.01 {
					t.Errorf("rooms N=%d: node %d read %d messages (%.3f per broadcast) for %d broadcasts to its rooms",
						n, i, tot.Received[i], perBC, tot.PublishedTo[i])
				}
			case "pattern":
				if tot.Received[i] != tot.Published {
					t.Errorf("pattern N=%d: node %d read %d messages, want every broadcast (%d)", n, i, tot.Received[i], tot.Published)
				}
			}
		}
		if sumTo != tot.Published {
			t.Errorf("%s N=%d: Σ published to nodes %d ≠ published %d", row.Mode, n, sumTo, tot.Published)
		}
		if row.EgressMsgsPerBC <= 0 {
			t.Errorf("%s N=%d: no egress measured", row.Mode, n)
		}
	}
	for _, s := range res.Subscribe {
		if s.Errors != 0 {
			t.Errorf("%s: %d errors connecting sockets: %s", s.Mode, s.Errors, s.LastError)
		}
		switch s.Mode {
		case "rooms":
			// One channel per socket id and one per private room, many per
			// SUBSCRIBE.
			if s.Channels != 2*int64(s.Sockets) || s.SubscribeCalls == 0 || s.SubscribeCalls >= uint64(s.Sockets) {
				t.Errorf("rooms: %d channels in %d SUBSCRIBE commands for %d sockets", s.Channels, s.SubscribeCalls, s.Sockets)
			}
		case "pattern":
			if s.Channels != 0 || s.SubscribeCalls != 0 {
				t.Errorf("pattern: %d channels in %d SUBSCRIBE commands", s.Channels, s.SubscribeCalls)
			}
		}
	}
	var out bytes.Buffer
	res.print(&out, srv.Addr)
	for _, want := range []string{"egress msgs/bc", "recv/bc/node", "SUBSCRIBE cmds", "goals:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	if err := json.NewEncoder(&out).Encode(&Result{Config: cfg, Scaleout: res}); err != nil {
		t.Fatal(err)
	}
}

// TestScaleoutProcs runs one row with the receiving node in a child
// process: its counters and CPU come back over the pipe.
func TestScaleoutProcs(t *testing.T) {
	t.Parallel()
	srv := redistest.NewStandalone(t)
	cfg, err := parseFlags([]string{"-scaleout", "-procs", "-scaleout-nodes", "2", "-scaleout-modes", "rooms", "-scaleout-rooms", "5",
		"-scaleout-sockets", "0", "-duration", "500ms", "-warmup", "100ms", "-rate", "2000", "-goroutines", "2", "-redis", srv.URL()}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	client, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{srv.Addr}, DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	res, err := (&runner{cfg: cfg, redis: client}).runScaleout(context.Background(), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 1 {
		t.Fatalf("%d rows, want 1", len(res.Rows))
	}
	row := res.Rows[0]
	if !row.Drained || row.Lost != 0 || row.CPUPerBCUS <= 0 || res.Receivers != "separate-process" {
		t.Errorf("drained %v, lost %d, CPU %.2f µs/bc, receivers %s", row.Drained, row.Lost, row.CPUPerBCUS, res.Receivers)
	}
	for i, got := range row.Totals.Received {
		if got != row.Totals.PublishedTo[i] {
			t.Errorf("node %d read %d messages for %d broadcasts to its rooms", i, got, row.Totals.PublishedTo[i])
		}
	}
}
