package engine

// Interoperability of the Sharded protocol with real Node.js peers:
// socket.io 4.8 + @socket.io/redis-adapter 8.3.0 createShardedAdapter, on
// standalone Redis 7 and on the 3-master cluster, in each subscription
// mode, both directions.

import (
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/sioredis/sioredis/internal/nodepeer"
	"github.com/sioredis/sioredis/internal/redistest"
)

type shardedCluster struct {
	node      *nodepeer.Peer
	goN       *node
	clustered bool
}

func forEachShardedInterop(t *testing.T, test func(t *testing.T, c *shardedCluster)) {
	for _, topo := range []string{"standalone", "cluster"} {
		for _, mode := range shardedModes {
			t.Run(topo+"/"+mode.String(), func(t *testing.T) {
				key := "shi-" + strings.ReplaceAll(t.Name(), "/", "-")
				var addrs, urls []string
				if topo == "cluster" {
					addrs = redistest.Cluster(t).Addrs()
				} else {
					addrs = []string{redistest.Standalone(t).Addr}
				}
				for _, a := range addrs {
					urls = append(urls, "redis://"+a)
				}
				peer := nodepeer.Start(t, nodepeer.Options{RedisURL: strings.Join(urls, ","), Cluster: topo == "cluster",
					Name: "A", Key: key, Sharded: mode.String()})
				t.Cleanup(func() {
					if errs := peer.Errors(); len(errs) > 0 {
						t.Errorf("errors inside the Node peer: %+v", errs)
					}
				})
				g := newNode(t, "", Options{Protocol: Sharded, ShardedMode: mode, Key: key,
					ClientOption: rueidis.ClientOption{InitAddress: addrs, DisableCache: true}})
				test(t, &shardedCluster{node: peer, goN: g, clustered: topo == "cluster"})
			})
		}
	}
}

// sameEvents compares event lines, sorted on a cluster (channels on
// different masters have no order between them).
func (c *shardedCluster) sameEvents(got, want []string) bool {
	if c.clustered {
		got, want = append([]string(nil), got...), append([]string(nil), want...)
		sort.Strings(got)
		sort.Strings(want)
	}
	return reflect.DeepEqual(got, want)
}

func TestInteropShardedBroadcastNodeToGo(t *testing.T) {
	forEachShardedInterop(t, testInteropShardedBroadcastNodeToGo)
}

