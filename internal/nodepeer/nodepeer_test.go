package nodepeer_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sioredis/sioredis/internal/nodepeer"
	"github.com/sioredis/sioredis/internal/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

const wait = 5 * time.Second

// pair starts two Node peers, A and B, on the shared Redis with a key of
// their own, so that tests do not see each other's traffic.
func pair(t *testing.T) (a, b *nodepeer.Peer) {
	t.Helper()
	srv := redistest.Standalone(t)
	key := "np-" + strings.ReplaceAll(t.Name(), "/", "-")
	opts := nodepeer.Options{RedisURL: srv.URL(), Key: key, RequestsTimeout: 3 * time.Second}
	opts.Name = "A"
	a = nodepeer.Start(t, opts)
	opts.Name = "B"
	b = nodepeer.Start(t, opts)
	t.Cleanup(func() {
		for _, p := range []*nodepeer.Peer{a, b} {
			if errs := p.Errors(); len(errs) > 0 {
				t.Errorf("peer %s recorded errors: %+v", p.Name, errs)
			}
		}
	})
	return a, b
}

func ev(name string, args ...any) nodepeer.Event {
	if args == nil {
		args = []any{}
	}
	return nodepeer.Event{Event: name, Args: args}
}

func assertEvents(t *testing.T, who string, got []nodepeer.Event, want ...nodepeer.Event) {
	t.Helper()
	if want == nil {
		want = []nodepeer.Event{}
	}
	if got == nil {
		got = []nodepeer.Event{}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s received\n  %#v\nwant\n  %#v", who, got, want)
	}
}

// sentinel broadcasts "sentinel" to every socket of "/" from p, then waits
// until each client has received n events. Redis delivers the messages of one
// publisher connection in order, so whatever a client was going to receive
// from earlier broadcasts of p has arrived once the sentinel has.
func sentinel(t *testing.T, p *nodepeer.Peer, clients map[*nodepeer.Peer][]string, n map[string]int) {
	t.Helper()
	p.Emit(nodepeer.Target{}, "sentinel")
	for peer, names := range clients {
		for _, c := range names {
			peer.WaitReceived(c, n[c], wait)
		}
	}
}

func TestBroadcastToRoomAcrossNodes(t *testing.T) {
	a, b := pair(t)
	a.Connect("a1", "/", nil)
	a.Connect("a2", "/", nil)
	b.Connect("b1", "/", nil)
	b.Connect("b2", "/", nil)
	b.Connect("b3", "/", nil)
	b.Connect("b4", "/", nil)
	a.Join("a1", "/", "r1")
	if rooms := b.Join("b1", "/", "r1", "other"); len(rooms) != 3 {
		t.Fatalf("b1 rooms after join = %v, want own id, r1, other", rooms)
	}
	b.Join("b3", "/", 42)   // numeric room
	b.Join("b4", "/", "42") // string room of the same name

	args := []any{"hello", 1.5, map[string]any{"k": "v", "n": nil}, []any{1.0, "two"}, true, nil}
	a.Emit(nodepeer.Target{Rooms: []any{"r1"}}, "news", args...)
	assertEvents(t, "b1", b.WaitReceived("b1", 1, wait), ev("news", args...))
	assertEvents(t, "a1", a.WaitReceived("a1", 1, wait), ev("news", args...))

	a.Emit(nodepeer.Target{Rooms: []any{42}}, "numeric", 42.0)
	assertEvents(t, "b3", b.WaitReceived("b3", 1, wait), ev("numeric", 42.0))

	a.Emit(nodepeer.Target{Except: []any{"r1"}}, "not-r1")
	n := map[string]int{"a1": 2, "a2": 2, "b1": 2, "b2": 2, "b3": 3, "b4": 2}
	sentinel(t, a, map[*nodepeer.Peer][]string{a: {"a1", "a2"}, b: {"b1", "b2", "b3", "b4"}}, n)

	assertEvents(t, "a1", a.Received("a1"), ev("news", args...), ev("sentinel"))
	assertEvents(t, "a2", a.Received("a2"), ev("not-r1"), ev("sentinel"))
	assertEvents(t, "b1", b.Received("b1"), ev("news", args...), ev("sentinel"))
	assertEvents(t, "b2", b.Received("b2"), ev("not-r1"), ev("sentinel"))
	assertEvents(t, "b3", b.Received("b3"), ev("numeric", 42.0), ev("not-r1"), ev("sentinel"))
	assertEvents(t, "b4 (string room \"42\")", b.Received("b4"), ev("not-r1"), ev("sentinel"))
}

