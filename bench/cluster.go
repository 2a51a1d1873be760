package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sioredis/sioredis/internal/childproc"
)

// -cluster: the harness's own 3-master Redis Cluster, started the way
// internal/redistest starts the test rig's (redistest's cluster starter is
// for tests only: it needs a testing.TB), with redis-server and
// redis-cli --cluster create, no replicas.

// benchCluster is a running 3-master cluster.
type benchCluster struct {
	addrs []string
	procs []*exec.Cmd
	dirs  []string
}

// startBenchCluster starts three cluster-enabled redis-servers on free
// loopback ports (port and port+10000, the bus, both free) and joins them
// with redis-cli --cluster create; it returns once every node reports
// cluster_state:ok.
func startBenchCluster() (*benchCluster, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New("-cluster: redis-server not found in PATH (apt-get install redis-server, or make tools)")
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		return nil, errors.New("-cluster: redis-cli not found in PATH (apt-get install redis-tools, or make tools)")
	}
	c := &benchCluster{}
	for i := 0; i < 3; i++ {
		if err := c.startNode(bin); err != nil {
			c.stop()
			return nil, fmt.Errorf("-cluster: node %d: %w", i, err)
		}
	}
	args := append([]string{"--cluster", "create"}, c.addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		c.stop()
		return nil, fmt.Errorf("-cluster: redis-cli --cluster create: %w: %s", err, out)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, a := range c.addrs {
		host, port, _ := net.SplitHostPort(a)
		for {
			out, err := exec.Command(cli, "-h", host, "-p", port, "CLUSTER", "INFO").Output()
			if err == nil && strings.Contains(string(out), "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				c.stop()
				return nil, fmt.Errorf("-cluster: node %s not ok after 30 s: %s %v", a, out, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return c, nil
}

func (c *benchCluster) startNode(bin string) error {
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freeClusterPort()
		if err != nil {
			return err
		}
		dir, err := os.MkdirTemp("", "bench-cluster-")
		if err != nil {
			return err
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", dir, "--daemonize", "no", "--logfile", filepath.Join(dir, "redis.log"), "--protected-mode", "no",
			"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000")
		childproc.DieWithParent(cmd)
		if err := cmd.Start(); err != nil {
			os.RemoveAll(dir)
			return err
		}
		if waitListening(addr, 10*time.Second) {
			c.addrs, c.procs, c.dirs = append(c.addrs, addr), append(c.procs, cmd), append(c.dirs, dir)
			return nil
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		log, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
		os.RemoveAll(dir)
		lastErr = fmt.Errorf("redis-server on %s did not start: %s", addr, strings.TrimSpace(lastLine(string(log))))
	}
	return lastErr
}

// URL is the -redis URL of the cluster: the first master, the others as
// ?addr= seeds.
func (c *benchCluster) URL() string {
	u := "redis://" + c.addrs[0]
	for i, a := range c.addrs[1:] {
		sep := "&"
		if i == 0 {
			sep = "?"
		}
		u += sep + "addr=" + a
	}
	return u
}

func (c *benchCluster) stop() {
	for _, p := range c.procs {
		_ = p.Process.Kill()
		_ = p.Wait()
	}
	for _, d := range c.dirs {
		os.RemoveAll(d)
	}
	c.procs, c.dirs = nil, nil
}

// freeClusterPort returns a free loopback port whose bus port (+10000) is
// free too.
func freeClusterPort() (int, error) {
	for i := 0; i < 50; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if port+10000 > 65535 {
			continue
		}
		bus, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+10000))
		if err != nil {
			continue
		}
		bus.Close()
		return port, nil
	}
	return 0, errors.New("no free port pair (port, port+10000)")
}

func waitListening(addr string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
