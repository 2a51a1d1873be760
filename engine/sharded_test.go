package engine

import (
	"context"
	"errors"
	"math"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/sioredis/sioredis/internal/redistest"
)

var shardedModes = []ShardedMode{ShardedStatic, ShardedDynamic, ShardedDynamicPrivate}

// shardedTopologies runs test on standalone Redis 7 and on the shared
// 3-master cluster, each with a key of its own so that server counts are
// exact.
func forEachShardedSetup(t *testing.T, test func(t *testing.T, mk func() *node, mode ShardedMode, key string)) {
	for _, topo := range []string{"standalone", "cluster"} {
		for _, mode := range shardedModes {
			t.Run(topo+"/"+mode.String(), func(t *testing.T) {
				key := "sh-" + strings.ReplaceAll(t.Name(), "/", "-")
				var addrs []string
				if topo == "cluster" {
					addrs = redistest.Cluster(t).Addrs()
				} else {
					addrs = []string{redistest.Standalone(t).Addr}
				}
				mk := func() *node {
					return newNode(t, "", Options{Protocol: Sharded, ShardedMode: mode, Key: key,
						ClientOption: rueidis.ClientOption{InitAddress: addrs, DisableCache: true}})
				}
				test(t, mk, mode, key)
			})
		}
	}
}

// customSocket adds a local socket with an id of its own choosing.
func (n *node) customSocket(t testing.TB, sid string, rooms ...Room) string {
	t.Helper()
	n.host.addSocket(sid)
	must(t, n.ns.AddSocket(sid))
	must(t, n.ns.Join(sid, rooms...))
	return sid
}

// TestShardedAcrossGoNodes: every operation of the sharded protocol between
// two Go servers, on standalone Redis and on a cluster, in each mode.
func TestShardedAcrossGoNodes(t *testing.T) {
	forEachShardedSetup(t, testShardedAcrossGoNodes)
}

