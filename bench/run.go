package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/redis/rueidis"
)

// nodeReport is what one node did.
type nodeReport struct {
	Index     int          `json:"index"`
	Publisher bool         `json:"publisher"`
	Window    nodeCounters `json:"window"` // the measured window
	Final     nodeCounters `json:"final"`  // totals after the drain
	// Hist is the publish-to-delivery latency of the remote broadcasts
	// this node received in the window, in µs.
	Hist *hdrhistogram.Snapshot `json:"latency_hist,omitempty"`
	// Usage is this node's process over the window (-procs only).
	Usage     *procUsage `json:"usage,omitempty"`
	LastError string     `json:"last_error,omitempty"`
}

// runResult is one run of the engine nodes.
type runResult struct {
	Rate     float64       `json:"rate"` // per publishing node; 0 = full speed
	Window   time.Duration `json:"window"`
	Nodes    []nodeReport  `json:"nodes"`
	Usage    *procUsage    `json:"usage,omitempty"` // the whole process (in-process mode)
	RedisCPU time.Duration `json:"redis_cpu"`
	// Masters are the PUBLISH/SPUBLISH counts of each Redis node over the
	// window.
	Masters []MasterCounts `json:"masters,omitempty"`
	Drained bool           `json:"drained"` // every expected delivery arrived
}

// runner runs the engine nodes once per call.
type runner struct {
	cfg      *Config
	redis    rueidis.Client // the harness's own client: INFO for Redis CPU
	progress *progressLine
}

// expectedRemote returns, for each node, the remote deliveries it should
// have once everything published has arrived.
func expectedRemote(cs []nodeCounters) []uint64 {
	var total uint64
	for _, c := range cs {
		total += c.Expected
	}
	out := make([]uint64, len(cs))
	for i, c := range cs {
		if !c.HostsNone {
			out[i] = total - c.Expected
		}
	}
	return out
}

