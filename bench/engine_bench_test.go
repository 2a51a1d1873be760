package main

// Go benchmarks of the engine's hot paths, on a real redis-server (started by
// internal/redistest):
//
//	go test -run '^$' -bench . -benchmem ./bench
//
// BenchmarkPublish_*: Operator.Emit through the batching publisher until
// Redis acknowledged every PUBLISH. Metrics: round-trips/broadcast (the
// publisher's batches per broadcast), allocs/broadcast (the whole process:
// Emit, the publisher, rueidis, and the node reading back its own echoes,
// which the classic protocol's pattern subscription always delivers).
//
// BenchmarkReceive_*: a raw rueidis client publishes pre-encoded broadcasts
// (the bytes another engine publishes) to a room of N local sockets of one
// engine; the benchmark ends when the host counted every broadcast.
// Metrics: allocs/broadcast (the whole process, which includes rueidis
// reading the message and the raw publisher), engine-allocs/broadcast (the
// same minus a baseline where a raw rueidis subscriber replaces the engine:
// what the engine itself allocates per broadcast, for any N), and
// ns/delivery.

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/sioredis/sioredis/engine"
	"github.com/sioredis/sioredis/internal/redistest"
)

// benchHost counts deliveries and distinct packets.
type benchHost struct {
	deliveries atomic.Uint64
	packets    atomic.Uint64
	last       *engine.Packet // Deliver runs on the namespace's single worker
}

func (h *benchHost) Deliver(_ string, p *engine.Packet) {
	h.deliveries.Add(1)
	if p != h.last {
		h.last = p
		h.packets.Add(1)
	}
}
func (h *benchHost) Disconnect(string, bool)                   {}
func (h *benchHost) Describe(string) (engine.SocketInfo, bool) { return engine.SocketInfo{}, false }
func (h *benchHost) ServerSideEmit(*engine.ServerEvent)        {}
func (h *benchHost) waitPackets(tb testing.TB, n uint64) time.Duration {
	return pollUntil(tb, func() bool { return h.packets.Load() >= n },
		func() string { return fmt.Sprintf("received %d of %d broadcasts", h.packets.Load(), n) })
}

// pollUntil polls cond every 50 µs (fine enough not to blur the timings)
// until it holds, failing after 60 s with what(); it returns the time it
// waited.
func pollUntil(tb testing.TB, cond func() bool, what func() string) time.Duration {
	tb.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > 60*time.Second {
			tb.Fatalf("timed out: %s", what())
		}
		time.Sleep(50 * time.Microsecond)
	}
	return time.Since(start)
}

var benchKeys atomic.Int64

// benchRoom is the room of the benchmarks (the harness's first room, which
// captureBroadcast targets).
const benchRoom = "room-0"

// benchEngine starts an engine on the test Redis with sockets local
// sockets in benchRoom, under key.
func benchEngine(b *testing.B, key string, sockets int, opts engine.Options) (*engine.Engine, *engine.Namespace, *benchHost) {
	b.Helper()
	srv := redistest.Standalone(b)
	opts.ClientOption = rueidis.ClientOption{InitAddress: []string{srv.Addr}, DisableCache: true}
	opts.Key = key
	e, err := engine.New(opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close() })
	h := &benchHost{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ns, err := e.Namespace(ctx, "/", h)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < sockets; i++ {
		if err := ns.Join(fmt.Sprintf("s%d", i), engine.StringRoom(benchRoom)); err != nil {
			b.Fatal(err)
		}
	}
	return e, ns, h
}

func freshKey() string { return fmt.Sprintf("bench%d", benchKeys.Add(1)) }

// waitPublished waits until the engine's publisher got n acknowledgements.
func waitPublished(b *testing.B, e *engine.Engine, n uint64) {
	pollUntil(b, func() bool { return e.Stats().Published >= n },
		func() string { return fmt.Sprintf("published %d of %d", e.Stats().Published, n) })
}

func benchmarkPublish(b *testing.B, parallel bool) {
	e, ns, _ := benchEngine(b, freshKey(), 0, engine.Options{})
	op := ns.To(engine.StringRoom(benchRoom))
	var payload any = strings.Repeat("x", 100)
	ctx := context.Background()
	s0 := e.Stats()
	b.ReportAllocs()
	b.ResetTimer()
	if parallel {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := op.Emit(ctx, "ev", 1234567, payload); err != nil {
					b.Error(err)
					return
				}
			}
		})
	} else {
		for i := 0; i < b.N; i++ {
			if err := op.Emit(ctx, "ev", 1234567, payload); err != nil {
				b.Fatal(err)
			}
		}
	}
	waitPublished(b, e, s0.Published+uint64(b.N))
	b.StopTimer()
	s1 := e.Stats()
	b.ReportMetric(float64(s1.PublishBatches-s0.PublishBatches)/float64(b.N), "round-trips/broadcast")
}

// BenchmarkPublish_Serial emits from one goroutine: Emit returns once the
// broadcast is queued, so batches still form while one is in flight.
func BenchmarkPublish_Serial(b *testing.B) { benchmarkPublish(b, false) }

// BenchmarkPublish_Parallel emits from GOMAXPROCS goroutines.
func BenchmarkPublish_Parallel(b *testing.B) { benchmarkPublish(b, true) }

// rawPublisher publishes one pre-encoded message in pinned DoMulti batches.
type rawPublisher struct {
	client rueidis.Client
	cmds   rueidis.Commands
}

func newRawPublisher(b *testing.B, channel, msg string) *rawPublisher {
	srv := redistest.Standalone(b)
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{srv.Addr}, DisableCache: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Close)
	p := &rawPublisher{client: c, cmds: make(rueidis.Commands, 256)}
	for i := range p.cmds {
		p.cmds[i] = c.B().Publish().Channel(channel).Message(msg).Build().Pin()
	}
	return p
}

