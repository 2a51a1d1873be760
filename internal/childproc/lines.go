package childproc

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"
)

// Lines is a child process driven by lines on its standard input that
// answers one JSON object per line on its standard output, each with a
// "type" (and an "error" text when the type is "error"). Its standard
// error is this process's. One goroutine reads the answers for the whole
// life of the child, so a wait that times out leaves nothing behind; a
// line that is not JSON is copied to standard error, prefixed by the
// child's name.
type Lines struct {
	name    string
	cmd     *exec.Cmd
	in      io.WriteCloser
	answers chan []byte // closed when the child's output ends
	done    chan struct{}
}

// StartLines starts cmd (not yet started), which dies with this process
// (DieWithParent), and writes first as its first input line when it is
// not nil, as JSON.
func StartLines(name string, cmd *exec.Cmd, first any) (*Lines, error) {
	cmd.Stderr = os.Stderr
	DieWithParent(cmd)
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	l := &Lines{name: name, cmd: cmd, in: in, answers: make(chan []byte, 16), done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<16), 1<<26)
		for sc.Scan() {
			if !json.Valid(sc.Bytes()) {
				fmt.Fprintf(os.Stderr, "[%s] %s\n", name, sc.Bytes())
				continue
			}
			l.answers <- append([]byte(nil), sc.Bytes()...)
		}
		close(l.answers)
		_ = cmd.Wait()
		close(l.done)
	}()
	if first != nil {
		if err := json.NewEncoder(in).Encode(first); err != nil {
			l.Close(time.Second)
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return l, nil
}

// Send writes one line to the child's input.
func (l *Lines) Send(line string) error {
	if _, err := io.WriteString(l.in, line+"\n"); err != nil {
		return fmt.Errorf("%s: %w", l.name, err)
	}
	return nil
}

// Next waits up to timeout for the child's next answer, which must be of
// type want, and decodes it into v (when not nil). An answer of type
// "error" is returned as an error with its text.
func (l *Lines) Next(want string, timeout time.Duration, v any) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case line, ok := <-l.answers:
		if !ok {
			return fmt.Errorf("%s exited before %q", l.name, want)
		}
		var head struct{ Type, Error string }
		if err := json.Unmarshal(line, &head); err != nil {
			return fmt.Errorf("%s: %q: %w", l.name, line, err)
		}
		switch {
		case head.Type == "error":
			return fmt.Errorf("%s: %s", l.name, head.Error)
		case head.Type != want:
			return fmt.Errorf("%s: got %q, want %q", l.name, head.Type, want)
		}
		if v != nil {
			if err := json.Unmarshal(line, v); err != nil {
				return fmt.Errorf("%s: %q: %w", l.name, want, err)
			}
		}
		return nil
	case <-t.C:
		return fmt.Errorf("%s: no %q after %s", l.name, want, timeout)
	}
}

// Do sends command and waits up to timeout for its answer of type want.
func (l *Lines) Do(command, want string, timeout time.Duration, v any) error {
	if err := l.Send(command); err != nil {
		return err
	}
	return l.Next(want, timeout, v)
}

// Close ends the child's input (it is expected to exit then) and waits for
// it to exit, killing it after grace.
func (l *Lines) Close(grace time.Duration) {
	_ = l.in.Close()
	go func() {
		for range l.answers { // drain, so that the reader reaches Wait
		}
	}()
	select {
	case <-l.done:
	case <-time.After(grace):
		fmt.Fprintf(os.Stderr, "%s did not exit within %s, killing it\n", l.name, grace)
		_ = l.cmd.Process.Kill()
		<-l.done
	}
}
