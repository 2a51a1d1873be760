package engine

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sioredis/sioredis/internal/redistest"
)

// observingHost is a test host that gives ack ids and records membership
// events.
type observingHost struct {
	*testHost
	ids    atomic.Uint64
	mu     sync.Mutex
	events []string
}

func newObservingHost() *observingHost {
	h := &observingHost{testHost: newTestHost()}
	h.ids.Store(1000)
	return h
}

func (h *observingHost) NextAckID() uint64 { return h.ids.Add(1) }

func (h *observingHost) record(e string) {
	h.mu.Lock()
	h.events = append(h.events, e)
	h.mu.Unlock()
}
func (h *observingHost) RoomCreated(r Room)              { h.record("create " + r.Name) }
func (h *observingHost) RoomDeleted(r Room)              { h.record("delete " + r.Name) }
func (h *observingHost) SocketJoined(sid string, r Room) { h.record("join " + sid + " " + r.Name) }
func (h *observingHost) SocketLeft(sid string, r Room)   { h.record("leave " + sid + " " + r.Name) }

func (h *observingHost) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.events
	h.events = nil
	return out
}

func hostNode(t *testing.T, addr string, opts Options, h Host) *node {
	t.Helper()
	n := newNode(t, addr, opts)
	ns, err := n.e.Namespace(ctx(t), "/hosted", h)
	must(t, err)
	n.ns = ns
	switch x := h.(type) {
	case *observingHost:
		n.host = x.testHost
	case *testHost:
		n.host = x
	}
	return n
}

// TestMembershipEvents: every change of local membership reaches the
// observer, in order, also when another server asks for it.
func TestMembershipEvents(t *testing.T) {
	srv := redistest.Standalone(t)
	h := newObservingHost()
	b := hostNode(t, srv.Addr, Options{Key: "members"}, h)
	a := hostNode(t, srv.Addr, Options{Key: "members"}, newTestHost())
	sid := "s1"
	h.addSocket(sid)
	must(t, b.ns.AddSocket(sid))
	must(t, b.ns.Join(sid, StringRoom("r"), StringRoom("r")))
	must(t, b.ns.Join(sid, NumberRoom(7)))
	must(t, b.ns.Leave(sid, StringRoom("r")))
	want := []string{"create s1", "join s1 s1", "create r", "join s1 r", "create 7", "join s1 7", "leave s1 r", "delete r"}
	if got := h.take(); !reflect.DeepEqual(got, want) {
		t.Fatalf("local events\n  %q\nwant\n  %q", got, want)
	}
	// Another server makes the socket join and leave, then disconnects it.
	must(t, a.ns.To(StringRoom(sid)).SocketsJoin(ctx(t), StringRoom("remote")))
	eventually(t, "remote join", func() bool { return hasRoom(b.ns.SocketRooms(sid), "remote") })
	must(t, a.ns.RemoteLeave(ctx(t), sid, NumberRoom(7)))
	must(t, a.ns.To(StringRoom("remote")).DisconnectSockets(ctx(t), false))
	eventually(t, "remote disconnect", func() bool { return !b.ns.HasSocket(sid) })
	got := h.take()
	want = []string{"create remote", "join s1 remote", "leave s1 7", "delete 7",
		"leave s1 s1", "leave s1 remote", "delete s1", "delete remote"}
	if len(got) != len(want) {
		t.Fatalf("remote events\n  %q\nwant (in some order for the disconnect)\n  %q", got, want)
	}
	if !reflect.DeepEqual(got[:4], want[:4]) {
		t.Fatalf("remote events %q, want %q first", got, want[:4])
	}
	if got[4] != "leave s1 s1" && got[4] != "leave s1 remote" {
		t.Fatalf("disconnect events %q", got[4:])
	}
}

// TestHostAckIDs: packets with acks carry the host's ids.
func TestHostAckIDs(t *testing.T) {
	srv := redistest.Standalone(t)
	h := newObservingHost()
	b := hostNode(t, srv.Addr, Options{Key: "ackids"}, h)
	a := hostNode(t, srv.Addr, Options{Key: "ackids"}, newTestHost())
	sid := NewSocketID()
	s := h.addSocket(sid)
	s.ackReply = "ok"
	must(t, b.ns.AddSocket(sid))
	acks, err := a.ns.Operator().Timeout(5*time.Second).EmitWithAck(ctx(t), "q")
	must(t, err)
	if !reflect.DeepEqual(acks, []any{"ok"}) {
		t.Fatalf("acks %v", acks)
	}
	h.mu.Lock()
	ids := append([]uint64(nil), h.testHost.ackIDs...)
	h.mu.Unlock()
	if len(ids) != 1 || ids[0] != 1001 {
		t.Fatalf("ack ids seen by the host %v, want [1001] (the host's counter)", ids)
	}
}

