// Command chat-cluster is a whole chat cluster in one command (`make chat`):
// its own redis-server on a free port, two Go chat servers (package chat)
// on two ports, and, with -node, the Node chat server
// (internal/nodepeer/testdata/chat.js, after `make node-peers`) as a third
// member. It prints the URLs, and how to add a Node server by hand; Ctrl-C
// stops everything.
//
//	go run ./cmd/chat-cluster [-ports 3000,3001] [-node]
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sioredis/sioredis/integrations/chat"
	"github.com/sioredis/sioredis/internal/childproc"
	"github.com/sioredis/sioredis/internal/nodepeer"
)

func main() {
	ports := flag.String("ports", "3000,3001", "comma-separated ports of the Go chat servers (0: a free port)")
	host := flag.String("host", "127.0.0.1", "host the chat servers listen on")
	withNode := flag.Bool("node", false, "also start the Node chat server (needs `make node-peers`)")
	nodePort := flag.Int("node-port", 3002, "port of the Node chat server (0: a free port)")
	nodeDir := flag.String("node-dir", "", "directory of chat.js and its node_modules (default: internal/nodepeer/testdata of this repository)")
	flag.Parse()
	if err := run(*host, *ports, *withNode, *nodePort, *nodeDir); err != nil {
		fmt.Fprintln(os.Stderr, "chat-cluster:", err)
		os.Exit(1)
	}
}

func run(host, ports string, withNode bool, nodePort int, nodeDir string) error {
	redis, stopRedis, err := startRedis()
	if err != nil {
		return err
	}
	defer stopRedis()
	fmt.Printf("redis-server  redis://%s (its own, stopped on exit)\n", redis)

	for i, p := range strings.Split(ports, ",") {
		port, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return fmt.Errorf("-ports: %q is not a port", p)
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return fmt.Errorf("%w (pick others with -ports, 0 for a free one)", err)
		}
		name := fmt.Sprintf("go-%d", i+1)
		srv, err := chat.New(chat.Options{Redis: redis, Name: name})
		if err != nil {
			return err
		}
		defer srv.Close()
		go func() { _ = http.Serve(ln, srv) }()
		defer ln.Close()
		fmt.Printf("chat server   %-7s http://%s\n", name, ln.Addr())
	}

	nodeCmd := fmt.Sprintf("(cd internal/nodepeer/testdata && node chat.js --redis redis://%s --port %d)", redis, nodePort)
	if withNode {
		if nodeDir == "" {
			if nodeDir, err = nodepeer.FixtureDir(); err != nil {
				return err
			}
		}
		stop, url, err := startNode(nodeDir, redis, host, nodePort)
		if err != nil {
			return err
		}
		defer stop()
		fmt.Printf("chat server   %-7s %s (Node: socket.io 4.8 + @socket.io/redis-adapter 8.3)\n", "node-1", url)
	} else {
		fmt.Printf("\nA Node server (socket.io 4.8 + @socket.io/redis-adapter 8.3) joins the same cluster with,\nfrom the repository root, after `make node-peers`:\n  %s\n", nodeCmd)
	}
	fmt.Println("\nOpen two URLs side by side, connect, join a room, chat. Ctrl-C stops everything.")

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	fmt.Println("\nstopping")
	return nil
}

// startRedis starts redis-server on a free loopback port, with no
// persistence, in a temporary directory.
func startRedis() (addr string, stop func(), err error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return "", nil, errors.New("redis-server not found (make redis-tools installs it)")
	}
	port, err := freePort()
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "chat-redis-")
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)
	childproc.DieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return "", nil, err
	}
	stop = func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		_ = os.RemoveAll(dir)
	}
	addr = "127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_, _ = c.Write([]byte("PING\r\n"))
			line, _ := bufio.NewReader(c).ReadString('\n')
			_ = c.Close()
			if strings.HasPrefix(line, "+PONG") {
				return addr, stop, nil
			}
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("redis-server on %s did not start", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startNode runs chat.js and waits for its "listening on URL" line.
func startNode(dir, redis, host string, port int) (stop func(), url string, err error) {
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "socket.io")); err != nil {
		return nil, "", fmt.Errorf("no socket.io in %s/node_modules: run `make node-peers` first", dir)
	}
	cmd := exec.Command("node", "chat.js", "--redis", "redis://"+redis, "--host", host, "--port", strconv.Itoa(port), "--name", "node-1")
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	childproc.DieWithParent(cmd)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	stop = func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}
	sc := bufio.NewScanner(out)
	if sc.Scan() {
		if _, u, ok := strings.Cut(sc.Text(), " listening on "); ok {
			go func() { // keep draining
				for sc.Scan() {
				}
			}()
			return stop, u, nil
		}
	}
	stop()
	return nil, "", errors.New("the Node chat server did not start")
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
