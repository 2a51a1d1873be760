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
	mu   sync.Mutex
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
	done chan struct{}
}

func startChildReceiver(sp scaleSpec) (*childReceiver, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("-procs: cannot find this executable: %w", err)
	}
	cmd := exec.Command(self, "-scaleout-child")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("-procs: start receiver %d: %w", sp.Index, err)
	}
	c := &childReceiver{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<16), done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(c.done) }()
	if err := json.NewEncoder(in).Encode(sp); err != nil {
		c.close()
		return nil, fmt.Errorf("-procs: receiver %d: %w", sp.Index, err)
	}
	if _, err := c.read("ready", 60*time.Second); err != nil {
		c.close()
		return nil, fmt.Errorf("-procs: receiver %d: %w", sp.Index, err)
	}
	return c, nil
}

// read reads the next line, which must be of type typ.
func (c *childReceiver) read(typ string, timeout time.Duration) (scaleChildLine, error) {
	type got struct {
		l   scaleChildLine
		err error
	}
	ch := make(chan got, 1)
	go func() {
		var g got
		line, err := c.out.ReadBytes('\n')
		if err != nil {
			g.err = fmt.Errorf("child exited before %q: %w", typ, err)
		} else if err := json.Unmarshal(line, &g.l); err != nil {
			g.err = fmt.Errorf("child: %q", line)
		} else if g.l.Type == "error" {
			g.err = errors.New(g.l.Error)
		} else if g.l.Type != typ {
			g.err = fmt.Errorf("child sent %q, want %q", g.l.Type, typ)
		}
		ch <- g
	}()
	select {
	case g := <-ch:
		return g.l, g.err
	case <-time.After(timeout):
		return scaleChildLine{}, fmt.Errorf("no %q from the child after %s", typ, timeout)
	}
}

func (c *childReceiver) snap() (scaleSnap, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := io.WriteString(c.in, "snap\n"); err != nil {
		return scaleSnap{}, err
	}
	l, err := c.read("snap", 10*time.Second)
	if err != nil {
		return scaleSnap{}, err
	}
	if l.Snap == nil {
		return scaleSnap{}, errors.New("child: snap without counters")
	}
	return *l.Snap, nil
}

func (c *childReceiver) close() {
	c.in.Close()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

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
