package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sioredis/sioredis/internal/curvedata"
)

// The curves mode (-curves DIR): three sweeps of the -compare scenario,
// the engine and the Node peer in each, written to DIR/curves.json for the
// chart command of integrations/benchcharts (make curves):
//
//   - payload: for each -curves-payloads size, broadcasts/s received per
//     receiving node at full speed (the engine run of -compare and runNode).
//   - latency: for each -curves-rates percentage, a fixed-rate run at that
//     percentage of the side's own maximum (measured in the payload sweep
//     at -payload): p50 and p99 publish → delivery latency. The Node
//     emitter paces itself (emitter-bench.js --rate) and stamps each
//     broadcast with its due time, as the Go publisher does.
//   - scaleout: for each -curves-servers N, one publishing server and N
//     receiving servers (engine nodes, or Node counting processes), each
//     hosting the same -sockets sockets in -rooms rooms, at full speed:
//     cross-node broadcasts/s received summed over the N receivers (every
//     receiver hears every broadcast, the fan-out that Redis and the
//     receivers must carry).
//
// Every run uses -duration (-curves-duration overrides it) and -warmup.
// The file's schema is internal/curvedata's, shared with the charts.

// parseInts parses a comma-separated list of positive integers.
func parseInts(flagName, s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s %q: want a comma-separated list of positive integers", flagName, s)
		}
		out = append(out, n)
	}
	return out, nil
}

// parsePercents parses a comma-separated list of percentages in (0, 100].
func parsePercents(flagName, s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		p, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(f), "%"), 64)
		if err != nil || p <= 0 || p > 100 {
			return nil, fmt.Errorf("%s %q: want a comma-separated list of percentages in (0, 100]", flagName, s)
		}
		out = append(out, p)
	}
	return out, nil
}

// with returns a runner for a copy of r's config changed by edit.
func (r *runner) with(edit func(*Config)) *runner {
	c := *r.cfg
	edit(&c)
	return &runner{cfg: &c, redis: r.redis, progress: r.progress}
}

