package engine

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/internal/slot"
)

// shardSubscribers returns, per master, how many connections hold shard
// subscriptions and the shard subscribers of channel there.
func shardNumsub(t *testing.T, s *redistest.Server, channel string) int {
	t.Helper()
	out, err := s.Command("PUBSUB", "SHARDNUMSUB", channel)
	must(t, err)
	var name string
	var n int
	if _, err := fmt.Sscanf(out, "%s\n%d", &name, &n); err != nil {
		t.Fatalf("SHARDNUMSUB reply %q: %v", out, err)
	}
	return n
}

func shardConns(t *testing.T, s *redistest.Server) int {
	t.Helper()
	clients, err := s.ClientList()
	must(t, err)
	n := 0
	for _, c := range clients {
		if c.Ssub > 0 {
			n++
		}
	}
	return n
}

// TestShardChannelsFollowSlots: shard channels (SSUBSCRIBE) on a Redis
// Cluster go over one connection per master, grouped by the slot owner,
// never one per channel; they follow a slot migrated to another master and
// a master failover, and messages published on them are routed to their
// namespace.
func TestShardChannelsFollowSlots(t *testing.T) {
	cl := redistest.NewClusterWithReplicas(t)
	e, err := New(Options{ClientOption: rueidis.ClientOption{InitAddress: cl.Addrs()}, Key: "shardlinks"})
	must(t, err)
	defer e.Close()
	ns, err := e.Namespace(ctx(t), "/", newTestHost())
	must(t, err)

	const n = 300
	keys := make([]subKey, n)
	for i := range keys {
		keys[i] = subKey{subShard, "shardlinks#/#room" + strconv.Itoa(i) + "#"}
	}
	e.sub.want(ns, true, keys...)
	must(t, e.sub.await(ctx(t), true, keys...))

	owner := func(channel string) *redistest.Server {
		m, err := cl.MasterForSlot(slot.Of(channel))
		must(t, err)
		return m
	}
	for _, k := range keys[:20] {
		if got := shardNumsub(t, owner(k.name), k.name); got != 1 {
			t.Fatalf("SHARDNUMSUB %s on its owner = %d, want 1", k.name, got)
		}
	}
	for _, m := range cl.Nodes {
		if c := shardConns(t, m); c != 1 {
			t.Fatalf("master %s has %d connections with shard subscriptions, want 1 (one per master, not per channel)", m.Addr, c)
		}
	}

	// Messages on shard channels reach the namespace.
	pub, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: cl.Addrs(), DisableCache: true})
	must(t, err)
	defer pub.Close()
	before := e.Stats().Received
	for _, k := range keys[:50] {
		must(t, pub.Do(ctx(t), pub.B().Spublish().Channel(k.name).Message("x").Build()).Error())
	}
	eventually(t, "50 shard messages received", func() bool { return e.Stats().Received-before == 50 })

	// Move the slot of one channel to another master: the channel is
	// resubscribed there.
	moved := keys[0].name
	from := owner(moved)
	var to *redistest.Server
	for _, m := range cl.Nodes {
		if m != from {
			to = m
			break
		}
	}
	must(t, cl.MoveSlot(slot.Of(moved), to))
	movedAt := time.Now()
	eventually(t, "the moved channel subscribed on its new owner", func() bool {
		return shardNumsub(t, to, moved) == 1
	})
	t.Logf("slot move: subscribed on the new owner within %v of MoveSlot returning", time.Since(movedAt))
	if got := shardNumsub(t, from, moved); got != 0 {
		t.Errorf("still subscribed on the old owner: %d", got)
	}
	before = e.Stats().Received
	must(t, pub.Do(ctx(t), pub.B().Spublish().Channel(moved).Message("after-move").Build()).Error())
	eventually(t, "message on the moved channel received", func() bool { return e.Stats().Received-before == 1 })

	// Fail over a master that carries shard channels: they come back on
	// the promoted replica.
	victim := owner(keys[1].name)
	newMaster, err := cl.FailMaster(victim)
	must(t, err)
	failedAt := time.Now()
	eventually(t, "channels resubscribed on the promoted master", func() bool {
		return shardNumsub(t, newMaster, keys[1].name) == 1
	})
	t.Logf("failover: subscribed on the promoted master within %v of the failover completing", time.Since(failedAt))
	eventually(t, "namespace live again", func() bool { return ns.Stats().Live })
	if g := ns.Stats().Gaps; g.Count == 0 {
		t.Errorf("the failover's gap was not counted: %+v", g)
	}

	// Dropping the channels unsubscribes them everywhere.
	e.sub.unwant(keys...)
	eventually(t, "shard channels unsubscribed", func() bool {
		for _, m := range cl.Nodes {
			if shardConns(t, m) != 0 {
				return false
			}
		}
		return true
	})
}

// TestShardChannelResentAfterUnaskedSunsubscribe: Redis pushes a
// sunsubscribe when a shard channel's slot leaves its node, and the slot
// map the engine then reads can still name that node (the move is not
// known everywhere yet). The channel must be subscribed again there — the
// node answers MOVED if it is not its own any more, and the map is read
// again — not left unsubscribed on its link for good. The push is the one
// Redis sends (rueidis's hook, called as rueidis calls it); the slot map
// is the real, unchanged one.
func TestShardChannelResentAfterUnaskedSunsubscribe(t *testing.T) {
	cl := redistest.Cluster(t)
	e, err := New(Options{ClientOption: rueidis.ClientOption{InitAddress: cl.Addrs()}, Key: "resend"})
	must(t, err)
	defer e.Close()
	ns, err := e.Namespace(ctx(t), "/", newTestHost())
	must(t, err)
	k := subKey{subShard, "resend#/#room#"}
	e.sub.want(ns, true, k)
	must(t, e.sub.await(ctx(t), true, k))
	e.sub.mu.Lock()
	l, ok := e.sub.linkFor(k)
	e.sub.mu.Unlock()
	if !ok {
		t.Fatal("no link for the channel")
	}
	has := func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		_, h := l.have[k]
		return h
	}
	if !has() {
		t.Fatal("channel not confirmed on its link")
	}
	l.onSubscription(rueidis.PubSubSubscription{Kind: "sunsubscribe", Channel: k.name, Count: 0})
	eventually(t, "the channel subscribed again on its link", has)
}
