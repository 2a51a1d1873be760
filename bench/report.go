package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/sioredis/sioredis/internal/curvedata"
)

// Result is everything one invocation measured; -json prints it.
type Result struct {
	Command      string         `json:"command"`
	Mode         string         `json:"mode"` // in-process or separate-process
	Redis        string         `json:"redis"`
	RedisStarted bool           `json:"redis_started"` // started by the harness
	Config       *Config        `json:"config"`
	Run          *Summary       `json:"run"`
	HalfRate     *Summary       `json:"half_rate,omitempty"` // -compare: latency at half the measured rate
	Ceiling      *CeilingResult `json:"ceiling,omitempty"`
	// CeilingPSub is the ceiling of the protocol's own topology (PSUBSCRIBE
	// or per-room SUBSCRIBE, or SPUBLISH → SSUBSCRIBE, the publisher
	// reading its echoes); CeilingShard the plain SPUBLISH → SSUBSCRIBE one
	// (sharded protocol).
	CeilingPSub  *CeilingResult `json:"ceiling_classic_topology,omitempty"`
	CeilingShard *CeilingResult `json:"ceiling_sharded,omitempty"`
	Node         *NodeResult    `json:"node,omitempty"`
	NodeError    string         `json:"node_error,omitempty"`
	Goals        []Goal         `json:"goals,omitempty"`
	// Scaleout is the -scaleout scenario (then Run is absent).
	Scaleout *ScaleoutResult `json:"scaleout,omitempty"`
	// Curves is the -curves sweeps (then Run is absent).
	Curves *curvedata.Curves `json:"curves,omitempty"`
}

// Latency is a latency distribution, in milliseconds.
type Latency struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p999_ms"`
	Max   float64 `json:"max_ms"`
	Mean  float64 `json:"mean_ms"`
}

func latencyOf(h *hdrhistogram.Histogram) Latency {
	ms := func(us int64) float64 { return float64(us) / 1000 }
	return Latency{Count: h.TotalCount(), P50: ms(h.ValueAtQuantile(50)), P99: ms(h.ValueAtQuantile(99)),
		P999: ms(h.ValueAtQuantile(99.9)), Max: ms(h.Max()), Mean: h.Mean() / 1000}
}

// NodeSummary is one node's line of the table.
type NodeSummary struct {
	Index            int               `json:"index"`
	Role             string            `json:"role"` // pub or recv
	PublishedPerSec  float64           `json:"published_per_sec"`
	ReceivedPerSec   float64           `json:"received_broadcasts_per_sec"`
	DeliveriesPerSec float64           `json:"deliveries_per_sec"`
	MeanBatch        float64           `json:"mean_batch"`
	Drops            map[string]uint64 `json:"drops"` // whole run, normal ones (own, no_room) included
	RedisErrors      uint64            `json:"redis_errors"`
	Latency          *Latency          `json:"latency,omitempty"`
	// -procs only: this node's process over the window, per broadcast it
	// published (publisher) or received (receiver).
	CPUPerBroadcastUS  float64 `json:"cpu_us_per_broadcast,omitempty"`
	AllocsPerBroadcast float64 `json:"allocs_per_broadcast,omitempty"`
	BytesPerBroadcast  float64 `json:"bytes_per_broadcast,omitempty"`
}

// Summary is one run of the engine nodes, reduced.
type Summary struct {
	Rate             float64       `json:"rate_per_node"` // 0 = full speed
	Seconds          float64       `json:"seconds"`
	Nodes            []NodeSummary `json:"nodes"`
	PublishedPerSec  float64       `json:"published_per_sec"`
	ReceivedPerSec   float64       `json:"received_broadcasts_per_sec"` // cross-node: Σ over nodes of remote broadcasts received
	DeliveriesPerSec float64       `json:"deliveries_per_sec"`          // every recipient, local and remote
	Latency          Latency       `json:"latency"`
	// Per published broadcast, over the window: the Go process(es) and
	// redis-server.
	CPUPerBroadcastUS      float64 `json:"cpu_us_per_broadcast"`
	RedisCPUPerBroadcastUS float64 `json:"redis_cpu_us_per_broadcast"`
	AllocsPerBroadcast     float64 `json:"allocs_per_broadcast"`
	BytesPerBroadcast      float64 `json:"bytes_per_broadcast"`
	EmitErrors             uint64  `json:"emit_errors"`
	PublishErrors          uint64  `json:"publish_errors"`
	RedisErrors            uint64  `json:"redis_errors"`
	Resubscribes           uint64  `json:"resubscribes"`
	// Drops are the drops that lose work (queue_full, malformed…), whole
	// run; Lost the remote deliveries that never arrived.
	Drops     map[string]uint64 `json:"drops"`
	Lost      uint64            `json:"lost"`
	BadFrames uint64            `json:"bad_frames"`
	Drained   bool              `json:"drained"`
	LastError string            `json:"last_error,omitempty"`
	// Masters: PUBLISH/SPUBLISH per Redis node over the window.
	Masters []MasterCounts `json:"masters,omitempty"`
}