// runCurves runs the three sweeps.
func (r *runner) runCurves(ctx context.Context, res *Result, say func(string, ...any)) (*curvedata.Curves, error) {
	cfg := r.cfg
	payloads, err := parseInts("-curves-payloads", cfg.CurvesPayloads)
	if err != nil {
		return nil, err
	}
	rates, err := parsePercents("-curves-rates", cfg.CurvesRates)
	if err != nil {
		return nil, err
	}
	servers, err := parseInts("-curves-servers", cfg.CurvesServers)
	if err != nil {
		return nil, err
	}
	if cfg.CurvesDuration > 0 {
		cfg.Duration = cfg.CurvesDuration
	}
	peer := cfg.nodePeer()
	cv := &curvedata.Curves{Command: res.Command, Date: time.Now().UTC().Format(time.RFC3339), Machine: machine(), Redis: res.Redis,
		Engine: "sioredis engine", Node: "Node " + peer.label}
	cv.Commit, cv.CommitDate = gitCommit()
	target := "one room per broadcast, round robin"
	if cfg.Target == targetAll {
		target = "every socket"
	}
	cv.Scenario = fmt.Sprintf("protocol %s; 1 publishing server; %d sockets per server in %d rooms; broadcasts to %s; %d publishing goroutines (engine), setImmediate batches of %d (Node); %s measured after %s warm-up per point; %s",
		cfg.protocolName(), cfg.Sockets, cfg.Rooms, target, cfg.Goroutines, cfg.NodeBatch, cfg.Duration, cfg.Warmup, res.Mode)
	// Without node or the Node peer's packages the engine's series are
	// still measured and the reason is recorded; a Node run that fails
	// (the peer crashes under load: see BENCHMARKS.md) leaves out its
	// point only.
	if !nodeAvailable(cfg) {
		cv.NodeError = errNoNode(peer.fixture).Error()
		say("Node peer skipped: %s", cv.NodeError)
	}
	// node runs the Node peer for a point of chart ch; a failure is
	// recorded in ch.
	node := func(ch *curvedata.Chart, rr *runner, what string, counters int, rate float64) *NodeResult {
		if cv.NodeError != "" {
			return nil
		}
		n, err := rr.runNode(ctx, counters, rate)
		if err != nil {
			ch.NodePointErrors = append(ch.NodePointErrors, what+": "+err.Error())
			say("Node peer, %s: no point: %v", what, err)
			return nil
		}
		return n
	}

	// settle lets the previous point's load fade (the Go heap, Redis's
	// buffers, the Node processes' exit) before the next one.
	settle := func() {
		runtime.GC()
		debug.FreeOSMemory()
		time.Sleep(500 * time.Millisecond)
	}
	// The points are measured in an order that puts the heaviest runs
	// (the largest payloads, then the fastest fixed rates) after the
	// lighter ones: the payload point at -payload (each side's maximum,
	// for the latency sweep), the scale-out sweep, the latency sweep, the
	// other payloads in increasing size. A point measured right after a
	// 16 KiB or overloaded run came out at half speed.
	pl := curvedata.Chart{Name: "payload", Title: "Throughput vs payload size", XLabel: "payload", XUnit: "bytes", YLabel: "received per receiving server", YUnit: "broadcasts/s",
		LogX: true, LogY: true,
		Caption: "full speed, 1 publishing + 1 receiving server; cross-node broadcasts/s received"}
	plEng, plNode := curvedata.Series{Name: cv.Engine}, curvedata.Series{Name: cv.Node}
	// The latency chart's caption comes with the maxima it is measured at.
	lat := curvedata.Chart{Name: "latency", Title: "Publish → delivery latency vs rate", XLabel: "fixed publishing rate", XUnit: "broadcasts/s",
		YLabel: "latency", YUnit: "ms", LogX: true, LogY: true}
	var engMax, nodeMax float64
	payloadPoint := func(p int) error {
		rr := r.with(func(c *Config) { c.Payload = p })
		say("curves, payload %d B: engine, full speed, %s", p, cfg.Duration)
		settle()
		run, err := rr.run(ctx, 0)
		if err != nil {
			return err
		}
		s := summarize(run)
		plEng.Points = append(plEng.Points, curvedata.Point{X: float64(p), Y: s.receiverRate()})
		if p == cfg.Payload {
			engMax = min(s.PublishedPerSec, s.receiverRate())
		}
		say("curves, payload %d B: Node peer, full speed", p)
		settle()
		if n := node(&pl, rr, fmt.Sprintf("payload %d B", p), 1, 0); n != nil {
			plNode.Points = append(plNode.Points, curvedata.Point{X: float64(p), Y: n.ReceivedPerSec})
			if p == cfg.Payload {
				nodeMax = min(n.PublishedPerSec, n.ReceivedPerSec)
			}
		}
		return nil
	}
	for _, p := range payloads {
		if p == cfg.Payload {
			if err := payloadPoint(p); err != nil {
				return nil, err
			}
		}
	}
	if engMax == 0 {
		say("curves: engine maximum at %d B, full speed (for the latency sweep)", cfg.Payload)
		settle()
		run, err := r.run(ctx, 0)
		if err != nil {
			return nil, err
		}
		s := summarize(run)
		engMax = min(s.PublishedPerSec, s.receiverRate())
	}
	if nodeMax == 0 {
		settle()
		if n := node(&lat, r, "maximum for the latency sweep", 1, 0); n != nil {
			nodeMax = min(n.PublishedPerSec, n.ReceivedPerSec)
		}
	}

	// Scale-out: 1 publisher, N receivers.
	so := curvedata.Chart{Name: "scaleout", Title: "Scale-out: one publisher, N receiving servers", XLabel: "receiving servers", XUnit: "N",
		YLabel: "received, sum over the receivers", YUnit: "broadcasts/s", LogY: true,
		Caption: fmt.Sprintf("full speed, %d B payload; every receiver hosts the same rooms and hears every broadcast", cfg.Payload)}
	soEng, soNode := curvedata.Series{Name: cv.Engine}, curvedata.Series{Name: cv.Node}
	for _, n := range servers {
		rr := r.with(func(c *Config) { c.Nodes, c.PubNodes = n+1, 1 })
		say("curves, scale-out: engine, 1 → %d receiving node(s), %s", n, cfg.Duration)
		settle()
		run, err := rr.run(ctx, 0)
		if err != nil {
			return nil, err
		}
		soEng.Points = append(soEng.Points, curvedata.Point{X: float64(n), Y: summarize(run).ReceivedPerSec})
		say("curves, scale-out: Node peer, 1 → %d counting process(es)", n)
		settle()
		if nr := node(&so, rr, fmt.Sprintf("scale-out N=%d", n), n, 0); nr != nil {
			soNode.Points = append(soNode.Points, curvedata.Point{X: float64(n), Y: nr.ReceivedTotalPerSec})
		}
	}

	// Latency vs rate, at fractions of each side's own maximum at -payload.
	lat.Caption = fmt.Sprintf("%d B payload, 1 → 1 server; each side at %s %% of its own maximum (engine %s/s, Node %s/s)",
		cfg.Payload, strings.Trim(strings.ReplaceAll(fmt.Sprint(rates), " ", ", "), "[]"), si(engMax), si(nodeMax))
	e50, e99 := curvedata.Series{Name: cv.Engine + " p50"}, curvedata.Series{Name: cv.Engine + " p99"}
	n50, n99 := curvedata.Series{Name: cv.Node + " p50"}, curvedata.Series{Name: cv.Node + " p99"}
	sorted := append([]float64(nil), rates...)
	sort.Float64s(sorted)
	for _, pc := range sorted {
		rate := engMax * pc / 100
		say("curves, latency: engine at %g%% = %s broadcasts/s, %s", pc, si(rate), cfg.Duration)
		settle()
		run, err := r.run(ctx, rate)
		if err != nil {
			return nil, err
		}
		s := summarize(run)
		if s.Latency.Count > 0 {
			x := s.PublishedPerSec
			e50.Points = append(e50.Points, curvedata.Point{X: x, Y: s.Latency.P50})
			e99.Points = append(e99.Points, curvedata.Point{X: x, Y: s.Latency.P99})
		}
		if nodeMax == 0 {
			continue
		}
		rate = nodeMax * pc / 100
		say("curves, latency: Node peer at %g%% = %s broadcasts/s", pc, si(rate))
		settle()
		if n := node(&lat, r, fmt.Sprintf("latency at %g%%", pc), 1, rate); n != nil {
			p50, _ := n.LatencyMS["p50"].(float64)
			p99, _ := n.LatencyMS["p99"].(float64)
			if c, _ := n.LatencyMS["count"].(float64); c > 0 {
				n50.Points = append(n50.Points, curvedata.Point{X: n.PublishedPerSec, Y: p50})
				n99.Points = append(n99.Points, curvedata.Point{X: n.PublishedPerSec, Y: p99})
			}
		}
	}

	// The other payloads, smallest first.
	rest := append([]int(nil), payloads...)
	sort.Ints(rest)
	for _, p := range rest {
		if p != cfg.Payload {
			if err := payloadPoint(p); err != nil {
				return nil, err
			}
		}
	}
	for _, s := range []*curvedata.Series{&plEng, &plNode} {
		sort.Slice(s.Points, func(i, j int) bool { return s.Points[i].X < s.Points[j].X })
	}
	pl.Series = nonEmpty(plEng, plNode)
	lat.Series = nonEmpty(e50, e99, n50, n99)
	so.Series = nonEmpty(soEng, soNode)
	cv.Charts = append(cv.Charts, pl, lat, so)
	return cv, nil
}

