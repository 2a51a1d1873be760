package engine

// Interoperability with real Node.js peers: socket.io 4.8 +
// @socket.io/redis-adapter 8.3.0 servers and @socket.io/redis-emitter 5.1.0,
// run as child processes by internal/nodepeer, with real socket.io-client
// sockets. Every assertion is on what the sockets actually received.

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/sioredis/sioredis/codec"
	"github.com/sioredis/sioredis/internal/nodepeer"
	"github.com/sioredis/sioredis/internal/redistest"
)

// payloads is the argument list used across the interop tests: strings,
// unicode, integers beyond 2^32, negatives, floats, nested objects and
// arrays, binary.
func payloads() []any {
	return []any{
		"plain",
		"héllo 日本語 😀 <&> \u2028",
		int64(1)<<32 + 1,
		int64(-5),
		int64(-2147483649),
		1.5,
		0.1,
		map[string]any{"a": []any{int64(1), map[string]any{"b": "c"}}, "n": nil, "t": true},
		[]any{int64(1), "2", false},
		[]byte{0, 1, 2, 0xff},
	}
}

// canon turns a value from either side into canonical JSON: numbers as
// JSON numbers (1 == 1.0), binary as {"$bin": hex}, ordered maps as objects.
func canon(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(plain(v))
	if err != nil {
		t.Fatalf("canon %#v: %v", v, err)
	}
	return string(b)
}

func plain(v any) any {
	switch x := v.(type) {
	case []byte:
		return map[string]any{"$bin": hex.EncodeToString(x)}
	case codec.Map:
		m := map[string]any{}
		for _, kv := range x {
			m[kv.Key] = plain(kv.Value)
		}
		return m
	case map[string]any:
		m := map[string]any{}
		for k, e := range x {
			m[k] = plain(e)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = plain(x[i])
		}
		return out
	}
	return v
}

// canonEvents renders events as "name args-json" lines.
func canonNode(t testing.TB, evs []nodepeer.Event) []string {
	var out []string
	for _, e := range evs {
		if e.Event != "sentinel" {
			out = append(out, e.Event+" "+canon(t, e.Args))
		}
	}
	return out
}

func canonGo(t testing.TB, evs []received) []string {
	var out []string
	for _, e := range evs {
		if e.Event != "sentinel" {
			out = append(out, e.Event+" "+canon(t, e.Args))
		}
	}
	return out
}

func expect(t testing.TB, events ...string) []string {
	if len(events) == 0 {
		return nil
	}
	return events
}

func line(t testing.TB, event string, args ...any) string { return event + " " + canon(t, args) }

// cluster is one Node server (with clients) and one Go server on a Redis of
// their own, so that server counts are exact.
type cluster struct {
	redis *redistest.Server
	node  *nodepeer.Peer
	goN   *node
}

func newCluster(t *testing.T, specific bool, mode SubscriptionMode) *cluster {
	t.Helper()
	srv := redistest.NewStandalone(t)
	peer := nodepeer.Start(t, nodepeer.Options{RedisURL: srv.URL(), Name: "A", PublishOnSpecificResponseChannel: specific})
	g := newNode(t, srv.Addr, Options{PublishOnSpecificResponseChannel: specific, Subscriptions: mode})
	t.Cleanup(func() {
		if errs := peer.Errors(); len(errs) > 0 {
			t.Errorf("errors inside the Node peer: %+v", errs)
		}
	})
	return &cluster{redis: srv, node: peer, goN: g}
}

// nodeSentinel broadcasts "sentinel" from the Node server and waits until
// every connected Go socket got one more sentinel than before: everything
// the Node server sent earlier has arrived by then (one publisher's order).
func (c *cluster) nodeSentinel(t *testing.T) {
	t.Helper()
	h := c.goN.host
	before := map[*testSocket]int{}
	h.mu.Lock()
	for _, s := range h.sockets {
		before[s] = countEvent(s.received, "sentinel")
	}
	h.mu.Unlock()
	c.node.Emit(nodepeer.Target{}, "sentinel")
	h.waitFor(t, "sentinel from node", func() bool {
		for _, s := range h.sockets {
			if !s.disconnected && countEvent(s.received, "sentinel") <= before[s] {
				return false
			}
		}
		return true
	})
}

