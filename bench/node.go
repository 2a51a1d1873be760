package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
	"github.com/sioredis/sioredis/engine"
)

// benchNode is one engine node of the run: an engine with its own rueidis
// client, namespace "/" and a counting host holding cfg.Sockets sockets.
type benchNode struct {
	idx  int
	cfg  *Config
	eng  *engine.Engine
	ns   *engine.Namespace
	host *countingHost

	event   string            // "n<idx>"
	ops     []engine.Operator // one per room, or one for everyone
	opRecip []uint64          // recipients per node of ops[i]
	payload any               // the payload argument, boxed once
	hosts   bool              // it has sockets (see Config.PubHostsNone)

	published padded // successful emits
	expected  padded // Σ recipients per node of the successful emits
	emitErrs  padded
	lastErr   atomic.Value // string
}

// clientOption returns the rueidis options for the Redis at url.
func clientOption(url string) (rueidis.ClientOption, error) {
	opt, err := rueidis.ParseURL(url)
	if err != nil {
		return opt, fmt.Errorf("-redis %q: %w", url, err)
	}
	opt.DisableCache = true
	return opt, nil
}

// engineOptions are the engine options of the run.
func (c *Config) engineOptions(opt rueidis.ClientOption) engine.Options {
	mode, _ := parseMode(c.Subscriptions) // validated by parseFlags
	return engine.Options{
		ClientOption:      opt,
		Protocol:          c.protocol(),
		ShardedMode:       c.shardedMode(),
		Subscriptions:     mode,
		Key:               c.Key,
		PublishBatch:      c.PublishBatch,
		PublishFlushDelay: c.PublishFlushDelay,
		PublishQueue:      c.PublishQueue,
		ReceiveQueue:      c.ReceiveQueue,
	}
}

// startNode starts node idx and registers its sockets.
func startNode(ctx context.Context, cfg *Config, idx int, epoch int64) (*benchNode, error) {
	opt, err := clientOption(cfg.RedisURL)
	if err != nil {
		return nil, err
	}
	eng, err := engine.New(cfg.engineOptions(opt))
	if err != nil {
		return nil, fmt.Errorf("node %d: %w", idx, err)
	}
	n := &benchNode{idx: idx, cfg: cfg, eng: eng, host: newCountingHost(idx, epoch), event: "n" + strconv.Itoa(idx)}
	n.ns, err = eng.Namespace(ctx, "/", n.host)
	if err != nil {
		eng.Close()
		return nil, fmt.Errorf("node %d: %w", idx, err)
	}
	sockets := cfg.Sockets
	if cfg.PubHostsNone && cfg.isPublisher(idx) {
		sockets = 0
	}
	n.hosts = sockets > 0
	for s := 0; s < sockets; s++ {
		sid := fmt.Sprintf("n%ds%d", idx, s)
		if err := n.ns.Join(sid, engine.StringRoom(roomName(s%cfg.Rooms))); err != nil {
			eng.Close()
			return nil, err
		}
	}
	if cfg.Target == targetAll {
		n.ops = []engine.Operator{n.ns.Operator()}
		n.opRecip = []uint64{uint64(cfg.recipients(-1))}
	} else {
		for k := 0; k < cfg.Rooms; k++ {
			n.ops = append(n.ops, n.ns.To(engine.StringRoom(roomName(k))))
			n.opRecip = append(n.opRecip, uint64(cfg.recipients(k)))
		}
	}
	n.payload = strings.Repeat("x", cfg.Payload)
	return n, nil
}

// schedule is the timeline of a run, in wall-clock time shared by every
// node (and every process): publishing starts at start, the measured window
// is [measure, end).
type schedule struct {
	Epoch   int64 `json:"epoch"` // unix ns; timestamps in frames count from it
	Start   int64 `json:"start"`
	Measure int64 `json:"measure"`
	End     int64 `json:"end"`
}

func newSchedule(cfg *Config, lead time.Duration) schedule {
	now := time.Now()
	start := now.Add(lead)
	return schedule{
		Epoch:   now.UnixNano(),
		Start:   start.UnixNano(),
		Measure: start.Add(cfg.Warmup).UnixNano(),
		End:     start.Add(cfg.Warmup + cfg.Duration).UnixNano(),
	}
}

func sleepUntil(t int64) {
	if d := time.Until(time.Unix(0, t)); d > 0 {
		time.Sleep(d)
	}
}

// publish runs the node's G publishing goroutines from s.Start until s.End
// and returns when they are done. rate is the node's broadcasts/s (0: full
// speed).
func (n *benchNode) publish(s schedule, rate float64) {
	var wg sync.WaitGroup
	g := n.cfg.Goroutines
	for i := 0; i < g; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			n.publishLoop(i, g, s, rate/float64(g))
		}(i)
	}
	wg.Wait()
}

