package zishang520_test

import (
	"errors"
	"testing"
	"time"

	"github.com/sioredis/sioredis/engine"
	"github.com/sioredis/sioredis/internal/nodepeer"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

func fetch(t *testing.T, op *socket.BroadcastOperator) map[string]*socket.RemoteSocket {
	t.Helper()
	out := map[string]*socket.RemoteSocket{}
	done := make(chan struct{})
	op.FetchSockets()(func(ss []*socket.RemoteSocket, err error) {
		defer close(done)
		if err != nil {
			t.Error(err)
		}
		for _, s := range ss {
			out[string(s.Id())] = s
		}
	})
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatal("fetchSockets: no answer")
	}
	return out
}

// TestFetchSockets: a Go server fetches the sockets of all three servers
// with their rooms, data and handshake, as plain Go values; Local and
// Sockets() stay on this server; Node fetches the Go servers' sockets.
func TestFetchSockets(t *testing.T) {
	c := newCluster(t)
	c.sb.Join("room")
	c.sb.SetData(map[string]any{"user": "bob", "n": 7, "bin": []byte{1, 2}})
	c.n.Join("n1", "/", "room")
	c.n.SetData("n1", "/", map[string]any{"user": "nina"})

	all := fetch(t, c.a.io.Sockets().Timeout(5*time.Second))
	eq(t, "ids", sorted(keys(all)), sorted([]string{string(c.sa.Id()), string(c.sb.Id()), c.idn, c.idg}))
	if _, local := any(all[string(c.sa.Id())]).(*socket.RemoteSocket); !local {
		t.Error("no RemoteSocket for the local socket")
	}
	rb := all[string(c.sb.Id())]
	eq(t, "cb rooms", sorted(roomStrings(rb.Rooms().Keys())), sorted([]string{"room", string(c.sb.Id())}))
	data, ok := rb.Data().(map[string]any)
	if !ok {
		t.Fatalf("cb data is %T", rb.Data())
	}
	eq(t, "cb data user", data["user"], "bob")
	eq(t, "cb data n", fmtValue(data["n"]), fmtValue(float64(7)))
	// The classic protocol's requests and answers are JSON: binary in
	// socket.data crosses as a Node Buffer's JSON form, between Node
	// servers as well.
	eq(t, "cb data bin", fmtValue(data["bin"]), fmtValue(bufferJSON(1, 2)))
	eq(t, "cb auth", rb.Handshake().Auth["name"], "cb")
	rn := all[c.idn]
	eq(t, "n1 data", fmtValue(rn.Data()), fmtValue(map[string]any{"user": "nina"}))
	eq(t, "n1 rooms", sorted(roomStrings(rn.Rooms().Keys())), sorted([]string{"room", c.idn}))
	if rn.Handshake().Url == "" || rn.Handshake().Time == "" {
		t.Errorf("n1 handshake not decoded: %+v", rn.Handshake())
	}

	eq(t, "room", sorted(keys(fetch(t, c.a.io.To("room").Timeout(5*time.Second)))), sorted([]string{string(c.sb.Id()), c.idn}))
	eq(t, "except room", sorted(keys(fetch(t, c.a.io.Except("room").Timeout(5*time.Second)))), sorted([]string{string(c.sa.Id()), c.idg}))
	eq(t, "local", keys(fetch(t, c.a.io.Local())), []string{string(c.sa.Id())})
	eq(t, "local room", keys(fetch(t, c.b.io.Local().To("room"))), []string{string(c.sb.Id())})

	// Node sees the Go sockets with their data and handshake.
	var fromNode *nodepeer.RemoteSocket
	for _, s := range c.n.FetchSockets(nodepeer.Target{Rooms: []any{"room"}}) {
		if s.ID == string(c.sb.Id()) {
			fromNode = &s
		}
	}
	if fromNode == nil {
		t.Fatal("Node did not fetch cb's socket")
	}
	eq(t, "node sees cb rooms", sorted(anyStrings(fromNode.Rooms)), sorted([]string{"room", string(c.sb.Id())}))
	d, _ := fromNode.Data.(map[string]any)
	eq(t, "node sees cb data", d["user"], "bob")
	eq(t, "node sees cb bin", fmtValue(d["bin"]), fmtValue(bufferJSON(1, 2)))
	auth, _ := fromNode.Handshake["auth"].(map[string]any)
	eq(t, "node sees cb auth", auth["name"], "cb")
	c.a.noErrors(t)
	c.b.noErrors(t)
}