// goSentinel broadcasts "sentinel" from Go and waits until each Node client
// got one more sentinel than before.
func (c *cluster) goSentinel(t *testing.T, clients ...string) {
	t.Helper()
	before := make([]int, len(clients))
	for i, cl := range clients {
		before[i] = countNodeEvent(c.node.Received(cl), "sentinel")
	}
	must(t, c.goN.ns.Emit(ctx(t), "sentinel"))
	for i, cl := range clients {
		nodepeer.Eventually(t, 10*time.Second, "sentinel on "+cl, func() bool {
			return countNodeEvent(c.node.Received(cl), "sentinel") > before[i]
		})
	}
}

func countNodeEvent(evs []nodepeer.Event, name string) int {
	n := 0
	for _, e := range evs {
		if e.Event == name {
			n++
		}
	}
	return n
}

func TestInteropBroadcastNodeToGo(t *testing.T) { forEachMode(t, testInteropBroadcastNodeToGo) }

func testInteropBroadcastNodeToGo(t *testing.T, mode SubscriptionMode) {
	c := newCluster(t, false, mode)
	cl := c.node.Connect("c1", "/", nil)
	c.node.Join("c1", "/", "room1")
	g1 := c.goN.socket(t, "room1")
	g2 := c.goN.socket(t, "room1", "room2")
	g3 := c.goN.socket(t)
	g42 := c.goN.socket(t)
	must(t, c.goN.ns.Join(g42, NumberRoom(42)))
	gs42 := c.goN.socket(t, "42")

	p := payloads()
	c.node.Emit(nodepeer.Target{}, "all", nodepeer.ToWire(p).([]any)...)
	c.node.Emit(nodepeer.Target{Rooms: []any{"room1"}}, "room1", "r1")
	c.node.Emit(nodepeer.Target{Rooms: []any{"room1", "room2"}}, "two", "r12")
	c.node.Emit(nodepeer.Target{Except: []any{"room2"}}, "not2", int64(2))
	c.node.Emit(nodepeer.Target{Rooms: []any{"room2"}, Except: []any{"room1"}}, "2not1", nil)
	c.node.Emit(nodepeer.Target{Local: true}, "local-only")
	c.node.SocketEmit("c1", nodepeer.Target{}, "from-c1", "x")
	c.node.SocketEmit("c1", nodepeer.Target{Rooms: []any{"room2"}}, "c1-to-room2", "y")
	c.node.Emit(nodepeer.Target{Rooms: []any{42}}, "numeric42", 42)
	c.node.Emit(nodepeer.Target{Rooms: []any{"42"}}, "string42", "42")
	c.node.Emit(nodepeer.Target{Rooms: []any{g3}}, "to-g3-id", "just g3")
	c.nodeSentinel(t)

	h := c.goN.host
	all := line(t, "all", p...)
	check := func(sid string, want ...string) {
		t.Helper()
		if got := canonGo(t, h.receivedBy(sid)); !reflect.DeepEqual(got, expect(t, want...)) {
			t.Errorf("Go socket %s received\n  %q\nwant\n  %q", sid, got, want)
		}
	}
	check(g1, all, line(t, "room1", "r1"), line(t, "two", "r12"), line(t, "not2", 2), line(t, "from-c1", "x"))
	check(g2, all, line(t, "room1", "r1"), line(t, "two", "r12"), line(t, "from-c1", "x"), line(t, "c1-to-room2", "y"))
	check(g3, all, line(t, "not2", 2), line(t, "from-c1", "x"), line(t, "to-g3-id", "just g3"))
	check(g42, all, line(t, "not2", 2), line(t, "from-c1", "x"), line(t, "numeric42", 42))
	check(gs42, all, line(t, "not2", 2), line(t, "from-c1", "x"), line(t, "string42", "42"))
	_ = cl
	if st := c.goN.e.Stats(); st.Dropped["malformed"] != 0 || st.Dropped["foreign"] != 0 {
		t.Errorf("drops: %v", st.Dropped)
	}
}

