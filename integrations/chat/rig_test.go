package chat_test

import (
	"bufio"
	"bytes"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sioredis/sioredis/integrations/chat"
	"github.com/sioredis/sioredis/internal/childproc"
	"github.com/sioredis/sioredis/internal/nodepeer"
	"github.com/sioredis/sioredis/internal/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// startGo starts a Go chat server named name on the Redis at addr and
// returns its URL.
func startGo(t *testing.T, addr, name string) (*chat.Server, string) {
	t.Helper()
	srv, err := chat.New(chat.Options{Redis: addr, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.CloseClientConnections()
		_ = srv.Close()
		hs.Close()
	})
	return srv, hs.URL
}

// syncBuffer collects a child's stderr.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startNode starts the Node chat server (internal/nodepeer/testdata/chat.js:
// socket.io 4.8 and @socket.io/redis-adapter 8.3 from the fixture's
// node_modules) named name on redisURL, on a free port, and returns its
// URL. A missing node or node_modules fails the test.
func startNode(t *testing.T, redisURL, name string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node not found: the Node chat server needs Node.js >= 18 (and `make node-peers`)")
	}
	dir, err := nodepeer.FixtureDir()
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range []string{"socket.io", "@socket.io/redis-adapter", "redis"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", filepath.FromSlash(pkg), "package.json")); err != nil {
			t.Fatalf("Node package %s missing from %s/node_modules: run `make node-peers`", pkg, dir)
		}
	}
	cmd := exec.Command(node, "chat.js", "--redis", redisURL, "--port", "0", "--name", name)
	cmd.Dir = dir
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	childproc.DieWithParent(cmd)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if _, u, ok := strings.Cut(sc.Text(), " listening on "); ok {
				select {
				case urls <- u:
				default:
				}
			}
		}
	}()
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("stderr of the Node chat server %s:\n%s", name, stderr.String())
		}
	})
	select {
	case u := <-urls:
		return u
	case <-done:
		t.Fatalf("the Node chat server exited before it listened; stderr:\n%s", stderr.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("the Node chat server did not listen within 20 s; stderr:\n%s", stderr.String())
	}
	return ""
}