func (n *benchNode) publishLoop(i, g int, s schedule, rate float64) {
	ctx := context.Background()
	sleepUntil(s.Start)
	k := i % len(n.ops) // goroutines start on different rooms
	emit := func(sent int64) {
		if err := n.ops[k].Emit(ctx, n.event, sent-s.Epoch, n.payload); err != nil {
			n.emitErrs.Add(1)
			n.lastErr.Store(err.Error())
		} else {
			n.published.Add(1)
			n.expected.Add(n.opRecip[k])
		}
		if k += g; k >= len(n.ops) {
			k %= len(n.ops)
		}
	}
	if rate <= 0 {
		for {
			now := time.Now().UnixNano()
			if now >= s.End {
				return
			}
			emit(now)
		}
	}
	// Fixed rate: message j is due at Start + j/rate (the goroutines are
	// offset by a fraction of the interval). Everything due is sent at
	// once, stamped with its due time.
	interval := float64(time.Second) / rate
	offset := interval * float64(i) / float64(g)
	for j := 0; ; j++ {
		due := s.Start + int64(offset+float64(j)*interval)
		if due >= s.End {
			return
		}
		if now := time.Now().UnixNano(); due > now {
			// No spinning: the harness shares the CPUs with the engine and
			// Redis. A sleep may overshoot by tens of µs; what is due by
			// then goes out at once, stamped with its due time, so the
			// overshoot counts as latency rather than hiding it.
			time.Sleep(time.Duration(due - now))
		}
		emit(due)
	}
}

// nodeCounters is a snapshot of one node's counters.
type nodeCounters struct {
	Published     uint64            `json:"published"`
	Expected      uint64            `json:"expected"` // Σ recipients per node of its broadcasts
	EmitErrors    uint64            `json:"emit_errors"`
	Local         uint64            `json:"local_deliveries"`
	Remote        uint64            `json:"remote_deliveries"`
	RemoteBcasts  uint64            `json:"remote_broadcasts"`
	BadFrames     uint64            `json:"bad_frames"`
	EnginePublish uint64            `json:"engine_published"`
	Batches       uint64            `json:"publish_batches"`
	PublishErrs   uint64            `json:"publish_errors"`
	Received      uint64            `json:"received"`
	BcastsRecv    uint64            `json:"broadcasts_received"` // remote broadcasts delivered locally (to ≥ 0 sockets)
	RedisErrors   uint64            `json:"redis_errors"`
	Resubscribes  uint64            `json:"resubscribes"`
	Dropped       map[string]uint64 `json:"dropped"`
	// HostsNone: the node has no sockets, so it expects no deliveries.
	HostsNone bool `json:"hosts_none,omitempty"`
}

func (n *benchNode) counters() nodeCounters {
	st := n.eng.Stats()
	return nodeCounters{
		Published:     n.published.Load(),
		Expected:      n.expected.Load(),
		HostsNone:     !n.hosts,
		EmitErrors:    n.emitErrs.Load(),
		Local:         n.host.local.Load(),
		Remote:        n.host.remote.Load(),
		RemoteBcasts:  n.host.remoteBcasts.Load(),
		BadFrames:     n.host.badFrames.Load(),
		EnginePublish: st.Published,
		Batches:       st.PublishBatches,
		PublishErrs:   st.PublishErrors,
		Received:      st.Received,
		BcastsRecv:    st.BroadcastsReceived,
		RedisErrors:   st.RedisErrors,
		Resubscribes:  st.Resubscribes,
		Dropped:       st.Dropped,
	}
}

// sub returns c − o, counter by counter.
func (c nodeCounters) sub(o nodeCounters) nodeCounters {
	r := nodeCounters{
		Published:     c.Published - o.Published,
		Expected:      c.Expected - o.Expected,
		EmitErrors:    c.EmitErrors - o.EmitErrors,
		Local:         c.Local - o.Local,
		Remote:        c.Remote - o.Remote,
		RemoteBcasts:  c.RemoteBcasts - o.RemoteBcasts,
		BadFrames:     c.BadFrames - o.BadFrames,
		EnginePublish: c.EnginePublish - o.EnginePublish,
		Batches:       c.Batches - o.Batches,
		PublishErrs:   c.PublishErrs - o.PublishErrs,
		Received:      c.Received - o.Received,
		BcastsRecv:    c.BcastsRecv - o.BcastsRecv,
		RedisErrors:   c.RedisErrors - o.RedisErrors,
		Resubscribes:  c.Resubscribes - o.Resubscribes,
		Dropped:       map[string]uint64{},
		HostsNone:     c.HostsNone,
	}
	for k, v := range c.Dropped {
		r.Dropped[k] = v - o.Dropped[k]
	}
	return r
}

// realDrops counts the drops that mean lost work: everything but our own
// echoes and broadcasts for rooms this node does not host (both normal).
func (c nodeCounters) realDrops() uint64 {
	var t uint64
	for k, v := range c.Dropped {
		if k != "own" && k != "no_room" {
			t += v
		}
	}
	return t
}

func (n *benchNode) close() { n.eng.Close() }
