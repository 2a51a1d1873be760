package redistest

import (
	"fmt"
	"math/rand"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestKeySlot(t *testing.T) {
	known := map[string]int{"123456789": 0x31C3, "foo": 12182, "{foo}bar": 12182, "": 0}
	for k, want := range known {
		if got := KeySlot(k); got != want {
			t.Errorf("KeySlot(%q) = %d, want %d", k, got, want)
		}
	}
	keys := []string{"foo", "bar", "{user1000}.following", "{user1000}.followers", "foo{}{bar}", "foo{{bar}}zap",
		"foo{bar}{zap}", "{", "}", "{}", "}{", "a{b", "a}b{c}", "{{}}", "x{}", "{a}", "\x00\xff{\x01}", "socket.io#/#room1#"}
	rng := rand.New(rand.NewSource(1))
	const alphabet = "ab{}#/\x00\xfe"
	for i := 0; i < 200; i++ {
		b := make([]byte, rng.Intn(12))
		for j := range b {
			b[j] = alphabet[rng.Intn(len(alphabet))]
		}
		keys = append(keys, string(b))
	}
	n := Cluster(t).Nodes[0]
	for _, k := range keys {
		got, err := n.Command("CLUSTER", "KEYSLOT", k)
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := strconv.Atoi(got); KeySlot(k) != want {
			t.Errorf("KeySlot(%q) = %d, CLUSTER KEYSLOT says %d", k, KeySlot(k), want)
		}
	}
}

func TestFailMasterNeedsAReplica(t *testing.T) {
	c := Cluster(t)
	if _, err := c.FailMaster(c.Nodes[0]); err == nil || !strings.Contains(err.Error(), "no replica") {
		t.Fatalf("FailMaster on a cluster without replicas: %v", err)
	}
	mustPing(t, c.Nodes[0]) // and nothing was killed
}

// indexOf returns the index of s in list, or -1.
func indexOf(list []*Server, s *Server) int {
	for i, n := range list {
		if n == s {
			return i
		}
	}
	return -1
}

func TestClusterWithReplicas(t *testing.T) {
	t0 := time.Now()
	c := NewClusterWithReplicas(t)
	t.Logf("6-node cluster ready in %v", time.Since(t0))
	if len(c.Nodes) != 3 || len(c.Replicas) != 3 || len(c.AllNodes()) != 6 || len(c.Addrs()) != 3 {
		t.Fatalf("nodes %d replicas %d all %d", len(c.Nodes), len(c.Replicas), len(c.AllNodes()))
	}
	for i, r := range c.Replicas {
		info, err := r.Info("replication")
		if err != nil || info["role"] != "slave" || info["master_port"] != strconv.Itoa(c.Nodes[i].Port) || info["master_link_status"] != "up" {
			t.Fatalf("Replicas[%d] %s: %v %v", i, r.Addr, info, err)
		}
	}

	t.Run("MasterForSlot", func(t *testing.T) {
		if m, err := c.MasterForSlot(0); err != nil || m != c.Nodes[0] {
			t.Fatalf("MasterForSlot(0) = %v, %v; want Nodes[0], masters are ordered by first slot", m, err)
		}
		if m, err := c.MasterForSlot(SlotCount - 1); err != nil || m != c.Nodes[2] {
			t.Fatalf("MasterForSlot(16383) = %v, %v; want Nodes[2]", m, err)
		}
		if _, err := c.MasterForSlot(SlotCount); err == nil {
			t.Fatal("slot 16384 accepted")
		}
		for _, key := range []string{"a", "b", "c", "{room}x"} {
			m, err := c.MasterForSlot(KeySlot(key))
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range c.Nodes {
				_, err := n.Command("SET", key, "v")
				if n == m && err != nil {
					t.Fatalf("SET %s on its master %s: %v", key, n.Addr, err)
				}
				if n != m && (err == nil || !strings.HasPrefix(err.Error(), "MOVED")) {
					t.Fatalf("SET %s on %s, not its master: %v", key, n.Addr, err)
				}
			}
		}
	})

	t.Run("MoveSlot", func(t *testing.T) {
		keys := []string{"{mv}1", "{mv}2", "{mv}3"}
		slot := KeySlot(keys[0])
		src, err := c.MasterForSlot(slot)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if _, err := src.Command("SET", k, "val-"+k); err != nil {
				t.Fatal(err)
			}
		}
		to := c.Nodes[(indexOf(c.Nodes, src)+1)%3]
		if err := c.MoveSlot(slot, to); err != nil {
			t.Fatal(err)
		}
		for _, n := range c.AllNodes() {
			if id, port, err := n.slotOwner(slot); err != nil || port != to.Port {
				t.Fatalf("%s: slot %d served by %s on %d, %v; want %s", n.Addr, slot, id, port, err, to.Addr)
			}
		}
		if m, err := c.MasterForSlot(slot); err != nil || m != to {
			t.Fatalf("MasterForSlot after the move = %v, %v", m, err)
		}
		for _, k := range keys {
			if got, err := to.Command("GET", k); err != nil || got != "val-"+k {
				t.Fatalf("GET %s on the new master = %q, %v", k, got, err)
			}
			if _, err := src.Command("GET", k); err == nil || !strings.HasPrefix(err.Error(), "MOVED") {
				t.Fatalf("GET %s on the old master: %v", k, err)
			}
		}
		if err := c.MoveSlot(slot, to); err != nil {
			t.Fatalf("move to the current master: %v", err)
		}
		// An empty slot, back to where the other one came from.
		empty := (slot + 1) % SlotCount
		if err := c.MoveSlot(empty, src); err != nil {
			t.Fatal(err)
		}
		if m, err := c.MasterForSlot(empty); err != nil || m != src {
			t.Fatalf("empty slot: MasterForSlot = %v, %v", m, err)
		}
		if err := c.MoveSlot(slot, c.Replicas[0]); err == nil {
			t.Fatal("move to a replica accepted")
		}
	})

	t.Run("FailMaster", func(t *testing.T) {
		key := "{fail}k"
		m, err := c.MasterForSlot(KeySlot(key))
		if err != nil {
			t.Fatal(err)
		}
		idx := indexOf(c.Nodes, m)
		replica := c.Replicas[idx]
		// WAIT counts the acknowledgements of its own connection's writes.
		conn := dialRaw(t, m.Addr)
		conn.must("SET", key, "kept")
		if n, err := conn.do("WAIT", "1", "2000"); err != nil || n != int64(1) {
			t.Fatalf("WAIT for the replica: %v, %v", n, err)
		}
		if _, err := c.FailMaster(replica); err == nil {
			t.Fatal("FailMaster of a replica accepted")
		}

		t0 := time.Now()
		nm, err := c.FailMaster(m)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("failover of %s to %s in %v", m.Addr, nm.Addr, time.Since(t0))
		if nm != replica || c.Nodes[idx] != nm || indexOf(c.Replicas, nm) >= 0 || indexOf(c.AllNodes(), m) >= 0 || len(c.Replicas) != 2 {
			t.Fatalf("after FailMaster: new %s, Nodes %v, Replicas %v", nm.Addr, c.Addrs(), c.Replicas)
		}
		if got, err := nm.Command("GET", key); err != nil || got != "kept" {
			t.Fatalf("GET on the promoted master = %q, %v", got, err)
		}
		for _, n := range c.AllNodes() {
			if info, err := n.clusterInfo(); err != nil || info["cluster_state"] != "ok" {
				t.Fatalf("%s: %v %v", n.Addr, info, err)
			}
		}
		if got, err := c.MasterForSlot(KeySlot(key)); err != nil || got != nm {
			t.Fatalf("MasterForSlot after failover = %v, %v", got, err)
		}

		// The old master comes back on its port and follows the new one.
		if _, err := m.Restart(); err != nil {
			t.Fatal(err)
		}
		t1 := time.Now()
		err = poll(15*time.Second, func() error {
			info, err := m.Info("replication")
			if err != nil {
				return err
			}
			if info["role"] != "slave" || info["master_port"] != strconv.Itoa(nm.Port) || info["master_link_status"] != "up" {
				return fmt.Errorf("restarted old master: role:%s master_port:%s link:%s", info["role"], info["master_port"], info["master_link_status"])
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("restarted old master replicates the new one after %v", time.Since(t1))
	})
}
