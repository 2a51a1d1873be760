package engine

import (
	"context"
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/sioredis/sioredis/internal/nodepeer"
	"github.com/sioredis/sioredis/internal/redistest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// node is one engine with one namespace and a test host.
type node struct {
	e    *Engine
	ns   *Namespace
	host *testHost
}

func newNode(t testing.TB, addr string, opts Options) *node {
	t.Helper()
	if opts.Client == nil && len(opts.ClientOption.InitAddress) == 0 {
		opts.ClientOption = rueidis.ClientOption{InitAddress: []string{addr}, DisableCache: true}
	}
	e, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	host := newTestHost()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ns, err := e.Namespace(ctx, "/", host)
	if err != nil {
		t.Fatal(err)
	}
	return &node{e: e, ns: ns, host: host}
}

// socket adds a local socket with rooms.
func (n *node) socket(t testing.TB, rooms ...string) string {
	t.Helper()
	sid := NewSocketID()
	n.host.addSocket(sid)
	if err := n.ns.AddSocket(sid); err != nil {
		t.Fatal(err)
	}
	if err := n.ns.Join(sid, Rooms(rooms...)...); err != nil {
		t.Fatal(err)
	}
	return sid
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return c
}

// sentinel broadcasts a last event to everyone from n and waits until every
// given socket got it: after that, anything a socket was going to receive
// from earlier broadcasts of n has arrived (Redis keeps one publisher's
// order), so asserting the full list proves what was NOT received.
func sentinel(t *testing.T, from *node, hosts ...*node) {
	t.Helper()
	// Count the sentinels each socket already has: the new one is one more.
	before := map[*testSocket]int{}
	for _, h := range hosts {
		h.host.mu.Lock()
		for _, s := range h.host.sockets {
			before[s] = countEvent(s.received, "sentinel")
		}
		h.host.mu.Unlock()
	}
	if err := from.ns.Emit(ctx(t), "sentinel"); err != nil {
		t.Fatal(err)
	}
	for _, h := range hosts {
		h.host.waitFor(t, "sentinel", func() bool {
			for _, s := range h.host.sockets {
				if s.disconnected {
					continue
				}
				if countEvent(s.received, "sentinel") <= before[s] {
					return false
				}
			}
			return true
		})
	}
}

func countEvent(rs []received, name string) int {
	n := 0
	for _, r := range rs {
		if r.Event == name {
			n++
		}
	}
	return n
}

// events returns the events received by sid, without the sentinels.
func events(h *testHost, sid string) []received {
	var out []received
	for _, r := range h.receivedBy(sid) {
		if r.Event != "sentinel" {
			out = append(out, r)
		}
	}
	return out
}

func ev(name string, args ...any) received {
	if args == nil {
		args = []any{}
	}
	return received{Event: name, Args: args}
}

func assertEvents(t *testing.T, h *testHost, sid string, want ...received) {
	t.Helper()
	got := events(h, sid)
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("socket %s received\n  %#v\nwant\n  %#v", sid, got, want)
	}
}

