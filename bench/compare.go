package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
	"github.com/sioredis/sioredis/engine"
)

// CeilingResult is the raw rueidis PUBLISH → SUBSCRIBE run (or SPUBLISH →
// SSUBSCRIBE for the sharded topology).
type CeilingResult struct {
	// Label says what was measured, for the table.
	Label string `json:"label"`
	// Classic: the publisher reads its own echoes, as every publishing
	// node of the protocol must (it hosts the rooms it publishes to), with
	// the protocol's subscriptions: the protocol's own topology. Else one
	// plain subscriber, the publisher subscribed to nothing.
	Classic         bool           `json:"classic_topology"`
	Command         string         `json:"command"` // PUBLISH or SPUBLISH
	Channel         string         `json:"channel"`
	Channels        int            `json:"channels"`   // published round robin
	WireBytes       int            `json:"wire_bytes"` // payload, as the engine publishes it
	Batch           int            `json:"batch"`
	Goroutines      int            `json:"goroutines"`
	PublishedPerSec float64        `json:"published_per_sec"`
	ReceivedPerSec  float64        `json:"received_per_sec"`
	RedisCPUPerMsg  float64        `json:"redis_cpu_us_per_msg"`
	GoCPUPerMsg     float64        `json:"go_cpu_us_per_msg"` // the publishing and subscribing clients
	Masters         []MasterCounts `json:"masters,omitempty"`
}

// ceilingSpec says which raw topology runCeiling reproduces.
type ceilingSpec struct {
	sharded bool // SPUBLISH → SSUBSCRIBE
	pattern bool // PSUBSCRIBE key#/#* (not with sharded)
	echo    bool // the publishing client is subscribed too and reads its echoes
	all     bool // publish round robin over every channel of the run's broadcasts, not just the captured one
}

func (sp ceilingSpec) label() string {
	switch {
	case sp.sharded && sp.echo:
		return "SPUBLISH → SSUBSCRIBE, publisher reads its echoes (sharded topology)"
	case sp.sharded:
		return "SPUBLISH → SSUBSCRIBE"
	case sp.pattern && sp.echo:
		return "PSUBSCRIBE, publisher reads its echoes (classic topology)"
	case sp.echo:
		return "SUBSCRIBE per room, publisher reads its echoes (per-room topology)"
	}
	if sp.all {
		return "PUBLISH → SUBSCRIBE per room, the publisher subscribed to nothing (per-room topology, publisher hosting no room)"
	}
	return "PUBLISH → SUBSCRIBE"
}

// topologyCeiling is the raw topology of the run's protocol.
func (c *Config) topologyCeiling() ceilingSpec {
	if c.sharded() {
		return ceilingSpec{sharded: true, echo: true, all: true}
	}
	mode, _ := parseMode(c.Subscriptions)
	if c.protocol() == engine.SocketIORedis4 || mode == engine.RoomSubscriptions {
		// A publisher that hosts no room subscribes to none: no echo.
		return ceilingSpec{echo: !c.PubHostsNone, all: true}
	}
	return ceilingSpec{pattern: true, echo: true, all: true}
}

// captureBroadcast returns the channel and bytes the engine publishes for
// one broadcast of the run (same event, arguments and payload size), so the
// ceiling carries exactly what the engine carries.
func captureBroadcast(ctx context.Context, cfg *Config) (channel, msg string, err error) {
	opt, err := clientOption(cfg.RedisURL)
	if err != nil {
		return "", "", err
	}
	spy, err := rueidis.NewClient(opt)
	if err != nil {
		return "", "", err
	}
	defer spy.Close()
	got := make(chan rueidis.PubSubMessage, 1)
	hook := func(m rueidis.PubSubMessage) {
		select {
		case got <- m:
		default:
		}
	}
	if cfg.sharded() {
		sub, err := shardSubscribe(ctx, spy, cfg.broadcastChannels()[:1], hook)
		if err != nil {
			return "", "", err
		}
		defer sub.close()
	} else {
		dc, release := spy.Dedicate()
		defer release()
		dc.SetPubSubHooks(rueidis.PubSubHooks{OnMessage: hook})
		if err := dc.Do(ctx, dc.B().Psubscribe().Pattern(cfg.Key+"#/#*").Build()).Error(); err != nil {
			return "", "", err
		}
	}
	one := *cfg
	one.Sockets = 0
	n, err := startNode(ctx, &one, 0, time.Now().UnixNano())
	if err != nil {
		return "", "", err
	}
	defer n.close()
	if err := n.ops[0].Emit(ctx, n.event, time.Duration(cfg.Warmup+cfg.Duration).Nanoseconds(), n.payload); err != nil {
		return "", "", err
	}
	select {
	case m := <-got:
		return m.Channel, m.Message, nil
	case <-time.After(5 * time.Second):
		return "", "", errors.New("ceiling: the engine's broadcast did not arrive")
	case <-ctx.Done():
		return "", "", ctx.Err()
	}
}

