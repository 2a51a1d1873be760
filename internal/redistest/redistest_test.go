package redistest

import (
	"strings"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

func TestStandaloneAnswers(t *testing.T) {
	s := Standalone(t)
	if _, err := s.Command("SET", "k", "v"); err != nil {
		t.Fatal(err)
	}
	got, err := s.Command("GET", "k")
	if err != nil || got != "v" {
		t.Fatalf("GET k = %q, %v; want v", got, err)
	}
	if Standalone(t) != s {
		t.Fatal("Standalone must be shared within a test binary")
	}
}

func TestOwnedStandaloneStopsWithTest(t *testing.T) {
	var s *Server
	t.Run("owner", func(t *testing.T) {
		s = NewStandalone(t)
		if r, err := s.Command("PING"); err != nil || r != "PONG" {
			t.Fatalf("PING = %q, %v", r, err)
		}
	})
	if _, err := s.Command("PING"); err == nil {
		t.Fatal("server still answers after its test ended")
	}
}

func TestClusterIsOK(t *testing.T) {
	c := Cluster(t)
	if len(c.Nodes) != 3 {
		t.Fatalf("want 3 masters, got %d", len(c.Nodes))
	}
	for _, n := range c.Nodes {
		info, err := n.Command("CLUSTER", "INFO")
		if err != nil || !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_known_nodes:3") {
			t.Fatalf("%s: %q %v", n.Addr, info, err)
		}
	}
	// Every slot is served: a key lands on exactly one master.
	masters, err := c.Nodes[0].Command("CLUSTER", "SLOTS")
	if err != nil || masters == "" {
		t.Fatalf("CLUSTER SLOTS: %q %v", masters, err)
	}
}

func TestNewStandaloneWithArgs(t *testing.T) {
	s := NewStandaloneWith(t, "--client-output-buffer-limit", "pubsub 1kb 1kb 0", "--maxmemory-policy", "allkeys-lru")
	got, err := s.Command("CONFIG", "GET", "client-output-buffer-limit")
	if err != nil || !strings.Contains(got, "pubsub 1024 1024 0") {
		t.Fatalf("client-output-buffer-limit = %q, %v", got, err)
	}
	if got, err := s.Command("CONFIG", "GET", "maxmemory-policy"); err != nil || !strings.HasSuffix(got, "allkeys-lru") {
		t.Fatalf("maxmemory-policy = %q, %v", got, err)
	}
}

func TestBadArgumentIsReported(t *testing.T) {
	mu.Lock()
	s, err := start(config{extra: []string{"--no-such-directive", "x"}})
	mu.Unlock()
	if err == nil {
		s.Stop()
		t.Fatal("redis-server started with a bad directive")
	}
	if !strings.Contains(err.Error(), "Bad directive") {
		t.Fatalf("error does not quote redis-server: %v", err)
	}
}

func TestCommandReplies(t *testing.T) {
	s := Standalone(t)
	if _, err := s.Command("RPUSH", "cmd:list", "a", "b"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Command("LRANGE", "cmd:list", "0", "-1"); err != nil || got != "a\nb" {
		t.Fatalf("LRANGE = %q, %v", got, err)
	}
	if got, err := s.Command("GET", "cmd:missing"); err != nil || got != "" {
		t.Fatalf("GET missing = %q, %v", got, err)
	}
	if got, err := s.Command("DEL", "cmd:list"); err != nil || got != "1" {
		t.Fatalf("DEL = %q, %v", got, err)
	}
	if _, err := s.Command("NOSUCHCOMMAND"); err == nil || !strings.HasPrefix(err.Error(), "ERR unknown command") {
		t.Fatalf("unknown command error = %v", err)
	}
}
