package engine

// Interoperability with the older Node generations, run as child processes
// by internal/nodepeer (testdata-legacy/peer.js): socket.io-redis 4.0.0 +
// socket.io 1.7.4, socket.io-redis 5.4.0 + socket.io 2.4.1 and
// socket.io-redis 6.1.1 + socket.io 4.0.2, each with real socket.io-client
// sockets of its generation.

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sioredis/sioredis/internal/nodepeer"
	"github.com/sioredis/sioredis/internal/redistest"
)

var legacyGens = []struct {
	name    string
	fixture string
	proto   Protocol
}{
	{"redis40", nodepeer.FixtureRedis40, SocketIORedis4},
	{"redis5", nodepeer.FixtureRedis5, SocketIORedis5},
	{"redis6", nodepeer.FixtureRedis6, SocketIORedis6},
}

// legacyTimeout is every server's request timeout in these tests (4.0's
// default).
const legacyTimeout = time.Second

func newLegacyCluster(t *testing.T, fixture string, proto Protocol) *cluster {
	t.Helper()
	srv := redistest.NewStandalone(t)
	peer := nodepeer.Start(t, nodepeer.Options{RedisURL: srv.URL(), Name: "A", Fixture: fixture, RequestsTimeout: legacyTimeout})
	g := newNode(t, srv.Addr, Options{Protocol: proto, RequestTimeout: legacyTimeout})
	t.Cleanup(func() {
		if errs := peer.Errors(); len(errs) > 0 {
			t.Errorf("errors inside the Node peer: %+v", errs)
		}
	})
	return &cluster{redis: srv, node: peer, goN: g}
}