func TestInteropBroadcastGoToNode(t *testing.T) { forEachMode(t, testInteropBroadcastGoToNode) }

func testInteropBroadcastGoToNode(t *testing.T, mode SubscriptionMode) {
	c := newCluster(t, false, mode)
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
	must(t, ns.To(StringRoom("room1")).Emit(cx, "room1", "r1"))
	must(t, ns.To(StringRoom("room1"), StringRoom("room2")).Emit(cx, "two", "r12"))
	must(t, ns.Except(StringRoom("room2")).Emit(cx, "not2", 2))
	must(t, ns.To(StringRoom("room2")).Except(StringRoom("room1")).Emit(cx, "2not1"))
	must(t, ns.Operator().Local().Emit(cx, "local-only"))
	must(t, ns.From(g1).Emit(cx, "from-g1", "x"))
	must(t, ns.From(g1).To(StringRoom("room2")).Emit(cx, "g1-to-room2", "y"))
	must(t, ns.Operator().To(NumberRoom(42)).Emit(cx, "numeric42", 42))
	must(t, ns.To(StringRoom("42")).Emit(cx, "string42", "42"))
	must(t, ns.To(StringRoom(c3)).Emit(cx, "to-c3-id", "just c3"))
	// (volatile is left out here: Node rightly drops volatile packets for a
	// client whose transport is busy; its bytes are checked by the emitter test)
	must(t, ns.Operator().Compress(false).Emit(cx, "flags", 1))
	c.goSentinel(t, "c1", "c2", "c3", "c42")

	all := line(t, "all", p...)
	check := func(client string, want ...string) {
		t.Helper()
		if got := canonNode(t, c.node.Received(client)); !reflect.DeepEqual(got, expect(t, want...)) {
			t.Errorf("Node client %s received\n  %q\nwant\n  %q", client, got, want)
		}
	}
	flags := line(t, "flags", 1)
	check("c1", all, line(t, "room1", "r1"), line(t, "two", "r12"), line(t, "not2", 2), line(t, "from-g1", "x"), flags)
	check("c2", all, line(t, "room1", "r1"), line(t, "two", "r12"), line(t, "from-g1", "x"), line(t, "g1-to-room2", "y"), flags)
	check("c3", all, line(t, "not2", 2), line(t, "from-g1", "x"), line(t, "to-c3-id", "just c3"), flags)
	check("c42", all, line(t, "not2", 2), line(t, "from-g1", "x"), line(t, "numeric42", 42), flags)
	// The Go socket got the local-only and its own broadcasts, but not from-g1.
	got := canonGo(t, c.goN.host.receivedBy(g1))
	want := []string{all, line(t, "room1", "r1"), line(t, "two", "r12"), line(t, "not2", 2), line(t, "local-only"), flags}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Go socket received\n  %q\nwant\n  %q", got, want)
	}
}

func TestInteropRequests(t *testing.T) {
	for _, specific := range []bool{false, true} {
		t.Run(fmt.Sprintf("specificResponseChannel=%v", specific), func(t *testing.T) {
			forEachMode(t, func(t *testing.T, mode SubscriptionMode) { testInteropRequests(t, specific, mode) })
		})
	}
}

// forEachMode runs an interop test in each subscription mode: the per-room
// mode must be wire-identical for the Node peers.
func forEachMode(t *testing.T, test func(*testing.T, SubscriptionMode)) {
	for _, mode := range []SubscriptionMode{PatternSubscriptions, RoomSubscriptions} {
		t.Run(mode.String(), func(t *testing.T) { test(t, mode) })
	}
}

