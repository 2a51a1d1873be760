package engine

import (
	"testing"
	"time"

	"github.com/sioredis/sioredis/internal/redistest"
)

func TestServerWatch(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	w := &serverWatch{}
	steps := []struct {
		at        time.Duration
		receivers int
		short     uint64
	}{
		{0, 2, 0},
		{time.Second, 2, 0},
		{2 * time.Second, 1, 1}, // a server deaf (this one or another)
		{4 * time.Second, 0, 2}, // both
		{5 * time.Second, 2, 2}, // back
		{time.Hour, 1, 3},       // after a long outage with nothing published: still short
		{time.Hour + 5*time.Second, 1, 4},
		{time.Hour + 11*time.Second, 1, 4}, // 10 s below: the server left
		{time.Hour + 12*time.Second, 1, 4},
		{time.Hour + 13*time.Second, 3, 4}, // a third server
		{time.Hour + 14*time.Second, 2, 5},
	}
	for i, s := range steps {
		w.observe(s.receivers, at(s.at))
		if got := w.snapshot().Count; got != s.short {
			t.Fatalf("step %d (%d receivers at %v): %d short publishes, want %d", i, s.receivers, s.at, got, s.short)
		}
	}
	if got := w.snapshot(); got.Receivers != 2 || got.Expected != 3 || !got.Last.Equal(at(time.Hour+14*time.Second)) {
		t.Fatalf("last short publish %+v", got)
	}
}

func TestGapTracker(t *testing.T) {
	var g gapTracker
	t0 := time.Unix(1000, 0)
	if _, ok := g.end(t0); ok {
		t.Fatal("ended a gap that never began")
	}
	g.begin(t0)
	g.begin(t0.Add(time.Second)) // already open: the first beginning counts
	if d, ok := g.end(t0.Add(3 * time.Second)); !ok || d != 3*time.Second {
		t.Fatalf("end = %v, %v", d, ok)
	}
	g.begin(t0.Add(10 * time.Second))
	s := g.snapshot()
	if s.Count != 2 || !s.Open || !s.LastBegan.Equal(t0.Add(10*time.Second)) || !s.LastEnded.IsZero() || s.Total < 3*time.Second {
		t.Fatalf("snapshot %+v", s)
	}
}

func TestLatencyHistogram(t *testing.T) {
	var h latencyHistogram
	for _, d := range []time.Duration{500 * time.Microsecond, time.Millisecond, 3 * time.Millisecond, time.Minute} {
		h.observe(d)
	}
	s := h.snapshot()
	if len(s.Counts) != len(s.Bounds)+1 || s.Count != 4 || s.Counts[0] != 2 || s.Counts[2] != 1 || s.Counts[len(s.Bounds)] != 1 {
		t.Fatalf("histogram %+v", s)
	}
	if s.Sum != 500*time.Microsecond+time.Millisecond+3*time.Millisecond+time.Minute {
		t.Fatalf("sum %v", s.Sum)
	}
}

// TestNamespaceStats: the per-namespace counters follow a broadcast and a
// request.
func TestNamespaceStats(t *testing.T) {
	srv := redistest.Standalone(t)
	a := newNode(t, srv.Addr, Options{Key: "nsstats"})
	b := newNode(t, srv.Addr, Options{Key: "nsstats"})
	sb := b.socket(t, "r")
	must(t, a.ns.To(StringRoom("r")).Emit(ctx(t), "x"))
	b.host.waitReceived(t, sb, 1)
	socks, err := a.ns.Operator().FetchSockets(ctx(t))
	must(t, err)
	if len(socks) != 1 {
		t.Fatalf("FetchSockets = %d sockets", len(socks))
	}
	sa, sbs := a.e.Stats().Namespaces["/"], b.e.Stats().Namespaces["/"]
	if sa.Published != 2 || sa.RequestLatency.Count != 1 || sa.RequestTimeouts != 0 {
		t.Errorf("A: %+v", sa)
	}
	if sbs.Delivered != 1 || sbs.Received < 2 || sbs.Published != 1 || sbs.Sockets != 1 || sbs.Rooms != 2 || !sbs.Live {
		t.Errorf("B: %+v", sbs)
	}
}
