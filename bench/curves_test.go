package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/sioredis/sioredis/internal/curvedata"
)

// TestCurves runs a tiny sweep (2 payloads, 2 rates, 1 and 2 receiving
// servers) and checks the JSON it writes: every chart, every series of
// both sides, each with one point per sweep value and positive values.
// Speeds are not checked. Without node and the Node peer's packages (make
// node-peers) the engine's series are checked and the test then skips.
func TestCurves(t *testing.T) {
	t.Parallel()
	cfg := tinyConfig(t, "-nodes", "2", "-pub-nodes", "1", "-rate", "0", "-curves", t.TempDir(), "-curves-duration", "300ms",
		"-curves-payloads", "100,1024", "-curves-rates", "25,50", "-curves-servers", "1,2")
	r := testRunner(t, cfg)
	res := &Result{Command: "go run ./bench -curves …", Mode: "in-process", Redis: cfg.RedisURL, Config: cfg}
	cv, err := r.runCurves(context.Background(), res, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	path, err := curvedata.Write(cfg.CurvesDir, cv)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	read, err := curvedata.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	got := *read
	if got.Command == "" || got.Date == "" || got.Machine == "" || got.Engine == "" || got.Node == "" {
		t.Errorf("header: %+v", got)
	}
	withNode := got.NodeError == ""
	want := map[string]struct {
		series []string
		xs     []float64
	}{
		"payload":  {[]string{got.Engine, got.Node}, []float64{100, 1024}},
		"latency":  {[]string{got.Engine + " p50", got.Engine + " p99", got.Node + " p50", got.Node + " p99"}, nil},
		"scaleout": {[]string{got.Engine, got.Node}, []float64{1, 2}},
	}
	if len(got.Charts) != len(want) {
		t.Fatalf("%d charts, want %d", len(got.Charts), len(want))
	}
	for _, c := range got.Charts {
		w, ok := want[c.Name]
		if !ok {
			t.Errorf("unexpected chart %q", c.Name)
			continue
		}
		if c.Title == "" || c.XLabel == "" || c.XUnit == "" || c.YLabel == "" || c.YUnit == "" {
			t.Errorf("%s: labels %+v", c.Name, c)
		}
		for _, e := range c.NodePointErrors {
			t.Errorf("%s: Node run failed: %s", c.Name, e)
		}
		byName := map[string]curvedata.Series{}
		for _, s := range c.Series {
			byName[s.Name] = s
		}
		for i, name := range w.series {
			if i >= len(w.series)/2 && !withNode {
				break // the Node half
			}
			s, ok := byName[name]
			if !ok {
				t.Errorf("%s: no series %q (have %v)", c.Name, name, c.Series)
				continue
			}
			if len(s.Points) != 2 {
				t.Errorf("%s %s: %d points, want 2", c.Name, name, len(s.Points))
			}
			for j, p := range s.Points {
				if p.X <= 0 || p.Y <= 0 {
					t.Errorf("%s %s: point %d %+v not positive", c.Name, name, j, p)
				}
				if w.xs != nil && j < len(w.xs) && p.X != w.xs[j] {
					t.Errorf("%s %s: point %d at x %v, want %v", c.Name, name, j, p.X, w.xs[j])
				}
			}
		}
	}
	var out bytes.Buffer
	printCurves(&out, &got)
	for _, c := range got.Charts {
		if !strings.Contains(out.String(), "\n"+c.Name+": "+c.Title) {
			t.Errorf("printCurves has no line for chart %s:\n%s", c.Name, out.String())
		}
	}
	if !withNode {
		t.Skipf("engine series checked; Node series skipped: %s", got.NodeError)
	}
}

func TestCurvesFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-curves", "d", "-compare"},
		{"-curves", "d", "-rate", "100"},
		{"-curves", "d", "-curves-payloads", "100,x"},
		{"-curves", "d", "-curves-rates", "0"},
		{"-curves", "d", "-curves-servers", "0"},
	} {
		if _, err := parseFlags(args, &bytes.Buffer{}); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	if _, err := parseFlags([]string{"-curves", "d", "-curves-rates", "10%,50"}, &bytes.Buffer{}); err != nil {
		t.Error(err)
	}
}