// runCeiling measures raw rueidis PUBLISH → SUBSCRIBE of the engine's own
// broadcast bytes: one publishing client (DoMulti batches), one subscribing
// client counting in its hook.
//
// sp chooses the topology: SPUBLISH → SSUBSCRIBE (each channel subscribed
// on the master that owns it), the engine's PSUBSCRIBE pattern, and a
// publishing client subscribed as the subscriber is, reading (and
// ignoring) its own echoes, as every publishing node of the protocol must.
// The difference between the plain and the protocol's topology is what the
// Node-compatible protocol itself costs.
func (r *runner) runCeiling(ctx context.Context, sp ceilingSpec) (*CeilingResult, error) {
	cfg := r.cfg
	channel, msg, err := captureBroadcast(ctx, cfg)
	if err != nil {
		return nil, err
	}
	channels := []string{channel}
	if sp.all {
		channels = cfg.broadcastChannels()
	}
	opt, _ := clientOption(cfg.RedisURL)
	pubC, err := rueidis.NewClient(opt)
	if err != nil {
		return nil, err
	}
	defer pubC.Close()
	subC, err := rueidis.NewClient(opt)
	if err != nil {
		return nil, err
	}
	defer subC.Close()
	subscribe := func(c rueidis.Client, count *atomic.Uint64) (func(), error) {
		hook := func(rueidis.PubSubMessage) { count.Add(1) }
		if sp.sharded {
			s, err := shardSubscribe(ctx, c, channels, hook)
			if err != nil {
				return nil, err
			}
			return s.close, nil
		}
		dc, release := c.Dedicate()
		dc.SetPubSubHooks(rueidis.PubSubHooks{OnMessage: hook})
		cmd := dc.B().Subscribe().Channel(channels...).Build()
		if sp.pattern {
			cmd = dc.B().Psubscribe().Pattern(cfg.Key + "#/#*").Build()
		}
		if err := dc.Do(ctx, cmd).Error(); err != nil {
			release()
			return nil, err
		}
		return release, nil
	}
	var received, echoes atomic.Uint64
	release, err := subscribe(subC, &received)
	if err != nil {
		return nil, err
	}
	defer release()
	if sp.echo {
		releaseEcho, err := subscribe(pubC, &echoes)
		if err != nil {
			return nil, err
		}
		defer releaseEcho()
	}
	s := newSchedule(cfg, 50*time.Millisecond)
	var published atomic.Uint64
	var pubErr atomic.Value
	var wg sync.WaitGroup
	batch := cfg.CeilingBatch
	for g := 0; g < cfg.CeilingGoroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmds := make(rueidis.Commands, batch)
			for i := range cmds {
				ch := channels[(g+i)%len(channels)]
				if sp.sharded {
					cmds[i] = pubC.B().Spublish().Channel(ch).Message(msg).Build().Pin()
				} else {
					cmds[i] = pubC.B().Publish().Channel(ch).Message(msg).Build().Pin()
				}
			}
			sleepUntil(s.Start)
			for time.Now().UnixNano() < s.End {
				for _, res := range pubC.DoMulti(ctx, cmds...) {
					if err := res.Error(); err != nil {
						pubErr.Store(err.Error())
						return
					}
				}
				published.Add(uint64(batch))
			}
		}()
	}
	sleepUntil(s.Measure)
	p0, r0 := published.Load(), received.Load()
	rc0, rcErr0 := redisCPU(ctx, r.redis)
	mw := startMasterWindow(ctx, r.redis)
	u0 := readUsage()
	sleepUntil(s.End)
	p1, r1 := published.Load(), received.Load()
	rc1, rcErr1 := redisCPU(ctx, r.redis)
	masters := mw.end()
	u1 := readUsage()
	wg.Wait()
	if e, ok := pubErr.Load().(string); ok {
		return nil, fmt.Errorf("ceiling: publish: %s", e)
	}
	secs := cfg.Duration.Seconds()
	cmd := "PUBLISH"
	if sp.sharded {
		cmd = "SPUBLISH"
	}
	res := &CeilingResult{Label: sp.label(), Classic: sp.echo, Command: cmd, Channel: channel, Channels: len(channels),
		WireBytes: len(msg), Batch: batch, Goroutines: cfg.CeilingGoroutines,
		PublishedPerSec: float64(p1-p0) / secs, ReceivedPerSec: float64(r1-r0) / secs, Masters: masters}
	if r1 > r0 {
		if rcErr0 == nil && rcErr1 == nil {
			res.RedisCPUPerMsg = float64((rc1 - rc0).Microseconds()) / float64(r1-r0)
		}
		res.GoCPUPerMsg = float64(u1.sub(u0).CPU.Microseconds()) / float64(r1-r0)
	}
	// Let the subscriber finish reading before its connection closes.
	time.Sleep(200 * time.Millisecond)
	return res, nil
}

