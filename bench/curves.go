package main

import (
	"bufio"
	"context"
	"encoding/json"
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

// Curves is DIR/curves.json: what the sweeps measured, as charts of series
// of points, with the command, commit and machine they were made at.
type Curves struct {
	// Command is the harness command line that made the file.
	Command string `json:"command"`
	// Commit is the git commit of the working tree (with "-dirty" when it
	// had uncommitted changes), CommitDate its committer date; Date is when
	// the run was made (RFC 3339).
	Commit     string `json:"commit"`
	CommitDate string `json:"commit_date"`
	Date       string `json:"date"`
	// Machine says where it ran: CPU model and count, OS/arch, Go version.
	Machine string `json:"machine"`
	Redis   string `json:"redis"`
	// Scenario is the common scenario of every run, in words.
	Scenario string `json:"scenario"`
	// Engine and Node name the two sides (the series' prefixes).
	Engine string `json:"engine"`
	Node   string `json:"node"`
	// NodeError says why the Node series are missing, if they are (node
	// or the Node peer's packages are not installed); NodePointErrors are
	// the Node runs that failed, each leaving out its point.
	NodeError       string   `json:"node_error,omitempty"`
	NodePointErrors []string `json:"node_point_errors,omitempty"`
	Charts          []Chart  `json:"charts"`
}

// Chart is one figure: its series share the axes.
type Chart struct {
	// Name is the chart's file name without .svg: payload, latency,
	// scaleout.
	Name    string `json:"name"`
	Title   string `json:"title"`
	Caption string `json:"caption"`
	// XLabel and YLabel name the axes, XUnit and YUnit their units.
	XLabel string `json:"x_label"`
	XUnit  string `json:"x_unit"`
	YLabel string `json:"y_label"`
	YUnit  string `json:"y_unit"`
	// LogX and LogY ask for a logarithmic axis.
	LogX   bool     `json:"log_x"`
	LogY   bool     `json:"log_y"`
	Series []Series `json:"series"`
}

// Series is one line of a chart.
type Series struct {
	Name   string  `json:"name"`
	Points []Point `json:"points"`
}

// Point is one measurement: X and Y in the chart's units.
type Point struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// curvesFile is the JSON file -curves writes in its directory.
const curvesFile = "curves.json"

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
func (r *runner) runCurves(ctx context.Context, res *Result, say func(string, ...any)) (*Curves, error) {
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
	cv := &Curves{Command: res.Command, Date: time.Now().UTC().Format(time.RFC3339), Machine: machine(), Redis: res.Redis,
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
	node := func(rr *runner, what string, counters int, rate float64) *NodeResult {
		if cv.NodeError != "" {
			return nil
		}
		n, err := rr.runNode(ctx, counters, rate)
		if err != nil {
			cv.NodePointErrors = append(cv.NodePointErrors, what+": "+err.Error())
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
	pl := Chart{Name: "payload", Title: "Throughput vs payload size", XLabel: "payload", XUnit: "bytes", YLabel: "received per receiving server", YUnit: "broadcasts/s",
		LogX: true, LogY: true,
		Caption: "full speed, 1 publishing + 1 receiving server; cross-node broadcasts/s received"}
	plEng, plNode := Series{Name: cv.Engine}, Series{Name: cv.Node}
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
		plEng.Points = append(plEng.Points, Point{float64(p), s.receiverRate()})
		if p == cfg.Payload {
			engMax = min(s.PublishedPerSec, s.receiverRate())
		}
		say("curves, payload %d B: Node peer, full speed", p)
		settle()
		if n := node(rr, fmt.Sprintf("payload %d B", p), 1, 0); n != nil {
			plNode.Points = append(plNode.Points, Point{float64(p), n.ReceivedPerSec})
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
		if n := node(r, "maximum for the latency sweep", 1, 0); n != nil {
			nodeMax = min(n.PublishedPerSec, n.ReceivedPerSec)
		}
	}

	// Scale-out: 1 publisher, N receivers.
	so := Chart{Name: "scaleout", Title: "Scale-out: one publisher, N receiving servers", XLabel: "receiving servers", XUnit: "N",
		YLabel: "received, sum over the receivers", YUnit: "broadcasts/s", LogY: true,
		Caption: fmt.Sprintf("full speed, %d B payload; every receiver hosts the same rooms and hears every broadcast", cfg.Payload)}
	soEng, soNode := Series{Name: cv.Engine}, Series{Name: cv.Node}
	for _, n := range servers {
		rr := r.with(func(c *Config) { c.Nodes, c.PubNodes = n+1, 1 })
		say("curves, scale-out: engine, 1 → %d receiving node(s), %s", n, cfg.Duration)
		settle()
		run, err := rr.run(ctx, 0)
		if err != nil {
			return nil, err
		}
		soEng.Points = append(soEng.Points, Point{float64(n), summarize(run).ReceivedPerSec})
		say("curves, scale-out: Node peer, 1 → %d counting process(es)", n)
		settle()
		if nr := node(rr, fmt.Sprintf("scale-out N=%d", n), n, 0); nr != nil {
			soNode.Points = append(soNode.Points, Point{float64(n), nr.ReceivedTotalPerSec})
		}
	}

	// Latency vs rate, at fractions of each side's own maximum at -payload.
	lat := Chart{Name: "latency", Title: "Publish → delivery latency vs rate", XLabel: "fixed publishing rate", XUnit: "broadcasts/s",
		YLabel: "latency", YUnit: "ms", LogX: true, LogY: true,
		Caption: fmt.Sprintf("%d B payload, 1 → 1 server; each side at %s %% of its own maximum (engine %s/s, Node %s/s)",
			cfg.Payload, strings.Trim(strings.ReplaceAll(fmt.Sprint(rates), " ", ", "), "[]"), si(engMax), si(nodeMax))}
	e50, e99 := Series{Name: cv.Engine + " p50"}, Series{Name: cv.Engine + " p99"}
	n50, n99 := Series{Name: cv.Node + " p50"}, Series{Name: cv.Node + " p99"}
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
			e50.Points = append(e50.Points, Point{x, s.Latency.P50})
			e99.Points = append(e99.Points, Point{x, s.Latency.P99})
		}
		if nodeMax == 0 {
			continue
		}
		rate = nodeMax * pc / 100
		say("curves, latency: Node peer at %g%% = %s broadcasts/s", pc, si(rate))
		settle()
		if n := node(r, fmt.Sprintf("latency at %g%%", pc), 1, rate); n != nil {
			p50, _ := n.LatencyMS["p50"].(float64)
			p99, _ := n.LatencyMS["p99"].(float64)
			if c, _ := n.LatencyMS["count"].(float64); c > 0 {
				n50.Points = append(n50.Points, Point{n.PublishedPerSec, p50})
				n99.Points = append(n99.Points, Point{n.PublishedPerSec, p99})
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
	for _, s := range []*Series{&plEng, &plNode} {
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
func nonEmpty(ss ...Series) []Series {
	var out []Series
	for _, s := range ss {
		if len(s.Points) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// writeCurves writes cv to dir/curves.json.
func writeCurves(dir string, cv *Curves) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	b, err := json.MarshalIndent(cv, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, curvesFile)
	return path, os.WriteFile(path, append(b, '\n'), 0o644)
}

// printCurves prints the points, one line per series.
func printCurves(w io.Writer, cv *Curves) {
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
	for _, e := range cv.NodePointErrors {
		fmt.Fprintf(w, "Node point missing: %s\n", e)
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