// bufferJSON is JSON.stringify's form of a Node Buffer, decoded.
func bufferJSON(bs ...float64) map[string]any {
	data := make([]any, len(bs))
	for i, b := range bs {
		data[i] = b
	}
	return map[string]any{"type": "Buffer", "data": data}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func anyStrings(xs []any) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i], _ = x.(string)
	}
	return out
}

// TestSocketsJoinLeaveDisconnect: socketsJoin, socketsLeave and
// disconnectSockets from a Go server act on every server's sockets.
func TestSocketsJoinLeaveDisconnect(t *testing.T) {
	c := newCluster(t)
	c.a.io.Except(socket.Room(c.sa.Id())).SocketsJoin("joined")
	// Applied on A at once; the others apply it when it arrives: a
	// fetchSockets from A is answered after (one connection per server,
	// in order).
	eq(t, "joined", sorted(keys(fetch(t, c.a.io.To("joined").Timeout(5*time.Second)))), sorted([]string{string(c.sb.Id()), c.idn, c.idg}))
	eq(t, "node rooms of n1", sorted(anyStrings(c.n.ClientRooms("n1", "/"))), sorted([]string{"joined", c.idn}))
	// Asked from B, which sent the leave: B's requests reach every server
	// in the order B published them. Asked from A, the fetch could reach
	// N before B's leave does (two connections, no order between them).
	c.b.io.In("joined").SocketsLeave("joined")
	eq(t, "left", keys(fetch(t, c.b.io.To("joined").Timeout(5*time.Second))), []string{})

	c.n.Join("n1", "/", "bye")
	c.sb.Join("bye")
	c.a.io.In("bye").DisconnectSockets(true)
	select {
	case <-c.cb.gone:
	case <-time.After(wait):
		t.Fatal("cb not disconnected")
	}
	if r := c.n.WaitDisconnected("n1", wait); r != "transport close" && r != "io server disconnect" {
		t.Errorf("n1 disconnected with %q", r)
	}
	eq(t, "after disconnect", sorted(keys(fetch(t, c.a.io.Sockets().Timeout(5*time.Second)))), sorted([]string{string(c.sa.Id()), c.idg}))
	c.a.noErrors(t)
}

