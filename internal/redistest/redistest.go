// Package redistest starts throwaway redis-server processes for tests: a
// standalone server and a 3-master Redis Cluster, each on free loopback ports,
// stopped when the test binary ends.
//
// Typical use, in a package's TestMain:
//
//	func TestMain(m *testing.M) { redistest.Main(m) }
//
// and in a test:
//
//	srv := redistest.Standalone(t) // shared by the tests of this binary
//	cl := redistest.Cluster(t)     // 3 masters, cluster_state:ok
//
// A missing redis-server or redis-cli is a test failure with a message that
// says how to install it (make test installs them), never a silent skip.
package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Server is one running redis-server process.
type Server struct {
	// Addr is "127.0.0.1:port".
	Addr string
	// Port is the TCP port the server listens on.
	Port int

	cmd  *exec.Cmd
	dir  string
	done chan struct{}
	err  error // process exit status, valid after done is closed
	log  string
}

// ClusterServers is a running Redis Cluster of three masters and no replicas.
type ClusterServers struct {
	// Nodes are the three masters.
	Nodes []*Server
}

// Addrs returns the addresses of every master, the seed list for a cluster client.
func (c *ClusterServers) Addrs() []string {
	addrs := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		addrs[i] = n.Addr
	}
	return addrs
}

var (
	mu         sync.Mutex
	started    []*Server
	standalone *Server
	cluster    *ClusterServers
)

// Main runs the tests of a package and stops every server started on its
// behalf afterwards. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	StopAll()
	os.Exit(code)
}

// StopAll stops every server this package started. Safe to call twice.
func StopAll() {
	mu.Lock()
	servers := started
	started, standalone, cluster = nil, nil, nil
	mu.Unlock()
	for _, s := range servers {
		s.Stop()
	}
}

// Standalone returns the standalone server shared by the tests of this test
// binary, starting it on first use.
func Standalone(tb testing.TB) *Server {
	tb.Helper()
	mu.Lock()
	defer mu.Unlock()
	if standalone == nil {
		s, err := start(nil)
		if err != nil {
			tb.Fatalf("redistest: %v", err)
		}
		standalone = s
	}
	return standalone
}

// NewStandalone starts a standalone server owned by the calling test: it is
// stopped when the test ends. Use it when a test kills or reconfigures Redis.
func NewStandalone(tb testing.TB) *Server {
	tb.Helper()
	mu.Lock()
	s, err := start(nil)
	mu.Unlock()
	if err != nil {
		tb.Fatalf("redistest: %v", err)
	}
	tb.Cleanup(s.Stop)
	return s
}

// Cluster returns the 3-master Redis Cluster shared by the tests of this test
// binary, creating it on first use and waiting until cluster_state:ok.
func Cluster(tb testing.TB) *ClusterServers {
	tb.Helper()
	mu.Lock()
	defer mu.Unlock()
	if cluster == nil {
		c, err := startCluster()
		if err != nil {
			tb.Fatalf("redistest: %v", err)
		}
		cluster = c
	}
	return cluster
}

// StartStandalone starts a standalone server outside of a test (for example
// from a command such as the bench harness). The caller must Stop it.
func StartStandalone() (*Server, error) {
	mu.Lock()
	defer mu.Unlock()
	return start(nil)
}

func startCluster() (*ClusterServers, error) {
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		return nil, errors.New("redis-cli not found in PATH: install redis-tools (apt-get install redis-tools), or run make test, which installs it")
	}
	c := &ClusterServers{}
	for i := 0; i < 3; i++ {
		s, err := start([]string{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000"})
		if err != nil {
			return nil, fmt.Errorf("cluster node %d: %w", i, err)
		}
		c.Nodes = append(c.Nodes, s)
	}
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	out, err := exec.Command(cli, args...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("redis-cli --cluster create: %w: %s", err, out)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, n := range c.Nodes {
		for {
			info, err := n.Command("CLUSTER", "INFO")
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("cluster node %s not ok after 30s: %q %v", n.Addr, info, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return c, nil
}

// start launches one redis-server; mu must be held.
func start(extra []string) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New("redis-server not found in PATH: install it (apt-get install redis-server), or run make test, which installs it")
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort(len(extra) > 0)
		if err != nil {
			return nil, err
		}
		dir, err := os.MkdirTemp("", "redistest-")
		if err != nil {
			return nil, fmt.Errorf("temp dir: %w", err)
		}
		args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", dir, "--daemonize", "no", "--logfile", filepath.Join(dir, "redis.log"), "--protected-mode", "no"}
		args = append(args, extra...)
		cmd := exec.Command(bin, args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("start redis-server: %w", err)
		}
		s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Port: port, cmd: cmd, dir: dir,
			done: make(chan struct{}), log: filepath.Join(dir, "redis.log")}
		go func() { s.err = cmd.Wait(); close(s.done) }()
		if err := s.waitReady(10 * time.Second); err != nil {
			lastErr = err
			s.Stop()
			continue // most likely the port was taken meanwhile: try another
		}
		started = append(started, s)
		return s, nil
	}
	return nil, fmt.Errorf("redis-server did not start: %w", lastErr)
}

func (s *Server) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-s.done:
			logText, _ := os.ReadFile(s.log)
			return fmt.Errorf("redis-server on %s exited: %v: %s", s.Addr, s.err, lastLines(string(logText), 5))
		default:
		}
		if reply, err := s.Command("PING"); err == nil && reply == "PONG" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server on %s not answering PING after %s", s.Addr, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Stop kills the server process and removes its directory. Safe to call twice.
func (s *Server) Stop() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
	}
	<-s.done
	os.RemoveAll(s.dir)
}

// Kill stops the process abruptly without removing its state, simulating a crash.
func (s *Server) Kill() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
	}
	<-s.done
}

// URL returns a redis:// URL for the server.
func (s *Server) URL() string { return "redis://" + s.Addr }

// Command sends one command over a fresh connection and returns the reply as
// text (simple and bulk strings, integers; arrays joined by newlines). It is a
// tool for test setup and assertions, not a client.
func (s *Server) Command(args ...string) (string, error) {
	conn, err := net.DialTimeout("tcp", s.Addr, time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return "", err
	}
	return readReply(bufio.NewReader(conn))
}

func readReply(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("empty reply")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", errors.New(line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return "", err
		}
		buf := make([]byte, n+2)
		if _, err := ioReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return "", err
		}
		parts := make([]string, 0, max(n, 0))
		for i := 0; i < n; i++ {
			p, err := readReply(r)
			if err != nil {
				return "", err
			}
			parts = append(parts, p)
		}
		return strings.Join(parts, "\n"), nil
	}
	return "", fmt.Errorf("unexpected reply %q", line)
}

func ioReadFull(r *bufio.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// freePort finds a free loopback port; with bus set, port+10000 (the cluster
// bus) must be free too.
func freePort(bus bool) (int, error) {
	for i := 0; i < 50; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		if !bus {
			l.Close()
			return port, nil
		}
		if port+10000 > 65535 {
			l.Close()
			continue
		}
		l2, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+10000)))
		l.Close()
		if err != nil {
			continue
		}
		l2.Close()
		return port, nil
	}
	return 0, errors.New("no free port pair for a cluster node")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
