package redistest

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// restartTimeout bounds Restart, including its retries while the port is
// still bound by something else.
const restartTimeout = 10 * time.Second

// exitWait is how long Restart waits for a process that is still running
// (shutting down after a SHUTDOWN sent by the test) before it gives up.
const exitWait = 2 * time.Second

// Restart starts redis-server again on the same port and directory, with
// the same arguments, after its process exited (Kill, Stop, Shutdown or a
// SHUTDOWN sent by the test; a process still running is waited for up to
// exitWait, then it is an error). It polls every 500 µs until a new connection
// gets PONG and returns the time that first PONG arrived: the moment Redis
// accepts connections again, from which a client's recovery time can be
// measured.
//
// A start that fails because the port is still bound (by a listener of
// another process, or anything but TIME_WAIT, which redis-server's
// SO_REUSEADDR allows) is retried until restartTimeout. The data set is gone
// (nothing is saved), except what a cluster node keeps in nodes.conf, so a
// killed cluster node rejoins its cluster; after Stop, which removes the
// directory, it comes back as a new empty node.
func (s *Server) Restart() (acceptedAt time.Time, err error) {
	s.life.Lock()
	defer s.life.Unlock()
	s.mu.Lock()
	p, frozen := s.p, s.frozen
	s.mu.Unlock()
	if p != nil && !p.exited() {
		// A SHUTDOWN sent by the test closes its connection a moment
		// before the process is gone.
		if frozen {
			return time.Time{}, fmt.Errorf("redis-server on %s is frozen, not stopped: Kill, Stop or Shutdown it before Restart", s.Addr)
		}
		select {
		case <-p.done:
		case <-time.After(exitWait):
			return time.Time{}, fmt.Errorf("redis-server on %s still running after %s: Kill, Stop or Shutdown it before Restart", s.Addr, exitWait)
		}
	}
	deadline := time.Now().Add(restartTimeout)
	for {
		p, offs, err := s.launch()
		if err != nil {
			return time.Time{}, err
		}
		at, err := s.waitAccepting(p, offs, time.Until(deadline), 500*time.Microsecond)
		if err == nil {
			return at, nil
		}
		if !p.exited() {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if !errors.Is(err, errAddrInUse) || time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("restart: %w", err)
		}
		time.Sleep(time.Millisecond) // the port is still taken: start again
	}
}

// Shutdown sends SHUTDOWN NOSAVE and waits until the process has exited.
// It is an error if the server is not running, is frozen, or refuses.
func (s *Server) Shutdown() error {
	s.life.Lock()
	defer s.life.Unlock()
	s.mu.Lock()
	p, frozen := s.p, s.frozen
	s.mu.Unlock()
	switch {
	case p == nil || p.exited():
		return fmt.Errorf("shutdown: redis-server on %s is not running", s.Addr)
	case frozen:
		return fmt.Errorf("shutdown: redis-server on %s is frozen: Thaw it first", s.Addr)
	}
	// On success the server closes the connection without a reply.
	var re replyError
	if _, err := s.do("SHUTDOWN", "NOSAVE"); errors.As(err, &re) {
		return fmt.Errorf("SHUTDOWN NOSAVE on %s: %w", s.Addr, err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("shutdown: redis-server on %s still running 10s after SHUTDOWN NOSAVE", s.Addr)
	}
}

// Freeze stops the process with SIGSTOP and returns once it is stopped: the
// port still accepts connections (the kernel queues them) but nothing is
// answered, as with a hung server. Thaw resumes it; Stop and Kill work on a
// frozen server. Command on a frozen server fails after its 5 s deadline.
func (s *Server) Freeze() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.p
	if p == nil || p.exited() {
		return fmt.Errorf("freeze: redis-server on %s is not running", s.Addr)
	}
	if err := p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		return fmt.Errorf("freeze %s: %w", s.Addr, err)
	}
	s.frozen = true
	return waitProcState(p, true)
}

// Thaw resumes a frozen server with SIGCONT and returns once it runs again.
// It does nothing if the server is not frozen or not running, so it can be
// registered with t.Cleanup.
func (s *Server) Thaw() {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.p
	if !s.frozen || p == nil || p.exited() {
		s.frozen = false
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGCONT)
	s.frozen = false
	_ = waitProcState(p, false)
}

// waitProcState polls /proc until the process is (stopped) or is not
// (!stopped) in the stopped state, or has exited.
func waitProcState(p *proc, stopped bool) error {
	path := "/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/stat"
	deadline := time.Now().Add(2 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err != nil || p.exited() {
			return nil // gone: nothing left to wait for
		}
		// The state follows the ")" that ends the command name.
		if i := strings.LastIndexByte(string(b), ')'); i >= 0 && i+2 < len(b) {
			if (b[i+2] == 'T') == stopped {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("process %d: state in %s not %s after 2s", p.cmd.Process.Pid, path, map[bool]string{true: "stopped", false: "running"}[stopped])
		}
		time.Sleep(100 * time.Microsecond)
	}
}