// drainWait polls counters until every node received what was published
// (true), or nothing moved for quiet, or max passed (false).
func drainWait(get func() []nodeCounters, quiet, max time.Duration) bool {
	deadline := time.Now().Add(max)
	var last uint64
	lastMove := time.Now()
	for {
		cs := get()
		exp := expectedRemote(cs)
		done := true
		var sum uint64
		for i, c := range cs {
			sum += c.Remote
			if c.Remote < exp[i] {
				done = false
			}
		}
		if done {
			return true
		}
		if sum != last {
			last, lastMove = sum, time.Now()
		}
		if time.Since(lastMove) > quiet || time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// run runs the nodes once at rate (per publishing node; 0 = full speed).
func (r *runner) run(ctx context.Context, rate float64) (*runResult, error) {
	if r.cfg.Procs {
		return r.runProcs(ctx, rate)
	}
	return r.runInProcess(ctx, rate)
}

func (r *runner) runInProcess(ctx context.Context, rate float64) (*runResult, error) {
	cfg := r.cfg
	epoch := time.Now().UnixNano()
	nodes := make([]*benchNode, 0, cfg.Nodes)
	defer func() {
		for _, n := range nodes {
			n.close()
		}
	}()
	for i := 0; i < cfg.Nodes; i++ {
		n, err := startNode(ctx, cfg, i, epoch)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	snap := func() []nodeCounters {
		cs := make([]nodeCounters, len(nodes))
		for i, n := range nodes {
			cs[i] = n.counters()
		}
		return cs
	}
	s := newSchedule(cfg, 100*time.Millisecond)
	s.Epoch = epoch
	var wg sync.WaitGroup
	for _, n := range nodes {
		if cfg.isPublisher(n.idx) {
			wg.Add(1)
			go func(n *benchNode) { defer wg.Done(); n.publish(s, rate) }(n)
		}
	}
	stopProgress := r.progress.start(s, rate, snap)
	defer stopProgress()

	prof := newProfiler(cfg, -1)
	sleepUntil(s.Measure)
	before := snap()
	for _, n := range nodes {
		n.host.takeHist() // drop the warm-up's latencies
	}
	u0 := readUsage()
	rc0, rcErr := redisCPU(ctx, r.redis)
	mw := startMasterWindow(ctx, r.redis)
	if err := prof.start(); err != nil {
		return nil, err
	}
	sleepUntil(s.End)
	after := snap()
	masters := mw.end()
	hists := make([]*hdrhistogram.Histogram, len(nodes))
	for i, n := range nodes {
		hists[i] = n.host.takeHist()
	}
	u1 := readUsage()
	rc1, rcErr1 := redisCPU(ctx, r.redis)
	if err := prof.stop(); err != nil {
		return nil, err
	}
	wg.Wait()
	drained := drainWait(snap, 2*time.Second, 15*time.Second)
	stopProgress()
	final := snap()

	usage := u1.sub(u0)
	res := &runResult{Rate: rate, Window: cfg.Duration, Usage: &usage, Drained: drained, Masters: masters}
	if rcErr == nil && rcErr1 == nil {
		res.RedisCPU = rc1 - rc0
	}
	for i, n := range nodes {
		nr := nodeReport{Index: i, Publisher: cfg.isPublisher(i), Window: after[i].sub(before[i]), Final: final[i],
			Hist: hists[i].Export()}
		if e, ok := n.lastErr.Load().(string); ok {
			nr.LastError = e
		}
		res.Nodes = append(res.Nodes, nr)
	}
	return res, nil
}

// ---- separate processes ------------------------------------------------------

// childInit is the first line a child reads on stdin.
type childInit struct {
	Config *Config `json:"config"`
	Index  int     `json:"index"`
	Epoch  int64   `json:"epoch"`
	Rate   float64 `json:"rate"`
}

// childLine is one line a child writes on stdout.
type childLine struct {
	Type     string        `json:"type"` // ready, progress, window, final, error
	Counters *nodeCounters `json:"counters,omitempty"`
	Report   *nodeReport   `json:"report,omitempty"`
	Error    string        `json:"error,omitempty"`
}

type childProc struct {
	idx   int
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan childLine

	mu     sync.Mutex
	latest nodeCounters
	window *nodeReport
	final  *nodeCounters
	err    error
}

func (r *runner) runProcs(ctx context.Context, rate float64) (*runResult, error) {
	cfg := r.cfg
	epoch := time.Now().UnixNano()
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("-procs: cannot find this executable: %w", err)
	}
	children := make([]*childProc, cfg.Nodes)
	defer func() {
		for _, c := range children {
			if c != nil && c.cmd.Process != nil {
				c.stdin.Close()
				done := make(chan struct{})
				go func() { c.cmd.Wait(); close(done) }()
				select {
				case <-done:
				case <-time.After(5 * time.Second):
					c.cmd.Process.Kill()
					<-done
				}
			}
		}
	}()
	for i := range children {
		cmd := exec.CommandContext(ctx, self, "-child", strconv.Itoa(i))
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return nil, err
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("-procs: start node %d: %w", i, err)
		}
		c := &childProc{idx: i, cmd: cmd, stdin: stdin, lines: make(chan childLine, 16)}
		children[i] = c
		go c.read(stdout)
		if err := json.NewEncoder(stdin).Encode(childInit{Config: cfg, Index: i, Epoch: epoch, Rate: rate}); err != nil {
			return nil, fmt.Errorf("-procs: node %d: %w", i, err)
		}
	}
	for _, c := range children {
		if err := c.wait("ready", 30*time.Second); err != nil {
			return nil, err
		}
	}
	s := newSchedule(cfg, 200*time.Millisecond)
	s.Epoch = epoch
	for _, c := range children {
		if err := json.NewEncoder(c.stdin).Encode(s); err != nil {
			return nil, fmt.Errorf("-procs: node %d: %w", c.idx, err)
		}
	}
	snap := func() []nodeCounters {
		cs := make([]nodeCounters, len(children))
		for i, c := range children {
			c.mu.Lock()
			cs[i] = c.latest
			c.mu.Unlock()
		}
		return cs
	}
	stopProgress := r.progress.start(s, rate, snap)
	defer stopProgress()
	sleepUntil(s.Measure)
	rc0, rcErr := redisCPU(ctx, r.redis)
	mw := startMasterWindow(ctx, r.redis)
	sleepUntil(s.End)
	rc1, rcErr1 := redisCPU(ctx, r.redis)
	masters := mw.end()
	for _, c := range children {
		if err := c.wait("window", 30*time.Second); err != nil {
			return nil, err
		}
	}
	drained := drainWait(snap, 2*time.Second, 15*time.Second)
	stopProgress()
	res := &runResult{Rate: rate, Window: cfg.Duration, Drained: drained, Masters: masters}
	if rcErr == nil && rcErr1 == nil {
		res.RedisCPU = rc1 - rc0
	}
	for _, c := range children {
		if _, err := io.WriteString(c.stdin, "finish\n"); err != nil {
			return nil, fmt.Errorf("-procs: node %d: %w", c.idx, err)
		}
		if err := c.wait("final", 30*time.Second); err != nil {
			return nil, err
		}
		nr := *c.window
		nr.Final = *c.final
		res.Nodes = append(res.Nodes, nr)
	}
	return res, nil
}

func (c *childProc) read(stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<16), 1<<26)
	for sc.Scan() {
		var l childLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			fmt.Fprintf(os.Stderr, "bench: node %d: %s\n", c.idx, sc.Text())
			continue
		}
		c.mu.Lock()
		switch l.Type {
		case "progress":
			if l.Counters != nil {
				c.latest = *l.Counters
			}
			c.mu.Unlock()
			continue
		case "window":
			c.window = l.Report
			c.latest = l.Report.Final
		case "final":
			c.final = l.Counters
			c.latest = *l.Counters
		case "error":
			c.err = errors.New(l.Error)
		}
		c.mu.Unlock()
		c.lines <- l
	}
	close(c.lines)
}

