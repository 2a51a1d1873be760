// Command benchcharts draws the curves of the sioredis load harness as SVG
// charts: it reads the curves.json that `go run ./bench -curves DIR` writes
// (in the sioredis module) and writes one SVG per chart into a directory,
// payload.svg, latency.svg and scaleout.svg, the engine and the Node peer
// on the same axes:
//
//	go run . -in ../../bench/curves/curves.json -out ../../bench/curves
//
// make curves (in the sioredis module) runs both steps. This is a module of
// its own so that its plotting dependency (gonum.org/v1/plot) stays out of
// the core's go.mod; the file's schema is the harness's own
// (internal/curvedata).
package main

import (
	"errors"
	"flag"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/sioredis/sioredis/internal/curvedata"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

func main() {
	in := flag.String("in", "curves.json", "the harness's curves.json (go run ./bench -curves DIR)")
	out := flag.String("out", ".", "directory to write the charts into")
	format := flag.String("format", "svg", "file format of the charts: svg, or png, pdf, eps")
	flag.Parse()
	files, err := run(*in, *out, *format)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchcharts:", err)
		os.Exit(1)
	}
	for _, f := range files {
		fmt.Println(f)
	}
}

// run reads the curves file in and writes one chart file per chart, in
// format (svg, png, pdf, eps), into the directory out; it returns the files
// written.
func run(in, out, format string) ([]string, error) {
	switch format {
	case "svg", "png", "pdf", "eps":
	default:
		return nil, fmt.Errorf("-format %q: want svg, png, pdf or eps", format)
	}
	f, err := os.Open(in)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c, err := curvedata.Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in, err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	var files []string
	for _, ch := range c.Charts {
		p, err := draw1(c, ch)
		if err != nil {
			return files, fmt.Errorf("chart %s: %w", ch.Name, err)
		}
		path := filepath.Join(out, ch.Name+"."+format)
		if err := p.Save(chartWidth, chartHeight, path); err != nil {
			return files, fmt.Errorf("chart %s: %w", ch.Name, err)
		}
		files = append(files, path)
	}
	return files, nil
}

// Colours: the engine blue, the Node peer orange (the Okabe-Ito palette).
var (
	engineColor = color.RGBA{0, 114, 178, 255}
	nodeColor   = color.RGBA{230, 159, 0, 255}
	otherColor  = color.RGBA{0, 158, 115, 255}
)

// draw1 builds the plot of one chart: a line with point markers per
// series; the engine's series blue with circles, the Node peer's orange
// with triangles, p99 series dashed.
func draw1(c *curvedata.Curves, ch curvedata.Chart) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = ch.Title
	if sub := subtitle(c); sub != "" {
		p.Title.Text += "\n" + sub
	}
	p.Title.TextStyle.Font.Size = vg.Points(12)
	p.X.Label.Text = axisLabel(ch.XLabel, ch.XUnit)
	p.Y.Label.Text = axisLabel(ch.YLabel, ch.YUnit)
	caption := ch.Caption
	if ch.LogY && len([]rune(p.Y.Label.Text)) > 20 && ch.YUnit != "" {
		// plot centres the y label's glyph box at the arithmetic mean of
		// the axis range, high up on a log axis, and pads the data area
		// down by whatever of a long label sticks out above: keep the
		// unit there and say the rest under the x axis.
		p.Y.Label.Text = ch.YUnit
		caption = strings.TrimSuffix("y: "+ch.YLabel+"; "+caption, "; ")
	}
	for _, l := range []string{caption, missingPoints(ch), c.Machine} {
		if l != "" {
			p.X.Label.Text += "\n" + l
		}
	}
	p.X.Label.TextStyle.Font.Size = vg.Points(9)
	p.Y.Label.TextStyle.Font.Size = vg.Points(9)
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	p.Add(plotter.NewGrid())

	var xs []float64
	n := 0
	for _, s := range ch.Series {
		var xys plotter.XYs
		for _, pt := range s.Points {
			if math.IsNaN(pt.X) || math.IsNaN(pt.Y) || (ch.LogX && pt.X <= 0) || (ch.LogY && pt.Y <= 0) {
				continue // not drawable on this axis
			}
			xys = append(xys, plotter.XY{X: pt.X, Y: pt.Y})
			xs = append(xs, pt.X)
		}
		if len(xys) == 0 {
			continue
		}
		sort.Slice(xys, func(i, j int) bool { return xys[i].X < xys[j].X })
		line, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, fmt.Errorf("series %s: %w", s.Name, err)
		}
		col, glyph := otherColor, draw.GlyphDrawer(draw.SquareGlyph{})
		switch {
		case c.Engine != "" && strings.HasPrefix(s.Name, c.Engine):
			col, glyph = engineColor, draw.CircleGlyph{}
		case c.Node != "" && strings.HasPrefix(s.Name, c.Node):
			col, glyph = nodeColor, draw.TriangleGlyph{}
		}
		line.LineStyle.Color, line.LineStyle.Width = col, vg.Points(1.5)
		if strings.HasSuffix(s.Name, " p99") {
			line.LineStyle.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		pts.Color, pts.Shape, pts.Radius = col, glyph, vg.Points(3)
		p.Add(line, pts)
		p.Legend.Add(s.Name, line, pts)
		n++
	}
	if n == 0 {
		return nil, errors.New("no drawable points")
	}
	if ch.LogX {
		p.X.Scale = plot.LogScale{}
	}
	if ch.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = siTicks{log: true}
		// Down to the decade below the lowest point, so that a
		// labelled tick is always under the curves.
		p.Y.Min = math.Pow(10, math.Floor(math.Log10(p.Y.Min/1.2)))
		// Headroom above the curves for the legend: its share of the
		// plot's height, added on the log scale.
		span := math.Log10(p.Y.Max / p.Y.Min)
		need := legendShare(n)
		p.Y.Max *= math.Pow(10, span*need/(1-need))
	} else {
		p.Y.Tick.Marker = siTicks{}
		p.Y.Min = 0
		p.Y.Max /= 1 - legendShare(n)
	}
	// Ticks at the measured x values (payload sizes, server counts, or
	// rates in SI units).
	p.X.Tick.Marker = valueTicks{xs: xs, bytes: ch.XUnit == "bytes"}
	pad := func(lo, hi float64) (float64, float64) {
		if ch.LogX {
			return lo / 1.3, hi * 1.3
		}
		d := (hi - lo) * 0.05
		if d == 0 {
			d = 0.5
		}
		return lo - d, hi + d
	}
	p.X.Min, p.X.Max = pad(p.X.Min, p.X.Max)
	return p, nil
}

