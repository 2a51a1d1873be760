package redistest

import (
	"fmt"
	"github.com/sioredis/sioredis/internal/slot"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// SlotCount is the number of hash slots of a Redis Cluster.
const SlotCount = 16384

// replicaNodeTimeout is the cluster-node-timeout, in milliseconds, of a
// cluster from NewClusterWithReplicas: a master is failed over about two to
// three times this after it stops answering.
const replicaNodeTimeout = 1000

// NewClusterWithReplicas starts a Redis Cluster owned by the calling test
// (stopped when it ends): three masters, in Nodes ordered by their first
// slot, and one replica each, Replicas[i] replicating Nodes[i]. It returns
// once every node reports cluster_state:ok and knows all six nodes, and
// every replica reports master_link_status:up.
//
// The nodes use a cluster-node-timeout of 1000 ms, so that FailMaster (or a
// master killed or frozen by the test) leads to a failover within a few
// seconds; replicas are always eligible (cluster-replica-validity-factor 0)
// and never migrate to another master.
func NewClusterWithReplicas(tb testing.TB) *ClusterServers {
	tb.Helper()
	c, err := startReplicaCluster()
	if err != nil {
		tb.Fatalf("redistest: %v", err)
	}
	stopAtEnd(tb, c.owned...)
	return c
}

func startReplicaCluster() (*ClusterServers, error) {
	cli, err := lookRedisCLI()
	if err != nil {
		return nil, err
	}
	c := &ClusterServers{}
	args := []string{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
		"--cluster-node-timeout", strconv.Itoa(replicaNodeTimeout),
		"--cluster-replica-validity-factor", "0", "--cluster-allow-replica-migration", "no",
		"--repl-diskless-sync-delay", "0"}
	addrs := make([]string, 0, 6)
	for i := 0; i < 6; i++ {
		mu.Lock()
		s, err := start(config{extra: args, clusterBus: true})
		mu.Unlock()
		if err != nil {
			c.stop()
			return nil, fmt.Errorf("cluster node %d: %w", i, err)
		}
		c.owned = append(c.owned, s)
		addrs = append(addrs, s.Addr)
	}
	create := append([]string{"--cluster", "create"}, addrs...)
	create = append(create, "--cluster-replicas", "1", "--cluster-yes")
	if out, err := exec.Command(cli, create...).CombinedOutput(); err != nil {
		c.stop()
		return nil, fmt.Errorf("redis-cli --cluster create: %w: %s", err, out)
	}
	if err := c.classify(); err != nil {
		c.stop()
		return nil, err
	}
	if err := poll(30*time.Second, c.replicasReady); err != nil {
		c.stop()
		return nil, fmt.Errorf("cluster with replicas not ready: %w", err)
	}
	return c, nil
}

// classify fills Nodes and Replicas from each node's own CLUSTER NODES line.
func (c *ClusterServers) classify() error {
	type member struct {
		s    *Server
		self nodeLine
	}
	var masters, replicas []member
	for _, s := range c.owned {
		self, err := s.clusterSelf()
		if err != nil {
			return err
		}
		if self.flags["master"] {
			masters = append(masters, member{s, self})
		} else {
			replicas = append(replicas, member{s, self})
		}
	}
	if len(masters) != 3 || len(replicas) != 3 {
		return fmt.Errorf("want 3 masters and 3 replicas after redis-cli --cluster create, got %d and %d", len(masters), len(replicas))
	}
	sort.Slice(masters, func(i, j int) bool { return firstSlot(masters[i].self) < firstSlot(masters[j].self) })
	c.Nodes, c.Replicas = nil, nil
	for _, m := range masters {
		c.Nodes = append(c.Nodes, m.s)
		found := false
		for _, r := range replicas {
			if r.self.master == m.self.id {
				c.Replicas = append(c.Replicas, r.s)
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("master %s has no replica after redis-cli --cluster create", m.s.Addr)
		}
	}
	return nil
}

func firstSlot(n nodeLine) int {
	if len(n.slots) == 0 {
		return SlotCount
	}
	return n.slots[0][0]
}

// replicasReady returns nil once every node is ok, knows every node with no
// failure flag, sees len(Nodes) masters and len(Replicas) replicas, and every
// replica's link to its master is up; otherwise it says what is missing.
func (c *ClusterServers) replicasReady() error {
	all := c.AllNodes()
	for _, n := range all {
		info, err := n.clusterInfo()
		if err != nil {
			return err
		}
		if info["cluster_state"] != "ok" || info["cluster_known_nodes"] != strconv.Itoa(len(all)) {
			return fmt.Errorf("%s: cluster_state:%s cluster_known_nodes:%s", n.Addr, info["cluster_state"], info["cluster_known_nodes"])
		}
		lines, err := n.clusterNodes()
		if err != nil {
			return err
		}
		masters, replicas := 0, 0
		for _, l := range lines {
			for _, bad := range []string{"fail", "fail?", "handshake", "noaddr"} {
				if l.flags[bad] {
					return fmt.Errorf("%s sees %s as %s", n.Addr, l.addr, bad)
				}
			}
			if l.flags["master"] {
				masters++
			} else if l.flags["slave"] && l.master != "-" {
				replicas++
			}
		}
		if masters != len(c.Nodes) || replicas != len(c.Replicas) {
			return fmt.Errorf("%s sees %d masters and %d replicas", n.Addr, masters, replicas)
		}
	}
	for _, r := range c.Replicas {
		info, err := r.Info("replication")
		if err != nil {
			return err
		}
		if info["master_link_status"] != "up" {
			return fmt.Errorf("replica %s: role:%s master_link_status:%s", r.Addr, info["role"], info["master_link_status"])
		}
	}
	return nil
}

// AllNodes returns the masters followed by the replicas, in a new slice.
func (c *ClusterServers) AllNodes() []*Server {
	all := make([]*Server, 0, len(c.Nodes)+len(c.Replicas))
	all = append(all, c.Nodes...)
	return append(all, c.Replicas...)
}

// KeySlot returns the hash slot of key as Redis Cluster computes it: CRC16
// (XMODEM) of the key modulo 16384, where a key holding a non-empty {hash tag}
// (the part between the first '{' and the first '}' after it) is hashed by
// that tag alone.
func KeySlot(key string) int { return slot.Of(key) }

// MasterForSlot returns the master serving slot according to CLUSTER SLOTS,
// asked of the first master that answers.
func (c *ClusterServers) MasterForSlot(slot int) (*Server, error) {
	if slot < 0 || slot >= SlotCount {
		return nil, fmt.Errorf("slot %d out of range", slot)
	}
	var lastErr error
	for _, n := range c.Nodes {
		id, port, err := n.slotOwner(slot)
		if err != nil {
			lastErr = err
			continue
		}
		if s := c.byPort(port); s != nil {
			return s, nil
		}
		return nil, fmt.Errorf("slot %d: %s says node %s on port %d serves it, not a node of this cluster", slot, n.Addr, id, port)
	}
	return nil, fmt.Errorf("slot %d: no master answered: %w", slot, lastErr)
}

func (c *ClusterServers) byPort(port int) *Server {
	for _, s := range c.owned {
		if s.Port == port {
			return s
		}
	}
	return nil
}

func (c *ClusterServers) masterIndex(m *Server) int {
	for i, n := range c.Nodes {
		if n == m {
			return i
		}
	}
	return -1
}

// failoverTimeout bounds FailMaster.
const failoverTimeout = 20 * time.Second

// FailMaster kills master m with SIGKILL and waits (up to 20 s) until one of
// its replicas has been promoted and every remaining node reports
// cluster_state:ok again and sees the new master as a master. The new
// master takes m's place in Nodes and leaves Replicas; m is in neither any
// more (it stays owned by the test and is stopped at its end; after
// m.Restart() it rejoins as a replica of the new master, without being added
// to Replicas). With the cluster-node-timeout of NewClusterWithReplicas the
// failover takes two to three seconds.
func (c *ClusterServers) FailMaster(m *Server) (newMaster *Server, err error) {
	idx := c.masterIndex(m)
	if idx < 0 {
		return nil, fmt.Errorf("FailMaster: %s is not a master of this cluster", m.Addr)
	}
	mid, err := m.nodeID()
	if err != nil {
		return nil, fmt.Errorf("FailMaster: %w", err)
	}
	var candidates []*Server
	for _, r := range c.Replicas {
		self, err := r.clusterSelf()
		if err != nil {
			return nil, fmt.Errorf("FailMaster: %w", err)
		}
		if self.master == mid {
			candidates = append(candidates, r)
		}
	}
	if len(candidates) == 0 {
		return nil, fmt.Errorf("FailMaster: master %s has no replica to promote (use NewClusterWithReplicas)", m.Addr)
	}
	var remaining []*Server
	for _, n := range c.AllNodes() {
		if n != m {
			remaining = append(remaining, n)
		}
	}

	m.Kill()
	var newID string
	err = poll(failoverTimeout, func() error {
		if newMaster == nil {
			for _, r := range candidates {
				if info, err := r.Info("replication"); err == nil && info["role"] == "master" {
					newMaster = r
					break
				}
			}
			if newMaster == nil {
				return fmt.Errorf("no replica of %s promoted", m.Addr)
			}
			if newID, err = newMaster.nodeID(); err != nil {
				newMaster = nil
				return err
			}
		}
		for _, n := range remaining {
			info, err := n.clusterInfo()
			if err != nil {
				return err
			}
			if info["cluster_state"] != "ok" {
				return fmt.Errorf("%s: cluster_state:%s", n.Addr, info["cluster_state"])
			}
			lines, err := n.clusterNodes()
			if err != nil {
				return err
			}
			if l, ok := findNode(lines, newID); !ok || !l.flags["master"] {
				return fmt.Errorf("%s does not see %s as a master yet", n.Addr, newMaster.Addr)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("FailMaster %s: %w", m.Addr, err)
	}
	nodes := append([]*Server(nil), c.Nodes...)
	nodes[idx] = newMaster
	var replicas []*Server
	for _, r := range c.Replicas {
		if r != newMaster {
			replicas = append(replicas, r)
		}
	}
	c.Nodes, c.Replicas = nodes, replicas
	return newMaster, nil
}

// moveTimeout bounds the wait for every node to agree after MoveSlot.
const moveTimeout = 10 * time.Second

// MoveSlot migrates slot, with its keys, to master to, following the
// procedure of the CLUSTER SETSLOT documentation: SETSLOT IMPORTING on the
// target, MIGRATING on the source, MIGRATE of the keys from CLUSTER
// GETKEYSINSLOT in batches, then SETSLOT NODE on the target, the source and
// the other masters. It returns once every node of AllNodes (all must be
// running) says, in CLUSTER SLOTS, that to serves the slot. Moving a slot to
// the master that already serves it does nothing.
func (c *ClusterServers) MoveSlot(slot int, to *Server) error {
	if c.masterIndex(to) < 0 {
		return fmt.Errorf("MoveSlot: %s is not a master of this cluster", to.Addr)
	}
	src, err := c.MasterForSlot(slot)
	if err != nil {
		return fmt.Errorf("MoveSlot: %w", err)
	}
	if src == to {
		return nil
	}
	srcID, err := src.nodeID()
	if err != nil {
		return fmt.Errorf("MoveSlot: %w", err)
	}
	toID, err := to.nodeID()
	if err != nil {
		return fmt.Errorf("MoveSlot: %w", err)
	}
	sl := strconv.Itoa(slot)
	if _, err := to.Command("CLUSTER", "SETSLOT", sl, "IMPORTING", srcID); err != nil {
		return fmt.Errorf("MoveSlot %d: SETSLOT IMPORTING on %s: %w", slot, to.Addr, err)
	}
	if _, err := src.Command("CLUSTER", "SETSLOT", sl, "MIGRATING", toID); err != nil {
		return fmt.Errorf("MoveSlot %d: SETSLOT MIGRATING on %s: %w", slot, src.Addr, err)
	}
	for {
		v, err := src.do("CLUSTER", "GETKEYSINSLOT", sl, "100")
		if err != nil {
			return fmt.Errorf("MoveSlot %d: GETKEYSINSLOT on %s: %w", slot, src.Addr, err)
		}
		keys, _ := v.([]any)
		if len(keys) == 0 {
			break
		}
		args := []string{"MIGRATE", "127.0.0.1", strconv.Itoa(to.Port), "", "0", "5000", "KEYS"}
		for _, k := range keys {
			ks, ok := k.(string)
			if !ok {
				return fmt.Errorf("MoveSlot %d: GETKEYSINSLOT returned %T", slot, k)
			}
			args = append(args, ks)
		}
		if _, err := src.Command(args...); err != nil {
			return fmt.Errorf("MoveSlot %d: MIGRATE from %s to %s: %w", slot, src.Addr, to.Addr, err)
		}
	}
	order := []*Server{to, src}
	for _, n := range c.Nodes {
		if n != to && n != src {
			order = append(order, n)
		}
	}
	for _, n := range order {
		if _, err := n.Command("CLUSTER", "SETSLOT", sl, "NODE", toID); err != nil {
			return fmt.Errorf("MoveSlot %d: SETSLOT NODE on %s: %w", slot, n.Addr, err)
		}
	}
	err = poll(moveTimeout, func() error {
		for _, n := range c.AllNodes() {
			id, _, err := n.slotOwner(slot)
			if err != nil {
				return err
			}
			if id != toID {
				return fmt.Errorf("%s says node %s serves slot %d", n.Addr, id, slot)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("MoveSlot %d to %s: %w", slot, to.Addr, err)
	}
	return nil
}

// poll calls cond every 20 ms until it returns nil, or returns its last
// error once timeout has passed.
func poll(timeout time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s: %w", timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// nodeLine is one line of CLUSTER NODES.
type nodeLine struct {
	id     string
	addr   string // ip:port, without the bus port
	flags  map[string]bool
	master string   // id of the master, "-" for a master
	slots  [][2]int // served ranges; migrating and importing entries left out
}

func (s *Server) clusterNodes() ([]nodeLine, error) {
	text, err := s.Command("CLUSTER", "NODES")
	if err != nil {
		return nil, fmt.Errorf("CLUSTER NODES on %s: %w", s.Addr, err)
	}
	var lines []nodeLine
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			return nil, fmt.Errorf("CLUSTER NODES on %s: short line %q", s.Addr, line)
		}
		n := nodeLine{id: f[0], flags: map[string]bool{}, master: f[3]}
		n.addr, _, _ = strings.Cut(f[1], "@")
		for _, fl := range strings.Split(f[2], ",") {
			n.flags[fl] = true
		}
		for _, r := range f[8:] {
			if strings.HasPrefix(r, "[") {
				continue
			}
			lo, hi, _ := strings.Cut(r, "-")
			a, err1 := strconv.Atoi(lo)
			b := a
			var err2 error
			if hi != "" {
				b, err2 = strconv.Atoi(hi)
			}
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("CLUSTER NODES on %s: bad slot range %q", s.Addr, r)
			}
			n.slots = append(n.slots, [2]int{a, b})
		}
		lines = append(lines, n)
	}
	return lines, nil
}

func findNode(lines []nodeLine, id string) (nodeLine, bool) {
	for _, l := range lines {
		if l.id == id {
			return l, true
		}
	}
	return nodeLine{}, false
}

// clusterSelf returns the server's own line of CLUSTER NODES.
func (s *Server) clusterSelf() (nodeLine, error) {
	lines, err := s.clusterNodes()
	if err != nil {
		return nodeLine{}, err
	}
	for _, l := range lines {
		if l.flags["myself"] {
			return l, nil
		}
	}
	return nodeLine{}, fmt.Errorf("CLUSTER NODES on %s: no myself line", s.Addr)
}

func (s *Server) nodeID() (string, error) {
	id, err := s.Command("CLUSTER", "MYID")
	if err != nil {
		return "", fmt.Errorf("CLUSTER MYID on %s: %w", s.Addr, err)
	}
	return id, nil
}

func (s *Server) clusterInfo() (map[string]string, error) {
	text, err := s.Command("CLUSTER", "INFO")
	if err != nil {
		return nil, fmt.Errorf("CLUSTER INFO on %s: %w", s.Addr, err)
	}
	return parseInfo(text), nil
}

// slotOwner returns the id and port of the master serving slot according to
// the CLUSTER SLOTS of s.
func (s *Server) slotOwner(slot int) (id string, port int, err error) {
	v, err := s.do("CLUSTER", "SLOTS")
	if err != nil {
		return "", 0, fmt.Errorf("CLUSTER SLOTS on %s: %w", s.Addr, err)
	}
	ranges, _ := v.([]any)
	for _, r := range ranges {
		e, ok := r.([]any)
		if !ok || len(e) < 3 {
			return "", 0, fmt.Errorf("CLUSTER SLOTS on %s: bad entry %v", s.Addr, r)
		}
		lo, ok1 := e[0].(int64)
		hi, ok2 := e[1].(int64)
		m, ok3 := e[2].([]any)
		if !ok1 || !ok2 || !ok3 || len(m) < 3 {
			return "", 0, fmt.Errorf("CLUSTER SLOTS on %s: bad entry %v", s.Addr, r)
		}
		if int64(slot) < lo || int64(slot) > hi {
			continue
		}
		p, _ := m[1].(int64)
		mid, _ := m[2].(string)
		return mid, int(p), nil
	}
	return "", 0, fmt.Errorf("CLUSTER SLOTS on %s: slot %d not served", s.Addr, slot)
}
