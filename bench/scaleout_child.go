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
	"sync"
	"time"

	"github.com/sioredis/sioredis/internal/childproc"
)

// A receiving node of -scaleout -procs runs in a child process
// (-scaleout-child): the parent writes its scaleSpec as one JSON line and
// the child answers {"type":"ready"} once its sockets are joined; then it
// answers each "snap" line with its counters and its process's CPU time;
// EOF on stdin closes it.

type scaleChildLine struct {
	Type  string     `json:"type"` // ready, snap, error
	Snap  *scaleSnap `json:"snap,omitempty"`
	Error string     `json:"error,omitempty"`
}

// childReceiver is the parent's side of one child.
type childReceiver struct {
	mu sync.Mutex // one snap at a time
	l  *childproc.Lines
}

func startChildReceiver(sp scaleSpec) (*childReceiver, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("-procs: cannot find this executable: %w", err)
	}
	l, err := childproc.StartLines(fmt.Sprintf("receiver %d", sp.Index), exec.Command(self, "-scaleout-child"), sp)
	if err != nil {
		return nil, fmt.Errorf("-procs: %w", err)
	}
	c := &childReceiver{l: l}
	if err := l.Next("ready", 60*time.Second, nil); err != nil {
		c.close()
		return nil, fmt.Errorf("-procs: %w", err)
	}
	return c, nil
}

func (c *childReceiver) snap() (scaleSnap, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var l scaleChildLine
	if err := c.l.Do("snap", "snap", 10*time.Second, &l); err != nil {
		return scaleSnap{}, err
	}
	if l.Snap == nil {
		return scaleSnap{}, errors.New("child: snap without counters")
	}
	return *l.Snap, nil
}

func (c *childReceiver) close() { c.l.Close(10 * time.Second) }

// runScaleChild is the child's side.
func runScaleChild() error {
	in := bufio.NewReader(os.Stdin)
	out := json.NewEncoder(os.Stdout)
	fail := func(err error) error {
		_ = out.Encode(scaleChildLine{Type: "error", Error: err.Error()})
		return err
	}
	line, err := in.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("read spec: %w", err)
	}
	var sp scaleSpec
	if err := json.Unmarshal(line, &sp); err != nil {
		return fail(fmt.Errorf("spec: %w", err))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, err := startLocalReceiver(ctx, sp)
	if err != nil {
		return fail(err)
	}
	defer r.close()
	r.cpu = true
	if err := out.Encode(scaleChildLine{Type: "ready"}); err != nil {
		return err
	}
	for {
		if _, err := in.ReadBytes('\n'); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		s, _ := r.snap()
		if err := out.Encode(scaleChildLine{Type: "snap", Snap: &s}); err != nil {
			return err
		}
	}
}
