package zishang520_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/sioredis/sioredis/engine"
	"github.com/sioredis/sioredis/integrations/zishang520"
	"github.com/sioredis/sioredis/internal/nodepeer"
	"github.com/sioredis/sioredis/internal/redistest"
	client "github.com/zishang520/socket.io/clients/socket/v3"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// wait is how long a test waits for something that should happen at once.
const wait = 10 * time.Second

// goServer is a zishang520 server on the sioredis adapter, over HTTP on a
// random port.
type goServer struct {
	name string
	eng  *engine.Engine
	io   *socket.Server
	url  string
	errs chan error  // what the adapter reported through OnError
	left chan string // server sockets that disconnected, by client name

	mu      sync.Mutex
	sockets map[string]*socket.Socket // server socket by client name
	joined  map[string]chan struct{}
}

// startGo starts a server named name on the Redis at addr, in the five
// lines a user writes (plus the error hook).
func startGo(t *testing.T, addr, name string) *goServer {
	t.Helper()
	eng, err := engine.New(engine.Options{ClientOption: rueidis.ClientOption{InitAddress: []string{addr}}})
	if err != nil {
		t.Fatal(err)
	}
	g := &goServer{name: name, eng: eng, errs: make(chan error, 100), left: make(chan string, 100), sockets: map[string]*socket.Socket{}, joined: map[string]chan struct{}{}}
	b := zishang520.NewAdapterBuilder(eng)
	b.OnError = func(err error) {
		select {
		case g.errs <- err:
		default:
		}
	}
	opts := socket.DefaultServerOptions()
	opts.SetAdapter(b)
	g.io = socket.NewServer(nil, opts)
	hs := httptest.NewServer(g.io.ServeHandler(nil))
	g.url = hs.URL
	_ = g.io.On("connection", func(args ...any) {
		s := args[0].(*socket.Socket)
		name, _ := s.Handshake().Auth["name"].(string)
		_ = s.On("ping-server", func(args ...any) {
			if ack, ok := args[len(args)-1].(socket.Ack); ok {
				ack([]any{"pong-" + name}, nil)
			}
		})
		_ = s.On("disconnect", func(...any) { g.left <- name })
		g.mu.Lock()
		_, again := g.sockets[name]
		g.sockets[name] = s
		ch := g.joinedCh(name)
		g.mu.Unlock()
		if !again {
			close(ch)
		}
	})
	t.Cleanup(func() {
		g.io.Close(nil)
		hs.Close()
		_ = eng.Close()
	})
	return g
}

func (g *goServer) joinedCh(name string) chan struct{} {
	ch, ok := g.joined[name]
	if !ok {
		ch = make(chan struct{})
		g.joined[name] = ch
	}
	return ch
}

// socket returns the server socket of client name.
func (g *goServer) socket(t *testing.T, name string) *socket.Socket {
	t.Helper()
	g.mu.Lock()
	ch := g.joinedCh(name)
	g.mu.Unlock()
	select {
	case <-ch:
	case <-time.After(wait):
		t.Fatalf("%s: no socket for client %s", g.name, name)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.sockets[name]
}

// adapter returns the adapter of namespace "/".
func (g *goServer) adapter() *zishang520.Adapter {
	return g.io.Sockets().Adapter().(*zishang520.Adapter)
}

// noErrors fails the test if the adapter reported errors.
func (g *goServer) noErrors(t *testing.T) {
	t.Helper()
	for {
		select {
		case err := <-g.errs:
			t.Errorf("%s reported: %v", g.name, err)
		default:
			return
		}
	}
}

// event is what a Go client received.
type event struct {
	Name string
	Args []any
}

func (e event) String() string { return fmt.Sprintf("%s%v", e.Name, e.Args) }

// goClient is a zishang520 Go client (websocket only) that records its
// events and answers acknowledgements with "ack-from-<name>".
type goClient struct {
	name   string
	sock   *client.Socket
	events chan event
	gone   chan string
}

// connectGo connects a Go client named name to the server at url.
//
// zishang520's client has two start-up races on a fast loopback: the
// engine.io socket can open before the manager listens for its "open" (the
// client then never connects), and Socket.Connect can send CONNECT twice
// (the server then closes the connection). The rig opens the manager first,
// waits for it, then connects the socket (no second CONNECT), and starts
// over with a new manager when the first race hit.
func connectGo(t *testing.T, url, name string) *goClient {
	t.Helper()
	for attempt := 1; ; attempt++ {
		c, err := tryConnectGo(t, url, name)
		if err == nil {
			return c
		}
		if attempt == 5 {
			t.Fatalf("client %s: %v", name, err)
		}
	}
}

func tryConnectGo(t *testing.T, url, name string) (*goClient, error) {
	opts := client.DefaultOptions()
	opts.SetTransports(types.NewSet(client.WebSocket))
	opts.SetForceNew(true)
	opts.SetReconnection(false)
	opts.SetAutoConnect(false)
	opts.SetAuth(map[string]any{"name": name})
	m := client.NewManager(url, opts)
	opened := make(chan error, 1)
	m.Open(func(err error) { opened <- err })
	select {
	case err := <-opened:
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", url, err)
		}
	case <-time.After(2 * time.Second):
		if e := m.Engine(); e != nil {
			e.Close()
		}
		return nil, fmt.Errorf("manager for %s never opened", url)
	}
	s := m.Socket("/", opts)
	c := &goClient{name: name, sock: s, events: make(chan event, 1000), gone: make(chan string, 1)}
	connected := make(chan struct{})
	var once sync.Once
	_ = s.On("connect", func(...any) { once.Do(func() { close(connected) }) })
	_ = s.On("disconnect", func(args ...any) {
		reason, _ := args[0].(string)
		select {
		case c.gone <- reason:
		default:
		}
	})
	s.OnAny(func(args ...any) {
		ev := event{Name: args[0].(string)}
		rest := args[1:]
		if n := len(rest); n > 0 {
			if ack, ok := rest[n-1].(socket.Ack); ok {
				rest = rest[:n-1]
				ack([]any{"ack-from-" + name}, nil)
			}
		}
		ev.Args = rest
		c.events <- ev
	})
	s.Connect()
	select {
	case <-connected:
		t.Cleanup(func() { s.Disconnect() })
		return c, nil
	case <-time.After(wait):
		s.Disconnect()
		return nil, fmt.Errorf("socket not connected to %s", url)
	}
}

