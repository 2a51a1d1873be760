package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	"github.com/sioredis/sioredis/internal/childproc"
)

// child is one process of the run (server B, the Node server, the clients)
// driven by lines on its standard input, answering JSON lines (childLine)
// on its standard output. Its standard error is the command's.
type child struct {
	name  string
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan childLine
	done  chan struct{}
}

// startChild starts cmd and, when first is not nil, writes it as the first
// line of the child's input. The child dies with this process (Linux).
func startChild(name string, cmd *exec.Cmd, first any) (*child, error) {
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
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, in: in, lines: make(chan childLine, 16), done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var l childLine
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				fmt.Fprintf(os.Stderr, "[%s] %s\n", name, sc.Bytes())
				continue
			}
			c.lines <- l
		}
		close(c.lines)
		_ = cmd.Wait()
		close(c.done)
	}()
	if first != nil {
		if err := json.NewEncoder(in).Encode(first); err != nil {
			c.close()
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return c, nil
}

// next waits for the child's next line, which must be of type want.
func (c *child) next(want string, timeout time.Duration) (childLine, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case l, ok := <-c.lines:
		switch {
		case !ok:
			return l, fmt.Errorf("%s exited before %q", c.name, want)
		case l.Type == "error":
			return l, fmt.Errorf("%s: %s", c.name, l.Error)
		case l.Type != want:
			return l, fmt.Errorf("%s: got %q, want %q", c.name, l.Type, want)
		}
		return l, nil
	case <-t.C:
		return childLine{}, fmt.Errorf("%s: no %q after %s", c.name, want, timeout)
	}
}

// do sends one command and waits for its answer of type want.
func (c *child) do(command, want string) (childLine, error) {
	if _, err := io.WriteString(c.in, command+"\n"); err != nil {
		return childLine{}, fmt.Errorf("%s: %w", c.name, err)
	}
	return c.next(want, 10*time.Second)
}

// close ends the child's input (it shuts down by itself) and waits for it
// to exit, killing it after 10 s.
func (c *child) close() {
	_ = c.in.Close()
	go func() {
		for range c.lines { // drain, so the reader reaches Wait
		}
	}()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		fmt.Fprintf(os.Stderr, "fanout: %s did not exit, killing it\n", c.name)
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

var errNoNode = errors.New("node and the packages of internal/nodepeer/testdata are needed (make node-peers installs them)")
