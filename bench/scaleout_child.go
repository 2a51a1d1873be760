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
	mu    sync.Mutex
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan childLineOrErr // one reader goroutine per child; closed at EOF
	done  chan struct{}
}

type childLineOrErr struct {
	line []byte
	err  error
}

func startChildReceiver(sp scaleSpec) (*childReceiver, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("-procs: cannot find this executable: %w", err)
	}
	cmd := exec.Command(self, "-scaleout-child")
	cmd.Stderr = os.Stderr
	childproc.DieWithParent(cmd)
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
	c := &childReceiver{cmd: cmd, in: in, lines: make(chan childLineOrErr, 4), done: make(chan struct{})}
	// One goroutine reads the child's lines for its whole life (it ends at
	// the child's EOF), so a read that times out leaves nothing behind.
	go func() {
		r := bufio.NewReaderSize(out, 1<<16)
		for {
			line, err := r.ReadBytes('\n')
			if err != nil {
				c.lines <- childLineOrErr{err: err}
				close(c.lines)
				return
			}
			c.lines <- childLineOrErr{line: line}
		}
	}()
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
	t := time.NewTimer(timeout)
	defer t.Stop()
	var l scaleChildLine
	select {
	case g, ok := <-c.lines:
		switch {
		case !ok:
			return l, fmt.Errorf("child exited before %q", typ)
		case g.err != nil:
			return l, fmt.Errorf("child exited before %q: %w", typ, g.err)
		}
		if err := json.Unmarshal(g.line, &l); err != nil {
			return l, fmt.Errorf("child: %q", g.line)
		}
		if l.Type == "error" {
			return l, errors.New(l.Error)
		}
		if l.Type != typ {
			return l, fmt.Errorf("child sent %q, want %q", l.Type, typ)
		}
		return l, nil
	case <-t.C:
		return l, fmt.Errorf("no %q from the child after %s", typ, timeout)
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
