package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/rueidis"
	"github.com/sioredis/sioredis/internal/slot"
)

// This file knows the shape of the Redis deployment: where the subscription
// connection goes, and which nodes must be asked to count subscribers.
//
// On a standalone server or behind sentinel there is one node. On a Redis
// Cluster, PUBLISH is copied to every node but PUBSUB NUMSUB counts only the
// subscribers of the node asked, so counting means asking every node that
// may hold a subscriber. This engine keeps its own subscription connection
// on a live master (rueidis's own pick for a keyless SUBSCRIBE may be any
// node it knows), and sums NUMSUB over every master the cluster lists and
// every replica the client is connected to (rueidis connects to replicas
// only when it is set to read from them; a Node peer whose ioredis
// subscriber sits on a replica is then not counted). A node that refuses
// connections, or that the cluster itself flags as failed, holds no live
// subscriber and is skipped; any other master that cannot be asked makes
// the count an error, never a silent undercount.

// clusterNode is one line of CLUSTER NODES.
type clusterNode struct {
	addr   string // ip:port
	master bool
	failed bool     // fail or fail? in the flags, or its link is down
	slots  [][2]int // the slot ranges a master serves
}

// clusterNodes asks the first node that answers for the cluster's nodes.
func clusterNodes(ctx context.Context, client rueidis.Client) ([]clusterNode, error) {
	nodes := client.Nodes()
	addrs := make([]string, 0, len(nodes))
	for addr := range nodes {
		addrs = append(addrs, addr)
	}
	sort.Strings(addrs)
	var lastErr error
	for _, addr := range addrs {
		c := nodes[addr]
		var text string
		err := askNode(ctx, addr, func(ctx context.Context) (err error) {
			text, err = c.Do(ctx, c.B().ClusterNodes().Build()).ToString()
			return err
		})
		if err != nil {
			lastErr = fmt.Errorf("CLUSTER NODES on %s: %w", addr, err)
			if ctx.Err() != nil {
				break
			}
			continue
		}
		return parseClusterNodes(text), nil
	}
	if lastErr == nil {
		lastErr = errors.New("no Redis node known")
	}
	return nil, lastErr
}

// parseClusterNodes reads the text of CLUSTER NODES:
//
//	<id> <ip:port@cport[,hostname]> <flags> <master> <ping> <pong> <epoch> <link> <slots…>
func parseClusterNodes(text string) []clusterNode {
	var out []clusterNode
	for line := range strings.SplitSeq(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		addr, _, _ := strings.Cut(f[1], "@")
		addr, _, _ = strings.Cut(addr, ",")
		if strings.HasPrefix(addr, ":") { // noaddr
			continue
		}
		n := clusterNode{addr: addr}
		for flag := range strings.SplitSeq(f[2], ",") {
			switch flag {
			case "master":
				n.master = true
			case "fail", "fail?", "noaddr", "handshake":
				n.failed = true
			}
		}
		if f[7] != "connected" && !strings.Contains(f[2], "myself") {
			n.failed = true
		}
		for _, r := range f[8:] {
			if strings.HasPrefix(r, "[") {
				continue // a slot being migrated or imported
			}
			lo, hi, isRange := strings.Cut(r, "-")
			a, err1 := strconv.Atoi(lo)
			b := a
			var err2 error
			if isRange {
				b, err2 = strconv.Atoi(hi)
			}
			if err1 == nil && err2 == nil && 0 <= a && a <= b && b < slot.Count {
				n.slots = append(n.slots, [2]int{a, b})
			}
		}
		out = append(out, n)
	}
	return out
}

// nodeClients reaches cluster nodes the shared client has no connection to
// (replicas, which rueidis connects to only when it reads from them; a
// master it has not learned yet), with the engine's own ClientOption. Only
// an engine that built its client has one: a user-supplied client's
// options are unknown.
type nodeClients struct {
	opt     rueidis.ClientOption
	mu      sync.Mutex
	clients map[string]rueidis.Client
	closed  bool
}

func newNodeClients(opt rueidis.ClientOption) *nodeClients {
	opt.ForceSingleClient = true
	opt.DisableCache = true
	return &nodeClients{opt: opt, clients: map[string]rueidis.Client{}}
}

// get returns a client of the node at addr, connecting on first use.
func (nc *nodeClients) get(addr string) (rueidis.Client, error) {
	if nc == nil {
		return nil, errors.New("no connection to it")
	}
	nc.mu.Lock()
	defer nc.mu.Unlock()
	if nc.closed {
		return nil, ErrClosed
	}
	if c, ok := nc.clients[addr]; ok {
		return c, nil
	}
	opt := nc.opt
	opt.InitAddress = []string{addr}
	c, err := rueidis.NewClient(opt)
	if err != nil {
		return nil, err
	}
	nc.clients[addr] = c
	return c, nil
}

func (nc *nodeClients) close() {
	if nc == nil {
		return
	}
	nc.mu.Lock()
	defer nc.mu.Unlock()
	nc.closed = true
	for _, c := range nc.clients {
		closeBounded(c, time.Second)
	}
	clear(nc.clients)
}

// numsub sums PUBSUB NUMSUB channel over every node that can hold a
// subscriber: the one node of a standalone server, every node of a cluster
// (through extra for the nodes client has no connection to; extra may be
// nil).
func numsub(ctx context.Context, client rueidis.Client, extra *nodeClients, channel string) (int, error) {
	return countSubscribers(ctx, client, extra, channel, false)
}

