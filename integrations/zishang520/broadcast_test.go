package zishang520_test

import (
	"testing"

	"github.com/sioredis/sioredis/internal/nodepeer"
	"github.com/zishang520/socket.io/servers/socket/v3"
)

// TestBroadcast: every kind of broadcast, from a Go server and from the
// Node server, reaches exactly the sockets it selects on all three servers.
func TestBroadcast(t *testing.T) {
	c := newCluster(t)
	c.sa.Join("red", "blue")
	c.sb.Join("red")
	c.n.Join("n1", "/", "blue")
	all := map[string][]string{"ca": {"e"}, "cb": {"e"}, "cgn": {"e"}, "n1": {"e"}}
	none := map[string][]string{"ca": {}, "cb": {}, "cgn": {}, "n1": {}}
	only := func(names ...string) map[string][]string {
		out := map[string][]string{"ca": {}, "cb": {}, "cgn": {}, "n1": {}}
		for _, n := range names {
			out[n] = []string{"e"}
		}
		return out
	}
	for _, tc := range []struct {
		name, from string
		emit       func()
		want       map[string][]string
	}{
		{"all from A", "A", func() { _ = c.a.io.Emit("e", 1) }, all},
		{"all from N", "N", func() { c.n.Emit(nodepeer.Target{}, "e", 1) }, all},
		{"room from B", "B", func() { _ = c.b.io.To("red").Emit("e") }, only("ca", "cb")},
		{"rooms from N", "N", func() { c.n.Emit(nodepeer.Target{Rooms: []any{"red", "blue"}}, "e") }, only("ca", "cb", "n1")},
		{"except from A", "A", func() { _ = c.a.io.Except("red").Emit("e") }, only("cgn", "n1")},
		{"room except from B", "B", func() { _ = c.b.io.To("blue").Except("red").Emit("e") }, only("n1")},
		{"socket.broadcast on A", "A", func() { _ = c.sa.Broadcast().Emit("e") }, only("cb", "cgn", "n1")},
		{"socket.to on B", "B", func() { _ = c.sb.To("red").Emit("e") }, only("ca")},
		{"node socket.broadcast", "N", func() { c.n.SocketEmit("n1", nodepeer.Target{}, "e") }, only("ca", "cb", "cgn")},
		{"to a socket id from B", "B", func() { _ = c.b.io.To(socket.Room(c.sa.Id())).Emit("e") }, only("ca")},
		{"local on A", "A", func() { _ = c.a.io.Local().Emit("e") }, only("ca")},
		{"unknown room from A", "A", func() { _ = c.a.io.To("nobody").Emit("e") }, none},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.emit()
			eq(t, "received", c.got(t, tc.from), tc.want)
		})
	}
	c.a.noErrors(t)
	c.b.noErrors(t)
}