func TestBroadcastAcrossGoNodes(t *testing.T) {
	srv := redistest.Standalone(t)
	a, b := newNode(t, srv.Addr, Options{}), newNode(t, srv.Addr, Options{})
	a1 := a.socket(t, "room1")
	b1 := b.socket(t, "room1")
	b2 := b.socket(t, "room2")
	b3 := b.socket(t)

	c := ctx(t)
	must(t, a.ns.Emit(c, "all", "x", int64(1)))
	must(t, a.ns.To(StringRoom("room1")).Emit(c, "room1", 1.5))
	must(t, a.ns.To(StringRoom("room1"), StringRoom("room2")).Emit(c, "two", true))
	must(t, a.ns.Except(StringRoom("room1")).Emit(c, "not1", nil))
	must(t, a.ns.To(StringRoom("room2")).Local().Emit(c, "local-only"))
	must(t, a.ns.From(a1).Emit(c, "from-a1", map[string]any{"k": []any{"v", int64(-7)}}))
	must(t, a.ns.To(StringRoom(b3)).Emit(c, "to-b3", []byte{1, 2, 3}))
	sentinel(t, a, a, b)

	assertEvents(t, a.host, a1, ev("all", "x", int64(1)), ev("room1", 1.5), ev("two", true))
	assertEvents(t, b.host, b1, ev("all", "x", int64(1)), ev("room1", 1.5), ev("two", true),
		ev("from-a1", map[string]any{"k": []any{"v", int64(-7)}}))
	assertEvents(t, b.host, b2, ev("all", "x", int64(1)), ev("two", true), ev("not1", nil),
		ev("from-a1", map[string]any{"k": []any{"v", int64(-7)}}))
	assertEvents(t, b.host, b3, ev("all", "x", int64(1)), ev("not1", nil),
		ev("from-a1", map[string]any{"k": []any{"v", int64(-7)}}), ev("to-b3", map[string]any{"$bin": "010203"}))

	st := b.e.Stats()
	if st.BroadcastsReceived == 0 || st.Delivered == 0 {
		t.Fatalf("stats not counting: %+v", st)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestRequestsAcrossGoNodes(t *testing.T) {
	srv := redistest.NewStandalone(t) // its own server: NUMSUB must count exactly these nodes
	a, b := newNode(t, srv.Addr, Options{}), newNode(t, srv.Addr, Options{})
	a1 := a.socket(t, "room1")
	b1 := b.socket(t, "room1", "room2")
	b.host.sockets[b1].data = map[string]any{"user": "b1"}
	c := ctx(t)

	if n, err := a.ns.ServerCount(c); err != nil || n != 2 {
		t.Fatalf("ServerCount = %d, %v; want 2", n, err)
	}

	rooms, err := a.ns.AllRooms(c)
	must(t, err)
	names := roomNames(rooms)
	want := []string{a1, b1, "room1", "room2"}
	sort.Strings(want)
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("AllRooms = %v, want %v", names, want)
	}

	socks, err := a.ns.To(StringRoom("room2")).FetchSockets(c)
	must(t, err)
	if len(socks) != 1 || socks[0].ID != b1 {
		t.Fatalf("FetchSockets(room2) = %+v", socks)
	}
	if got := roomNames(socks[0].Rooms); !reflect.DeepEqual(got, sortedCopy([]string{b1, "room1", "room2"})) {
		t.Fatalf("fetched rooms = %v", got)
	}
	if d, ok := socks[0].Data.(interface{ Get(string) (any, bool) }); !ok {
		t.Fatalf("data = %#v", socks[0].Data)
	} else if u, _ := d.Get("user"); u != "b1" {
		t.Fatalf("data.user = %#v", u)
	}

	all, err := b.ns.Operator().FetchSockets(c)
	must(t, err)
	if len(all) != 2 {
		t.Fatalf("FetchSockets(all) = %d sockets, want 2", len(all))
	}

	// socketsJoin from a reaches b's socket; a's own socket joins at once.
	must(t, a.ns.To(StringRoom("room1")).SocketsJoin(c, StringRoom("joined")))
	if !hasRoom(a.ns.SocketRooms(a1), "joined") {
		t.Fatal("local socket did not join at once")
	}
	eventually(t, "b1 joins", func() bool { return hasRoom(b.ns.SocketRooms(b1), "joined") })
	must(t, a.ns.To(StringRoom("joined")).SocketsLeave(c, StringRoom("room1")))
	eventually(t, "b1 leaves room1", func() bool { return !hasRoom(b.ns.SocketRooms(b1), "room1") })

	// serverSideEmit, with and without acks.
	b.host.mu.Lock()
	b.host.sseReply = "pong-from-b"
	b.host.mu.Unlock()
	must(t, a.ns.ServerSideEmit(c, "hello", "world", int64(1)))
	b.host.waitFor(t, "server event", func() bool { return len(b.host.events) == 1 })
	if e := b.host.events[0]; e.Event != "hello" || !reflect.DeepEqual(e.Args, []any{"world", int64(1)}) || e.Ack != nil {
		t.Fatalf("server event = %+v", e)
	}
	acks, err := a.ns.ServerSideEmitWithAck(c, "ping", int64(7))
	must(t, err)
	if !reflect.DeepEqual(acks, []any{"pong-from-b"}) {
		t.Fatalf("serverSideEmit acks = %#v", acks)
	}

	// emitWithAck: one ack per client, from both servers.
	a.host.sockets[a1].ackReply = "ack-a1"
	b.host.mu.Lock()
	b.host.sockets[b1].ackReply = "ack-b1"
	b.host.mu.Unlock()
	res, err := a.ns.Operator().Timeout(5*time.Second).EmitWithAck(c, "question", "?")
	must(t, err)
	sort.Slice(res, func(i, j int) bool { return res[i].(string) < res[j].(string) })
	if !reflect.DeepEqual(res, []any{"ack-a1", "ack-b1"}) {
		t.Fatalf("EmitWithAck = %#v", res)
	}

	// disconnectSockets reaches b's socket.
	must(t, a.ns.To(StringRoom("room2")).DisconnectSockets(c, true))
	b.host.waitFor(t, "b1 disconnected", func() bool { return b.host.sockets[b1].disconnected && b.host.sockets[b1].closed })
	if b.ns.HasSocket(b1) {
		t.Fatal("disconnected socket still in the index")
	}
}

func roomNames(rs []Room) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.Name)
	}
	sort.Strings(out)
	return out
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func hasRoom(rs []Room, name string) bool {
	for _, r := range rs {
		if r.Name == name && !r.Numeric {
			return true
		}
	}
	return false
}