// shardNumsubAll sums PUBSUB SHARDNUMSUB channel: on a cluster over every
// master (the subscribers of a shard channel are on the shard that owns its
// slot; asking every master, as the Node adapter does, also counts them
// while the slot migrates), replicas excluded (nobody here subscribes
// there, and a replica's count would double its master's).
func shardNumsubAll(ctx context.Context, client rueidis.Client, extra *nodeClients, channel string) (int, error) {
	return countSubscribers(ctx, client, extra, channel, true)
}

// countSubscribers is numsub (shard false) or shardNumsubAll (shard true).
func countSubscribers(ctx context.Context, client rueidis.Client, extra *nodeClients, channel string, shard bool) (int, error) {
	one := numsubOne
	if shard {
		one = shardNumsubOne
	}
	if client.Mode() != rueidis.ClientModeCluster {
		return one(ctx, client, channel)
	}
	topo, err := clusterNodes(ctx, client)
	if err != nil {
		return 0, err
	}
	clients := client.Nodes()
	total := 0
	for _, n := range topo {
		if shard && !n.master {
			continue
		}
		c, ok := clients[n.addr]
		if !ok {
			if n.failed {
				continue
			}
			var err error
			if c, err = extra.get(n.addr); err != nil {
				if refused(err) {
					continue
				}
				if !n.master {
					// A user-supplied client that does not read from
					// replicas: this engine never subscribes on one.
					continue
				}
				return 0, fmt.Errorf("PUBSUB NUMSUB: cluster master %s: %w", n.addr, err)
			}
		}
		var count int
		err := askNode(ctx, n.addr, func(ctx context.Context) (err error) {
			count, err = one(ctx, c, channel)
			return err
		})
		if err != nil {
			if n.failed || refused(err) {
				continue // a dead node holds no live subscriber
			}
			return 0, fmt.Errorf("on %s: %w", n.addr, err)
		}
		total += count
	}
	return total, nil
}

// nodeTimeout bounds one question to one cluster node: rueidis retries a
// read-only command on a node that is down until the context ends, and a
// node the cluster has not flagged yet must not stall every request.
const nodeTimeout = 500 * time.Millisecond

// askNode runs fn against the node at addr within nodeTimeout. A node that
// did not answer in time is probed with a plain TCP dial: if nothing
// listens there, the error is the connection refusal (see refused).
func askNode(ctx context.Context, addr string, fn func(context.Context) error) error {
	nctx, cancel := context.WithTimeout(ctx, nodeTimeout)
	defer cancel()
	err := fn(nctx)
	if err == nil || ctx.Err() != nil || nctx.Err() == nil {
		return err
	}
	d := net.Dialer{Timeout: 100 * time.Millisecond}
	conn, derr := d.DialContext(ctx, "tcp", addr)
	if derr != nil {
		if refused(derr) {
			return derr
		}
		return fmt.Errorf("%w (and %v)", err, derr)
	}
	conn.Close()
	return err
}

func numsubOne(ctx context.Context, c rueidis.Client, channel string) (int, error) {
	return countReply("PUBSUB NUMSUB", c.Do(ctx, c.B().PubsubNumsub().Channel(channel).Build()))
}

func shardNumsubOne(ctx context.Context, c rueidis.Client, channel string) (int, error) {
	return countReply("PUBSUB SHARDNUMSUB", c.Do(ctx, c.B().PubsubShardnumsub().Channel(channel).Build()))
}

// countReply reads the [channel, count] reply of PUBSUB (SHARD)NUMSUB.
func countReply(cmd string, r rueidis.RedisResult) (int, error) {
	res, err := r.ToArray()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", cmd, err)
	}
	if len(res) != 2 {
		return 0, fmt.Errorf("%s: unexpected reply of %d items", cmd, len(res))
	}
	n, err := res[1].AsInt64()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", cmd, err)
	}
	return int(n), nil
}

// refused reports a connection refused: nothing listens there.
func refused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

// subscriptionDialer returns how the subscription link connects: a
// dedicated connection of the client, pinned to a live master on a cluster.
func subscriptionDialer(client rueidis.Client) dialFunc {
	if client.Mode() != rueidis.ClientModeCluster {
		return func(context.Context) (rueidis.DedicatedClient, error) {
			conn, _ := client.Dedicate()
			return conn, nil
		}
	}
	return func(ctx context.Context) (rueidis.DedicatedClient, error) {
		topo, err := clusterNodes(ctx, client)
		if err != nil {
			return nil, err
		}
		clients := client.Nodes()
		for _, n := range topo {
			if !n.master || n.failed {
				continue
			}
			if c, ok := clients[n.addr]; ok {
				conn, _ := c.Dedicate()
				return conn, nil
			}
		}
		return nil, errors.New("no live master known to the client")
	}
}

// clusterTopology is the subscriber's view of a Redis Cluster: who owns
// each slot, and how to reach a node.
type clusterTopology struct {
	client rueidis.Client
	extra  *nodeClients // may be nil
}

func (t clusterTopology) slotOwners(ctx context.Context) ([]string, error) {
	nodes, err := clusterNodes(ctx, t.client)
	if err != nil {
		return nil, err
	}
	owners := make([]string, slot.Count)
	for _, n := range nodes {
		if !n.master || n.failed {
			continue
		}
		for _, r := range n.slots {
			for i := r[0]; i <= r[1]; i++ {
				owners[i] = n.addr
			}
		}
	}
	return owners, nil
}

func (t clusterTopology) dialNode(addr string) dialFunc {
	return func(context.Context) (rueidis.DedicatedClient, error) {
		c, ok := t.client.Nodes()[addr]
		if !ok {
			var err error
			if c, err = t.extra.get(addr); err != nil {
				return nil, fmt.Errorf("node %s: %w", addr, err)
			}
		}
		conn, _ := c.Dedicate()
		return conn, nil
	}
}