func summarize(r *runResult) *Summary {
	secs := r.Window.Seconds()
	s := &Summary{Rate: r.Rate, Seconds: secs, Drops: map[string]uint64{}, Drained: r.Drained, Masters: r.Masters}
	merged := newHist()
	var cpu time.Duration
	var allocs, bytes uint64
	finals := make([]nodeCounters, len(r.Nodes))
	for i, n := range r.Nodes {
		finals[i] = n.Final
	}
	expRemote := expectedRemote(finals)
	for i, n := range r.Nodes {
		w, f := n.Window, n.Final
		ns := NodeSummary{Index: n.Index, Role: "recv", PublishedPerSec: float64(w.Published) / secs,
			ReceivedPerSec: float64(w.BcastsRecv) / secs, DeliveriesPerSec: float64(w.Local+w.Remote) / secs,
			Drops: f.Dropped, RedisErrors: f.RedisErrors}
		if n.Publisher {
			ns.Role = "pub"
			if w.Batches > 0 {
				ns.MeanBatch = float64(w.EnginePublish) / float64(w.Batches)
			}
		}
		if n.Hist != nil {
			h := hdrhistogram.Import(n.Hist)
			if h.TotalCount() > 0 {
				l := latencyOf(h)
				ns.Latency = &l
				merged.Merge(h)
			}
		}
		if n.Usage != nil {
			cpu += n.Usage.CPU
			allocs += n.Usage.Allocs
			bytes += n.Usage.AllocBytes
			per := w.Published
			if !n.Publisher {
				per = w.BcastsRecv
			}
			if per > 0 {
				ns.CPUPerBroadcastUS = float64(n.Usage.CPU.Microseconds()) / float64(per)
				ns.AllocsPerBroadcast = float64(n.Usage.Allocs) / float64(per)
				ns.BytesPerBroadcast = float64(n.Usage.AllocBytes) / float64(per)
			}
		}
		s.Nodes = append(s.Nodes, ns)
		s.PublishedPerSec += ns.PublishedPerSec
		s.ReceivedPerSec += ns.ReceivedPerSec
		s.DeliveriesPerSec += ns.DeliveriesPerSec
		s.EmitErrors += f.EmitErrors
		s.PublishErrors += f.PublishErrs
		s.RedisErrors += f.RedisErrors
		s.Resubscribes += f.Resubscribes
		s.BadFrames += f.BadFrames
		for k, v := range f.Dropped {
			if k != "own" && k != "no_room" && v > 0 {
				s.Drops[k] += v
			}
		}
		if f.Remote < expRemote[i] {
			s.Lost += expRemote[i] - f.Remote
		}
		if n.LastError != "" {
			s.LastError = n.LastError
		}
	}
	if r.Usage != nil {
		cpu, allocs, bytes = r.Usage.CPU, r.Usage.Allocs, r.Usage.AllocBytes
	}
	s.Latency = latencyOf(merged)
	if pub := s.PublishedPerSec * secs; pub > 0 {
		s.CPUPerBroadcastUS = float64(cpu.Microseconds()) / pub
		s.RedisCPUPerBroadcastUS = float64(r.RedisCPU.Microseconds()) / pub
		s.AllocsPerBroadcast = float64(allocs) / pub
		s.BytesPerBroadcast = float64(bytes) / pub
	}
	return s
}

// Goal is one of the goals, checked.
type Goal struct {
	Name     string  `json:"name"`
	Measured float64 `json:"measured"`
	Want     string  `json:"want"`
	Met      bool    `json:"met"`
}