// TestServerSideEmit: server-side events between the Go servers and Node,
// with and without acknowledgements, both ways.
func TestServerSideEmit(t *testing.T) {
	c := newCluster(t)
	got := make(chan []any, 10)
	_ = c.b.io.Sockets().On("hello", func(args ...any) {
		if n := len(args); n > 0 {
			if ack, ok := args[n-1].(socket.Ack); ok {
				ack([]any{"from-B"}, nil)
				args = args[:n-1]
			}
		}
		got <- args
	})
	next := func() []any {
		select {
		case a := <-got:
			return a
		case <-time.After(wait):
			t.Fatal("B got no server-side event")
			return nil
		}
	}
	if err := c.a.io.ServerSideEmit("hello", "x", 1, map[string]any{"k": []byte{9}}); err != nil {
		t.Fatal(err)
	}
	args := next()
	eq(t, "B got", len(args), 3)
	eq(t, "B got", fmtValue(args[:2]), fmtValue([]any{"x", float64(1)}))
	// serverSideEmit is a JSON request: binary crosses as a Buffer's JSON
	// form, as between Node servers.
	eq(t, "B got arg 3", fmtValue(args[2]), fmtValue(map[string]any{"k": bufferJSON(9)}))
	evs := c.n.WaitServerEvents("/", 1, wait)
	eq(t, "N got", fmtValue(evs[0].Args[:2]), fmtValue([]any{"x", float64(1)}))
	c.n.ClearServerEvents("/")

	// With acks: one answer per other server.
	ack, ch := ackChan()
	if err := c.a.io.ServerSideEmitWithAck("hello", "y")(ack); err != nil {
		t.Fatal(err)
	}
	r := waitAck(t, "serverSideEmitWithAck", ch)
	if r.err != nil {
		t.Fatal(r.err)
	}
	eq(t, "acks", ackStrings(t, r.args), sorted([]string{"from-B", "pong-from-N"}))
	next()

	// From Node, with an ack answered by B (and A, which has no listener:
	// its listeners never call the ack, so Node gets an incomplete answer
	// at its timeout, as with Node servers).
	c.n.ServerSideEmit("/", "hello", "z")
	eq(t, "B got from N", fmtValue(next()), fmtValue([]any{"z"}))
	c.a.noErrors(t)
	c.b.noErrors(t)
}

// TestBinary: binary values cross as binary both ways: Go buffers and
// []byte reach Go and Node clients as binary, Node Buffers reach Go
// clients as binary.
func TestBinary(t *testing.T) {
	c := newCluster(t)
	_ = c.a.io.Emit("bin", types.NewBytesBuffer([]byte{1, 2, 3}), map[string]any{"b": []byte{4}}, "text")
	c.fence(t, "A")
	for _, cl := range []*goClient{c.ca, c.cb, c.cgn} {
		evs := cl.until(t, "fence")
		if len(evs) != 1 || len(evs[0].Args) != 3 {
			t.Fatalf("%s got %v", cl.name, evs)
		}
		eq(t, cl.name+" arg 1", binOf(evs[0].Args[0]), []byte{1, 2, 3})
		m, _ := evs[0].Args[1].(map[string]any)
		eq(t, cl.name+" arg 2", binOf(m["b"]), []byte{4})
		eq(t, cl.name+" arg 3", evs[0].Args[2], "text")
	}
	evs := untilNode(t, c.n, "n1", "fence")
	if len(evs) != 1 {
		t.Fatalf("n1 got %v", evs)
	}
	eq(t, "n1 arg 1", binOf(evs[0].Args[0]), []byte{1, 2, 3})
	m, _ := evs[0].Args[1].(map[string]any)
	eq(t, "n1 arg 2", binOf(m["b"]), []byte{4})

	c.n.Emit(nodepeer.Target{}, "bin", nodepeer.Bin{5, 6})
	c.fence(t, "N")
	for _, cl := range []*goClient{c.ca, c.cb, c.cgn} {
		evs := cl.until(t, "fence")
		if len(evs) != 1 || len(evs[0].Args) != 1 {
			t.Fatalf("%s got %v", cl.name, evs)
		}
		eq(t, cl.name+" from N", binOf(evs[0].Args[0]), []byte{5, 6})
	}
	untilNode(t, c.n, "n1", "fence")
	c.a.noErrors(t)
}

// binOf returns the bytes of a binary value, or nil.
func binOf(v any) []byte {
	switch b := v.(type) {
	case types.BufferInterface:
		return b.Bytes()
	case []byte:
		return b
	}
	return nil
}

// TestErrors: what the adapter cannot return reaches OnError.
func TestErrors(t *testing.T) {
	c := newCluster(t)
	_ = c.a.eng.Close()
	_ = c.a.io.Emit("e")
	select {
	case err := <-c.a.errs:
		if !errors.Is(err, engine.ErrClosed) {
			t.Errorf("got %v, want ErrClosed", err)
		}
	case <-time.After(wait):
		t.Fatal("no error reported")
	}
}