func testInteropRequests(t *testing.T, specific bool, mode SubscriptionMode) {
	c := newCluster(t, specific, mode)
	c1 := c.node.Connect("c1", "/", &nodepeer.ConnectOptions{Auth: map[string]any{"token": "t1"}, Query: map[string]string{"q": "v"}})
	c.node.Join("c1", "/", "room1")
	c.node.SetData("c1", "/", map[string]any{"user": "c1", "n": 7})
	c2 := c.node.Connect("c2", "/", nil)
	c.node.Join("c2", "/", "room2")
	g1 := c.goN.socket(t, "room1")
	h := c.goN.host
	h.mu.Lock()
	h.sockets[g1].data = map[string]any{"user": "g1", "bin": []byte{1, 2}}
	h.sockets[g1].handshake = map[string]any{"auth": map[string]any{"token": "g"}, "query": map[string]any{}, "address": "127.0.0.1"}
	h.mu.Unlock()
	ns := c.goN.ns
	cx := ctx(t)

	// serverCount, both sides.
	if n, err := ns.ServerCount(cx); err != nil || n != 2 {
		t.Fatalf("Go ServerCount = %d, %v", n, err)
	}
	if n := c.node.ServerCount("/"); n != 2 {
		t.Fatalf("Node serverCount = %d", n)
	}

	// fetchSockets from Go: Node sockets with handshake and data.
	socks, err := ns.To(StringRoom("room1")).FetchSockets(cx)
	must(t, err)
	byID := map[string]SocketInfo{}
	for _, s := range socks {
		byID[s.ID] = s
	}
	if len(socks) != 2 || byID[g1].ID != g1 || byID[c1].ID != c1 {
		t.Fatalf("Go fetchSockets(room1) = %+v", socks)
	}
	n1 := byID[c1]
	if got := canon(t, n1.Data); got != `{"n":7,"user":"c1"}` {
		t.Errorf("Node socket data = %s", got)
	}
	hs, _ := n1.Handshake.(codec.Map)
	auth, _ := hs.Get("auth")
	query, _ := hs.Get("query")
	if canon(t, auth) != `{"token":"t1"}` || canon(t, query) == "" {
		t.Errorf("Node socket handshake = %s", canon(t, n1.Handshake))
	}
	if q, _ := query.(codec.Map).Get("q"); q != "v" {
		t.Errorf("handshake query = %s", canon(t, query))
	}
	if got := roomNames(n1.Rooms); !reflect.DeepEqual(got, sortedCopy([]string{c1, "room1"})) {
		t.Errorf("Node socket rooms = %v", got)
	}
	all, err := ns.Operator().FetchSockets(cx)
	must(t, err)
	if len(all) != 3 {
		t.Errorf("Go fetchSockets() = %d sockets, want 3", len(all))
	}

	// fetchSockets from Node: the Go socket with its handshake and data.
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
	if got := canon(t, gs.Data); got != `{"bin":{"data":[1,2],"type":"Buffer"},"user":"g1"}` {
		t.Errorf("Go socket data seen by Node = %s", got)
	}
	if got := canon(t, gs.Handshake["auth"]); got != `{"token":"g"}` {
		t.Errorf("Go socket handshake.auth seen by Node = %s", got)
	}
	if got := canon(t, gs.Rooms); got != canon(t, []any{g1, "room1"}) {
		t.Errorf("Go socket rooms seen by Node = %s", got)
	}

	// allRooms, both sides.
	rooms, err := ns.AllRooms(cx)
	must(t, err)
	if got, want := roomNames(rooms), sortedCopy([]string{g1, c1, c2, "room1", "room2"}); !reflect.DeepEqual(got, want) {
		t.Errorf("Go allRooms = %v, want %v", got, want)
	}
	nrooms := c.node.AllRooms("/")
	var nnames []string
	for _, r := range nrooms {
		nnames = append(nnames, fmt.Sprint(r))
	}
	sort.Strings(nnames)
	if want := sortedCopy([]string{g1, c1, c2, "room1", "room2"}); !reflect.DeepEqual(nnames, want) {
		t.Errorf("Node allRooms = %v, want %v", nnames, want)
	}

	// socketsJoin / socketsLeave from Node reach the Go socket.
	c.node.SocketsJoin(nodepeer.Target{Rooms: []any{"room1"}}, "from-node")
	eventually(t, "Go socket joins from-node", func() bool { return hasRoom(ns.SocketRooms(g1), "from-node") })
	c.node.SocketsLeave(nodepeer.Target{Rooms: []any{"from-node"}}, "room1")
	eventually(t, "Go socket leaves room1", func() bool { return !hasRoom(ns.SocketRooms(g1), "room1") })
	// ... and from Go reach the Node socket.
	must(t, ns.To(StringRoom("room2")).SocketsJoin(cx, StringRoom("from-go")))
	nodepeer.Eventually(t, 10*time.Second, "c2 joins from-go", func() bool {
		return containsAny(c.node.ClientRooms("c2", "/"), "from-go")
	})
	must(t, ns.To(StringRoom("from-go")).SocketsLeave(cx, StringRoom("room2")))
	nodepeer.Eventually(t, 10*time.Second, "c2 leaves room2", func() bool {
		return !containsAny(c.node.ClientRooms("c2", "/"), "room2")
	})

	// serverSideEmit Go → Node, without and with ack.
	must(t, ns.ServerSideEmit(cx, "hello", "from-go", int64(1)))
	evs := c.node.WaitServerEvents("/", 1, 10*time.Second)
	if got := canonNode(t, evs); !reflect.DeepEqual(got, []string{line(t, "hello", "from-go", 1)}) {
		t.Errorf("Node server events = %q", got)
	}
	acks, err := ns.ServerSideEmitWithAck(cx, "ping", "?")
	must(t, err)
	if canon(t, acks) != `["pong-from-A"]` {
		t.Errorf("Go serverSideEmitWithAck = %s", canon(t, acks))
	}
	// Node → Go.
	h.mu.Lock()
	h.sseReply = map[string]any{"pong": "from-go"}
	h.mu.Unlock()
	c.node.ServerSideEmit("/", "hi", "from-node")
	h.waitFor(t, "server event from Node", func() bool { return len(h.events) >= 1 })
	if e := h.events[0]; e.Event != "hi" || canon(t, e.Args) != `["from-node"]` || e.Ack != nil {
		t.Errorf("Go server event = %+v", e)
	}
	res := c.node.ServerSideEmitWithAck("/", "ping", 1)
	if res.Err != "" || canon(t, res.Res) != `[{"pong":"from-go"}]` {
		t.Errorf("Node serverSideEmitWithAck = %+v", res)
	}

	checkAcksAndDisconnects(t, c.node, c.goN, ns, g1)
}

