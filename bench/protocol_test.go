package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/redis/rueidis"
	"github.com/sioredis/sioredis/internal/redistest"
)

// TestProtocols runs the harness briefly in each wire generation of
// -protocol (3 nodes, 2 publishing, on the shared standalone Redis) and
// checks exact counts only: every broadcast reaches each of its recipients
// exactly once, locally and on the other nodes, with no drop and no error.
func TestProtocols(t *testing.T) {
	t.Parallel()
	for _, tc := range [][]string{
		{"-protocol", "redis4"},
		{"-protocol", "redis5"},
		{"-protocol", "redis6"},
		{"-protocol", "redis6", "-subscriptions", "rooms"},
		{"-protocol", "sharded", "-sharded-mode", "static"},
		{"-protocol", "sharded", "-sharded-mode", "dynamic"},
		{"-protocol", "sharded", "-sharded-mode", "dynamic-private"},
		{"-protocol", "sharded", "-target", "all"},
	} {
		t.Run(strings.Join(tc, "_"), func(t *testing.T) {
			t.Parallel()
			cfg := tinyConfig(t, append([]string{"-duration", "500ms"}, tc...)...)
			res, err := testRunner(t, cfg).run(context.Background(), cfg.Rate)
			if err != nil {
				t.Fatal(err)
			}
			checkDeliveries(t, cfg, res)
		})
	}
}

// TestShardedCeiling runs the raw SPUBLISH → SSUBSCRIBE ceilings of the
// sharded topology briefly: they carry the engine's own bytes on the run's
// room channels, and the subscriber hears them.
func TestShardedCeiling(t *testing.T) {
	t.Parallel()
	cfg := tinyConfig(t, "-protocol", "sharded", "-duration", "300ms", "-ceiling-batch", "10", "-ceiling-goroutines", "1")
	r := testRunner(t, cfg)
	for _, sp := range []ceilingSpec{{sharded: true, all: true}, cfg.topologyCeiling()} {
		c, err := r.runCeiling(context.Background(), sp)
		if err != nil {
			t.Fatal(err)
		}
		if c.Command != "SPUBLISH" || c.Channels != cfg.Rooms || c.WireBytes == 0 || c.PublishedPerSec == 0 || c.ReceivedPerSec == 0 {
			t.Errorf("%s: %+v", sp.label(), c)
		}
		if !strings.HasPrefix(c.Channel, cfg.Key+"#/#room-") {
			t.Errorf("%s: channel %q, want a room channel", sp.label(), c.Channel)
		}
	}
}

// TestShardedCluster runs the sharded protocol (dynamic mode) on the
// test rig's 3-master cluster: exact deliveries, and the SPUBLISH commands
// of the window counted per master, on more than one of them (8 room
// channels spread over the slots).
func TestShardedCluster(t *testing.T) {
	t.Parallel()
	cl := redistest.Cluster(t)
	addrs := cl.Addrs()
	url := "redis://" + addrs[0] + "?addr=" + strings.Join(addrs[1:], "&addr=")
	cfg, err := parseFlags([]string{"-key", "bench-" + t.Name(), "-protocol", "sharded", "-redis", url, "-nodes", "2", "-rooms", "8",
		"-sockets", "8", "-goroutines", "2", "-duration", "500ms", "-warmup", "100ms", "-rate", "1500"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	client, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: addrs, DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if client.Mode() != rueidis.ClientModeCluster {
		t.Fatalf("client mode %v", client.Mode())
	}
	res, err := (&runner{cfg: cfg, redis: client}).run(context.Background(), cfg.Rate)
	if err != nil {
		t.Fatal(err)
	}
	checkDeliveries(t, cfg, res)
	if len(res.Masters) != 3 {
		t.Fatalf("per-master counts of %d nodes, want 3: %+v", len(res.Masters), res.Masters)
	}
	var total uint64
	busy := 0
	for _, m := range res.Masters {
		total += m.SPublish
		if m.SPublish > 0 {
			busy++
		}
		if m.Publish != 0 {
			t.Errorf("%s: %d PUBLISH in the sharded protocol", m.Addr, m.Publish)
		}
	}
	if total == 0 || busy < 2 {
		t.Errorf("SPUBLISH per master: %+v", res.Masters)
	}
}

// TestShardedScaleout runs the scale-out scenario in the sharded modes
// briefly: in the dynamic modes a receiving node reads only its own rooms'
// broadcasts (1/N), in static mode every one; each broadcast is delivered
// once; subscribing sockets costs SSUBSCRIBE commands in the dynamic modes
// only.
func TestShardedScaleout(t *testing.T) {
	t.Parallel()
	srv := redistest.NewStandalone(t)
	cfg, err := parseFlags([]string{"-scaleout", "-scaleout-nodes", "2", "-scaleout-rooms", "10", "-scaleout-sockets", "200",
		"-scaleout-modes", "sharded-static,sharded-dynamic,sharded-dynamic-private",
		"-duration", "500ms", "-warmup", "100ms", "-rate", "2000", "-goroutines", "2", "-redis", srv.URL()}, &bytes.Buffer{})
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
	if len(res.Rows) != 3 || len(res.Subscribe) != 3 || res.PushBytes["sharded-dynamic"] == 0 {
		t.Fatalf("%d rows, %d subscription costs, push sizes %v", len(res.Rows), len(res.Subscribe), res.PushBytes)
	}
	for _, row := range res.Rows {
		tot := row.Totals
		if tot.Published == 0 || !row.Drained || row.Lost != 0 || row.EmitErrors != 0 || row.RedisErrors != 0 || mapSum(row.Drops) != 0 {
			t.Errorf("%s: published %d, drained %v, lost %d, emit errors %d, redis errors %d, drops %v",
				row.Mode, tot.Published, row.Drained, row.Lost, row.EmitErrors, row.RedisErrors, row.Drops)
			continue
		}
		for i := range row.Receivers {
			if tot.Delivered[i] != tot.PublishedTo[i] {
				t.Errorf("%s: node %d delivered %d, want %d", row.Mode, i, tot.Delivered[i], tot.PublishedTo[i])
			}
			want := tot.PublishedTo[i]
			if row.Mode == "sharded-static" {
				want = tot.Published
			}
			if tot.Received[i] != want {
				t.Errorf("%s: node %d read %d messages, want %d", row.Mode, i, tot.Received[i], want)
			}
		}
	}
	for _, s := range res.Subscribe {
		if s.Errors != 0 {
			t.Errorf("%s: %d errors: %s", s.Mode, s.Errors, s.LastError)
		}
		if dynamic := s.Mode != "sharded-static"; dynamic != (s.SubscribeCalls > 0) || dynamic != (s.Channels > 0) {
			t.Errorf("%s: %d SSUBSCRIBE commands, %d shard channels", s.Mode, s.SubscribeCalls, s.Channels)
		}
	}
}
