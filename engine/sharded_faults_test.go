package engine

import (
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/internal/slot"
)

// TestShardedSlotMoveAndFailover: in the dynamic mode on a 3+3 cluster, a
// room channel whose slot is moved to another master mid-stream, then the
// failover of the master that owns it: the receiving server resubscribes on
// the new owner each time, and single-room broadcasts (room channel) and
// namespace-wide ones (main channel) are delivered before and after, with
// the failover's gap counted.
func TestShardedSlotMoveAndFailover(t *testing.T) {
	cl := redistest.NewClusterWithReplicas(t)
	mk := func() *node {
		return newNode(t, "", Options{Protocol: Sharded, Key: "shfault",
			ClientOption: rueidis.ClientOption{InitAddress: cl.Addrs(), DisableCache: true}})
	}
	a, b := mk(), mk()
	b1 := b.socket(t, "mover")
	room := "shfault#/#mover#"
	c := ctx(t)

	// deliver sends event to the room until b1 got it once (a publisher
	// may need a redirect or a topology refresh to reach the new owner),
	// then one numbered broadcast to the room and one to everybody, and
	// asserts both arrive.
	seq := 0
	deliver := func(phase string) {
		t.Helper()
		probe := "probe-" + phase
		deadline := time.Now().Add(15 * time.Second)
		for countEvent(b.host.receivedBy(b1), probe) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%s: no broadcast reached the room within 15 s; stats %+v", phase, b.e.Stats())
			}
			_ = a.ns.To(StringRoom("mover")).Emit(c, probe)
			b.host.waitForOrTimeout(200*time.Millisecond, func() bool { return countEvent(b.host.sockets[b1].received, probe) > 0 })
		}
		seq++
		must(t, a.ns.To(StringRoom("mover")).Emit(c, "room", phase, int64(seq)))
		must(t, a.ns.Emit(c, "all", phase, int64(seq)))
		b.host.waitFor(t, phase+" deliveries", func() bool {
			rs := b.host.sockets[b1].received
			return countEvent(rs, "room") == seq && countEvent(rs, "all") == seq
		})
	}

	deliver("before")
	from, err := cl.MasterForSlot(slot.Of(room))
	must(t, err)
	var to *redistest.Server
	for _, m := range cl.Nodes {
		if m != from {
			to = m
			break
		}
	}
	must(t, cl.MoveSlot(slot.Of(room), to))
	movedAt := time.Now()
	eventually(t, "the room channel subscribed on its new owner", func() bool { return shardNumsub(t, to, room) == 1 })
	t.Logf("slot move: the room channel resubscribed on the new owner %v after MoveSlot returned", time.Since(movedAt))
	deliver("after-move")

	gapsBefore := b.ns.Stats().Gaps.Count
	newMaster, err := cl.FailMaster(to)
	must(t, err)
	failedAt := time.Now()
	eventually(t, "the room channel subscribed on the promoted master", func() bool { return shardNumsub(t, newMaster, room) == 1 })
	t.Logf("failover: the room channel resubscribed on the promoted master %v after the failover completed", time.Since(failedAt))
	eventually(t, "b live again", func() bool { return b.ns.Stats().Live })
	deliver("after-failover")
	if n, err := a.ns.ServerCount(c); err != nil || n != 2 {
		t.Fatalf("ServerCount after the failover = %d, %v", n, err)
	}
	// b's link to the failed master carried the room channel: the window
	// is counted.
	if g := b.ns.Stats().Gaps.Count; g <= gapsBefore {
		t.Errorf("the failover's gap was not counted: %+v", b.ns.Stats().Gaps)
	}
}

// waitForOrTimeout is waitFor that gives up quietly after d.
func (h *testHost) waitForOrTimeout(d time.Duration, cond func() bool) bool {
	deadline := time.After(d)
	for {
		h.mu.Lock()
		ok := cond()
		ch := h.changed
		h.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-deadline:
			return false
		}
	}
}
