// Package curvedata is the curves file of the load harness: what `go run
// ./bench -curves DIR` measures and writes to DIR/curves.json, and what
// integrations/benchcharts reads to draw it. One definition for both, so
// that a field the harness adds is one the charts can read.
package curvedata

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// FileName is the name of the curves file in its directory.
const FileName = "curves.json"

// Curves is a curves file: what the sweeps measured, as charts of series
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
	// NodeError says why every Node series is missing, if they are (node
	// or the Node peer's packages are not installed).
	NodeError string  `json:"node_error,omitempty"`
	Charts    []Chart `json:"charts"`
}

// Chart is one figure: its series share the axes.
type Chart struct {
	// Name is the chart's file name without its extension: payload,
	// latency, scaleout.
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
	// NodePointErrors are this chart's Node runs that failed ("payload
	// 16384 B: node process exited…"), each leaving out its point.
	NodePointErrors []string `json:"node_point_errors,omitempty"`
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

// Read decodes a curves file and checks that it has charts, each named as
// a plain file name.
func Read(r io.Reader) (*Curves, error) {
	var c Curves
	if err := json.NewDecoder(r).Decode(&c); err != nil {
		return nil, fmt.Errorf("curvedata: %w", err)
	}
	if len(c.Charts) == 0 {
		return nil, errors.New("curvedata: no charts")
	}
	for _, ch := range c.Charts {
		if ch.Name == "" || strings.ContainsAny(ch.Name, `/\`) || ch.Name == "." || ch.Name == ".." {
			return nil, fmt.Errorf("curvedata: chart name %q: want a plain file name", ch.Name)
		}
	}
	return &c, nil
}

// Write writes c as dir/curves.json (FileName), creating dir, and returns
// the file's path.
func Write(dir string, c *Curves) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("curvedata: %w", err)
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return "", fmt.Errorf("curvedata: %w", err)
	}
	path := filepath.Join(dir, FileName)
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return "", fmt.Errorf("curvedata: %w", err)
	}
	return path, nil
}