func TestInteropLegacyBroadcasts(t *testing.T) {
	for _, gen := range legacyGens {
		t.Run(gen.name, func(t *testing.T) {
			c := newLegacyCluster(t, gen.fixture, gen.proto)
			c1 := c.node.Connect("c1", "/", nil)
			c.node.Join("c1", "/", "room1")
			c.node.Connect("c2", "/", nil)
			c.node.Join("c2", "/", "room1", "room2")
			c3 := c.node.Connect("c3", "/", nil)
			g1 := c.goN.socket(t, "room1")
			g2 := c.goN.socket(t, "room1", "room2")
			g3 := c.goN.socket(t)
			v6 := gen.proto == SocketIORedis6
			p := payloads()
			all := line(t, "all", p...)

			// Node → Go.
			c.node.Emit(nodepeer.Target{}, "all", nodepeer.ToWire(p).([]any)...)
			c.node.Emit(nodepeer.Target{Rooms: []any{"room1"}}, "room1", "r1")
			c.node.Emit(nodepeer.Target{Rooms: []any{"room1", "room2"}}, "two", "r12")
			c.node.Emit(nodepeer.Target{Rooms: []any{g3}}, "to-g3", "id")
			c.node.SocketEmit("c1", nodepeer.Target{}, "from-c1", "x")
			c.node.SocketEmit("c1", nodepeer.Target{Rooms: []any{"room2"}}, "c1-to-room2", "y")
			if v6 {
				c.node.Emit(nodepeer.Target{Except: []any{"room2"}}, "not2", int64(2))
			}
			c.node.Emit(nodepeer.Target{Rooms: []any{g3}, Volatile: true}, "volatile-from-node", "v")
			noBinary := false
			if gen.proto == SocketIORedis5 {
				// binary(false) from a 2.x server: an EVENT whose Buffer its
				// own sockets get as JSON; so do Go's.
				c.node.Emit(nodepeer.Target{Rooms: []any{g3}, Binary: &noBinary}, "nobin-from-node", nodepeer.ToWire([]byte{1, 2}))
			}
			c.nodeSentinel(t)
			h := c.goN.host
			check := func(sid string, want ...string) {
				t.Helper()
				if got := canonGo(t, h.receivedBy(sid)); !reflect.DeepEqual(got, expect(t, want...)) {
					t.Errorf("Go socket %s received\n  %q\nwant\n  %q", sid, got, want)
				}
			}
			not2 := []string{}
			if v6 {
				not2 = []string{line(t, "not2", 2)}
			}
			check(g1, append([]string{all, line(t, "room1", "r1"), line(t, "two", "r12"), line(t, "from-c1", "x")}, not2...)...)
			check(g2, all, line(t, "room1", "r1"), line(t, "two", "r12"), line(t, "from-c1", "x"), line(t, "c1-to-room2", "y"))
			g3want := append([]string{all, line(t, "to-g3", "id"), line(t, "from-c1", "x")}, not2...)
			g3want = append(g3want, line(t, "volatile-from-node", "v"))
			if gen.proto == SocketIORedis5 {
				g3want = append(g3want, line(t, "nobin-from-node", map[string]any{"type": "Buffer", "data": []any{1, 2}}))
			}
			check(g3, g3want...)

			// Go → Node.
			for _, cl := range []string{"c1", "c2", "c3"} {
				c.node.ClearReceived(cl)
			}
			ns := c.goN.ns
			cx := ctx(t)
			must(t, ns.Emit(cx, "all", p...))
			must(t, ns.To(StringRoom("room1")).Emit(cx, "room1", "r1"))
			must(t, ns.To(StringRoom("room1"), StringRoom("room2")).Emit(cx, "two", "r12"))
			must(t, ns.To(StringRoom(c3)).Emit(cx, "to-c3", "id"))
			must(t, ns.From(g1).Emit(cx, "from-g1", "x"))
			must(t, ns.From(g1).To(StringRoom("room2")).Emit(cx, "g1-to-room2", "y"))
			if v6 {
				must(t, ns.Except(StringRoom("room2")).Emit(cx, "not2", 2))
			}
			if gen.proto == SocketIORedis5 {
				// Socket.IO 2.x's binary(false): an EVENT packet, whose Buffer
				// a 2.x receiver writes as JSON.
				must(t, ns.To(StringRoom(c3)).Binary(false).Emit(cx, "nobin", []byte{1, 2}))
			}
			c.goSentinel(t, "c1", "c2", "c3")
			checkNode := func(client string, want ...string) {
				t.Helper()
				if got := canonNode(t, c.node.Received(client)); !reflect.DeepEqual(got, expect(t, want...)) {
					t.Errorf("Node client %s received\n  %q\nwant\n  %q", client, got, want)
				}
			}
			checkNode("c1", append([]string{all, line(t, "room1", "r1"), line(t, "two", "r12"), line(t, "from-g1", "x")}, not2...)...)
			checkNode("c2", all, line(t, "room1", "r1"), line(t, "two", "r12"), line(t, "from-g1", "x"), line(t, "g1-to-room2", "y"))
			c3want := []string{all, line(t, "to-c3", "id"), line(t, "from-g1", "x")}
			if gen.proto == SocketIORedis5 {
				c3want = append(c3want, line(t, "nobin", map[string]any{"type": "Buffer", "data": []any{1, 2}}))
			}
			checkNode("c3", append(c3want, not2...)...)
			// Go's own socket: its local deliveries, nothing twice.
			check(g1, append(append([]string{all, line(t, "room1", "r1"), line(t, "two", "r12"), line(t, "from-c1", "x")}, not2...),
				append([]string{all, line(t, "room1", "r1"), line(t, "two", "r12")}, not2...)...)...)
			_ = c1
			if v6 {
				// 6.1 itself drops this on a node without a string room "42";
				// Go delivers it to its numeric room 42.
				g42 := c.goN.socket(t)
				must(t, ns.Join(g42, NumberRoom(42)))
				c.node.Emit(nodepeer.Target{Rooms: []any{42}}, "numeric42", 42)
				c.nodeSentinel(t)
				check(g42, line(t, "numeric42", 42))
			}
			if st := c.goN.e.Stats(); st.Dropped["malformed"] != 0 || st.Dropped["foreign"] != 0 {
				t.Errorf("drops: %v", st.Dropped)
			}
		})
	}
}

func anyStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		out = append(out, fmt.Sprint(x))
	}
	sort.Strings(out)
	return out
}

