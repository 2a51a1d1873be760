package engine

import (
	"reflect"
	"testing"

	"github.com/redis/rueidis"
	"github.com/sioredis/sioredis/internal/redistest"
)

// TestRedisCluster runs two engines on a 3-master Redis Cluster: broadcasts
// cross (classic PUBLISH is cluster-wide), and the server count is NUMSUB
// summed over every master, whichever master each subscription landed on.
func TestRedisCluster(t *testing.T) {
	cl := redistest.Cluster(t)
	mk := func() *node {
		client, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: cl.Addrs(), DisableCache: true})
		must(t, err)
		t.Cleanup(client.Close)
		if client.Mode() != rueidis.ClientModeCluster {
			t.Fatalf("client mode %v, want cluster", client.Mode())
		}
		return newNode(t, "", Options{Client: client, Key: "cluster-test"})
	}
	a, b := mk(), mk()
	b1 := b.socket(t, "room1")
	b2 := b.socket(t)
	c := ctx(t)
	must(t, a.ns.To(StringRoom("room1")).Emit(c, "to-room1", "x"))
	must(t, a.ns.Emit(c, "to-all", int64(1)))
	sentinel(t, a, b)
	assertEvents(t, b.host, b1, ev("to-room1", "x"), ev("to-all", int64(1)))
	assertEvents(t, b.host, b2, ev("to-all", int64(1)))

	n, err := a.ns.ServerCount(c)
	if err != nil || n != 2 {
		t.Fatalf("ServerCount on the cluster = %d, %v; want 2", n, err)
	}

	rooms, err := a.ns.AllRooms(c)
	must(t, err)
	if got, want := roomNames(rooms), sortedCopy([]string{b1, b2, "room1"}); !reflect.DeepEqual(got, want) {
		t.Fatalf("AllRooms = %v, want %v", got, want)
	}
	// One more subscriber pinned to each master: only a sum over every
	// master can count all five (the Node adapter's #450 counted one).
	for _, m := range cl.Nodes {
		single, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{m.Addr}, DisableCache: true, ForceSingleClient: true})
		must(t, err)
		t.Cleanup(single.Close)
		dc, cancel := single.Dedicate()
		t.Cleanup(cancel)
		dc.SetPubSubHooks(rueidis.PubSubHooks{OnMessage: func(rueidis.PubSubMessage) {}})
		must(t, dc.Do(c, dc.B().Subscribe().Channel("cluster-test-request#/#").Build()).Error())
	}
	if n, err = a.ns.ServerCount(c); err != nil || n != 5 {
		t.Fatalf("ServerCount with one extra subscriber per master = %d, %v; want 5", n, err)
	}
}