func testShardedAcrossGoNodes(t *testing.T, mk func() *node, mode ShardedMode, key string) {
	a, b := mk(), mk()
	if len(a.ns.UID()) != 16 {
		t.Fatalf("uid %q: want 16 hex characters, as Node's ClusterAdapter", a.ns.UID())
	}
	a1 := a.socket(t, "room1")
	b1 := b.socket(t, "room1")
	b2 := b.socket(t, "room1", "room2")
	b3 := b.socket(t)
	bn7 := b.customSocket(t, "custom-socket-id-of-24ch", NumberRoom(7)) // 24 characters
	bs7 := b.socket(t, "7")
	b42 := b.socket(t)
	must(t, b.ns.Join(b42, NumberRoom(42)))
	c := ctx(t)

	for _, n := range []*node{a, b} {
		if got, err := n.ns.ServerCount(c); err != nil || got != 2 {
			t.Fatalf("ServerCount = %d, %v; want 2", got, err)
		}
	}

	p := payloads() // with binary: the msgpack path
	must(t, a.ns.Emit(c, "all", p...))
	must(t, a.ns.Emit(c, "json", "x", math.NaN(), math.Inf(1), -0.0, map[string]any{"k": []any{int64(1), nil}}))
	must(t, a.ns.To(StringRoom("room1")).Emit(c, "room1", "r1"))
	must(t, a.ns.To(StringRoom("room1"), StringRoom("room2")).Emit(c, "two", "r12"))
	must(t, a.ns.Except(StringRoom("room2")).Emit(c, "not2", int64(2)))
	must(t, a.ns.To(StringRoom("room2")).Except(StringRoom("room1")).Emit(c, "2not1"))
	must(t, a.ns.From(a1).Emit(c, "from-a1"))
	must(t, a.ns.From(a1).To(StringRoom("room2")).Emit(c, "a1-to-room2"))
	must(t, a.ns.To(StringRoom(b3)).Emit(c, "to-b3"))   // 20 characters: the main channel
	must(t, a.ns.To(StringRoom(bn7)).Emit(c, "to-bn7")) // 24 characters: its own channel in the dynamic modes
	must(t, a.ns.Operator().To(NumberRoom(42)).Emit(c, "n42"))
	must(t, a.ns.Operator().To(NumberRoom(7)).Emit(c, "n7"))
	must(t, a.ns.To(StringRoom("7")).Emit(c, "s7"))
	sentinel(t, a, b)

	all := ev("all", p...)
	json := ev("json", "x", nil, nil, int64(0), map[string]any{"k": []any{int64(1), nil}})
	// On a cluster the channels live on different masters: no order
	// between them, so the lists are compared sorted, once complete.
	clustered := a.e.client.Mode() == rueidis.ClientModeCluster
	check := func(sid string, want ...received) {
		t.Helper()
		b.host.waitFor(t, "events on "+sid, func() bool {
			return len(b.host.sockets[sid].received)-countEvent(b.host.sockets[sid].received, "sentinel") >= len(want)
		})
		got, exp := canonGo(t, events(b.host, sid)), canonGo(t, want)
		if clustered {
			sort.Strings(got)
			sort.Strings(exp)
		}
		if !reflect.DeepEqual(got, exp) {
			t.Errorf("socket %s received\n  %v\nwant\n  %v", sid, got, exp)
		}
	}
	check(b1, all, json, ev("room1", "r1"), ev("two", "r12"), ev("not2", int64(2)), ev("from-a1"))
	check(b2, all, json, ev("room1", "r1"), ev("two", "r12"), ev("from-a1"), ev("a1-to-room2"))
	check(b3, all, json, ev("not2", int64(2)), ev("from-a1"), ev("to-b3"))
	check(bn7, all, json, ev("not2", int64(2)), ev("from-a1"), ev("to-bn7"), ev("n7"))
	check(bs7, all, json, ev("not2", int64(2)), ev("from-a1"), ev("s7"))
	check(b42, all, json, ev("not2", int64(2)), ev("from-a1"), ev("n42"))

	// Rooms 7 and "7" share key#/#7#: with one of them gone, the other
	// still gets its broadcasts.
	b.ns.Leave(bn7, NumberRoom(7))
	must(t, a.ns.To(StringRoom("7")).Emit(c, "s7-again"))
	must(t, a.ns.Operator().To(NumberRoom(7)).Emit(c, "n7-nobody"))
	sentinel(t, a, b)
	check(bs7, all, json, ev("not2", int64(2)), ev("from-a1"), ev("s7"), ev("s7-again"))

	// fetchSockets, both ways.
	b.host.mu.Lock()
	b.host.sockets[b2].data = map[string]any{"user": "b2", "bin": []byte{1}}
	b.host.mu.Unlock()
	socks, err := a.ns.To(StringRoom("room2")).FetchSockets(c)
	must(t, err)
	if len(socks) != 1 || socks[0].ID != b2 || !reflect.DeepEqual(roomNames(socks[0].Rooms), sortedCopy([]string{b2, "room1", "room2"})) {
		t.Fatalf("FetchSockets(room2) = %+v", socks)
	}
	if got := canon(t, socks[0].Data); got != `{"bin":{"$bin":"01"},"user":"b2"}` {
		t.Errorf("fetched data = %s", got)
	}
	allSocks, err := b.ns.Operator().FetchSockets(c)
	must(t, err)
	if len(allSocks) != 7 {
		t.Fatalf("FetchSockets() from b = %d sockets, want 7", len(allSocks))
	}

	// socketsJoin / socketsLeave: b's sockets change, and in the dynamic
	// modes b subscribes the new room before a broadcast to it.
	must(t, a.ns.To(StringRoom("room1")).SocketsJoin(c, StringRoom("joined")))
	if !hasRoom(a.ns.SocketRooms(a1), "joined") {
		t.Fatal("the sender's own socket did not join at once")
	}
	eventually(t, "b1 and b2 join", func() bool {
		return hasRoom(b.ns.SocketRooms(b1), "joined") && hasRoom(b.ns.SocketRooms(b2), "joined")
	})
	if k, ok := b.ns.proto.roomSub(StringRoom("joined")); ok {
		must(t, b.e.sub.await(c, true, k))
	}
	must(t, a.ns.To(StringRoom("joined")).Emit(c, "to-joined"))
	must(t, a.ns.To(StringRoom("joined")).SocketsLeave(c, StringRoom("room1")))
	eventually(t, "b1 leaves room1", func() bool { return !hasRoom(b.ns.SocketRooms(b1), "room1") })

	// serverSideEmit, with and without acks, both ways.
	b.host.mu.Lock()
	b.host.sseReply = "pong-from-b"
	b.host.mu.Unlock()
	must(t, a.ns.ServerSideEmit(c, "hello", "world", int64(1)))
	b.host.waitFor(t, "server event", func() bool { return len(b.host.events) == 1 })
	if e := b.host.events[0]; e.Event != "hello" || !reflect.DeepEqual(e.Args, []any{"world", int64(1)}) || e.Ack != nil {
		t.Fatalf("server event = %+v", e)
	}
	acks, err := a.ns.ServerSideEmitWithAck(c, "ping", []byte{7})
	must(t, err)
	if !reflect.DeepEqual(acks, []any{"pong-from-b"}) {
		t.Fatalf("serverSideEmit acks = %#v", acks)
	}
	// a silent server (a's host never acknowledges): incomplete, 0 of 1.
	short, cancel := context.WithTimeout(c, 300*time.Millisecond)
	acks, err = b.ns.ServerSideEmitWithAck(short, "ping")
	cancel()
	var ie *IncompleteError
	if !errors.As(err, &ie) || ie.Answered != 0 || ie.Expected != 1 || len(acks) != 0 {
		t.Fatalf("serverSideEmitWithAck to a silent server = %v, %v", acks, err)
	}

	// emitWithAck: one ack per client on both servers.
	a.host.mu.Lock()
	a.host.sockets[a1].ackReply = "ack-a1"
	a.host.mu.Unlock()
	b.host.mu.Lock()
	b.host.sockets[b1].ackReply = "ack-b1"
	b.host.sockets[b2].ackReply = []byte{2}
	b.host.mu.Unlock()
	res, err := a.ns.To(StringRoom("joined")).Timeout(5*time.Second).EmitWithAck(c, "question", "?")
	must(t, err)
	if got := sortedStrings(res); !reflect.DeepEqual(got, []string{"[2]", "ack-a1", "ack-b1"}) {
		t.Fatalf("EmitWithAck = %#v", res)
	}
	sentinel(t, a, b)
	check(b1, all, json, ev("room1", "r1"), ev("two", "r12"), ev("not2", int64(2)), ev("from-a1"), ev("to-joined"), ev("question", "?"))

	// What the protocol lacks fails clearly, without publishing.
	if _, err := a.ns.AllRooms(c); !errors.Is(err, ErrUnsupported) {
		t.Errorf("AllRooms: %v, want ErrUnsupported", err)
	}
	if _, err := a.ns.Sockets(c); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Sockets: %v, want ErrUnsupported", err)
	}
	if err := a.ns.RemoteJoin(c, b1, StringRoom("x")); !errors.Is(err, ErrUnsupported) {
		t.Errorf("RemoteJoin of a remote socket: %v, want ErrUnsupported", err)
	}

	// disconnectSockets reaches b's socket.
	must(t, a.ns.To(StringRoom("room2")).DisconnectSockets(c, true))
	b.host.waitFor(t, "b2 disconnected", func() bool { return b.host.sockets[b2].disconnected && b.host.sockets[b2].closed })
	if b.ns.HasSocket(b2) {
		t.Fatal("disconnected socket still in the index")
	}
	if st := b.e.Stats(); st.Dropped["malformed"] != 0 || st.Dropped["foreign"] != 0 {
		t.Errorf("b drops: %v", st.Dropped)
	}
	_ = key
}

