// Package redistest starts throwaway redis-server processes for tests, on
// free loopback ports, stopped when the test binary ends (or the test that
// owns them): a shared standalone server and a shared 3-master Redis Cluster,
// and, owned by one test, standalone servers (with extra arguments or TLS)
// and a cluster of 3 masters with a replica each.
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
// For fault injection, a Server owned by the test can be killed, shut down,
// frozen (SIGSTOP) and restarted on the same port, its clients listed and
// killed; a cluster from NewClusterWithReplicas can fail a master over to
// its replica and move slots between masters.
//
// A missing redis-server or redis-cli is a test failure with a message that
// says how to install it (make test installs them), never a silent skip.
// Processes get SIGKILL when the test binary dies (Pdeathsig, Linux).
package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
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

	"github.com/sioredis/sioredis/internal/childproc"
)

// Server is one redis-server process on a fixed loopback port. The process
// can be killed, shut down, frozen and restarted on the same port; Addr and
// Port never change.
type Server struct {
	// Addr is "127.0.0.1:port".
	Addr string
	// Port is the TCP port the server listens on.
	Port int

	bin     string
	args    []string // redis-server arguments, reused by Restart
	dir     string
	log     string // redis-server's log file
	stderr  string // stdout and stderr of the process (config errors land here)
	tlsPort int    // 0 unless started with a TLS port

	life sync.Mutex // serialises Stop, Kill, Shutdown and Restart

	mu     sync.Mutex // guards p and frozen
	p      *proc
	frozen bool
}

// proc is one run of the redis-server process of a Server.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // exit status, valid after done is closed
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// ClusterServers is a running Redis Cluster of three masters.
//
// A cluster from NewClusterWithReplicas also has one replica per master; its
// FailMaster updates Nodes and Replicas. Neither is safe to read while a
// FailMaster of the same cluster runs.
type ClusterServers struct {
	// Nodes are the three masters.
	Nodes []*Server
	// Replicas are the replicas (none for Cluster; one per master for
	// NewClusterWithReplicas, Replicas[i] replicating Nodes[i] until a
	// FailMaster).
	Replicas []*Server

	owned []*Server // every server started for the cluster, for stop
}

// stop stops every server of the cluster.
func (c *ClusterServers) stop() {
	for _, s := range c.owned {
		s.Stop()
	}
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
		s, err := start(config{})
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
	return NewStandaloneWith(tb)
}

// NewStandaloneWith is NewStandalone with extra redis-server arguments, given
// as on its command line, for example
//
//	redistest.NewStandaloneWith(t, "--client-output-buffer-limit", "pubsub 1kb 1kb 0")
//
// A configuration redis-server rejects fails the test with its message.
func NewStandaloneWith(tb testing.TB, extraArgs ...string) *Server {
	tb.Helper()
	mu.Lock()
	s, err := start(config{extra: extraArgs})
	mu.Unlock()
	if err != nil {
		tb.Fatalf("redistest: %v", err)
	}
	stopAtEnd(tb, s)
	return s
}

// stopAtEnd registers the stop of servers with the test; if the test
// failed, the last lines of each server's log are logged first.
func stopAtEnd(tb testing.TB, servers ...*Server) {
	tb.Cleanup(func() {
		for _, s := range servers {
			if tb.Failed() {
				text := readFrom(s.log, 0) + "\n" + readFrom(s.stderr, 0)
				tb.Logf("redistest: end of the log of redis-server %s:\n\t%s", s.Addr, strings.Join(tail(text, 30), "\n\t"))
			}
			s.Stop()
		}
	})
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
	return start(config{})
}