func TestInteropLegacyRequests(t *testing.T) {
	for _, gen := range legacyGens {
		t.Run(gen.name, func(t *testing.T) {
			c := newLegacyCluster(t, gen.fixture, gen.proto)
			v6 := gen.proto == SocketIORedis6
			c1 := c.node.Connect("c1", "/", nil)
			c.node.Join("c1", "/", "room1")
			c2 := c.node.Connect("c2", "/", nil)
			g1 := c.goN.socket(t, "room1")
			g2 := c.goN.socket(t)
			ns := c.goN.ns
			h := c.goN.host
			cx := ctx(t)

			if n, err := ns.ServerCount(cx); err != nil || n != 2 {
				t.Fatalf("Go ServerCount = %d, %v", n, err)
			}
			clientsCmd := "clients"
			ids, err := ns.Clients(cx)
			must(t, err)
			if got, want := sortedCopy(ids), sortedCopy([]string{c1, c2, g1, g2}); !reflect.DeepEqual(got, want) {
				t.Errorf("Go Clients() = %v, want %v", got, want)
			}
			ids, err = ns.Clients(cx, StringRoom("room1"))
			must(t, err)
			if got, want := sortedCopy(ids), sortedCopy([]string{c1, g1}); !reflect.DeepEqual(got, want) {
				t.Errorf("Go Clients(room1) = %v, want %v", got, want)
			}
			r := c.node.Request(clientsCmd, map[string]any{"rooms": []any{"room1"}})
			if got, want := anyStrings(r.Res), sortedCopy([]string{c1, g1}); r.Err != "" || !reflect.DeepEqual(got, want) {
				t.Errorf("Node clients(room1) = %+v, want %v", r, want)
			}
			rooms, err := ns.AllRooms(cx)
			must(t, err)
			wantRooms := sortedCopy([]string{c1, c2, g1, g2, "room1"})
			if got := roomNames(rooms); !reflect.DeepEqual(got, wantRooms) {
				t.Errorf("Go AllRooms = %v, want %v", got, wantRooms)
			}
			r = c.node.Request("allRooms", nil)
			if got := anyStrings(r.Res); r.Err != "" || !reflect.DeepEqual(got, wantRooms) {
				t.Errorf("Node allRooms = %+v, want %v", r, wantRooms)
			}

			// Single-socket operations, both ways.
			must(t, ns.RemoteJoin(cx, c1, StringRoom("go-joined")))
			if rs := c.node.ClientRooms("c1", "/"); !containsAny(rs, "go-joined") {
				t.Errorf("after RemoteJoin c1 is in %v", rs)
			}
			must(t, ns.RemoteLeave(cx, c1, StringRoom("go-joined")))
			if rs := c.node.ClientRooms("c1", "/"); containsAny(rs, "go-joined") {
				t.Errorf("after RemoteLeave c1 is in %v", rs)
			}
			if r := c.node.Request("remoteJoin", map[string]any{"sid": g1, "room": "node-joined"}); r.Err != "" {
				t.Errorf("Node remoteJoin: %s", r.Err)
			}
			if !hasRoom(ns.SocketRooms(g1), "node-joined") {
				t.Errorf("after Node remoteJoin g1 is in %v", ns.SocketRooms(g1))
			}
			if r := c.node.Request("remoteLeave", map[string]any{"sid": g1, "room": "node-joined"}); r.Err != "" {
				t.Errorf("Node remoteLeave: %s", r.Err)
			}
			if hasRoom(ns.SocketRooms(g1), "node-joined") {
				t.Errorf("after Node remoteLeave g1 is in %v", ns.SocketRooms(g1))
			}

			if !v6 {
				cr, err := ns.ClientRooms(cx, c1)
				must(t, err)
				if got := roomNames(cr); !reflect.DeepEqual(got, sortedCopy([]string{c1, "room1"})) {
					t.Errorf("Go ClientRooms(c1) = %v", got)
				}
				r := c.node.Request("remoteClientRooms", map[string]any{"sid": g1})
				if got := anyStrings(r.Res); r.Err != "" || !reflect.DeepEqual(got, sortedCopy([]string{g1, "room1"})) {
					t.Errorf("Node clientRooms(g1) = %+v", r)
				}
				// customRequest answered by the hooks of both sides.
				c.node.SetCustomHook("/", "from-A")
				must(t, ns.SetCustomHook(func(data any) any { return map[string]any{"answer": "from-go", "got": data} }))
				replies, err := ns.CustomRequest(cx, map[string]any{"q": "hi", "n": int64(1) << 40})
				must(t, err)
				want := `[{"answer":"from-go","got":{"n":1099511627776,"q":"hi"}},{"answer":"from-A","got":{"n":1099511627776,"q":"hi"}}]`
				if got := canon(t, replies); got != want {
					t.Errorf("Go CustomRequest = %s\nwant %s", got, want)
				}
				r = c.node.Request("customRequest", map[string]any{"data": map[string]any{"q": "node"}})
				list, _ := r.Res.([]any)
				var got []string
				for _, x := range list {
					got = append(got, canon(t, x))
				}
				sort.Strings(got)
				if want := []string{`{"answer":"from-A","got":{"q":"node"}}`, `{"answer":"from-go","got":{"q":"node"}}`}; r.Err != "" || !reflect.DeepEqual(got, want) {
					t.Errorf("Node customRequest = %+v", r)
				}
				// Unsupported operations fail at once.
				if _, err := ns.Operator().FetchSockets(cx); !errors.Is(err, ErrUnsupported) {
					t.Errorf("FetchSockets: %v", err)
				}
			} else {
				socks, err := ns.To(StringRoom("room1")).FetchSockets(cx)
				must(t, err)
				var sids []string
				for _, s := range socks {
					sids = append(sids, s.ID)
				}
				if got := sortedCopy(sids); !reflect.DeepEqual(got, sortedCopy([]string{c1, g1})) {
					t.Errorf("Go FetchSockets(room1) = %v", got)
				}
				nsocks := c.node.FetchSockets(nodepeer.Target{Rooms: []any{"room1"}})
				sids = nil
				for _, s := range nsocks {
					sids = append(sids, s.ID)
				}
				if got := sortedCopy(sids); !reflect.DeepEqual(got, sortedCopy([]string{c1, g1})) {
					t.Errorf("Node fetchSockets(room1) = %v", got)
				}
				c.node.SocketsJoin(nodepeer.Target{Rooms: []any{"room1"}}, "from-node")
				eventually(t, "g1 joins from-node", func() bool { return hasRoom(ns.SocketRooms(g1), "from-node") })
				c.node.SocketsLeave(nodepeer.Target{Rooms: []any{"from-node"}}, "room1")
				eventually(t, "g1 leaves room1", func() bool { return !hasRoom(ns.SocketRooms(g1), "room1") })
				must(t, ns.To(StringRoom(c2)).SocketsJoin(cx, StringRoom("from-go")))
				nodepeer.Eventually(t, 10*time.Second, "c2 joins from-go", func() bool { return containsAny(c.node.ClientRooms("c2", "/"), "from-go") })
				must(t, ns.To(StringRoom("from-go")).SocketsLeave(cx, StringRoom("from-go")))
				nodepeer.Eventually(t, 10*time.Second, "c2 leaves from-go", func() bool { return !containsAny(c.node.ClientRooms("c2", "/"), "from-go") })
				// disconnectSockets, both ways.
				g3 := c.goN.socket(t, "dc")
				c.node.Connect("c3", "/", nil)
				c.node.Join("c3", "/", "dc")
				c.node.DisconnectSockets(nodepeer.Target{Rooms: []any{g3}}, true)
				h.waitFor(t, "g3 disconnected", func() bool { return h.sockets[g3].disconnected && h.sockets[g3].closed })
				must(t, ns.To(StringRoom("dc")).DisconnectSockets(cx, false))
				c.node.WaitDisconnected("c3", 10*time.Second)
				if _, err := ns.CustomRequest(cx, 1); !errors.Is(err, ErrUnsupported) {
					t.Errorf("CustomRequest on 6.x: %v", err)
				}
				if err := ns.ServerSideEmit(cx, "x"); !errors.Is(err, ErrUnsupported) {
					t.Errorf("ServerSideEmit on 6.x: %v", err)
				}
			}

			// A silent server: both sides time out with what they have.
			muteServer(t, c.redis.Addr, "socket.io-request#/#")
			ids, err = ns.Clients(cx)
			var inc *IncompleteError
			if !errors.As(err, &inc) || !errors.Is(err, ErrTimeout) || inc.Answered != 1 || inc.Expected != 2 {
				t.Errorf("Go Clients with a silent server: %v", err)
			}
			if got, want := sortedCopy(ids), sortedCopy([]string{c1, c2, g1, g2}); !reflect.DeepEqual(got, want) {
				t.Errorf("partial Go Clients = %v, want %v", got, want)
			}
			r = c.node.Request(clientsCmd, nil)
			if r.Err == "" {
				t.Errorf("Node clients with a silent server: no error (%+v)", r)
			}
			if !v6 {
				if got, want := anyStrings(r.Res), sortedCopy([]string{c1, c2, g1, g2}); !reflect.DeepEqual(got, want) {
					t.Errorf("partial Node clients = %v, want %v", got, want)
				}
				replies, err := ns.CustomRequest(cx, "q")
				if !errors.As(err, &inc) || inc.Answered != 1 || !strings.Contains(canon(t, replies), "from-A") {
					t.Errorf("Go CustomRequest with a silent server = %s, %v", canon(t, replies), err)
				}
			}

			// Disconnects, both ways.
			must(t, ns.RemoteDisconnect(cx, c2, true))
			c.node.WaitDisconnected("c2", 10*time.Second)
			if r := c.node.Request("remoteDisconnect", map[string]any{"sid": g2, "close": true}); r.Err != "" {
				t.Errorf("Node remoteDisconnect: %s", r.Err)
			}
			h.waitFor(t, "g2 disconnected", func() bool { return h.sockets[g2].disconnected && h.sockets[g2].closed })
			if !c.node.Connected("c1") || h.sockets[g1].disconnected {
				t.Error("another socket was disconnected")
			}
			if st := c.goN.e.Stats(); st.Dropped["malformed"] != 0 || st.Dropped["foreign"] != 0 {
				t.Errorf("drops: %v", st.Dropped)
			}
		})
	}
}