func testInteropShardedBroadcastNodeToGo(t *testing.T, c *shardedCluster) {
	c.node.Connect("c1", "/", nil)
	c.node.Join("c1", "/", "room1")
	g1 := c.goN.socket(t, "room1")
	g2 := c.goN.socket(t, "room1", "room2")
	g3 := c.goN.socket(t)
	g24 := c.goN.customSocket(t, "custom-socket-id-of-24ch")
	g42 := c.goN.socket(t)
	must(t, c.goN.ns.Join(g42, NumberRoom(42)))
	gs42 := c.goN.socket(t, "42")

	p := payloads()
	date := date2023()
	c.node.Emit(nodepeer.Target{}, "all", nodepeer.ToWire(p).([]any)...)
	c.node.Emit(nodepeer.Target{}, "json", 1.5, nodepeer.Date(date), map[string]any{"a": []any{1, nodepeer.Undefined{}}}, int64(1)<<53-1, 1e21)
	c.node.Emit(nodepeer.Target{Rooms: []any{"room1"}}, "room1", "r1")
	c.node.Emit(nodepeer.Target{Rooms: []any{"room1", "room2"}}, "two", "r12")
	c.node.Emit(nodepeer.Target{Except: []any{"room2"}}, "not2", int64(2))
	c.node.Emit(nodepeer.Target{Rooms: []any{"room2"}, Except: []any{"room1"}}, "2not1", nil)
	c.node.SocketEmit("c1", nodepeer.Target{}, "from-c1", "x")
	c.node.SocketEmit("c1", nodepeer.Target{Rooms: []any{"room2"}}, "c1-to-room2", "y")
	c.node.Emit(nodepeer.Target{Rooms: []any{42}}, "numeric42", 42)
	c.node.Emit(nodepeer.Target{Rooms: []any{"42"}}, "string42", "42")
	c.node.Emit(nodepeer.Target{Rooms: []any{g3}}, "to-g3-id", "main channel")
	// Node sends to(id) of a 24-character id on the id's own channel in
	// dynamic mode: the Go server subscribes it (Node's own servers would
	// not: #524).
	c.node.Emit(nodepeer.Target{Rooms: []any{g24}}, "to-g24-id", "own channel")

	h := c.goN.host
	all := line(t, "all", p...)
	check := func(sid string, want ...string) {
		t.Helper()
		h.waitFor(t, "events on "+sid, func() bool {
			return len(h.sockets[sid].received)-countEvent(h.sockets[sid].received, "sentinel") >= len(want)
		})
		if got := canonGo(t, h.receivedBy(sid)); !c.sameEvents(got, want) {
			t.Errorf("Go socket %s received\n  %q\nwant\n  %q", sid, got, want)
		}
	}
	json := line(t, "json", 1.5, "2023-11-14T22:13:20.123Z", map[string]any{"a": []any{1, nil}}, int64(1)<<53-1, 1e21)
	c.nodeSentinel(t)
	check(g1, all, json, line(t, "room1", "r1"), line(t, "two", "r12"), line(t, "not2", 2), line(t, "from-c1", "x"))
	check(g2, all, json, line(t, "room1", "r1"), line(t, "two", "r12"), line(t, "from-c1", "x"), line(t, "c1-to-room2", "y"))
	check(g3, all, json, line(t, "not2", 2), line(t, "from-c1", "x"), line(t, "to-g3-id", "main channel"))
	check(g24, all, json, line(t, "not2", 2), line(t, "from-c1", "x"), line(t, "to-g24-id", "own channel"))
	check(g42, all, json, line(t, "not2", 2), line(t, "from-c1", "x"), line(t, "numeric42", 42))
	check(gs42, all, json, line(t, "not2", 2), line(t, "from-c1", "x"), line(t, "string42", "42"))
	if st := c.goN.e.Stats(); st.Dropped["malformed"] != 0 || st.Dropped["foreign"] != 0 {
		t.Errorf("drops: %v", st.Dropped)
	}
}

// nodeSentinel is cluster.nodeSentinel for the sharded setup.
func (c *shardedCluster) nodeSentinel(t *testing.T) {
	t.Helper()
	(&cluster{node: c.node, goN: c.goN}).nodeSentinel(t)
}

func TestInteropShardedBroadcastGoToNode(t *testing.T) {
	forEachShardedInterop(t, testInteropShardedBroadcastGoToNode)
}