// NodeResult is the Node.js peer run.
type NodeResult struct {
	Label string `json:"label"`
	Batch int    `json:"batch"`
	// Rate is the emitter's fixed rate in broadcasts/s (0: full speed);
	// Counters the number of counting processes (1 but in -curves'
	// scale-out sweep).
	Rate            float64 `json:"rate,omitempty"`
	Counters        int     `json:"counters,omitempty"`
	PublishedPerSec float64 `json:"published_per_sec"`
	// ReceivedPerSec and DeliveriesPerS are per counting process (their
	// mean); ReceivedTotalPerSec is the sum over them.
	ReceivedPerSec      float64 `json:"received_per_sec"`
	ReceivedTotalPerSec float64 `json:"received_total_per_sec"`
	DeliveriesPerS      float64 `json:"deliveries_per_sec"`
	// LatencyMS is the first counting process's publish → delivery
	// latency (p50, p99, p999, max, count).
	LatencyMS map[string]any `json:"latency_ms"`
	Masters   []MasterCounts `json:"masters,omitempty"`
}

// errNoNode says how to get the Node peers.
func errNoNode(fixture string) error {
	return fmt.Errorf("the Node comparison needs node (>= 18) and the fixture's packages: run `make node-peers` (npm ci in internal/nodepeer/%s)", fixture)
}

// moduleRoot walks up from the working directory to the directory holding
// go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory: run the harness from the sioredis module")
		}
		dir = parent
	}
}

