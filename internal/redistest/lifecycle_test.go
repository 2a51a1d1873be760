package redistest

import (
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

func mustPing(t *testing.T, s *Server) {
	t.Helper()
	if r, err := s.Command("PING"); err != nil || r != "PONG" {
		t.Fatalf("PING %s = %q, %v", s.Addr, r, err)
	}
}

func TestRestartAfterKill(t *testing.T) {
	s := NewStandaloneWith(t, "--maxmemory-policy", "allkeys-lru")
	addr := s.Addr
	if _, err := s.Command("SET", "k", "v"); err != nil {
		t.Fatal(err)
	}
	c := dialRaw(t, s.Addr)
	c.must("PING")

	s.Kill()
	_ = c.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.r.ReadByte(); err == nil {
		t.Fatal("connection survived Kill")
	}
	c.conn.Close() // the server side closed first: it is left in TIME_WAIT
	if !timeWait(t, s.Port) {
		t.Fatalf("no TIME_WAIT socket on port %d: the test does not test what it says", s.Port)
	}
	if _, err := s.Command("PING"); err == nil {
		t.Fatal("killed server answers")
	}

	before := time.Now()
	at, err := s.Restart()
	if err != nil {
		t.Fatal(err)
	}
	if at.Before(before) || at.After(time.Now()) {
		t.Fatalf("acceptedAt %v not within the Restart call (from %v)", at, before)
	}
	t.Logf("accepting again %v after Restart was called", at.Sub(before))
	if s.Addr != addr {
		t.Fatalf("address changed: %s -> %s", addr, s.Addr)
	}
	mustPing(t, s)
	if got, err := s.Command("GET", "k"); err != nil || got != "" {
		t.Fatalf("GET k after restart = %q, %v; nothing is saved", got, err)
	}
	if got, err := s.Command("CONFIG", "GET", "maxmemory-policy"); err != nil || !strings.HasSuffix(got, "allkeys-lru") {
		t.Fatalf("arguments not reused: %q, %v", got, err)
	}
}

func TestRestartOfARunningServerFails(t *testing.T) {
	t.Parallel() // waits exitWait for the process to exit
	s := NewStandalone(t)
	if _, err := s.Restart(); err == nil || !strings.Contains(err.Error(), "still running") {
		t.Fatalf("Restart of a running server: %v", err)
	}
	mustPing(t, s)
}

func TestShutdownAndRestart(t *testing.T) {
	s := NewStandalone(t)
	if err := s.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Command("PING"); err == nil {
		t.Fatal("server answers after Shutdown")
	}
	if err := s.Shutdown(); err == nil {
		t.Fatal("second Shutdown is not an error")
	}
	if _, err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	mustPing(t, s)

	// A SHUTDOWN sent by the test itself.
	if _, err := s.Command("SHUTDOWN", "NOSAVE"); err == nil {
		t.Fatal("SHUTDOWN got a reply")
	}
	if _, err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	mustPing(t, s)
}

func TestRestartAfterStop(t *testing.T) {
	s := NewStandalone(t)
	s.Stop()
	if _, err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	mustPing(t, s) // and the test's cleanup stops it again
}

func TestRestartWaitsForThePort(t *testing.T) {
	s := NewStandalone(t)
	s.Kill()
	l, err := net.Listen("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	released := make(chan time.Time, 1)
	time.AfterFunc(150*time.Millisecond, func() {
		l.Close()
		released <- time.Now()
	})
	at, err := s.Restart()
	if err != nil {
		t.Fatal(err)
	}
	if rel := <-released; at.Before(rel) {
		t.Fatalf("accepted at %v, before the port was released at %v", at, rel)
	}
	mustPing(t, s)
	if log, _ := os.ReadFile(s.log); !strings.Contains(string(log), "Address already in use") {
		t.Fatal("the port was free at the first start: the retry was not exercised")
	}
}

// timeWait reports whether /proc/net/tcp lists a socket in TIME_WAIT with
// local port port.
func timeWait(t *testing.T, port int) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Fatal(err)
	}
	suffix := fmt.Sprintf(":%04X", port)
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 3 && strings.HasSuffix(f[1], suffix) && f[3] == "06" {
			return true
		}
	}
	return false
}

func TestFreezeThaw(t *testing.T) {
	s := NewStandalone(t)
	t.Cleanup(s.Thaw)
	if err := s.Freeze(); err != nil {
		t.Fatal(err)
	}
	c := dialRaw(t, s.Addr) // accepted by the kernel, not by Redis
	_ = c.conn.SetDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := c.conn.Write(encodeCommand([]string{"PING"})); err != nil {
		t.Fatal(err)
	}
	if _, err := readValue(c.r); err == nil {
		t.Fatal("a frozen server answered")
	} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatalf("want a timeout, got %v", err)
	}
	if err := s.Shutdown(); err == nil || !strings.Contains(err.Error(), "frozen") {
		t.Fatalf("Shutdown of a frozen server: %v", err)
	}
	if _, err := s.Restart(); err == nil || !strings.Contains(err.Error(), "frozen") {
		t.Fatalf("Restart of a frozen server: %v", err)
	}

	s.Thaw()
	s.Thaw() // not frozen any more: nothing happens
	_ = c.conn.SetDeadline(time.Now().Add(2 * time.Second))
	if v, err := readValue(c.r); err != nil || v != "PONG" {
		t.Fatalf("queued PING after Thaw = %v, %v", v, err)
	}
	mustPing(t, s)

	// Stop on a frozen server returns promptly.
	if err := s.Freeze(); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	s.Stop()
	if d := time.Since(t0); d > 2*time.Second {
		t.Fatalf("Stop of a frozen server took %v", d)
	}
	if err := s.Freeze(); err == nil {
		t.Fatal("Freeze of a stopped server is not an error")
	}
	s.Thaw()
}

func TestKillFrozenThenRestart(t *testing.T) {
	s := NewStandalone(t)
	if err := s.Freeze(); err != nil {
		t.Fatal(err)
	}
	s.Kill()
	if _, err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	mustPing(t, s)
}