// TestInteropLegacyNamespace runs a non-root namespace: 1.x/2.x socket ids
// there look like "/chat#<id>", and 4.0's per-room channels like
// socket.io#/chat#/chat#<id>#.
func TestInteropLegacyNamespace(t *testing.T) {
	for _, gen := range legacyGens {
		t.Run(gen.name, func(t *testing.T) {
			c := newLegacyCluster(t, gen.fixture, gen.proto)
			host := newTestHost()
			chat, err := c.goN.e.Namespace(ctx(t), "/chat", host)
			must(t, err)
			n1 := c.node.Connect("n1", "/chat", nil)
			c.node.Join("n1", "/chat", "lobby")
			n2 := c.node.Connect("n2", "/chat", nil)
			g := NewSocketID()
			host.addSocket(g)
			must(t, chat.Join(g, StringRoom("lobby")))
			cx := ctx(t)

			c.node.Emit(nodepeer.Target{Nsp: "/chat", Rooms: []any{"lobby"}}, "lobby", "from-node")
			c.node.Emit(nodepeer.Target{Nsp: "/chat"}, "chat-all", int64(1))
			c.node.Emit(nodepeer.Target{Nsp: "/chat", Rooms: []any{g}}, "to-g", "id")
			c.node.Emit(nodepeer.Target{}, "root-only") // another namespace: not for /chat
			c.node.Emit(nodepeer.Target{Nsp: "/chat"}, "sentinel")
			host.waitFor(t, "sentinel", func() bool { return countEvent(host.sockets[g].received, "sentinel") > 0 })
			if got, want := canonGo(t, host.receivedBy(g)), []string{line(t, "lobby", "from-node"), line(t, "chat-all", 1), line(t, "to-g", "id")}; !reflect.DeepEqual(got, want) {
				t.Errorf("Go socket in /chat received %q, want %q", got, want)
			}

			must(t, chat.To(StringRoom("lobby")).Emit(cx, "lobby", "from-go"))
			must(t, chat.To(StringRoom(n2)).Emit(cx, "to-n2", "id"))
			must(t, chat.Emit(cx, "sentinel"))
			c.node.WaitReceived("n1", 4, 10*time.Second) // 3 + the sentinel
			c.node.WaitReceived("n2", 3, 10*time.Second)
			if got, want := canonNode(t, c.node.Received("n1")), []string{line(t, "lobby", "from-node"), line(t, "chat-all", 1), line(t, "lobby", "from-go")}; !reflect.DeepEqual(got, want) {
				t.Errorf("n1 received %q, want %q", got, want)
			}
			if got, want := canonNode(t, c.node.Received("n2")), []string{line(t, "chat-all", 1), line(t, "to-n2", "id")}; !reflect.DeepEqual(got, want) {
				t.Errorf("n2 received %q, want %q", got, want)
			}
			ids, err := chat.Clients(cx)
			must(t, err)
			if got, want := sortedCopy(ids), sortedCopy([]string{n1, n2, g}); !reflect.DeepEqual(got, want) {
				t.Errorf("Clients in /chat = %v, want %v", got, want)
			}
			r := c.node.Request("clients", map[string]any{"nsp": "/chat"})
			if got, want := anyStrings(r.Res), sortedCopy([]string{n1, n2, g}); r.Err != "" || !reflect.DeepEqual(got, want) {
				t.Errorf("Node clients in /chat = %+v, want %v", r, want)
			}
		})
	}
}