// Chart size.
const (
	chartWidth  = 20 * vg.Centimeter
	chartHeight = 12 * vg.Centimeter
)

// legendShare is about the share of the data area's height that a legend
// of n entries takes, with a margin.
func legendShare(n int) float64 {
	area := chartHeight.Points() - 110 // the title, the x axis and its three label lines
	return math.Min(0.6, (float64(n)*11+24)/area)
}

// subtitle names the commit and its date, and the date of the run.
func subtitle(c *curvedata.Curves) string {
	commit := c.Commit
	if len(commit) > 12 {
		dirty := strings.HasSuffix(commit, "-dirty")
		commit = commit[:12]
		if dirty {
			commit += "-dirty"
		}
	}
	var parts []string
	if commit != "" {
		parts = append(parts, "commit "+commit)
	}
	if c.CommitDate != "" {
		parts = append(parts, "of "+c.CommitDate)
	}
	if c.Date != "" {
		parts = append(parts, "run at "+c.Date)
	}
	return strings.Join(parts, " · ")
}

// missingPoints names the Node points of chart ch that the harness could
// not measure, or "".
func missingPoints(ch curvedata.Chart) string {
	var out []string
	for _, e := range ch.NodePointErrors {
		what, _, _ := strings.Cut(e, ":")
		out = append(out, what)
	}
	if len(out) == 0 {
		return ""
	}
	return "Node peer: no point at " + strings.Join(out, ", ") + " (the Node run failed: node_point_errors in the JSON)"
}

// axisLabel is "label (unit)".
func axisLabel(label, unit string) string {
	if unit == "" {
		return label
	}
	return label + " (" + unit + ")"
}

// valueTicks puts a labelled tick at each measured x value (payload sizes
// in B/KiB, other values in SI units), thinned where labels would crowd.
type valueTicks struct {
	xs    []float64
	bytes bool
}

// Ticks implements plot.Ticker.
func (t valueTicks) Ticks(lo, hi float64) []plot.Tick {
	vals := append([]float64(nil), t.xs...)
	sort.Float64s(vals)
	var ticks []plot.Tick
	last := math.Inf(-1)
	for _, v := range vals {
		if v < lo || v > hi {
			continue
		}
		// Skip a value within 15 % of the previous label (rates of the
		// two sides may be close).
		if last > 0 && v < last*1.15 {
			continue
		}
		label := si(v)
		if t.bytes {
			label = bytesLabel(v)
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: label})
		last = v
	}
	return ticks
}

// siTicks are the default (or log) ticks labelled in SI units: 10k, 1M.
type siTicks struct{ log bool }

// Ticks implements plot.Ticker.
func (t siTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	if t.log {
		// 1, 2, 5 × 10ⁿ labelled where the axis spans at most two
		// decades, else only the powers of ten; every other integer
		// multiple a minor tick.
		few := math.Log10(hi/lo) <= 2
		for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
			p := math.Pow(10, e)
			for m := 1.0; m <= 9; m++ {
				v := m * p
				if v < lo || v > hi {
					continue
				}
				t := plot.Tick{Value: v}
				if m == 1 || few && (m == 2 || m == 5) {
					t.Label = "x"
				}
				ticks = append(ticks, t)
			}
		}
	} else {
		ticks = plot.DefaultTicks{}.Ticks(lo, hi)
	}
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = si(ticks[i].Value)
		}
	}
	return ticks
}

// si formats v with an SI suffix: 950, 12k, 1.5M; below 1, as is.
func si(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e6:
		return trim(v/1e6) + "M"
	case a >= 1e3:
		return trim(v/1e3) + "k"
	}
	return trim(v)
}

// trim formats v with about 3 significant digits (all of its integer
// part), no exponent, no trailing zeros.
func trim(v float64) string {
	a := math.Abs(v)
	prec := 0
	switch {
	case a >= 100 || a == 0:
	case a >= 10:
		prec = 1
	case a >= 1:
		prec = 2
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// bytesLabel formats a payload size: 100 B, 1 KiB, 16 KiB.
func bytesLabel(v float64) string {
	switch {
	case v >= 1<<20 && math.Mod(v, 1<<20) == 0:
		return trim(v/(1<<20)) + " MiB"
	case v >= 1<<10 && math.Mod(v, 1<<10) == 0:
		return trim(v/(1<<10)) + " KiB"
	}
	return trim(v) + " B"
}