// TestShardedChannels: which channels each mode subscribes (exactly the
// ones a publisher may use) and where each broadcast is published.
func TestShardedChannels(t *testing.T) {
	sid20, sid24 := NewSocketID(), "custom-socket-id-of-24ch"
	cases := []struct {
		mode ShardedMode
		room Room
		sub  bool
	}{
		{ShardedStatic, StringRoom("room1"), false},
		{ShardedDynamic, StringRoom("room1"), true},
		{ShardedDynamic, NumberRoom(7), true},
		{ShardedDynamic, StringRoom(sid20), false},
		{ShardedDynamic, StringRoom(sid24), true},
		{ShardedDynamic, StringRoom("a-public-room-20-chr"), false},
		{ShardedDynamicPrivate, StringRoom(sid20), true},
		{ShardedDynamicPrivate, StringRoom("room1"), true},
	}
	for _, c := range cases {
		e := &Engine{opts: Options{Key: "k", ShardedMode: c.mode}}
		p := newShardedProtocol(e, "/", "0123456789abcdef")
		k, ok := p.roomSub(c.room)
		if ok != c.sub || (ok && k != (subKey{subShard, "k#/#" + c.room.Name + "#"})) {
			t.Errorf("%v roomSub(%v) = %v %v, want %v", c.mode, c.room, k, ok, c.sub)
		}
		if p.roomChannel(c.room) != c.sub {
			t.Errorf("%v: publishing to %v on its channel = %v, subscribing = %v", c.mode, c.room, p.roomChannel(c.room), c.sub)
		}
	}
}