// publish sends n messages, in batches sent one at a time (each waits for
// its acknowledgement). received, when not nil, is flow control: no more
// than window messages are ahead of it, so a slow receiver is measured
// rather than overrun (its queue would drop).
func (p *rawPublisher) publish(b *testing.B, n int, received func() uint64) {
	const window = 4096
	var sent uint64
	if received != nil {
		sent = received()
	}
	for n > 0 {
		if received != nil {
			for sent > received()+window {
				time.Sleep(20 * time.Microsecond)
			}
		}
		k := min(n, len(p.cmds))
		sent += uint64(k)
		for _, r := range p.client.DoMulti(context.Background(), p.cmds[:k]...) {
			if err := r.Error(); err != nil {
				b.Fatal(err)
			}
		}
		n -= k
	}
}

// foreignBroadcast returns the channel and bytes of a broadcast to benchRoom
// published by another engine under key (100-byte payload, the harness's
// event shape).
func foreignBroadcast(b *testing.B, key string) (string, string) {
	srv := redistest.Standalone(b)
	cfg := &Config{RedisURL: srv.URL(), Key: key, Rooms: 1, Payload: 100, Target: targetRooms, Warmup: time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	channel, msg, err := captureBroadcast(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	return channel, msg
}

var (
	baselineOnce   sync.Once
	baselineAllocs float64
)

// rawReceive sends n broadcasts to a raw rueidis subscriber (PSUBSCRIBE,
// as the engine) that only counts them, and returns the allocations per
// message: rueidis's reader and the raw publisher, without the engine. With
// b running it is that benchmark's timed body.
func rawReceive(b *testing.B, n int, timed bool) float64 {
	key := freshKey()
	channel, msg := foreignBroadcast(b, key)
	srv := redistest.Standalone(b)
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{srv.Addr}, DisableCache: true})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	dc, release := c.Dedicate()
	defer release()
	var got atomic.Uint64
	dc.SetPubSubHooks(rueidis.PubSubHooks{OnMessage: func(rueidis.PubSubMessage) { got.Add(1) }})
	if err := dc.Do(context.Background(), dc.B().Psubscribe().Pattern(key+"#/#*").Build()).Error(); err != nil {
		b.Fatal(err)
	}
	pub := newRawPublisher(b, channel, msg)
	pub.publish(b, 10_000, got.Load) // warm up
	pollUntil(b, func() bool { return got.Load() >= 10_000 },
		func() string { return fmt.Sprintf("warm-up: received %d of 10000", got.Load()) })
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	if timed {
		b.ReportAllocs()
		b.ResetTimer()
	}
	pub.publish(b, n, got.Load)
	pollUntil(b, func() bool { return got.Load() >= 10_000+uint64(n) },
		func() string { return fmt.Sprintf("received %d of %d", got.Load(), 10_000+uint64(n)) })
	if timed {
		b.StopTimer()
	}
	runtime.ReadMemStats(&m1)
	return float64(m1.Mallocs-m0.Mallocs) / float64(n)
}

// rawReceiveAllocs is rawReceive's figure over 100 000 messages, measured
// once per test binary: the baseline of engine-allocs/broadcast.
func rawReceiveAllocs(b *testing.B) float64 {
	baselineOnce.Do(func() { baselineAllocs = rawReceive(b, 100_000, false) })
	return baselineAllocs
}

func benchmarkReceive(b *testing.B, recipients int) {
	base := rawReceiveAllocs(b)
	key := freshKey()
	channel, msg := foreignBroadcast(b, key)
	_, _, h := benchEngine(b, key, recipients, engine.Options{})
	pub := newRawPublisher(b, channel, msg)
	pub.publish(b, 1000, h.packets.Load) // warm up
	h.waitPackets(b, 1000)
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	d0 := h.deliveries.Load()
	b.ReportAllocs()
	b.ResetTimer()
	pub.publish(b, b.N, h.packets.Load)
	h.waitPackets(b, 1000+uint64(b.N))
	// A packet is counted at its first recipient: the worker may still be
	// delivering the last broadcast to the others.
	want := uint64(b.N * recipients)
	pollUntil(b, func() bool { return h.deliveries.Load()-d0 >= want },
		func() string { return fmt.Sprintf("%d deliveries of %d", h.deliveries.Load()-d0, want) })
	b.StopTimer()
	runtime.ReadMemStats(&m1)
	if got := h.deliveries.Load() - d0; got != want {
		b.Fatalf("%d deliveries, want %d", got, want)
	}
	allocs := float64(m1.Mallocs-m0.Mallocs) / float64(b.N)
	b.ReportMetric(allocs, "allocs/broadcast")
	b.ReportMetric(allocs-base, "engine-allocs/broadcast")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*recipients), "ns/delivery")
}

// BenchmarkReceive_1 is the receive path with one recipient per broadcast.
func BenchmarkReceive_1(b *testing.B) { benchmarkReceive(b, 1) }

// BenchmarkReceive_100 is the receive path with 100 recipients.
func BenchmarkReceive_100(b *testing.B) { benchmarkReceive(b, 100) }

// BenchmarkReceive_10000 is the receive path with 10 000 recipients.
func BenchmarkReceive_10000(b *testing.B) { benchmarkReceive(b, 10000) }

// BenchmarkReceive_RawBaseline is the baseline of engine-allocs/broadcast:
// the same traffic read by a raw rueidis subscriber that only counts.
func BenchmarkReceive_RawBaseline(b *testing.B) {
	b.ReportMetric(rawReceive(b, b.N, true), "allocs/broadcast")
}