// until returns the events received up to (excluding) the first named
// fence, failing the test if it does not come.
func (c *goClient) until(t *testing.T, fence string) []event {
	t.Helper()
	var out []event
	deadline := time.After(wait)
	for {
		select {
		case ev := <-c.events:
			if ev.Name == fence {
				return out
			}
			out = append(out, ev)
		case <-deadline:
			t.Fatalf("client %s: no %q; got %v", c.name, fence, out)
		}
	}
}

// names returns the event names of evs.
func names(evs []event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Name
	}
	return out
}

func nodeNames(evs []nodepeer.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Event
	}
	return out
}

// untilNode is until for a Node client of peer.
func untilNode(t *testing.T, p *nodepeer.Peer, client, fence string) []nodepeer.Event {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		evs := p.Received(client)
		for i, e := range evs {
			if e.Event == fence {
				p.ClearReceived(client)
				return evs[:i]
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("node client %s: no %q; got %v", client, fence, evs)
		}
		p.WaitReceived(client, len(evs)+1, wait)
	}
}

func sorted(xs []string) []string {
	out := append([]string(nil), xs...)
	sort.Strings(out)
	return out
}

func eq(t *testing.T, what string, got, want any) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

// cluster is the test cluster: two Go servers and a Node server on one
// Redis, a Go client on each Go server and on the Node server, a Node
// client on the Node server.
type cluster struct {
	a, b     *goServer
	n        *nodepeer.Peer
	ca, cb   *goClient // on a, on b
	cgn      *goClient // a Go client on the Node server
	sa, sb   *socket.Socket
	idn, idg string // ids of the Node client "n1" and of cgn on the Node server
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	r := redistest.NewStandalone(t)
	c := &cluster{}
	c.a = startGo(t, r.Addr, "A")
	c.b = startGo(t, r.Addr, "B")
	c.n = nodepeer.Start(t, nodepeer.Options{RedisURL: r.URL(), Name: "N"})
	c.ca = connectGo(t, c.a.url, "ca")
	c.cb = connectGo(t, c.b.url, "cb")
	c.sa = c.a.socket(t, "ca")
	c.sb = c.b.socket(t, "cb")
	c.idn = c.n.Connect("n1", "/", nil)
	c.cgn = connectGo(t, c.n.URL(), "cgn")
	c.idg = c.cgn.sock.Id()
	// The Node server may send CONNECT before its adapter lists the socket:
	// wait until it does.
	nodepeer.Eventually(t, wait, "the Go client's socket on the Node server", func() bool {
		for _, s := range c.n.FetchSockets(nodepeer.Target{Local: true}) {
			if s.ID == c.idg {
				return true
			}
		}
		return false
	})
	if got := c.a.adapter().ServerCount(); got != 3 {
		t.Fatalf("ServerCount = %d, want 3", got)
	}
	return c
}

// got broadcasts the event "fence" to every socket from the server that
// ran the operation under test ("A", "B" or "N"), then returns what each
// client received before it: publishes from one server reach each socket
// in order, so what a client got before the fence is all it got.
func (c *cluster) got(t *testing.T, from string) map[string][]string {
	t.Helper()
	c.fence(t, from)
	return map[string][]string{
		"ca":  names(c.ca.until(t, "fence")),
		"cb":  names(c.cb.until(t, "fence")),
		"cgn": names(c.cgn.until(t, "fence")),
		"n1":  nodeNames(untilNode(t, c.n, "n1", "fence")),
	}
}

// fence broadcasts the event "fence" to every socket from the server
// "A", "B" or "N".
func (c *cluster) fence(t *testing.T, from string) {
	t.Helper()
	switch from {
	case "A":
		_ = c.a.io.Emit("fence")
	case "B":
		_ = c.b.io.Emit("fence")
	default:
		c.n.Emit(nodepeer.Target{}, "fence")
	}
}

// ctx returns a context bounded by wait.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return c
}

func typesSet(rooms ...string) *types.Set[socket.Room] {
	s := types.NewSet[socket.Room]()
	for _, r := range rooms {
		s.Add(socket.Room(r))
	}
	return s
}

func fmtValue(v any) string { return fmt.Sprintf("%#v", v) }