// receiverRate is the cross-node figure of the goals: broadcasts/s received
// by the receiving nodes, per receiving node.
func (s *Summary) receiverRate() float64 {
	var t float64
	var n int
	for _, ns := range s.Nodes {
		if ns.Role == "recv" {
			t += ns.ReceivedPerSec
			n++
		}
	}
	if n == 0 {
		return s.ReceivedPerSec
	}
	return t / float64(n)
}

func (res *Result) checkGoals() {
	got := res.Run.receiverRate()
	if res.Ceiling != nil && res.Ceiling.ReceivedPerSec > 0 && res.CeilingShard == nil && res.Config.PubHostsNone {
		// The goal of a publisher that hosts none of the recipients: Redis
		// sends it no echo, so the plain ceiling is its topology's.
		r := got / res.Ceiling.ReceivedPerSec
		res.Goals = append(res.Goals, Goal{Name: "cross-node delivered / plain raw rueidis ceiling (publisher hosting no room)", Measured: r, Want: "≥ 0.8", Met: r >= 0.8})
	}
	if c := res.CeilingShard; c != nil && c.ReceivedPerSec > 0 {
		r := got / c.ReceivedPerSec
		res.Goals = append(res.Goals, Goal{Name: "cross-node / raw SPUBLISH → SSUBSCRIBE", Measured: r, Want: "≥ 0.85", Met: r >= 0.85})
	}
	if c := res.CeilingPSub; c != nil && c.ReceivedPerSec > 0 {
		r := got / c.ReceivedPerSec
		res.Goals = append(res.Goals, Goal{Name: "cross-node / raw ceiling, same topology", Measured: r, Want: "≥ 0.85", Met: r >= 0.85})
	}
	if res.Node != nil && res.Node.ReceivedPerSec > 0 {
		r := got / res.Node.ReceivedPerSec
		res.Goals = append(res.Goals, Goal{Name: "cross-node delivered / Node adapter", Measured: r, Want: "≥ 10", Met: r >= 10})
	}
	if c := res.Config; res.Run != nil && res.Run.CPUPerBroadcastUS > 0 && !c.Procs && (c.Payload == 100 || c.Payload == 1024) {
		// The CPU goals are for the whole process (both nodes and the
		// harness), 100 B and 1 KiB payloads.
		want := 1.8
		if c.Payload == 1024 {
			want = 3
		}
		res.Goals = append(res.Goals, Goal{Name: fmt.Sprintf("Go CPU per broadcast (µs), %d B, in one process", c.Payload),
			Measured: res.Run.CPUPerBroadcastUS, Want: fmt.Sprintf("≤ %.1f", want), Met: res.Run.CPUPerBroadcastUS <= want})
	}
	if res.HalfRate != nil && res.HalfRate.Latency.Count > 0 {
		p := res.HalfRate.Latency.P99
		res.Goals = append(res.Goals, Goal{Name: "p99 latency at half the maximum rate (ms)", Measured: p, Want: "≤ 2", Met: p <= 2})
	}
}