// runNode measures the Node adapter: counters counting processes, then an
// emitting process, on the same rooms, sockets and payload; rate is the
// emitter's broadcasts/s (0: full speed, in setImmediate batches).
func (r *runner) runNode(ctx context.Context, counters int, rate float64) (*NodeResult, error) {
	if counters < 1 {
		counters = 1
	}
	cfg := r.cfg
	peer := cfg.nodePeer()
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return nil, errNoNode(peer.fixture)
	}
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	modules := filepath.Join(root, "internal", "nodepeer", peer.fixture, "node_modules")
	if _, err := os.Stat(filepath.Join(modules, peer.probe)); err != nil {
		return nil, errNoNode(peer.fixture)
	}
	redisArg, cluster := cfg.RedisURL, false
	if r.redis.Mode() == rueidis.ClientModeCluster {
		addrs, err := redisAddrs(cfg.RedisURL)
		if err != nil {
			return nil, err
		}
		for i, a := range addrs {
			addrs[i] = "redis://" + a
		}
		redisArg, cluster = strings.Join(addrs, ","), true
	}
	script := filepath.Join(root, "bench", "node", "emitter-bench.js")
	lead := 2*time.Second + time.Duration(counters-1)*500*time.Millisecond
	if cluster {
		lead = 4 * time.Second
	}
	start := time.Now().Add(lead).UnixMilli()
	args := func(role string) []string {
		a := []string{script, "--role", role, "--redis", redisArg, "--start", strconv.FormatInt(start, 10),
			"--adapter", peer.adapter, "--sharded-mode", cfg.shardedMode().String(),
			"--warmup-ms", strconv.FormatInt(cfg.Warmup.Milliseconds(), 10),
			"--duration-ms", strconv.FormatInt(cfg.Duration.Milliseconds(), 10),
			"--rooms", strconv.Itoa(cfg.Rooms), "--sockets", strconv.Itoa(cfg.Sockets), "--target", cfg.Target,
			"--payload", strconv.Itoa(cfg.Payload), "--batch", strconv.Itoa(cfg.NodeBatch), "--key", cfg.Key}
		if role == "emit" && rate > 0 {
			a = append(a, "--rate", strconv.FormatFloat(rate, 'f', -1, 64))
		}
		if cluster {
			a = append(a, "--cluster", "1")
		}
		return a
	}
	type proc struct {
		cmd   *exec.Cmd
		lines chan map[string]any
	}
	launch := func(role string) (*proc, error) {
		cmd := exec.CommandContext(ctx, nodeBin, args(role)...)
		cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("node %s: %w", role, err)
		}
		p := &proc{cmd: cmd, lines: make(chan map[string]any, 4)}
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				var m map[string]any
				if json.Unmarshal(sc.Bytes(), &m) == nil {
					p.lines <- m
				}
			}
			close(p.lines)
		}()
		return p, nil
	}
	next := func(p *proc, want string, timeout time.Duration) (map[string]any, error) {
		select {
		case m, ok := <-p.lines:
			if !ok {
				return nil, fmt.Errorf("node process exited before %q", want)
			}
			if m["event"] == "error" {
				return nil, fmt.Errorf("node: %v", m["error"])
			}
			if m["event"] != want {
				return nil, fmt.Errorf("node: got %v, want %q", m, want)
			}
			return m, nil
		case <-time.After(timeout):
			return nil, fmt.Errorf("node: no %q after %s", want, timeout)
		}
	}
	var procs []*proc
	defer func() {
		for _, p := range procs {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	}()
	for range counters {
		counter, err := launch("count")
		if err != nil {
			return nil, err
		}
		procs = append(procs, counter)
	}
	emitter, err := launch("emit")
	if err != nil {
		return nil, err
	}
	procs = append(procs, emitter)
	for _, p := range procs {
		if _, err := next(p, "ready", 10*time.Second); err != nil {
			return nil, err
		}
	}
	if time.Now().UnixMilli() > start {
		return nil, fmt.Errorf("node: the processes took more than %s to start", lead)
	}
	// The per-master counts of the measured window.
	var masters []MasterCounts
	mdone := make(chan struct{})
	go func() {
		defer close(mdone)
		sleepUntil(time.UnixMilli(start).Add(cfg.Warmup).UnixNano())
		mw := startMasterWindow(ctx, r.redis)
		sleepUntil(time.UnixMilli(start).Add(cfg.Warmup + cfg.Duration).UnixNano())
		masters = mw.end()
	}()
	total := time.Until(time.UnixMilli(start)) + cfg.Warmup + cfg.Duration + 30*time.Second
	em, err := next(emitter, "result", total)
	if err != nil {
		return nil, err
	}
	secs := cfg.Duration.Seconds()
	num := func(m map[string]any, k string) float64 { f, _ := m[k].(float64); return f }
	res := &NodeResult{Label: peer.label, Batch: cfg.NodeBatch, Rate: rate, Counters: counters, PublishedPerSec: num(em, "published") / secs}
	for i, counter := range procs[:counters] {
		cm, err := next(counter, "result", total)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			res.LatencyMS, _ = cm["latency_ms"].(map[string]any)
		}
		res.ReceivedTotalPerSec += num(cm, "received") / secs
		res.DeliveriesPerS += num(cm, "deliveries") / secs / float64(counters)
	}
	res.ReceivedPerSec = res.ReceivedTotalPerSec / float64(counters)
	<-mdone
	res.Masters = masters
	return res, nil
}