func containsAny(list []any, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkAcksAndDisconnects is the last part of the request interop tests of
// the classic and sharded protocols (the same on both): emitWithAck both
// ways with acks from the Node clients c1 and c2 and the Go socket g1
// (c1 and g1 in room1, c2 in from-go), then disconnectSockets both ways,
// then the Go server's counters: nothing malformed, foreign or timed out.
func checkAcksAndDisconnects(t *testing.T, peer *nodepeer.Peer, goN *node, ns *Namespace, g1 string) {
	t.Helper()
	cx, h := ctx(t), goN.host
	// emitWithAck from Go: acks from the Node clients and the Go socket.
	h.mu.Lock()
	h.sockets[g1].ackReply = "ack-from-g1"
	h.mu.Unlock()
	got, err := ns.Operator().Timeout(5*time.Second).EmitWithAck(cx, "question", "?", []byte{9})
	must(t, err)
	if s := sortedStrings(got); !reflect.DeepEqual(s, []string{"ack-from-c1", "ack-from-c2", "ack-from-g1"}) {
		t.Errorf("Go emitWithAck = %v", s)
	}
	// ... and from Node.
	ack := peer.EmitWithAck(nodepeer.Target{}, 5*time.Second, "question", "?")
	if s := sortedStrings(ack.Res); ack.Err != "" || !reflect.DeepEqual(s, []string{"ack-from-c1", "ack-from-c2", "ack-from-g1"}) {
		t.Errorf("Node emitWithAck = %+v", ack)
	}
	// A Node emitWithAck to a room with no Go member still completes: the Go
	// server reports 0 clients.
	ack = peer.EmitWithAck(nodepeer.Target{Rooms: []any{"from-go"}}, 5*time.Second, "q2")
	if s := sortedStrings(ack.Res); ack.Err != "" || !reflect.DeepEqual(s, []string{"ack-from-c2"}) {
		t.Errorf("Node emitWithAck(from-go) = %+v", ack)
	}

	// disconnectSockets from Node reaches the Go socket; from Go the Node one.
	peer.DisconnectSockets(nodepeer.Target{Rooms: []any{g1}}, true)
	h.waitFor(t, "Go socket disconnected", func() bool { return h.sockets[g1].disconnected && h.sockets[g1].closed })
	must(t, ns.To(StringRoom("from-go")).DisconnectSockets(cx, false))
	if r := peer.WaitDisconnected("c2", 10*time.Second); r != "io server disconnect" {
		t.Errorf("c2 disconnected with %q, want io server disconnect", r)
	}
	if !peer.Connected("c1") {
		t.Error("c1 was disconnected too")
	}
	if st := goN.e.Stats(); st.Dropped["malformed"] != 0 || st.Dropped["foreign"] != 0 || st.RequestTimeouts != 0 {
		t.Errorf("stats: %+v", st)
	}
}

func sortedStrings(list []any) []string {
	out := make([]string, 0, len(list))
	for _, x := range list {
		out = append(out, fmt.Sprint(x))
	}
	sort.Strings(out)
	return out
}

func TestInteropEmitters(t *testing.T) { forEachMode(t, testInteropEmitters) }

func testInteropEmitters(t *testing.T, mode SubscriptionMode) {
	c := newCluster(t, false, mode)
	c.node.Connect("c1", "/", nil)
	c.node.Join("c1", "/", "room1")
	g1 := c.goN.socket(t, "room1")
	g2 := c.goN.socket(t)
	h := c.goN.host

	// The Node emitter reaches the Go sockets.
	p := payloads()
	c.node.EmitterEmit(nodepeer.Target{Rooms: []any{"room1"}}, "em-room1", nodepeer.ToWire(p).([]any)...)
	c.node.EmitterEmit(nodepeer.Target{Except: []any{"room1"}}, "em-not1", 1)
	c.node.EmitterServerSideEmit("/", "em-sse", "x")
	h.waitFor(t, "emitter events", func() bool {
		return len(h.sockets[g1].received) >= 1 && len(h.sockets[g2].received) >= 1 && len(h.events) >= 1
	})
	if got := canonGo(t, h.receivedBy(g1)); !reflect.DeepEqual(got, []string{line(t, "em-room1", p...)}) {
		t.Errorf("g1 got %q", got)
	}
	if got := canonGo(t, h.receivedBy(g2)); !reflect.DeepEqual(got, []string{line(t, "em-not1", 1)}) {
		t.Errorf("g2 got %q", got)
	}
	if e := h.events[0]; e.Event != "em-sse" || canon(t, e.Args) != `["x"]` {
		t.Errorf("server event %+v", e)
	}
	c.node.EmitterSocketsJoin(nodepeer.Target{Rooms: []any{g1}}, "em-joined")
	eventually(t, "g1 joins em-joined", func() bool { return hasRoom(c.goN.ns.SocketRooms(g1), "em-joined") })
	c.node.EmitterDisconnectSockets(nodepeer.Target{Rooms: []any{"em-joined"}}, false)
	h.waitFor(t, "g1 disconnected by the Node emitter", func() bool { return h.sockets[g1].disconnected })

	// The Go emitter reaches the Node client and server.
	client, err := newRueidis(c.redis.Addr)
	must(t, err)
	defer client.Close()
	em := NewEmitter(client, EmitterOptions{}).Of("/")
	cx := ctx(t)
	must(t, em.To(StringRoom("room1")).Emit(cx, "go-em", p...))
	c.node.WaitReceived("c1", 2, 10*time.Second)
	if got := canonNode(t, c.node.Received("c1")); !reflect.DeepEqual(got, []string{line(t, "em-room1", p...), line(t, "go-em", p...)}) {
		t.Errorf("c1 got %q", got)
	}
	must(t, em.ServerSideEmit(cx, "go-sse", int64(3)))
	// The Node server got the Node emitter's event too.
	evs := c.node.WaitServerEvents("/", 2, 10*time.Second)
	if got := canonNode(t, evs); !reflect.DeepEqual(got, []string{line(t, "em-sse", "x"), line(t, "go-sse", 3)}) {
		t.Errorf("Node server events = %q", got)
	}
	must(t, em.To(StringRoom("room1")).SocketsJoin(cx, StringRoom("go-joined")))
	nodepeer.Eventually(t, 10*time.Second, "c1 joins go-joined", func() bool { return containsAny(c.node.ClientRooms("c1", "/"), "go-joined") })
	must(t, em.To(StringRoom("go-joined")).DisconnectSockets(cx, true))
	c.node.WaitDisconnected("c1", 10*time.Second)
}

// TestInteropSingleSocketRequests sends the single-socket REMOTE_JOIN,
// REMOTE_LEAVE, REMOTE_DISCONNECT and the legacy SOCKETS request from Go:
// Node 8.3.0 no longer sends them but still answers them.
func TestInteropSingleSocketRequests(t *testing.T) { forEachMode(t, testInteropSingleSocketRequests) }

func testInteropSingleSocketRequests(t *testing.T, mode SubscriptionMode) {
	c := newCluster(t, false, mode)
	c1 := c.node.Connect("c1", "/", nil)
	c.node.Join("c1", "/", "room1")
	g1 := c.goN.socket(t, "room1")
	ns := c.goN.ns
	cx := ctx(t)

	ids, err := ns.Sockets(cx, StringRoom("room1"))
	must(t, err)
	if got := sortedCopy(ids); !reflect.DeepEqual(got, sortedCopy([]string{c1, g1})) {
		t.Fatalf("Sockets(room1) = %v", got)
	}
	must(t, ns.RemoteJoin(cx, c1, StringRoom("remote-joined")))
	if rooms := c.node.ClientRooms("c1", "/"); !containsAny(rooms, "remote-joined") {
		t.Fatalf("after RemoteJoin the Node socket is in %v", rooms)
	}
	must(t, ns.RemoteLeave(cx, c1, StringRoom("room1")))
	if rooms := c.node.ClientRooms("c1", "/"); containsAny(rooms, "room1") {
		t.Fatalf("after RemoteLeave the Node socket is in %v", rooms)
	}
	must(t, ns.RemoteJoin(cx, g1, StringRoom("local-joined"))) // a local socket: no request
	if !hasRoom(ns.SocketRooms(g1), "local-joined") {
		t.Fatal("local RemoteJoin did not join")
	}
	must(t, ns.RemoteDisconnect(cx, c1, true))
	c.node.WaitDisconnected("c1", 10*time.Second)
}
