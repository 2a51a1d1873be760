package main

import (
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sioredis/sioredis/internal/curvedata"
)

// TestRenderFixture draws the charts of testdata/curves.json (a tiny real
// sweep) and checks that each SVG parses as XML and names every series of
// its chart, the axes' units and the commit.
func TestRenderFixture(t *testing.T) {
	const fixture = "testdata/curves.json"
	f, err := os.Open(fixture)
	if err != nil {
		t.Fatal(err)
	}
	c, err := curvedata.Read(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	files, err := run(fixture, out, "svg")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"payload.svg", "latency.svg", "scaleout.svg"}
	if len(files) != len(want) {
		t.Fatalf("wrote %v, want %v", files, want)
	}
	for i, ch := range c.Charts {
		if filepath.Base(files[i]) != want[i] || ch.Name+".svg" != want[i] {
			t.Errorf("file %d: %s for chart %s, want %s", i, files[i], ch.Name, want[i])
		}
		b, err := os.ReadFile(files[i])
		if err != nil {
			t.Fatal(err)
		}
		text := svgText(t, b)
		names := []string{ch.Title, ch.XUnit, ch.YUnit, c.Commit[:12]}
		for _, s := range ch.Series {
			names = append(names, s.Name)
		}
		if len(ch.Series) < 2 {
			t.Errorf("%s: fixture has %d series, want the engine and Node", ch.Name, len(ch.Series))
		}
		for _, n := range names {
			if !strings.Contains(text, n) {
				t.Errorf("%s: no %q in the SVG's text", files[i], n)
			}
		}
	}
}

// svgText checks that b is well-formed XML with an svg root and returns
// its character data.
func svgText(t *testing.T, b []byte) string {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(string(b)))
	var text strings.Builder
	root := ""
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = tok.Name.Local
			}
		case xml.CharData:
			text.Write(tok)
			text.WriteByte('\n')
		}
	}
	if root != "svg" {
		t.Fatalf("root element %q, want svg", root)
	}
	return text.String()
}

func TestRejects(t *testing.T) {
	if _, err := run("testdata/curves.json", t.TempDir(), "gif"); err == nil {
		t.Error("format gif accepted")
	}
	path := filepath.Join(t.TempDir(), "c.json")
	if err := os.WriteFile(path, []byte(`{"charts":[{"name":"empty","series":[{"name":"s","points":[{"x":1,"y":0}]}],"log_y":true}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := run(path, t.TempDir(), "svg"); err == nil {
		t.Error("a chart with no drawable point accepted")
	}
	if _, err := run(filepath.Join(t.TempDir(), "absent.json"), t.TempDir(), "svg"); err == nil {
		t.Error("a missing file accepted")
	}
}

func TestMissingPoints(t *testing.T) {
	ch := curvedata.Chart{Name: "payload", NodePointErrors: []string{"payload 4096 B: node process exited", "payload 16384 B: no result"}}
	if got, want := missingPoints(ch), "Node peer: no point at payload 4096 B, payload 16384 B (the Node run failed: node_point_errors in the JSON)"; got != want {
		t.Errorf("missingPoints = %q, want %q", got, want)
	}
	if got := missingPoints(curvedata.Chart{Name: "latency"}); got != "" {
		t.Errorf("no errors: %q", got)
	}
}

func TestLabels(t *testing.T) {
	for v, want := range map[float64]string{100: "100 B", 1024: "1 KiB", 16384: "16 KiB", 1000: "1000 B", 1536: "1536 B"} {
		if got := bytesLabel(v); got != want {
			t.Errorf("bytesLabel(%v) = %q, want %q", v, got, want)
		}
	}
	for v, want := range map[float64]string{950: "950", 12000: "12k", 1.5e6: "1.5M", 0.25: "0.25", 128700: "129k", 8470: "8.47k", 1e3: "1k", 0: "0"} {
		if got := si(v); got != want {
			t.Errorf("si(%v) = %q, want %q", v, got, want)
		}
	}
	ticks := siTicks{log: true}.Ticks(3e4, 6e5)
	var labels []string
	for _, tk := range ticks {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if strings.Join(labels, ",") != "50k,100k,200k,500k" {
		t.Errorf("log ticks over 30k–600k labelled %v", labels)
	}
}