// wait waits for the line of type typ.
func (c *childProc) wait(typ string, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				return fmt.Errorf("-procs: node %d exited before %q", c.idx, typ)
			}
			if l.Type == "error" {
				return fmt.Errorf("-procs: node %d: %s", c.idx, l.Error)
			}
			if l.Type == typ {
				return nil
			}
		case <-t.C:
			return fmt.Errorf("-procs: node %d: no %q after %s", c.idx, typ, timeout)
		}
	}
}

// runChild is the -child side of -procs: one node, driven over stdin/stdout.
func runChild(idx int) error {
	in := bufio.NewReader(os.Stdin)
	out := json.NewEncoder(os.Stdout)
	var mu sync.Mutex
	send := func(l childLine) {
		mu.Lock()
		defer mu.Unlock()
		_ = out.Encode(l)
	}
	fail := func(err error) error {
		send(childLine{Type: "error", Error: err.Error()})
		return err
	}
	var init childInit
	line, err := in.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("child %d: read config: %w", idx, err)
	}
	if err := json.Unmarshal(line, &init); err != nil {
		return fail(fmt.Errorf("child %d: config: %w", idx, err))
	}
	cfg := init.Config
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := startNode(ctx, cfg, idx, init.Epoch)
	if err != nil {
		return fail(err)
	}
	defer n.close()
	send(childLine{Type: "ready"})
	var s schedule
	if line, err = in.ReadBytes('\n'); err != nil {
		return fmt.Errorf("child %d: read schedule: %w", idx, err)
	}
	if err := json.Unmarshal(line, &s); err != nil {
		return fail(fmt.Errorf("child %d: schedule: %w", idx, err))
	}
	stop := make(chan struct{})
	var tick sync.WaitGroup
	tick.Add(1)
	go func() {
		defer tick.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				c := n.counters()
				send(childLine{Type: "progress", Counters: &c})
			}
		}
	}()
	pubDone := make(chan struct{})
	go func() {
		if cfg.isPublisher(idx) {
			n.publish(s, init.Rate)
		}
		close(pubDone)
	}()
	prof := newProfiler(cfg, idx)
	sleepUntil(s.Measure)
	before := n.counters()
	n.host.takeHist()
	u0 := readUsage()
	if err := prof.start(); err != nil {
		return fail(err)
	}
	sleepUntil(s.End)
	after := n.counters()
	hist := n.host.takeHist()
	u1 := readUsage()
	if err := prof.stop(); err != nil {
		return fail(err)
	}
	<-pubDone
	usage := u1.sub(u0)
	nr := nodeReport{Index: idx, Publisher: cfg.isPublisher(idx), Window: after.sub(before), Final: n.counters(),
		Hist: hist.Export(), Usage: &usage}
	if e, ok := n.lastErr.Load().(string); ok {
		nr.LastError = e
	}
	send(childLine{Type: "window", Report: &nr})
	// Keep receiving until the parent saw every node drained.
	if _, err := in.ReadBytes('\n'); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	close(stop)
	tick.Wait()
	c := n.counters()
	send(childLine{Type: "final", Counters: &c})
	return nil
}