func startCluster() (*ClusterServers, error) {
	cli, err := lookRedisCLI()
	if err != nil {
		return nil, err
	}
	c := &ClusterServers{}
	for i := 0; i < 3; i++ {
		s, err := start(config{extra: []string{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000"}, clusterBus: true})
		if err != nil {
			c.stop()
			return nil, fmt.Errorf("cluster node %d: %w", i, err)
		}
		c.Nodes = append(c.Nodes, s)
		c.owned = append(c.owned, s)
	}
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	out, err := exec.Command(cli, args...).CombinedOutput()
	if err != nil {
		c.stop()
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
				c.stop()
				return nil, fmt.Errorf("cluster node %s not ok after 30s: %q %v", n.Addr, info, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return c, nil
}

func lookRedisCLI() (string, error) {
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		return "", errors.New("redis-cli not found in PATH: install redis-tools (apt-get install redis-tools), or run make test, which installs it")
	}
	return cli, nil
}

// config says how start launches a new server.
type config struct {
	extra      []string // appended to the base arguments
	clusterBus bool     // port+10000 must be free too
	tlsPort    bool     // pick a second free port and pass it as --tls-port
}

// errAddrInUse is wrapped by launch errors caused by a port already bound.
var errAddrInUse = errors.New("address already in use")

// start launches one redis-server on a fresh port; mu must be held.
func start(c config) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New("redis-server not found in PATH: install it (apt-get install redis-server), or run make test, which installs it")
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort(c.clusterBus)
		if err != nil {
			return nil, err
		}
		dir, err := os.MkdirTemp("", "redistest-")
		if err != nil {
			return nil, fmt.Errorf("temp dir: %w", err)
		}
		s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Port: port, bin: bin, dir: dir,
			log: filepath.Join(dir, "redis.log"), stderr: filepath.Join(dir, "stderr.log")}
		s.args = []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", dir, "--daemonize", "no", "--logfile", s.log, "--protected-mode", "no"}
		if c.tlsPort {
			if s.tlsPort, err = freePortExcept(port); err != nil {
				os.RemoveAll(dir)
				return nil, err
			}
			s.args = append(s.args, "--tls-port", strconv.Itoa(s.tlsPort))
		}
		s.args = append(s.args, c.extra...)
		p, offs, err := s.launch()
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		if _, err := s.waitAccepting(p, offs, 10*time.Second, time.Millisecond); err != nil {
			s.Stop()
			if errors.Is(err, errAddrInUse) {
				lastErr = err
				continue // the port was taken meanwhile: try another
			}
			return nil, err
		}
		started = append(started, s)
		return s, nil
	}
	return nil, fmt.Errorf("redis-server did not start: %w", lastErr)
}

// logOffsets are the sizes of a server's log files before one launch, so
// that the lines of that run can be told from older ones.
type logOffsets struct{ log, stderr int64 }

// launch starts the process of s with s.args and makes it the current one.
// The caller holds s.life or owns s exclusively.
func (s *Server) launch() (*proc, logOffsets, error) {
	var offs logOffsets
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, offs, fmt.Errorf("server dir: %w", err)
	}
	if fi, err := os.Stat(s.log); err == nil {
		offs.log = fi.Size()
	}
	out, err := os.OpenFile(s.stderr, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, offs, fmt.Errorf("server output file: %w", err)
	}
	defer out.Close()
	if fi, err := out.Stat(); err == nil {
		offs.stderr = fi.Size()
	}
	cmd := exec.Command(s.bin, s.args...)
	cmd.Stdout, cmd.Stderr = out, out
	childproc.DieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return nil, offs, fmt.Errorf("start redis-server: %w", err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	s.mu.Lock()
	s.p, s.frozen = p, false
	s.mu.Unlock()
	return p, offs, nil
}

// waitAccepting polls every interval until process p answers PING on s.Addr
// and returns the time the first PONG arrived. If p exits first, the error
// quotes its last log lines and wraps errAddrInUse when a port was taken.
func (s *Server) waitAccepting(p *proc, offs logOffsets, timeout, interval time.Duration) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	for {
		if p.exited() {
			return time.Time{}, s.exitError(p, offs)
		}
		if ping(s.Addr, 250*time.Millisecond) {
			at := time.Now()
			// Make sure it is this process that answered, not another one
			// that bound the port first while ours is failing to.
			if s.answeredBy(p) {
				return at, nil
			}
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("redis-server on %s not answering PING after %s", s.Addr, timeout)
		}
		time.Sleep(interval)
	}
}

func (s *Server) answeredBy(p *proc) bool {
	info, err := s.Info("server")
	return err == nil && info["process_id"] == strconv.Itoa(p.cmd.Process.Pid)
}

func (s *Server) exitError(p *proc, offs logOffsets) error {
	text := readFrom(s.log, offs.log) + "\n" + readFrom(s.stderr, offs.stderr)
	err := fmt.Errorf("redis-server on %s exited: %v: %s", s.Addr, p.err, lastLines(text, 6))
	if strings.Contains(text, "Address already in use") {
		return fmt.Errorf("%w: %w", errAddrInUse, err)
	}
	return err
}