func TestSocketBroadcastAcrossNodes(t *testing.T) {
	a, b := pair(t)
	a.Connect("a1", "/", nil)
	a.Connect("a2", "/", nil)
	b.Connect("b1", "/", nil)
	b.Join("b1", "/", "r")
	a.Join("a1", "/", "r")

	a.SocketEmit("a1", nodepeer.Target{}, "from-a1", "x")
	assertEvents(t, "a2", a.WaitReceived("a2", 1, wait), ev("from-a1", "x"))
	assertEvents(t, "b1", b.WaitReceived("b1", 1, wait), ev("from-a1", "x"))

	a.SocketEmit("a1", nodepeer.Target{Rooms: []any{"r"}}, "to-r")
	assertEvents(t, "b1", b.WaitReceived("b1", 2, wait), ev("from-a1", "x"), ev("to-r"))
	sentinel(t, a, map[*nodepeer.Peer][]string{a: {"a1", "a2"}}, map[string]int{"a1": 1, "a2": 2})
	assertEvents(t, "a1 (sender)", a.Received("a1"), ev("sentinel"))
	assertEvents(t, "a2 (not in r)", a.Received("a2"), ev("from-a1", "x"), ev("sentinel"))
}

func TestBinaryRoundTrip(t *testing.T) {
	a, b := pair(t)
	b.Connect("b1", "/", &nodepeer.ConnectOptions{AckReply: nodepeer.Bin{0xca, 0xfe}})
	payload := []byte{0, 1, 2, 0x7f, 0x80, 0xff}
	a.Emit(nodepeer.Target{}, "bin", payload, map[string]any{"nested": []any{[]byte("hi"), "s"}})
	got := b.WaitReceived("b1", 1, wait)
	assertEvents(t, "b1", got, ev("bin", payload, map[string]any{"nested": []any{[]byte("hi"), "s"}}))

	// Binary in the acknowledgement travels back as a msgpack BROADCAST_ACK.
	r := a.EmitWithAck(nodepeer.Target{}, wait, "want-bin-ack")
	if r.Err != "" || !reflect.DeepEqual(r.Res, []any{[]byte{0xca, 0xfe}}) {
		t.Fatalf("emitWithAck with binary ack = %+v", r)
	}

	// Raw Call: the wire form is {"$bin": hex}.
	raw, err := b.Call("received", map[string]any{"client": "b1"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `{"$bin":"0001027f80ff"}`) {
		t.Fatalf("raw received = %s", raw)
	}
}

func TestFetchSocketsAcrossNodes(t *testing.T) {
	a, b := pair(t)
	idA := a.Connect("a1", "/", &nodepeer.ConnectOptions{Auth: map[string]any{"token": "t1"}})
	idB := b.Connect("b1", "/", &nodepeer.ConnectOptions{Query: map[string]string{"q": "v"}})
	b.Join("b1", "/", "r1", 7)
	b.SetData("b1", "/", map[string]any{"user": "bob", "n": 3, "bin": []byte{1, 2}})
	a.SetData("a1", "/", "alice")

	all := a.FetchSockets(nodepeer.Target{})
	sort.Slice(all, func(i, j int) bool { return all[i].ID == idA })
	if len(all) != 2 || all[0].ID != idA || all[1].ID != idB {
		t.Fatalf("fetchSockets from A = %+v, want %s and %s", all, idA, idB)
	}
	if !reflect.DeepEqual(all[0].Rooms, []any{idA}) || all[0].Data != "alice" {
		t.Fatalf("local socket = %+v", all[0])
	}
	if !reflect.DeepEqual(all[1].Rooms, []any{idB, "r1", 7.0}) {
		t.Fatalf("remote socket rooms = %v", all[1].Rooms)
	}
	// socket.data crosses nodes as JSON: a Buffer becomes {"type":"Buffer","data":[...]}.
	wantData := map[string]any{"user": "bob", "n": 3.0, "bin": map[string]any{"type": "Buffer", "data": []any{1.0, 2.0}}}
	if !reflect.DeepEqual(all[1].Data, wantData) {
		t.Fatalf("remote socket data = %#v, want %#v", all[1].Data, wantData)
	}
	if auth, _ := all[0].Handshake["auth"].(map[string]any); auth["token"] != "t1" {
		t.Fatalf("local handshake auth = %v", all[0].Handshake["auth"])
	}
	if q, _ := all[1].Handshake["query"].(map[string]any); q["q"] != "v" {
		t.Fatalf("remote handshake query = %v", all[1].Handshake["query"])
	}

	inRoom := a.FetchSockets(nodepeer.Target{Rooms: []any{7}})
	if len(inRoom) != 1 || inRoom[0].ID != idB {
		t.Fatalf("fetchSockets(room 7) = %+v", inRoom)
	}
	if got := a.FetchSockets(nodepeer.Target{Except: []any{"r1"}}); len(got) != 1 || got[0].ID != idA {
		t.Fatalf("fetchSockets(except r1) = %+v", got)
	}
}

func TestServerCountAndAllRooms(t *testing.T) {
	a, b := pair(t)
	if n := a.ServerCount("/"); n != 2 {
		t.Fatalf("A serverCount = %d, want 2", n)
	}
	if n := b.ServerCount("/"); n != 2 {
		t.Fatalf("B serverCount = %d, want 2", n)
	}
	a.Namespace("/chat")
	if n := a.ServerCount("/chat"); n != 1 {
		t.Fatalf("A serverCount(/chat) before B has it = %d, want 1", n)
	}
	if uid := b.Namespace("/chat"); uid == "" || uid == b.UID {
		t.Fatalf("B /chat uid = %q (\"/\" uid %q)", uid, b.UID)
	}
	if n := a.ServerCount("/chat"); n != 2 {
		t.Fatalf("A serverCount(/chat) = %d, want 2", n)
	}

	idA := a.Connect("a1", "/", nil)
	idB := b.Connect("b1", "/", nil)
	a.Join("a1", "/", "ra")
	b.Join("b1", "/", "rb", 5)
	rooms := a.AllRooms("/")
	want := []any{idA, "ra", idB, "rb", 5.0}
	if !sameSet(rooms, want) {
		t.Fatalf("allRooms = %v, want (any order) %v", rooms, want)
	}
	if rooms := b.AllRooms("/chat"); len(rooms) != 0 {
		t.Fatalf("allRooms(/chat) = %v, want none", rooms)
	}
}

func sameSet(a, b []any) bool {
	key := func(v any) string { return fmt.Sprintf("%T:%v", v, v) }
	ka, kb := make([]string, len(a)), make([]string, len(b))
	for i, v := range a {
		ka[i] = key(v)
	}
	for i, v := range b {
		kb[i] = key(v)
	}
	slices.Sort(ka)
	slices.Sort(kb)
	return slices.Equal(ka, kb)
}

func TestServerSideEmit(t *testing.T) {
	a, b := pair(t)
	a.ServerSideEmit("/", "hello", "world", 1)
	assertEvents(t, "B server events", b.WaitServerEvents("/", 1, wait), ev("hello", "world", 1.0))

	r := a.ServerSideEmitWithAck("/", "ping", map[string]any{"x": 1})
	if r.Err != "" || !reflect.DeepEqual(r.Res, []any{"pong-from-B"}) {
		t.Fatalf("serverSideEmit with ack = %+v, want [pong-from-B]", r)
	}
	assertEvents(t, "B server events", b.ServerEvents("/"), ev("hello", "world", 1.0), ev("ping", map[string]any{"x": 1.0}))

	// An event name nobody pre-registered is recorded too, and the reply is configurable.
	b.SetServerSideReply(map[string]any{"ok": true}, false)
	r = a.ServerSideEmitWithAck("/", "some-unusual-name")
	if r.Err != "" || !reflect.DeepEqual(r.Res, []any{map[string]any{"ok": true}}) {
		t.Fatalf("serverSideEmit with custom reply = %+v", r)
	}
	// The sender never receives its own server-side events.
	assertEvents(t, "A server events", a.ServerEvents("/"))

	// No answer: the adapter's requestsTimeout (3 s here) reports an error.
	b.SetServerSideReply(nil, true)
	r = a.ServerSideEmitWithAck("/", "ping")
	if r.Err == "" || len(r.Res) != 0 {
		t.Fatalf("serverSideEmit without answer = %+v, want a timeout error", r)
	}
}

func TestEmitWithAckAcrossNodes(t *testing.T) {
	a, b := pair(t)
	a.Connect("a1", "/", nil)
	b.Connect("b1", "/", nil)
	b.Connect("b2", "/", &nodepeer.ConnectOptions{AckReply: 42})
	b.Join("b1", "/", "r")

	r := a.EmitWithAck(nodepeer.Target{}, wait, "question", "q?")
	sortAny(r.Res)
	if r.Err != "" || !reflect.DeepEqual(r.Res, []any{42.0, "ack-from-a1", "ack-from-b1"}) {
		t.Fatalf("emitWithAck(all) = %+v", r)
	}
	assertEvents(t, "b1", b.WaitReceived("b1", 1, wait), ev("question", "q?"))

	r = a.EmitWithAck(nodepeer.Target{Rooms: []any{"r"}}, wait, "room-q")
	if r.Err != "" || !reflect.DeepEqual(r.Res, []any{"ack-from-b1"}) {
		t.Fatalf("emitWithAck(room r) = %+v", r)
	}

	// A client that never answers: timeout error with the partial list.
	b.SetAckReply("b2", nil, true)
	r = a.EmitWithAck(nodepeer.Target{}, 500*time.Millisecond, "question2")
	sortAny(r.Res)
	if r.Err == "" || !reflect.DeepEqual(r.Res, []any{"ack-from-a1", "ack-from-b1"}) {
		t.Fatalf("emitWithAck with a silent client = %+v, want a timeout error and 2 acks", r)
	}
}

func sortAny(v []any) {
	sort.Slice(v, func(i, j int) bool { return fmt.Sprint(v[i]) < fmt.Sprint(v[j]) })
}

func hasRoom(rooms []any, room any) bool { return slices.Contains(rooms, room) }

func TestSocketsJoinLeaveAndDisconnect(t *testing.T) {
	a, b := pair(t)
	a.Connect("a1", "/", nil)
	b.Connect("b1", "/", nil)
	b.Connect("b2", "/", nil)
	b.Join("b1", "/", "r")
	a.Join("a1", "/", "r")

	a.SocketsJoin(nodepeer.Target{Rooms: []any{"r"}}, "joined", 9)
	nodepeer.Eventually(t, wait, "b1 and a1 in rooms joined and 9", func() bool {
		rb, ra := b.ClientRooms("b1", "/"), a.ClientRooms("a1", "/")
		return hasRoom(rb, "joined") && hasRoom(rb, 9.0) && hasRoom(ra, "joined") && hasRoom(ra, 9.0)
	})
	if rooms := b.ClientRooms("b2", "/"); hasRoom(rooms, "joined") {
		t.Fatalf("b2 (not in r) joined: %v", rooms)
	}

	a.SocketsLeave(nodepeer.Target{Rooms: []any{"joined"}}, 9)
	nodepeer.Eventually(t, wait, "b1 to leave room 9", func() bool { return !hasRoom(b.ClientRooms("b1", "/"), 9.0) })

	a.DisconnectSockets(nodepeer.Target{Rooms: []any{"joined"}}, false)
	if reason := b.WaitDisconnected("b1", wait); reason != "io server disconnect" {
		t.Fatalf("b1 disconnect reason = %q", reason)
	}
	if reason := a.WaitDisconnected("a1", wait); reason != "io server disconnect" {
		t.Fatalf("a1 disconnect reason = %q", reason)
	}
	// b2 is still connected and still receives broadcasts.
	if !b.Connected("b2") {
		t.Fatal("b2 was disconnected")
	}
	a.Emit(nodepeer.Target{}, "still-here")
	assertEvents(t, "b2", b.WaitReceived("b2", 1, wait), ev("still-here"))
}

func TestEmitter(t *testing.T) {
	a, b := pair(t)
	a.Connect("a1", "/", nil)
	b.Connect("b1", "/", nil)
	b.Connect("b2", "/", nil)
	a.Join("a1", "/", "r")
	b.Join("b1", "/", "r")
	b.Namespace("/admin")
	b.Connect("adm", "/admin", nil)

	a.EmitterEmit(nodepeer.Target{Rooms: []any{"r"}}, "from-emitter", []byte{9, 8}, "s")
	assertEvents(t, "a1", a.WaitReceived("a1", 1, wait), ev("from-emitter", []byte{9, 8}, "s"))
	assertEvents(t, "b1", b.WaitReceived("b1", 1, wait), ev("from-emitter", []byte{9, 8}, "s"))
	a.EmitterEmit(nodepeer.Target{Nsp: "/admin"}, "admin-only")
	assertEvents(t, "adm", b.WaitReceived("adm", 1, wait), ev("admin-only"))
	a.EmitterEmit(nodepeer.Target{}, "all")
	assertEvents(t, "b2", b.WaitReceived("b2", 1, wait), ev("all"))
	b.WaitReceived("b1", 2, wait)
	assertEvents(t, "b1", b.Received("b1"), ev("from-emitter", []byte{9, 8}, "s"), ev("all"))

	a.EmitterServerSideEmit("/", "sse", "from-emitter")
	assertEvents(t, "A server events", a.WaitServerEvents("/", 1, wait), ev("sse", "from-emitter"))
	assertEvents(t, "B server events", b.WaitServerEvents("/", 1, wait), ev("sse", "from-emitter"))

	a.EmitterSocketsJoin(nodepeer.Target{Except: []any{"r"}}, "lonely")
	nodepeer.Eventually(t, wait, "b2 in room lonely", func() bool { return hasRoom(b.ClientRooms("b2", "/"), "lonely") })
	if hasRoom(b.ClientRooms("b1", "/"), "lonely") {
		t.Fatal("b1 (in r) joined lonely")
	}
	a.EmitterSocketsLeave(nodepeer.Target{}, "lonely")
	nodepeer.Eventually(t, wait, "b2 out of room lonely", func() bool { return !hasRoom(b.ClientRooms("b2", "/"), "lonely") })

	a.EmitterDisconnectSockets(nodepeer.Target{Rooms: []any{"r"}}, true)
	b.WaitDisconnected("b1", wait)
	a.WaitDisconnected("a1", wait)
	if !b.Connected("b2") || !b.Connected("adm") {
		t.Fatal("sockets outside room r were disconnected")
	}

	// Reserved event names are refused by the emitter.
	_, err := a.Call("emitter", map[string]any{"event": "connect"})
	var ce *nodepeer.CallError
	if !errors.As(err, &ce) {
		t.Fatalf("emitter reserved event: err = %v, want a CallError", err)
	}
}

func TestHarness(t *testing.T) {
	srv := redistest.Standalone(t)
	p := nodepeer.Start(t, nodepeer.Options{RedisURL: srv.URL(), Key: "np-harness", Name: "H"})
	if p.Port == 0 || p.UID == "" || p.Name != "H" {
		t.Fatalf("peer = %+v", p)
	}
	p.Ping()

	_, err := p.Call("no-such-command", nil)
	var ce *nodepeer.CallError
	if !errors.As(err, &ce) || !strings.Contains(ce.Msg, "unknown command") {
		t.Fatalf("unknown command: err = %v", err)
	}
	if _, err := p.Call("waitReceived", map[string]any{"client": "nobody"}); err == nil {
		t.Fatal("waitReceived for an unknown client succeeded")
	}

	p.Connect("c", "/", nil)
	_, err = p.Call("waitReceived", map[string]any{"client": "c", "count": 1, "timeoutMs": 50})
	if !errors.As(err, &ce) || !strings.Contains(ce.Msg, "received 0") {
		t.Fatalf("waitReceived timeout: err = %v", err)
	}

	// Local emit with the wire conventions; Date arrives as its ISO string.
	when := time.Date(2023, 11, 14, 22, 13, 20, 123e6, time.UTC)
	p.Emit(nodepeer.Target{Local: true}, "vals", nodepeer.Date(when), nodepeer.Undefined{}, 1<<53, "é")
	assertEvents(t, "c", p.WaitReceived("c", 1, wait), ev("vals", "2023-11-14T22:13:20.123Z", nil, float64(1<<53), "é"))
	p.ClearReceived("c")
	assertEvents(t, "c", p.Received("c"))

	p.Close()
	select {
	case <-p.Done():
	default:
		t.Fatal("peer still running after Close")
	}
	if _, err := p.Call("ping", nil); err == nil {
		t.Fatal("Call after Close succeeded")
	}
	p.Close() // idempotent
}

func TestSpecificResponseChannelAndNamespace(t *testing.T) {
	srv := redistest.Standalone(t)
	opts := nodepeer.Options{RedisURL: srv.URL(), Key: "np-specific", PublishOnSpecificResponseChannel: true, RequestsTimeout: 3 * time.Second}
	opts.Name = "A"
	a := nodepeer.Start(t, opts)
	opts.Name = "B"
	b := nodepeer.Start(t, opts)

	idA := a.Connect("a1", "/chat", nil)
	idB := b.Connect("b1", "/chat", nil)
	b.Join("b1", "/chat", "room")
	if raw, err := b.Call("info", nil); err != nil || !strings.Contains(string(raw), `"publishOnSpecificResponseChannel":true`) {
		t.Fatalf("info = %s, %v", raw, err)
	}

	socks := a.FetchSockets(nodepeer.Target{Nsp: "/chat"})
	if len(socks) != 2 {
		t.Fatalf("fetchSockets(/chat) = %+v", socks)
	}
	if !sameSet(a.AllRooms("/chat"), []any{idA, idB, "room"}) {
		t.Fatalf("allRooms(/chat) = %v", a.AllRooms("/chat"))
	}
	r := a.EmitWithAck(nodepeer.Target{Nsp: "/chat", Rooms: []any{"room"}}, wait, "q")
	if r.Err != "" || !reflect.DeepEqual(r.Res, []any{"ack-from-b1"}) {
		t.Fatalf("emitWithAck(/chat room) = %+v", r)
	}
	assertEvents(t, "b1", b.Received("b1"), ev("q"))
	a.Emit(nodepeer.Target{Nsp: "/chat"}, "chat-all", 1)
	assertEvents(t, "b1", b.WaitReceived("b1", 2, wait), ev("q"), ev("chat-all", 1.0))
	// Namespace "/" saw nothing of it.
	b.Connect("root", "/", nil)
	a.Emit(nodepeer.Target{}, "root-only")
	assertEvents(t, "root", b.WaitReceived("root", 1, wait), ev("root-only"))
	assertEvents(t, "b1", b.Received("b1"), ev("q"), ev("chat-all", 1.0))
}
