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