func testInteropShardedBroadcastGoToNode(t *testing.T, c *shardedCluster) {
	c.node.Connect("c1", "/", nil)
	c.node.Join("c1", "/", "room1")
	c.node.Connect("c2", "/", nil)
	c.node.Join("c2", "/", "room1", "room2")
	c3 := c.node.Connect("c3", "/", nil)
	c.node.Connect("c42", "/", nil)
	c.node.Join("c42", "/", 42)
	g1 := c.goN.socket(t, "room1")

	p := payloads()
	ns := c.goN.ns
	cx := ctx(t)
	must(t, ns.Emit(cx, "all", p...))
	must(t, ns.Emit(cx, "json", 1.5, date2023(), map[string]any{"a": []any{int64(1), nil}}, 1e21))
	must(t, ns.To(StringRoom("room1")).Emit(cx, "room1", "r1"))
	must(t, ns.To(StringRoom("room1"), StringRoom("room2")).Emit(cx, "two", "r12"))
	must(t, ns.Except(StringRoom("room2")).Emit(cx, "not2", 2))
	must(t, ns.To(StringRoom("room2")).Except(StringRoom("room1")).Emit(cx, "2not1"))
	must(t, ns.Operator().Local().Emit(cx, "local-only"))
	must(t, ns.From(g1).Emit(cx, "from-g1", "x"))
	must(t, ns.From(g1).To(StringRoom("room2")).Emit(cx, "g1-to-room2", "y"))
	must(t, ns.Operator().To(NumberRoom(42)).Emit(cx, "numeric42", 42))
	must(t, ns.To(StringRoom("42")).Emit(cx, "string42", "42"))
	must(t, ns.To(StringRoom(c3)).Emit(cx, "to-c3-id", "just c3")) // a Node id: 20 characters, the main channel
	must(t, ns.Operator().Compress(false).Emit(cx, "flags", 1))

	all := line(t, "all", p...)
	json := line(t, "json", 1.5, "2023-11-14T22:13:20.123Z", map[string]any{"a": []any{1, nil}}, 1e21)
	flags := line(t, "flags", 1)
	check := func(client string, want ...string) {
		t.Helper()
		c.node.WaitReceived(client, len(want), 10*time.Second)
		if got := canonNode(t, c.node.Received(client)); !c.sameEvents(got, want) {
			t.Errorf("Node client %s received\n  %q\nwant\n  %q", client, got, want)
		}
	}
	check("c1", all, json, line(t, "room1", "r1"), line(t, "two", "r12"), line(t, "not2", 2), line(t, "from-g1", "x"), flags)
	check("c2", all, json, line(t, "room1", "r1"), line(t, "two", "r12"), line(t, "from-g1", "x"), line(t, "g1-to-room2", "y"), flags)
	check("c3", all, json, line(t, "not2", 2), line(t, "from-g1", "x"), line(t, "to-c3-id", "just c3"), flags)
	check("c42", all, json, line(t, "not2", 2), line(t, "from-g1", "x"), line(t, "numeric42", 42), flags)
	// Nothing more arrives: a last broadcast on the main channel, then the
	// lists again (the room channels' messages were counted in above).
	// (On a cluster the sentinel's main channel has no order against room
	// channels on other masters: this proves nothing late came on the
	// main channel, and the exact counts above the rest.)
	(&cluster{node: c.node, goN: c.goN}).goSentinel(t, "c1", "c2", "c3", "c42")
	check("c1", all, json, line(t, "room1", "r1"), line(t, "two", "r12"), line(t, "not2", 2), line(t, "from-g1", "x"), flags)
	check("c2", all, json, line(t, "room1", "r1"), line(t, "two", "r12"), line(t, "from-g1", "x"), line(t, "g1-to-room2", "y"), flags)
	check("c3", all, json, line(t, "not2", 2), line(t, "from-g1", "x"), line(t, "to-c3-id", "just c3"), flags)
	check("c42", all, json, line(t, "not2", 2), line(t, "from-g1", "x"), line(t, "numeric42", 42), flags)
	got := canonGo(t, c.goN.host.receivedBy(g1))
	want := []string{all, json, line(t, "room1", "r1"), line(t, "two", "r12"), line(t, "not2", 2), line(t, "local-only"), flags}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Go socket received\n  %q\nwant\n  %q", got, want)
	}
}

func date2023() time.Time { return time.Date(2023, 11, 14, 22, 13, 20, 123e6, time.UTC) }

func TestInteropShardedRequests(t *testing.T) {
	forEachShardedInterop(t, testInteropShardedRequests)
}

