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
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
)

// CeilingResult is the raw rueidis PUBLISH → SUBSCRIBE run.
type CeilingResult struct {
	// Classic: PSUBSCRIBE, and the publisher reads its own echoes (the
	// classic protocol's topology); else a plain SUBSCRIBE of one client.
	Classic         bool    `json:"classic_topology"`
	Channel         string  `json:"channel"`
	WireBytes       int     `json:"wire_bytes"` // PUBLISH payload, as the engine publishes it
	Batch           int     `json:"batch"`
	Goroutines      int     `json:"goroutines"`
	PublishedPerSec float64 `json:"published_per_sec"`
	ReceivedPerSec  float64 `json:"received_per_sec"`
	RedisCPUPerMsg  float64 `json:"redis_cpu_us_per_msg"`
	GoCPUPerMsg     float64 `json:"go_cpu_us_per_msg"` // the publishing and subscribing clients
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
	dc, release := spy.Dedicate()
	defer release()
	got := make(chan rueidis.PubSubMessage, 1)
	dc.SetPubSubHooks(rueidis.PubSubHooks{OnMessage: func(m rueidis.PubSubMessage) {
		select {
		case got <- m:
		default:
		}
	}})
	if err := dc.Do(ctx, dc.B().Psubscribe().Pattern(cfg.Key+"#/#*").Build()).Error(); err != nil {
		return "", "", err
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
// With classic set it reproduces the classic protocol's topology instead:
// the subscriber uses the engine's PSUBSCRIBE pattern, and the publishing
// client subscribes to it too, reading (and ignoring) its own echoes, as
// every publishing node of the protocol must. The difference between the
// two is what the Node-compatible protocol itself costs.
func (r *runner) runCeiling(ctx context.Context, classic bool) (*CeilingResult, error) {
	cfg := r.cfg
	channel, msg, err := captureBroadcast(ctx, cfg)
	if err != nil {
		return nil, err
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
		dc, release := c.Dedicate()
		dc.SetPubSubHooks(rueidis.PubSubHooks{OnMessage: func(rueidis.PubSubMessage) { count.Add(1) }})
		cmd := dc.B().Subscribe().Channel(channel).Build()
		if classic {
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
	if classic {
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
				cmds[i] = pubC.B().Publish().Channel(channel).Message(msg).Build().Pin()
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
	u0 := readUsage()
	sleepUntil(s.End)
	p1, r1 := published.Load(), received.Load()
	rc1, rcErr1 := redisCPU(ctx, r.redis)
	u1 := readUsage()
	wg.Wait()
	if e, ok := pubErr.Load().(string); ok {
		return nil, fmt.Errorf("ceiling: publish: %s", e)
	}
	secs := cfg.Duration.Seconds()
	res := &CeilingResult{Classic: classic, Channel: channel, WireBytes: len(msg), Batch: batch, Goroutines: cfg.CeilingGoroutines,
		PublishedPerSec: float64(p1-p0) / secs, ReceivedPerSec: float64(r1-r0) / secs}
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
	Batch           int            `json:"batch"`
	PublishedPerSec float64        `json:"published_per_sec"`
	ReceivedPerSec  float64        `json:"received_per_sec"`
	DeliveriesPerS  float64        `json:"deliveries_per_sec"`
	LatencyMS       map[string]any `json:"latency_ms"`
}

// errNoNode says how to get the Node peers.
var errNoNode = errors.New("the Node comparison needs node (>= 18) and the fixture's packages: run `make node-peers` (npm ci in internal/nodepeer/testdata)")

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

// runNode measures the Node adapter: a counting process, then an emitting
// process, on the same rooms, sockets and payload.
func (r *runner) runNode(ctx context.Context) (*NodeResult, error) {
	cfg := r.cfg
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return nil, errNoNode
	}
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	modules := filepath.Join(root, "internal", "nodepeer", "testdata", "node_modules")
	if _, err := os.Stat(filepath.Join(modules, "@socket.io", "redis-adapter")); err != nil {
		return nil, errNoNode
	}
	script := filepath.Join(root, "bench", "node", "emitter-bench.js")
	start := time.Now().Add(2 * time.Second).UnixMilli()
	args := func(role string) []string {
		return []string{script, "--role", role, "--redis", cfg.RedisURL, "--start", strconv.FormatInt(start, 10),
			"--warmup-ms", strconv.FormatInt(cfg.Warmup.Milliseconds(), 10),
			"--duration-ms", strconv.FormatInt(cfg.Duration.Milliseconds(), 10),
			"--rooms", strconv.Itoa(cfg.Rooms), "--sockets", strconv.Itoa(cfg.Sockets), "--target", cfg.Target,
			"--payload", strconv.Itoa(cfg.Payload), "--batch", strconv.Itoa(cfg.NodeBatch), "--key", cfg.Key}
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
	counter, err := launch("count")
	if err != nil {
		return nil, err
	}
	defer counter.cmd.Wait()
	defer counter.cmd.Process.Kill()
	emitter, err := launch("emit")
	if err != nil {
		return nil, err
	}
	defer emitter.cmd.Wait()
	defer emitter.cmd.Process.Kill()
	for _, p := range []*proc{counter, emitter} {
		if _, err := next(p, "ready", 10*time.Second); err != nil {
			return nil, err
		}
	}
	if time.Now().UnixMilli() > start {
		return nil, errors.New("node: the processes took more than 2 s to start")
	}
	total := time.Until(time.UnixMilli(start)) + cfg.Warmup + cfg.Duration + 30*time.Second
	em, err := next(emitter, "result", total)
	if err != nil {
		return nil, err
	}
	cm, err := next(counter, "result", total)
	if err != nil {
		return nil, err
	}
	secs := cfg.Duration.Seconds()
	num := func(m map[string]any, k string) float64 { f, _ := m[k].(float64); return f }
	lat, _ := cm["latency_ms"].(map[string]any)
	return &NodeResult{Batch: cfg.NodeBatch, PublishedPerSec: num(em, "published") / secs,
		ReceivedPerSec: num(cm, "received") / secs, DeliveriesPerS: num(cm, "deliveries") / secs, LatencyMS: lat}, nil
}