// TestInteropLegacyRedisRestart restarts Redis between two rounds of
// broadcasts: the Go server subscribes its rooms again (4.0: one channel
// per room, socket ids included), the Node server's client does too, and
// delivery goes on both ways.
func TestInteropLegacyRedisRestart(t *testing.T) {
	for _, gen := range legacyGens {
		t.Run(gen.name, func(t *testing.T) {
			c := newLegacyCluster(t, gen.fixture, gen.proto)
			n1 := c.node.Connect("n1", "/", nil)
			c.node.Join("n1", "/", "room1")
			g1 := c.goN.socket(t, "room1")
			h := c.goN.host
			ns := c.goN.ns
			c.redis.Kill()
			if _, err := c.redis.Restart(); err != nil {
				t.Fatal(err)
			}
			// Until both sides are subscribed again, broadcasts may be lost:
			// send numbered ones until one arrives on each side.
			seq := 0
			nodepeer.Eventually(t, 20*time.Second, "Node → Go after the restart", func() bool {
				seq++
				_, _ = c.node.Call("emit", map[string]any{"nsp": "/", "rooms": []any{g1}, "event": "n2g", "args": []any{seq}})
				time.Sleep(20 * time.Millisecond) // pacing of the retries, not a synchronisation
				h.mu.Lock()
				defer h.mu.Unlock()
				return countEvent(h.sockets[g1].received, "n2g") > 0
			})
			nodepeer.Eventually(t, 20*time.Second, "Go → Node after the restart", func() bool {
				seq++
				_ = ns.To(StringRoom(n1)).Emit(ctx(t), "g2n", seq)
				time.Sleep(20 * time.Millisecond)
				return countNodeEvent(c.node.Received("n1"), "g2n") > 0
			})
			// Rooms still work both ways once the link is back.
			must(t, ns.To(StringRoom("room1")).Emit(ctx(t), "room1-after"))
			nodepeer.Eventually(t, 10*time.Second, "room1 on the Node client", func() bool {
				return countNodeEvent(c.node.Received("n1"), "room1-after") == 1
			})
			c.node.Emit(nodepeer.Target{Rooms: []any{"room1"}}, "room1-after-node")
			h.waitFor(t, "room1 on the Go socket", func() bool { return countEvent(h.sockets[g1].received, "room1-after-node") == 1 })
		})
	}
}
