package main

import (
	"errors"
	"os/exec"
	"time"

	"github.com/sioredis/sioredis/internal/childproc"
)

// child is one process of the run (server B, the Node server, the clients)
// driven by lines on its standard input, answering JSON lines (childLine)
// on its standard output (childproc.Lines).
type child struct{ *childproc.Lines }

// startChild starts cmd and, when first is not nil, writes it as the first
// line of the child's input. The child dies with this process (Linux).
func startChild(name string, cmd *exec.Cmd, first any) (*child, error) {
	l, err := childproc.StartLines(name, cmd, first)
	if err != nil {
		return nil, err
	}
	return &child{l}, nil
}

// next waits for the child's next line, which must be of type want.
func (c *child) next(want string, timeout time.Duration) (childLine, error) {
	var l childLine
	err := c.Next(want, timeout, &l)
	return l, err
}

// do sends one command and waits for its answer of type want.
func (c *child) do(command, want string) (childLine, error) {
	var l childLine
	err := c.Do(command, want, 10*time.Second, &l)
	return l, err
}

// close ends the child's input (it shuts down by itself) and waits for it
// to exit, killing it after 10 s.
func (c *child) close() { c.Close(10 * time.Second) }

var errNoNode = errors.New("node and the packages of internal/nodepeer/testdata are needed (make node-peers installs them)")