func TestRequestTimeoutReportsWhoAnswered(t *testing.T) {
	srv := redistest.NewStandalone(t)
	a := newNode(t, srv.Addr, Options{RequestTimeout: 300 * time.Millisecond})
	newNode(t, srv.Addr, Options{})
	// A third "server" that is counted by NUMSUB but never answers.
	mute, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{srv.Addr}, DisableCache: true})
	must(t, err)
	defer mute.Close()
	dc, cancel := mute.Dedicate()
	defer cancel()
	wait := dc.SetPubSubHooks(rueidis.PubSubHooks{OnMessage: func(rueidis.PubSubMessage) {}})
	must(t, dc.Do(ctx(t), dc.B().Subscribe().Channel("socket.io-request#/#").Build()).Error())
	_ = wait

	_, err = a.ns.AllRooms(ctx(t))
	var inc *IncompleteError
	if !errors.As(err, &inc) || !errors.Is(err, ErrTimeout) || inc.Answered != 1 || inc.Expected != 2 {
		t.Fatalf("AllRooms error = %v; want 1 of 2 servers answered, timeout", err)
	}
	if !strings.Contains(err.Error(), "1 of 2 servers answered") {
		t.Fatalf("error text %q", err)
	}
	if a.e.Stats().RequestTimeouts != 1 {
		t.Fatalf("RequestTimeouts = %d", a.e.Stats().RequestTimeouts)
	}
	if n := a.ns.reqs.len(); n != 0 {
		t.Fatalf("%d pending requests left", n)
	}
}

func TestMalformedMessagesAreDroppedAndCounted(t *testing.T) {
	srv := redistest.NewStandalone(t)
	a := newNode(t, srv.Addr, Options{})
	a1 := a.socket(t)
	for _, p := range []struct{ channel, payload string }{
		{"socket.io#/#", "\x93\xa3abc"},             // truncated array
		{"socket.io#/#", "not msgpack at all \xc1"}, // invalid byte
		{"socket.io-request#/#", "{\"type\":"},      // truncated JSON
		{"socket.io-request#/#", "\xdd\xff\xff\xff\xff"},
		{"socket.io-response#/#", "{}"},
	} {
		if _, err := srv.Command("PUBLISH", p.channel, p.payload); err != nil {
			t.Fatal(err)
		}
	}
	sentinel(t, newNode(t, srv.Addr, Options{}), a)
	assertEvents(t, a.host, a1)
	st := a.e.Stats()
	if st.Dropped["malformed"] != 4 || st.Dropped["foreign"] != 1 {
		t.Fatalf("dropped = %v; want 4 malformed, 1 foreign", st.Dropped)
	}
}

func TestCloseStopsEverything(t *testing.T) {
	srv := redistest.Standalone(t) // shared: its process watcher outlives the test
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	e, err := New(Options{ClientOption: rueidis.ClientOption{InitAddress: []string{srv.Addr}, DisableCache: true}})
	must(t, err)
	host := newTestHost()
	ns, err := e.Namespace(ctx(t), "/close", host)
	must(t, err)
	sid := NewSocketID()
	host.addSocket(sid)
	must(t, ns.AddSocket(sid))
	must(t, ns.Emit(ctx(t), "x"))
	must(t, e.Close())
	if err := ns.Emit(ctx(t), "y"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Emit after Close = %v, want ErrClosed", err)
	}
	if _, err := e.Namespace(ctx(t), "/other", host); !errors.Is(err, ErrClosed) {
		t.Fatalf("Namespace after Close = %v", err)
	}
	n, err := srv.Command("PUBSUB", "NUMSUB", "socket.io-request#/close#")
	if err != nil || !strings.HasSuffix(n, "\n0") {
		t.Fatalf("NUMSUB after Close = %q %v", n, err)
	}
}

// eventually polls cond until it holds or 10 s pass (for state that has no
// change notification, such as room membership).
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	nodepeer.Eventually(t, 10*time.Second, what, cond)
}

func newRueidis(addr string) (rueidis.Client, error) {
	return rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}, DisableCache: true})
}