// TestBroadcastWithAckStreams: each server's count and each ack arrive
// through the handlers, then Done; on a timeout Done says what is missing.
func TestBroadcastWithAckStreams(t *testing.T) {
	srv := redistest.Standalone(t)
	a := hostNode(t, srv.Addr, Options{Key: "stream"}, newTestHost())
	b := hostNode(t, srv.Addr, Options{Key: "stream"}, newTestHost())
	for i, n := range []*node{a, b, b} {
		sid := fmt.Sprintf("s%d", i)
		s := n.host.addSocket(sid)
		s.ackReply = fmt.Sprintf("ack%d", i)
		must(t, n.ns.AddSocket(sid))
	}
	var (
		mu     sync.Mutex
		counts []int
		acks   []any
		done   = make(chan error, 1)
	)
	h := AckHandlers{
		ClientCount: func(n int) { mu.Lock(); counts = append(counts, n); mu.Unlock() },
		Ack:         func(v any) { mu.Lock(); acks = append(acks, v); mu.Unlock() },
		Done:        func(err error) { done <- err },
	}
	must(t, a.ns.Operator().Timeout(5*time.Second).BroadcastWithAck(ctx(t), OutPacket{Data: []any{"q", 1}}, h))
	select {
	case err := <-done:
		must(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("no Done")
	}
	mu.Lock()
	if len(counts) != 2 || counts[0]+counts[1] != 3 || len(acks) != 3 {
		t.Fatalf("counts %v acks %v", counts, acks)
	}
	mu.Unlock()

	// A socket that never acknowledges: Done reports the missing ack.
	b.host.addSocket("mute")
	must(t, b.ns.AddSocket("mute"))
	must(t, a.ns.Operator().Timeout(300*time.Millisecond).BroadcastWithAck(ctx(t), OutPacket{Data: []any{"q"}}, h))
	err := <-done
	var ie *IncompleteError
	if !errors.As(err, &ie) || !ie.CountsKnown || ie.ExpectedAcks != 4 || ie.Acks != 3 {
		t.Fatalf("Done = %v (%+v), want 3 of 4 client acks with every count known", err, ie)
	}
	t.Log(err)
}

// TestLocalSocketsAndPackets: a local lookup and a broadcast of a packet.
func TestLocalSocketsAndPackets(t *testing.T) {
	srv := redistest.Standalone(t)
	a := hostNode(t, srv.Addr, Options{Key: "packets"}, newTestHost())
	b := hostNode(t, srv.Addr, Options{Key: "packets"}, newTestHost())
	s1, s2 := "x1", "x2"
	for _, sid := range []string{s1, s2} {
		b.host.addSocket(sid)
		must(t, b.ns.AddSocket(sid))
	}
	must(t, b.ns.Join(s1, StringRoom("r")))
	if got := b.ns.LocalSockets(Rooms("r"), nil); !reflect.DeepEqual(got, []string{s1}) {
		t.Fatalf("LocalSockets(r) = %v", got)
	}
	if got := b.ns.LocalSockets(nil, Rooms("r")); !reflect.DeepEqual(got, []string{s2}) {
		t.Fatalf("LocalSockets(except r) = %v", got)
	}
	must(t, a.ns.To(StringRoom("r")).Broadcast(ctx(t), OutPacket{Data: []any{"pkt", "v"}}))
	b.host.waitReceived(t, s1, 1)
	assertEvents(t, b.host, s1, ev("pkt", "v"))
	if err := a.ns.Operator().Broadcast(ctx(t), OutPacket{Data: []any{42}}); err == nil {
		t.Fatal("a packet whose event is not a string was accepted")
	}
}

// byteBuffer stands for a host's own binary type.
type byteBuffer struct{ b []byte }

// TestValueHooks: EncodeHook turns host types into binary; PlainValues
// gives plain Go values back.
func TestValueHooks(t *testing.T) {
	srv := redistest.Standalone(t)
	hook := func(v any) (any, bool) {
		if bb, ok := v.(*byteBuffer); ok {
			return bb.b, true
		}
		return nil, false
	}
	h := newTestHost()
	a := hostNode(t, srv.Addr, Options{Key: "values", EncodeHook: hook}, newTestHost())
	b := hostNode(t, srv.Addr, Options{Key: "values", PlainValues: true}, h)
	sid := "v1"
	h.addSocket(sid)
	must(t, b.ns.AddSocket(sid))
	// The host's binary type travels as binary (an attachment).
	must(t, a.ns.Emit(ctx(t), "bin", &byteBuffer{[]byte{1, 2}}))
	got := h.waitReceived(t, sid, 1)
	if len(got[0].Args) != 1 || !reflect.DeepEqual(got[0].Args[0], map[string]any{"$bin": "0102"}) {
		t.Fatalf("EncodeHook: received %#v, want one binary attachment 0102", got[0])
	}
	// Decoded values reach the host as plain Go values.
	must(t, a.ns.ServerSideEmit(ctx(t), "ev", map[string]any{"nested": map[string]any{"n": 1}, "list": []any{"x"}}))
	h.waitFor(t, "server event", func() bool { return len(h.events) == 1 })
	want := map[string]any{"nested": map[string]any{"n": int64(1)}, "list": []any{"x"}}
	if got := h.events[0].Args[0]; !reflect.DeepEqual(got, want) {
		t.Fatalf("PlainValues: arg %#v, want %#v", got, want)
	}
}

// TestCallsAfterClose: every call on a closed namespace fails with
// ErrClosed, none publishes.
func TestCallsAfterClose(t *testing.T) {
	srv := redistest.Standalone(t)
	n := newNode(t, srv.Addr, Options{Key: "closed"})
	must(t, n.ns.Close())
	c := context.Background()
	calls := map[string]error{
		"AddSocket":      n.ns.AddSocket("s"),
		"Join":           n.ns.Join("s", StringRoom("r")),
		"Leave":          n.ns.Leave("s", StringRoom("r")),
		"Emit":           n.ns.Emit(c, "x"),
		"Broadcast":      n.ns.Operator().Broadcast(c, OutPacket{Data: []any{"x"}}),
		"ServerSideEmit": n.ns.ServerSideEmit(c, "x"),
		"SocketsJoin":    n.ns.Operator().SocketsJoin(c, StringRoom("r")),
		"Disconnect":     n.ns.Operator().DisconnectSockets(c, false),
		"RemoteJoin":     n.ns.RemoteJoin(c, "s", StringRoom("r")),
	}
	_, calls["ServerCount"] = n.ns.ServerCount(c)
	_, calls["AllRooms"] = n.ns.AllRooms(c)
	_, calls["FetchSockets"] = n.ns.Operator().FetchSockets(c)
	_, calls["EmitWithAck"] = n.ns.Operator().EmitWithAck(c, "x")
	_, calls["ServerSideEmitWithAck"] = n.ns.ServerSideEmitWithAck(c, "x")
	_, calls["Sockets"] = n.ns.Sockets(c)
	calls["BroadcastWithAck"] = n.ns.Operator().BroadcastWithAck(c, OutPacket{Data: []any{"x"}}, AckHandlers{})
	for name, err := range calls {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
	if st := n.e.Stats(); st.Published != 0 {
		t.Errorf("published %d after Close", st.Published)
	}
}

// TestInvalidRoomsRefused: a numeric room whose name is not a number is
// refused at the door.
func TestInvalidRoomsRefused(t *testing.T) {
	srv := redistest.Standalone(t)
	n := newNode(t, srv.Addr, Options{Key: "invalid"})
	bad := Room{Name: "seven", Numeric: true}
	if err := n.ns.Join("s", bad); !errors.Is(err, ErrInvalidRoom) {
		t.Fatalf("Join = %v", err)
	}
	if err := n.ns.To(bad).Emit(ctx(t), "x"); !errors.Is(err, ErrInvalidRoom) {
		t.Fatalf("Emit = %v", err)
	}
	if err := n.ns.Join("s", NumberRoom(7), NumberRoom(1.5), NumberRoom(-3)); err != nil {
		t.Fatalf("valid numeric rooms refused: %v", err)
	}
}