func testInteropShardedRequests(t *testing.T, c *shardedCluster) {
	c1 := c.node.Connect("c1", "/", &nodepeer.ConnectOptions{Auth: map[string]any{"token": "t1"}})
	c.node.Join("c1", "/", "room1")
	c.node.SetData("c1", "/", map[string]any{"user": "c1", "n": 7})
	c.node.Connect("c2", "/", nil)
	c.node.Join("c2", "/", "room2")
	g1 := c.goN.socket(t, "room1")
	h := c.goN.host
	h.mu.Lock()
	h.sockets[g1].data = map[string]any{"user": "g1", "bin": []byte{1, 2}}
	h.sockets[g1].handshake = map[string]any{"auth": map[string]any{"token": "g"}, "query": map[string]any{}}
	h.mu.Unlock()
	ns := c.goN.ns
	cx := ctx(t)

	if n, err := ns.ServerCount(cx); err != nil || n != 2 {
		t.Fatalf("Go ServerCount = %d, %v", n, err)
	}
	if n := c.node.ServerCount("/"); n != 2 {
		t.Fatalf("Node serverCount = %d", n)
	}

	// fetchSockets from Go.
	socks, err := ns.To(StringRoom("room1")).FetchSockets(cx)
	must(t, err)
	byID := map[string]SocketInfo{}
	for _, s := range socks {
		byID[s.ID] = s
	}
	if len(socks) != 2 || byID[c1].ID != c1 || canon(t, byID[c1].Data) != `{"n":7,"user":"c1"}` {
		t.Fatalf("Go fetchSockets(room1) = %+v", socks)
	}
	if got := roomNames(byID[c1].Rooms); !reflect.DeepEqual(got, sortedCopy([]string{c1, "room1"})) {
		t.Errorf("Node socket rooms = %v", got)
	}
	// ... and from Node: the Go socket's data carries binary (a msgpack answer).
	nsocks := c.node.FetchSockets(nodepeer.Target{Rooms: []any{"room1"}})
	var gs *nodepeer.RemoteSocket
	for i := range nsocks {
		if nsocks[i].ID == g1 {
			gs = &nsocks[i]
		}
	}
	if len(nsocks) != 2 || gs == nil {
		t.Fatalf("Node fetchSockets(room1) = %+v", nsocks)
	}
	if got := canon(t, gs.Data); got != `{"bin":{"$bin":"0102"},"user":"g1"}` {
		t.Errorf("Go socket data seen by Node = %s", got)
	}
	if got := canon(t, gs.Rooms); got != canon(t, []any{g1, "room1"}) {
		t.Errorf("Go socket rooms seen by Node = %s", got)
	}

	// socketsJoin / socketsLeave both ways.
	c.node.SocketsJoin(nodepeer.Target{Rooms: []any{"room1"}}, "from-node")
	eventually(t, "Go socket joins from-node", func() bool { return hasRoom(ns.SocketRooms(g1), "from-node") })
	c.node.SocketsLeave(nodepeer.Target{Rooms: []any{"from-node"}}, "room1")
	eventually(t, "Go socket leaves room1", func() bool { return !hasRoom(ns.SocketRooms(g1), "room1") })
	must(t, ns.To(StringRoom("room2")).SocketsJoin(cx, StringRoom("from-go")))
	nodepeer.Eventually(t, 10*time.Second, "c2 joins from-go", func() bool {
		return containsAny(c.node.ClientRooms("c2", "/"), "from-go")
	})
	must(t, ns.To(StringRoom("from-go")).SocketsLeave(cx, StringRoom("room2")))
	nodepeer.Eventually(t, 10*time.Second, "c2 leaves room2", func() bool {
		return !containsAny(c.node.ClientRooms("c2", "/"), "room2")
	})

	// serverSideEmit both ways, with and without acks.
	must(t, ns.ServerSideEmit(cx, "hello", "from-go", int64(1)))
	evs := c.node.WaitServerEvents("/", 1, 10*time.Second)
	if got := canonNode(t, evs); !reflect.DeepEqual(got, []string{line(t, "hello", "from-go", 1)}) {
		t.Errorf("Node server events = %q", got)
	}
	acks, err := ns.ServerSideEmitWithAck(cx, "ping", []byte{1})
	must(t, err)
	if canon(t, acks) != `["pong-from-A"]` {
		t.Errorf("Go serverSideEmitWithAck = %s", canon(t, acks))
	}
	h.mu.Lock()
	h.sseReply = map[string]any{"pong": "from-go", "bin": []byte{3}}
	h.mu.Unlock()
	c.node.ServerSideEmit("/", "hi", "from-node")
	h.waitFor(t, "server event from Node", func() bool { return len(h.events) >= 1 })
	if e := h.events[0]; e.Event != "hi" || canon(t, e.Args) != `["from-node"]` || e.Ack != nil {
		t.Errorf("Go server event = %+v", e)
	}
	res := c.node.ServerSideEmitWithAck("/", "ping", 1)
	if res.Err != "" || canon(t, res.Res) != `[{"bin":{"$bin":"03"},"pong":"from-go"}]` {
		t.Errorf("Node serverSideEmitWithAck = %+v", res)
	}

	checkAcksAndDisconnects(t, c.node, c.goN, ns, g1)
}