func (res *Result) print(w io.Writer) {
	c := res.Config
	if res.Run == nil && res.Ceiling != nil { // -ceiling-only
		for _, cl := range []*CeilingResult{res.Ceiling, res.CeilingShard, res.CeilingPSub} {
			if cl == nil {
				continue
			}
			fmt.Fprintf(w, "raw rueidis %s, %d-byte messages on %d channel(s) (%s…), DoMulti(%d) × %d goroutines:\n", cl.Label, cl.WireBytes, cl.Channels, cl.Channel, cl.Batch, cl.Goroutines)
			fmt.Fprintf(w, "  published %s/s, received %s/s; per message: Go CPU %.2f µs, redis-server CPU %.2f µs\n",
				si(cl.PublishedPerSec), si(cl.ReceivedPerSec), cl.GoCPUPerMsg, cl.RedisCPUPerMsg)
		}
		return
	}
	target := "one room per broadcast (round robin)"
	if c.Target == targetAll {
		target = "everyone"
	}
	fmt.Fprintf(w, "sioredis bench: %d %s nodes (%d publishing), %d rooms, %d sockets/node, to %s, payload %d B, %d goroutines/publishing node, %s measured after %s warm-up\n",
		c.Nodes, res.Mode, c.PubNodes, c.Rooms, c.Sockets, target, c.Payload, c.Goroutines, c.Duration, c.Warmup)
	started := ""
	if res.RedisStarted {
		started = ", started by the harness"
	}
	fmt.Fprintf(w, "protocol: %s\n", c.protocolName())
	fmt.Fprintf(w, "redis: %s%s\nengine options: PublishBatch=%s PublishFlushDelay=%s ReceiveQueue=%s PublishQueue=%s\n",
		res.Redis, started, orDefault(c.PublishBatch), orDefaultD(c.PublishFlushDelay),
		orDefault(c.ReceiveQueue), orDefault(c.PublishQueue))
	fmt.Fprintln(w)
	printSummary(w, res.Run, res.Mode == "separate-process")
	if res.HalfRate != nil {
		fmt.Fprintf(w, "\nat half the maximum rate (%s broadcasts/s per publishing node):\n", si(res.HalfRate.Rate))
		printSummary(w, res.HalfRate, res.Mode == "separate-process")
	}
	if c.Compare {
		fmt.Fprintln(w, "\ncomparison, same machine, same run, same payload:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		got := res.Run.receiverRate()
		fmt.Fprintf(tw, "\tbroadcasts/s received\tsioredis ×\t\n")
		fmt.Fprintf(tw, "sioredis engine, per receiving node\t%s\t\t\n", si(got))
		for i, cl := range []*CeilingResult{res.Ceiling, res.CeilingShard, res.CeilingPSub} {
			if cl == nil {
				continue
			}
			name := "same, " + cl.Label
			if i == 0 {
				name = fmt.Sprintf("ceiling: rueidis DoMulti(%d)×%d %s, %d B", cl.Batch, cl.Goroutines, cl.Label, cl.WireBytes)
			}
			if cl.Channels > 1 {
				name += fmt.Sprintf(", %d channels", cl.Channels)
			}
			fmt.Fprintf(tw, "%s\t%s\t%.2f\t\n", name, si(cl.ReceivedPerSec), got/cl.ReceivedPerSec)
		}
		if res.Node != nil {
			fmt.Fprintf(tw, "Node: %s (setImmediate batches of %d)\t%s\t%.2f\t\n",
				res.Node.Label, res.Node.Batch, si(res.Node.ReceivedPerSec), got/res.Node.ReceivedPerSec)
		} else if res.NodeError != "" {
			fmt.Fprintf(tw, "Node: not measured: %s\t\t\t\n", res.NodeError)
		}
		tw.Flush()
		if res.Node != nil && res.Node.LatencyMS != nil {
			l := res.Node.LatencyMS
			fmt.Fprintf(w, "Node latency at full speed: p50 %.3g ms, p99 %.3g ms, max %.3g ms\n", l["p50"], l["p99"], l["max"])
		}
		if res.Ceiling != nil && res.Ceiling.RedisCPUPerMsg > 0 {
			cp := res.CeilingPSub
			if cp == nil {
				cp = &CeilingResult{}
			}
			fmt.Fprintf(w, "CPU per broadcast: redis-server: ceiling %.2f µs, same topology %.2f µs, sioredis %.2f µs; Go: ceiling %.2f µs, same topology %.2f µs, sioredis %.2f µs\n",
				res.Ceiling.RedisCPUPerMsg, cp.RedisCPUPerMsg, res.Run.RedisCPUPerBroadcastUS, res.Ceiling.GoCPUPerMsg, cp.GoCPUPerMsg, res.Run.CPUPerBroadcastUS)
		}
		printMasters(w, res)
		if len(res.Goals) > 0 {
			fmt.Fprintln(w, "\ngoals:")
			for _, g := range res.Goals {
				mark := "NOT MET"
				if g.Met {
					mark = "met"
				}
				fmt.Fprintf(w, "  %-46s %8.3g  (want %s)  %s\n", g.Name, g.Measured, g.Want, mark)
			}
		}
	}
}

// printMasters prints PUBLISH and SPUBLISH per Redis node over each
// measured window (only when Redis has more than one node).
func printMasters(w io.Writer, res *Result) {
	type line struct {
		name string
		ms   []MasterCounts
	}
	var lines []line
	if res.Run != nil {
		lines = append(lines, line{"sioredis engine", res.Run.Masters})
	}
	for _, cl := range []*CeilingResult{res.Ceiling, res.CeilingShard, res.CeilingPSub} {
		if cl != nil {
			lines = append(lines, line{"raw " + cl.Label, cl.Masters})
		}
	}
	if res.Node != nil {
		lines = append(lines, line{"Node peer", res.Node.Masters})
	}
	multi := false
	for _, l := range lines {
		multi = multi || len(l.ms) > 1
	}
	if !multi {
		return
	}
	fmt.Fprintln(w, "\nper Redis master over each measured window: INFO commandstats calls (cmdstat_spublish, cmdstat_publish), share of the SPUBLISH total, and net output:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tmaster\tSPUBLISH\tshare\tPUBLISH\tnet out MB\t")
	for _, l := range lines {
		var total uint64
		for _, m := range l.ms {
			total += m.SPublish
		}
		for _, m := range l.ms {
			share := "-"
			if total > 0 {
				share = fmt.Sprintf("%.1f%%", 100*float64(m.SPublish)/float64(total))
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%.1f\t\n", l.name, m.Addr, m.SPublish, share, m.Publish, float64(m.OutputBytes)/1e6)
		}
	}
	tw.Flush()
}

func printSummary(w io.Writer, s *Summary, perNode bool) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	hdr := "node\trole\tpublished/s\treceived bc/s\tdeliveries/s\tmean batch\tp50 ms\tp99 ms\tp99.9 ms\tmax ms\tdrops\tredis errs\t"
	if perNode {
		hdr += "cpu µs/bc\tallocs/bc\t"
	}
	fmt.Fprintln(tw, hdr)
	dash := func(v float64, f func(float64) string) string {
		if v == 0 {
			return "-"
		}
		return f(v)
	}
	ms := func(v float64) string { return fmt.Sprintf("%.3f", v) }
	for _, n := range s.Nodes {
		lat := "-\t-\t-\t-"
		if n.Latency != nil {
			lat = fmt.Sprintf("%s\t%s\t%s\t%s", ms(n.Latency.P50), ms(n.Latency.P99), ms(n.Latency.P999), ms(n.Latency.Max))
		}
		var drops uint64
		for k, v := range n.Drops {
			if k != "own" && k != "no_room" {
				drops += v
			}
		}
		line := fmt.Sprintf("%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t", n.Index, n.Role, dash(n.PublishedPerSec, si),
			dash(n.ReceivedPerSec, si), dash(n.DeliveriesPerSec, si), dash(n.MeanBatch, func(v float64) string { return fmt.Sprintf("%.1f", v) }),
			lat, drops, n.RedisErrors)
		if perNode {
			line += fmt.Sprintf("%.2f\t%.2f\t", n.CPUPerBroadcastUS, n.AllocsPerBroadcast)
		}
		fmt.Fprintln(tw, line)
	}
	l := s.Latency
	line := fmt.Sprintf("all\t\t%s\t%s\t%s\t\t%.3f\t%.3f\t%.3f\t%.3f\t%d\t%d\t", si(s.PublishedPerSec), si(s.ReceivedPerSec),
		si(s.DeliveriesPerSec), l.P50, l.P99, l.P999, l.Max, mapSum(s.Drops), s.RedisErrors)
	if perNode {
		line += "\t\t"
	}
	fmt.Fprintln(tw, line)
	tw.Flush()
	fmt.Fprintf(w, "latency = publish → first local recipient on another node, %d samples (HDR histogram, µs resolution)\n", l.Count)
	fmt.Fprintf(w, "per published broadcast: Go CPU %.2f µs, redis-server CPU %.2f µs, %.2f allocations (%.0f B)\n",
		s.CPUPerBroadcastUS, s.RedisCPUPerBroadcastUS, s.AllocsPerBroadcast, s.BytesPerBroadcast)
	status := "every expected delivery arrived"
	if !s.Drained || s.Lost > 0 {
		status = fmt.Sprintf("%d expected deliveries never arrived", s.Lost)
	}
	fmt.Fprintf(w, "errors: emit %d, publish %d, redis %d, resubscribes %d; drops %s; %s\n",
		s.EmitErrors, s.PublishErrors, s.RedisErrors, s.Resubscribes, dropsText(s.Drops), status)
	if s.LastError != "" {
		fmt.Fprintf(w, "last emit error: %s\n", s.LastError)
	}
}

func mapSum(m map[string]uint64) uint64 {
	var t uint64
	for _, v := range m {
		t += v
	}
	return t
}

func dropsText(m map[string]uint64) string {
	if mapSum(m) == 0 {
		return "0"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func orDefault(v int) string {
	if v == 0 {
		return "default"
	}
	return fmt.Sprint(v)
}

func orDefaultD(v time.Duration) string {
	if v == 0 {
		return "default"
	}
	return v.String()
}
