package prometheus

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/rueidis"
	"github.com/sioredis/sioredis/engine"
	"github.com/sioredis/sioredis/internal/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// host is a minimal engine.Host that records the frames it is given.
type host struct {
	mu     sync.Mutex
	frames map[string][]string
}

func (h *host) Deliver(sid string, p *engine.Packet) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.frames == nil {
		h.frames = map[string][]string{}
	}
	h.frames[sid] = append(h.frames[sid], string(p.Frame.Text))
}

func (h *host) Disconnect(sid string, close bool) {}

func (h *host) Describe(sid string) (engine.SocketInfo, bool) {
	return engine.SocketInfo{ID: sid, Handshake: map[string]any{}, Data: map[string]any{}}, true
}

func (h *host) ServerSideEmit(ev *engine.ServerEvent) {}

func (h *host) count(sid string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.frames[sid])
}

func newEngine(t *testing.T, addr string) (*engine.Engine, *engine.Namespace, *host) {
	t.Helper()
	e, err := engine.New(engine.Options{ClientOption: rueidis.ClientOption{InitAddress: []string{addr}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	h := &host{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ns, err := e.Namespace(ctx, "/", h)
	if err != nil {
		t.Fatal(err)
	}
	return e, ns, h
}

// eventually retries check until it returns nil or 5 s have passed, and
// fails the test with its last error.
func eventually(t *testing.T, check func() error) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if err = check(); err == nil {
			return
		}
	}
	t.Fatal(err)
}

// TestCollectorOnTwoEngines drives a broadcast and a request (fetchSockets)
// between two engines on a real redis-server and checks the figures both
// collectors report.
func TestCollectorOnTwoEngines(t *testing.T) {
	srv := redistest.Standalone(t)
	e1, ns1, _ := newEngine(t, srv.Addr)
	e2, ns2, h2 := newEngine(t, srv.Addr)

	sid := engine.NewSocketID()
	if err := ns2.AddSocket(sid); err != nil {
		t.Fatal(err)
	}
	if err := ns2.Join(sid, engine.StringRoom("news")); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ns1.To(engine.StringRoom("news")).Emit(ctx, "headline", "sioredis ships"); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() error {
		if n := h2.count(sid); n != 1 {
			return fmt.Errorf("socket got %d frames, want 1", n)
		}
		return nil
	})
	sockets, err := ns1.Operator().FetchSockets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(sockets) != 1 || sockets[0].ID != sid {
		t.Fatalf("fetchSockets = %+v, want the socket %s", sockets, sid)
	}

	c1, c2 := New(e1, Options{}), New(e2, Options{})
	for _, c := range []*Collector{c1, c2} {
		problems, err := testutil.CollectAndLint(c)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Errorf("lint: %s: %s", p.Metric, p.Text)
		}
		// 11 engine counters and 9 drop reasons; for the one namespace 11
		// counters and gauges, 9 drop reasons and the histogram.
		if n, want := testutil.CollectAndCount(c), 11+9+11+9+1; n != want {
			t.Errorf("CollectAndCount = %d, want %d", n, want)
		}
	}
	// A pedantic registry checks that what is collected matches what is
	// described.
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c2)
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}

	// The receiving server: one socket in two rooms (its own and "news"),
	// one frame delivered, one remote broadcast, one answer published.
	eventually(t, func() error {
		return testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP sioredis_delivered_total Frames handed to Host.Deliver (one per recipient).
# TYPE sioredis_delivered_total counter
sioredis_delivered_total 1
# HELP sioredis_broadcasts_received_total Remote broadcasts delivered locally (to zero or more sockets).
# TYPE sioredis_broadcasts_received_total counter
sioredis_broadcasts_received_total 1
# HELP sioredis_published_total Messages handed to Redis (broadcasts, requests and responses) that Redis accepted.
# TYPE sioredis_published_total counter
sioredis_published_total 1
# HELP sioredis_namespace_sockets Local sockets of the namespace.
# TYPE sioredis_namespace_sockets gauge
sioredis_namespace_sockets{namespace="/"} 1
# HELP sioredis_namespace_rooms Local rooms of the namespace (own-id rooms included).
# TYPE sioredis_namespace_rooms gauge
sioredis_namespace_rooms{namespace="/"} 2
# HELP sioredis_namespace_live 1 when every subscription of the namespace is confirmed on a working connection, else 0.
# TYPE sioredis_namespace_live gauge
sioredis_namespace_live{namespace="/"} 1
# HELP sioredis_namespace_delivered_total Frames of the namespace handed to Host.Deliver.
# TYPE sioredis_namespace_delivered_total counter
sioredis_namespace_delivered_total{namespace="/"} 1
# HELP sioredis_namespace_published_total Messages of the namespace handed to the publisher (broadcasts, requests, answers).
# TYPE sioredis_namespace_published_total counter
sioredis_namespace_published_total{namespace="/"} 1
# HELP sioredis_namespace_gap_open 1 while the namespace is not subscribed, else 0.
# TYPE sioredis_namespace_gap_open gauge
sioredis_namespace_gap_open{namespace="/"} 0
`), "sioredis_delivered_total", "sioredis_broadcasts_received_total", "sioredis_published_total",
			"sioredis_namespace_sockets", "sioredis_namespace_rooms", "sioredis_namespace_live",
			"sioredis_namespace_delivered_total", "sioredis_namespace_published_total", "sioredis_namespace_gap_open")
	})

	// The sending server: a broadcast and a request published, no socket,
	// nothing delivered, one request timed (its latency in the histogram).
	eventually(t, func() error {
		return testutil.CollectAndCompare(c1, strings.NewReader(`
# HELP sioredis_delivered_total Frames handed to Host.Deliver (one per recipient).
# TYPE sioredis_delivered_total counter
sioredis_delivered_total 0
# HELP sioredis_published_total Messages handed to Redis (broadcasts, requests and responses) that Redis accepted.
# TYPE sioredis_published_total counter
sioredis_published_total 2
# HELP sioredis_request_timeouts_total Requests that ended before every expected server answered.
# TYPE sioredis_request_timeouts_total counter
sioredis_request_timeouts_total 0
# HELP sioredis_namespace_sockets Local sockets of the namespace.
# TYPE sioredis_namespace_sockets gauge
sioredis_namespace_sockets{namespace="/"} 0
# HELP sioredis_namespace_published_total Messages of the namespace handed to the publisher (broadcasts, requests, answers).
# TYPE sioredis_namespace_published_total counter
sioredis_namespace_published_total{namespace="/"} 2
`), "sioredis_delivered_total", "sioredis_published_total", "sioredis_request_timeouts_total",
			"sioredis_namespace_sockets", "sioredis_namespace_published_total")
	})
	s := e1.Stats().Namespaces["/"].RequestLatency
	if s.Count != 1 {
		t.Fatalf("engine: %d requests timed, want 1", s.Count)
	}
	m := &dtoMetric{}
	if err := m.read(c1, "sioredis_namespace_request_duration_seconds"); err != nil {
		t.Fatal(err)
	}
	if m.count != 1 || m.last != 1 || m.sum != s.Sum.Seconds() {
		t.Errorf("request histogram: count %d, le=10 %d, sum %g; want 1, 1, %g", m.count, m.last, m.sum, s.Sum.Seconds())
	}
}

// TestPrefixAndConstLabels checks Options.Namespace and Options.ConstLabels.
func TestPrefixAndConstLabels(t *testing.T) {
	srv := redistest.Standalone(t)
	e, _, _ := newEngine(t, srv.Addr)
	c := New(e, Options{Namespace: "chat", ConstLabels: prometheus.Labels{"node": "a"}})
	err := testutil.CollectAndCompare(c, strings.NewReader(`
# HELP chat_namespace_sockets Local sockets of the namespace.
# TYPE chat_namespace_sockets gauge
chat_namespace_sockets{namespace="/",node="a"} 0
# HELP chat_delivered_total Frames handed to Host.Deliver (one per recipient).
# TYPE chat_delivered_total counter
chat_delivered_total{node="a"} 0
`), "chat_namespace_sockets", "chat_delivered_total")
	if err != nil {
		t.Fatal(err)
	}
	// Two collectors with different const labels register side by side.
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c, New(e, Options{Namespace: "chat", ConstLabels: prometheus.Labels{"node": "b"}}))
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
}

// TestHistogram checks the conversion of the engine's non-cumulative
// counts into cumulative buckets.
func TestHistogram(t *testing.T) {
	h := engine.LatencyHistogram{
		Bounds: []time.Duration{time.Millisecond, 10 * time.Millisecond, time.Second},
		Counts: []uint64{2, 0, 3, 4}, // 4 above 1 s
		Sum:    7 * time.Second,
		Count:  8, // raced: the buckets say 9
	}
	d := prometheus.NewDesc("h_seconds", "A histogram.", []string{"namespace"}, nil)
	c := constCollector{histogram(d, h, "/")}
	err := testutil.CollectAndCompare(c, strings.NewReader(`
# HELP h_seconds A histogram.
# TYPE h_seconds histogram
h_seconds_bucket{namespace="/",le="0.001"} 2
h_seconds_bucket{namespace="/",le="0.01"} 2
h_seconds_bucket{namespace="/",le="1"} 5
h_seconds_bucket{namespace="/",le="+Inf"} 9
h_seconds_sum{namespace="/"} 7
h_seconds_count{namespace="/"} 9
`))
	if err != nil {
		t.Fatal(err)
	}
}

// constCollector collects fixed metrics.
type constCollector []prometheus.Metric

func (c constCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range c {
		ch <- m.Desc()
	}
}

func (c constCollector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c {
		ch <- m
	}
}

// dtoMetric is the count, sum and last finite bucket (le="10") of one
// histogram.
type dtoMetric struct {
	count, last uint64
	sum         float64
}

func (m *dtoMetric) read(c prometheus.Collector, name string) error {
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		return err
	}
	families, err := reg.Gather()
	if err != nil {
		return err
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		if len(f.GetMetric()) != 1 {
			return fmt.Errorf("%s: %d metrics, want 1", name, len(f.GetMetric()))
		}
		h := f.GetMetric()[0].GetHistogram()
		m.count, m.sum = h.GetSampleCount(), h.GetSampleSum()
		for _, b := range h.GetBucket() {
			if b.GetUpperBound() == 10 {
				m.last = b.GetCumulativeCount()
			}
		}
		return nil
	}
	return fmt.Errorf("no metric %s", name)
}