func readFrom(path string, off int64) string {
	b, err := os.ReadFile(path)
	if err != nil || off > int64(len(b)) {
		return ""
	}
	return string(b[off:])
}

// ping reports whether a PING on a new connection to addr gets PONG within timeout.
func ping(addr string, timeout time.Duration) bool {
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	if _, err := conn.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return false
	}
	v, err := readValue(bufio.NewReader(conn))
	return err == nil && v == "PONG"
}

// Stop kills the server process and removes its directory. Safe to call
// twice, and on a frozen server.
func (s *Server) Stop() {
	s.life.Lock()
	defer s.life.Unlock()
	s.kill()
	os.RemoveAll(s.dir)
}

// Kill stops the process abruptly without removing its state, simulating a
// crash. A frozen server is killed too. Restart starts it again.
func (s *Server) Kill() {
	s.life.Lock()
	defer s.life.Unlock()
	s.kill()
}

// kill sends SIGKILL to the current process and waits until it is gone; the
// caller holds s.life.
func (s *Server) kill() {
	s.mu.Lock()
	p, frozen := s.p, s.frozen
	s.frozen = false
	s.mu.Unlock()
	if p == nil {
		return
	}
	if !p.exited() {
		_ = p.cmd.Process.Kill()
		if frozen {
			// SIGKILL ends a stopped process on Linux; SIGCONT on top
			// makes sure nothing waits on it.
			_ = p.cmd.Process.Signal(syscall.SIGCONT)
		}
	}
	<-p.done
}

// URL returns a redis:// URL for the server.
func (s *Server) URL() string { return "redis://" + s.Addr }

// Command sends one command over a fresh connection, as the default user,
// and returns the reply as text (simple and bulk strings, integers; arrays
// joined by newlines, nested ones flattened; nil as ""). An error reply is
// returned as an error with its text. It is a tool for test setup and
// assertions, not a client.
func (s *Server) Command(args ...string) (string, error) {
	v, err := s.do(args...)
	if err != nil {
		return "", err
	}
	return flatten(v), nil
}

// do sends one command over a fresh connection and returns the reply as a
// tree: string (simple and bulk strings), int64, []any, or nil.
func (s *Server) do(args ...string) (any, error) {
	conn, err := net.DialTimeout("tcp", s.Addr, time.Second)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write(encodeCommand(args)); err != nil {
		return nil, err
	}
	return readValue(bufio.NewReader(conn))
}

func encodeCommand(args []string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return []byte(b.String())
}

// replyError is an error reply from Redis; its text is the reply without '-'.
type replyError string

func (e replyError) Error() string { return string(e) }

// readValue reads one RESP2 reply. An error reply, at any depth, is
// returned as a replyError.
func readValue(r *bufio.Reader) (any, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return nil, errors.New("empty reply")
	}
	switch line[0] {
	case '+':
		return line[1:], nil
	case ':':
		n, err := strconv.ParseInt(line[1:], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad integer reply %q", line)
		}
		return n, nil
	case '-':
		return nil, replyError(line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return nil, fmt.Errorf("bad bulk length %q", line)
		}
		if n < 0 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return nil, fmt.Errorf("bad array length %q", line)
		}
		if n < 0 {
			return nil, nil
		}
		parts := make([]any, 0, n)
		for i := 0; i < n; i++ {
			p, err := readValue(r)
			if err != nil {
				return nil, err
			}
			parts = append(parts, p)
		}
		return parts, nil
	}
	return nil, fmt.Errorf("unexpected reply %q", line)
}

// flatten renders a reply tree as Command's text.
func flatten(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case []any:
		parts := make([]string, len(v))
		for i, p := range v {
			parts[i] = flatten(p)
		}
		return strings.Join(parts, "\n")
	}
	return ""
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

// freePortExcept finds a free loopback port other than not.
func freePortExcept(not int) (int, error) {
	for i := 0; i < 50; i++ {
		p, err := freePort(false)
		if err != nil || p != not {
			return p, err
		}
	}
	return 0, errors.New("no second free port")
}

// lastLines returns the last n non-blank lines of s joined by " | ".
func lastLines(s string, n int) string { return strings.Join(tail(s, n), " | ") }

// tail returns the last n non-blank lines of s, trimmed.
func tail(s string, n int) []string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}