// nodeAvailable reports whether node and the Node peer's packages are
// installed (make node-peers).
func nodeAvailable(cfg *Config) bool {
	if _, err := exec.LookPath("node"); err != nil {
		return false
	}
	root, err := moduleRoot()
	if err != nil {
		return false
	}
	peer := cfg.nodePeer()
	_, err = os.Stat(filepath.Join(root, "internal", "nodepeer", peer.fixture, "node_modules", peer.probe))
	return err == nil
}

// nonEmpty returns the series that have points.
func nonEmpty(ss ...curvedata.Series) []curvedata.Series {
	var out []curvedata.Series
	for _, s := range ss {
		if len(s.Points) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// printCurves prints the points, one line per series.
func printCurves(w io.Writer, cv *curvedata.Curves) {
	fmt.Fprintf(w, "sioredis curves at %s (%s), %s\n%s\n", cv.Commit, cv.CommitDate, cv.Machine, cv.Scenario)
	for _, c := range cv.Charts {
		fmt.Fprintf(w, "\n%s: %s (x %s, y %s)\n", c.Name, c.Title, c.XUnit, c.YUnit)
		for _, s := range c.Series {
			var pts []string
			for _, p := range s.Points {
				pts = append(pts, fmt.Sprintf("%s → %.3g", si(p.X), p.Y))
			}
			fmt.Fprintf(w, "  %-60s %s\n", s.Name, strings.Join(pts, ", "))
		}
	}
	if cv.NodeError != "" {
		fmt.Fprintf(w, "\nNode series missing: %s\n", cv.NodeError)
	}
	for _, c := range cv.Charts {
		for _, e := range c.NodePointErrors {
			fmt.Fprintf(w, "Node point missing: %s\n", e)
		}
	}
}

// gitCommit returns the working tree's commit (with -dirty when it has
// uncommitted changes to tracked files) and its committer date, or empty
// strings outside a git checkout.
func gitCommit() (commit, date string) {
	out, err := exec.Command("git", "log", "-1", "--format=%H %cI").Output()
	if err != nil {
		return "", ""
	}
	commit, date, _ = strings.Cut(strings.TrimSpace(string(out)), " ")
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(strings.TrimSpace(string(st))) > 0 {
		commit += "-dirty"
	}
	return commit, date
}

// machine describes this machine: CPU model (Linux), CPUs, OS/arch, Go.
func machine() string {
	model := ""
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v) + ", "
				break
			}
		}
		f.Close()
	}
	return fmt.Sprintf("%s%d CPUs, %s/%s, %s", model, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
}
