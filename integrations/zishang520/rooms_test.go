package zishang520_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/sioredis/sioredis/internal/nodepeer"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// roomEvents records the room events of a Go server's adapter.
type roomEvents chan string

func watchRooms(g *goServer) roomEvents {
	ch := make(roomEvents, 100)
	a := g.adapter()
	for _, name := range []string{"create-room", "delete-room"} {
		_ = a.On(types.EventName(name), func(args ...any) { ch <- fmt.Sprintf("%s %v", name, args[0]) })
	}
	for _, name := range []string{"join-room", "leave-room"} {
		_ = a.On(types.EventName(name), func(args ...any) { ch <- fmt.Sprintf("%s %v %v", name, args[0], args[1]) })
	}
	return ch
}

// next returns the next n events.
func (ch roomEvents) next(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	deadline := time.After(wait)
	for len(out) < n {
		select {
		case e := <-ch:
			out = append(out, e)
		case <-deadline:
			t.Fatalf("room events: got %v, want %d", out, n)
		}
	}
	return out
}

// roomsOf returns the mirror's view of socket sid: Sids()[sid] and, for
// each room, whether Rooms()[room] holds sid.
func roomsOf(g *goServer, sid socket.SocketId) []string {
	a := g.adapter()
	set, ok := a.Sids().Load(sid)
	if !ok {
		return nil
	}
	var out []string
	for _, r := range sorted(roomStrings(set.Keys())) {
		ids, ok := a.Rooms().Load(socket.Room(r))
		out = append(out, fmt.Sprintf("%s:%v", r, ok && ids.Has(sid)))
	}
	return out
}

func roomStrings(rs []socket.Room) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}

// TestRoomsMirror: Rooms()/Sids() and the room events stay true when the
// changes come from this server, from another Go server and from Node.
func TestRoomsMirror(t *testing.T) {
	c := newCluster(t)
	ev := watchRooms(c.a)
	sid := c.sa.Id()
	own := string(sid)

	// Local join and leave: synchronous, as in zishang520's own adapter.
	c.sa.Join("local")
	eq(t, "local join events", ev.next(t, 2), []string{"create-room local", "join-room local " + own})
	eq(t, "after local join", roomsOf(c.a, sid), sorted([]string{"local:true", own + ":true"}))
	c.sa.Leave("local")
	eq(t, "local leave events", ev.next(t, 2), []string{"leave-room local " + own, "delete-room local"})

	// socketsJoin from the other Go server.
	c.b.io.In(socket.Room(own)).SocketsJoin("fromB")
	eq(t, "remote join events (B)", ev.next(t, 2), []string{"create-room fromB", "join-room fromB " + own})
	eq(t, "after B's socketsJoin", roomsOf(c.a, sid), sorted([]string{"fromB:true", own + ":true"}))
	eq(t, "Rooms() of the socket", sorted(roomStrings(c.sa.Rooms().Keys())), sorted([]string{"fromB", own}))

	// socketsJoin and socketsLeave from Node.
	c.n.SocketsJoin(nodepeer.Target{Rooms: []any{own}}, "fromN")
	eq(t, "remote join events (N)", ev.next(t, 2), []string{"create-room fromN", "join-room fromN " + own})
	c.n.SocketsLeave(nodepeer.Target{Rooms: []any{"fromB"}}, "fromB")
	eq(t, "remote leave events (N)", ev.next(t, 2), []string{"leave-room fromB " + own, "delete-room fromB"})
	eq(t, "after Node's socketsLeave", roomsOf(c.a, sid), sorted([]string{"fromN:true", own + ":true"}))

	// A broadcast to the room joined remotely reaches the socket.
	_ = c.b.io.To("fromN").Emit("e")
	eq(t, "broadcast to fromN", c.got(t, "B")["ca"], []string{"e"})

	// Sockets(rooms) is local: the room's local members only.
	c.sb.Join("fromN")
	eq(t, "Sockets(fromN) on A", c.a.adapter().Sockets(nil).Len(), 1)
	s := c.a.adapter().Sockets(typesSet("fromN"))
	eq(t, "Sockets(fromN) on A", s.Keys(), []socket.SocketId{sid})

	// disconnectSockets from Node: every room of the socket goes, and its
	// Sids() entry.
	c.n.DisconnectSockets(nodepeer.Target{Rooms: []any{"fromN"}}, false)
	got := sorted(ev.next(t, 4))
	eq(t, "disconnect events", got, sorted([]string{"leave-room fromN " + own, "delete-room fromN", "leave-room " + own + " " + own, "delete-room " + own}))
	select {
	case reason := <-c.ca.gone:
		eq(t, "disconnect reason", reason, "io server disconnect")
	case <-time.After(wait):
		t.Fatal("client ca not disconnected")
	}
	select {
	case name := <-c.a.left:
		eq(t, "socket gone on A", name, "ca")
	case <-time.After(wait):
		t.Fatal("no disconnect on A")
	}
	if _, ok := c.a.adapter().Sids().Load(sid); ok {
		t.Error("Sids() still holds the disconnected socket")
	}
	c.a.noErrors(t)
}
