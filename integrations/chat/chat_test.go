package chat_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sioredis/sioredis/integrations/chat"
	"github.com/sioredis/sioredis/internal/nodepeer"
	"github.com/sioredis/sioredis/internal/redistest"
	client "github.com/zishang520/socket.io/clients/socket/v3"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

const wait = 10 * time.Second

// event is one event a client received.
type event struct {
	name string
	arg  map[string]any
}

// goClient is a zishang520 Go client of a chat server: it records every
// event and acknowledges "msg" and "pm" as the page does.
type goClient struct {
	t      *testing.T
	nick   string
	sock   *client.Socket
	events chan event
	id     string
	server string
}

func connect(t *testing.T, url, nick string) *goClient {
	t.Helper()
	c := &goClient{t: t, nick: nick, events: make(chan event, 100)}
	var server string // the client's server, from its welcome (read by this callback only)
	c.sock = dial(t, url, nick, func(args ...any) {
		ev := event{name: args[0].(string)}
		if len(args) > 1 {
			ev.arg, _ = args[1].(map[string]any)
		}
		if ev.name == "welcome" {
			server = str(ev.arg["server"])
		}
		if ack, ok := args[len(args)-1].(socket.Ack); ok {
			ack([]any{map[string]any{"nick": nick, "server": server}}, nil)
		}
		c.events <- ev
	})
	w := c.next("welcome")
	c.id, c.server = str(w.arg["id"]), str(w.arg["server"])
	if str(w.arg["nick"]) != nick {
		t.Fatalf("welcome %v: nick is not %q", w.arg, nick)
	}
	return c
}

// dial connects a zishang520 Go client with auth {nick}, every event to
// onAny. zishang520's client has start-up races on a fast loopback (the
// engine.io socket can open before the manager listens for "open", and
// Socket.Connect can send CONNECT twice), worked around as in
// integrations/zishang520's tests: the manager is opened first, then the
// socket connected, and a manager that never opened is replaced.
func dial(t *testing.T, url, nick string, onAny func(...any)) *client.Socket {
	t.Helper()
	for attempt := 1; ; attempt++ {
		opts := client.DefaultOptions()
		opts.SetTransports(types.NewSet(client.WebSocket))
		opts.SetForceNew(true)
		opts.SetReconnection(false)
		opts.SetAutoConnect(false)
		opts.SetAuth(map[string]any{"nick": nick})
		m := client.NewManager(url, opts)
		opened := make(chan error, 1)
		m.Open(func(err error) { opened <- err })
		select {
		case err := <-opened:
			if err != nil {
				t.Fatalf("client %s: open %s: %v", nick, url, err)
			}
		case <-time.After(2 * time.Second):
			if e := m.Engine(); e != nil {
				e.Close()
			}
			if attempt == 5 {
				t.Fatalf("client %s: manager for %s never opened", nick, url)
			}
			continue
		}
		s := m.Socket("/", opts)
		s.OnAny(onAny)
		t.Cleanup(func() { s.Disconnect() })
		s.Connect()
		return s
	}
}

// next returns the next event named name, skipping others.
func (c *goClient) next(name string) event {
	c.t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case ev := <-c.events:
			if ev.name == name {
				return ev
			}
		case <-deadline:
			c.t.Fatalf("client %s: no %q event", c.nick, name)
		}
	}
}

// none fails if an event named name arrives within d.
func (c *goClient) none(name string, d time.Duration) {
	c.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case ev := <-c.events:
			if ev.name == name {
				c.t.Fatalf("client %s: unexpected %q %v", c.nick, name, ev.arg)
			}
		case <-deadline:
			return
		}
	}
}

// call emits ev with args and returns the server's ack.
func (c *goClient) call(ev string, args ...any) any {
	c.t.Helper()
	ch := make(chan any, 1)
	c.sock.EmitWithAck(ev, args...)(func(res []any, err error) {
		if err != nil || len(res) == 0 {
			ch <- fmt.Errorf("ack %v, %v", res, err)
			return
		}
		ch <- res[0]
	})
	select {
	case r := <-ch:
		if err, ok := r.(error); ok {
			c.t.Fatalf("client %s: %s: %v", c.nick, ev, err)
		}
		return r
	case <-time.After(wait):
		c.t.Fatalf("client %s: %s: no ack", c.nick, ev)
		return nil
	}
}

func (c *goClient) callMap(ev string, args ...any) map[string]any {
	c.t.Helper()
	r, ok := c.call(ev, args...).(map[string]any)
	if !ok {
		c.t.Fatalf("client %s: %s: ack is not an object", c.nick, ev)
	}
	return r
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func wantOK(t *testing.T, what string, r map[string]any, ok bool) {
	t.Helper()
	if r["ok"] != ok {
		t.Fatalf("%s: ack %v, want ok=%v", what, r, ok)
	}
}

// TestHandlers drives the server's events from Go clients on two Go
// servers: joins and leaves, room messages and their delivered counts,
// private messages and their read receipts, who, and the refusals.
func TestHandlers(t *testing.T) {
	rs := redistest.Standalone(t)
	_, urlA := startGo(t, rs.Addr, "go-a")
	_, urlB := startGo(t, rs.Addr, "go-b")
	ann := connect(t, urlA, "ann")
	ben := connect(t, urlB, "ben")
	if ann.server != "go-a" || ben.server != "go-b" {
		t.Fatalf("servers %q, %q", ann.server, ben.server)
	}

	// who: every socket of the cluster, with the nick and server each
	// server put in socket.data.
	var got []string
	for _, u := range ann.call("who").([]any) {
		m := u.(map[string]any)
		got = append(got, fmt.Sprintf("%s@%s=%v", m["nick"], m["server"], m["id"] == map[string]string{"ann": ann.id, "ben": ben.id}[str(m["nick"])]))
	}
	if want := "ann@go-a=true ben@go-b=true"; strings.Join(got, " ") != want {
		t.Fatalf("who: %v, want %s", got, want)
	}

	// Refusals.
	wantOK(t, "join without a name", ann.callMap("join", "  "), false)
	wantOK(t, "join of a 65-byte name", ann.callMap("join", strings.Repeat("x", 65)), false)
	r := ann.callMap("msg", map[string]any{"room": "lobby", "text": "hi", "mid": "m0"})
	wantOK(t, "msg to a room not joined", r, false)
	if !strings.Contains(str(r["error"]), "join lobby first") || r["mid"] != "m0" {
		t.Fatalf("msg to a room not joined: %v", r)
	}
	wantOK(t, "empty msg", ann.callMap("msg", map[string]any{"room": "lobby", "text": "", "mid": "m0"}), false)
	wantOK(t, "pm without a recipient", ann.callMap("pm", map[string]any{"text": "x"}), false)

	// Joins reach the room's members on the other server.
	wantOK(t, "ann joins", ann.callMap("join", "lobby"), true)
	if r := ben.callMap("join", " lobby "); r["ok"] != true || r["room"] != "lobby" || r["server"] != "go-b" {
		t.Fatalf("ben joins: %v", r)
	}
	j := ann.next("joined")
	for j.arg["user"].(map[string]any)["nick"] != "ben" { // ann's own join first
		j = ann.next("joined")
	}
	if j.arg["room"] != "lobby" || j.arg["user"].(map[string]any)["server"] != "go-b" {
		t.Fatalf("joined: %v", j.arg)
	}

	// A room message: delivered to the other member only, acked after
	// ben's client acknowledged it.
	r = ann.callMap("msg", map[string]any{"room": "lobby", "text": "hello", "mid": "m1"})
	if r["ok"] != true || r["mid"] != "m1" || r["delivered"] != float64(1) || r["server"] != "go-a" {
		t.Fatalf("msg ack: %v", r)
	}
	m := ben.next("msg")
	if m.arg["text"] != "hello" || m.arg["room"] != "lobby" || m.arg["mid"] != "m1" || m.arg["from"].(map[string]any)["id"] != ann.id {
		t.Fatalf("msg: %v", m.arg)
	}
	ann.none("msg", 200*time.Millisecond) // not echoed to the sender

	// A private message, with the recipient's read receipt.
	r = ben.callMap("pm", map[string]any{"to": ann.id, "text": "psst", "mid": "p1"})
	if by, _ := r["by"].(map[string]any); r["ok"] != true || by["nick"] != "ann" || by["server"] != "go-a" {
		t.Fatalf("pm ack: %v", r)
	}
	if p := ann.next("pm"); p.arg["text"] != "psst" || p.arg["from"].(map[string]any)["nick"] != "ben" {
		t.Fatalf("pm: %v", p.arg)
	}
	r = ben.callMap("pm", map[string]any{"to": "nobody", "text": "x", "mid": "p2"})
	if r["ok"] != false || !strings.Contains(str(r["error"]), "no such user") {
		t.Fatalf("pm to nobody: %v", r)
	}

	// Chat rooms are not socket rooms: joining a room named after ann's id
	// does not receive her private messages.
	wantOK(t, "ben joins ann's id", ben.callMap("join", ann.id), true)
	wantOK(t, "pm to ann", connect(t, urlB, "cat").callMap("pm", map[string]any{"to": ann.id, "text": "for ann only", "mid": "p3"}), true)
	if p := ann.next("pm"); p.arg["text"] != "for ann only" {
		t.Fatalf("pm: %v", p.arg)
	}
	ben.none("pm", 200*time.Millisecond)

	// Leaving: seen by the room, and no more messages.
	wantOK(t, "ben leaves", ben.callMap("leave", "lobby"), true)
	if l := ann.next("left"); l.arg["room"] != "lobby" || l.arg["user"].(map[string]any)["nick"] != "ben" {
		t.Fatalf("left: %v", l.arg)
	}
	if r := ann.callMap("msg", map[string]any{"room": "lobby", "text": "alone", "mid": "m2"}); r["ok"] != true || r["delivered"] != float64(0) {
		t.Fatalf("msg to a room of one: %v", r)
	}
	ben.none("msg", 200*time.Millisecond)

	// Presence: a disconnect is announced on the other server.
	ben.sock.Disconnect()
	for {
		p := ann.next("presence")
		if u := p.arg["user"].(map[string]any); p.arg["status"] == "offline" && u["nick"] == "ben" {
			break
		}
	}
}

// TestNickDefault: a client with no nickname is guest-<id prefix>, a long
// one is cut to 32 characters.
func TestNickDefault(t *testing.T) {
	rs := redistest.Standalone(t)
	_, url := startGo(t, rs.Addr, "go")
	g := connect2(t, url, "")
	if want := "guest-" + g.id[:4]; g.nick != want {
		t.Errorf("nick %q, want %q", g.nick, want)
	}
	long := strings.Repeat("é", 40)
	if l := connect2(t, url, long); l.nick != strings.Repeat("é", 32) {
		t.Errorf("nick %q, want 32 runes", l.nick)
	}
}

// connect2 connects with nick and returns the client with the nick the
// server chose.
func connect2(t *testing.T, url, nick string) *goClient {
	t.Helper()
	var once sync.Once
	ch := make(chan map[string]any, 1)
	s := dial(t, url, nick, func(args ...any) {
		if args[0] == "welcome" {
			once.Do(func() { ch <- args[1].(map[string]any) })
		}
	})
	select {
	case w := <-ch:
		return &goClient{t: t, nick: str(w["nick"]), id: str(w["id"]), sock: s}
	case <-time.After(wait):
		t.Fatal("no welcome")
		return nil
	}
}

// TestClientScript: the socket.io client the Go server embeds is the one
// the Node server serves (the fixture's socket.io 4.8 client-dist), so the
// page runs the same client on both; `go generate` refreshes it.
func TestClientScript(t *testing.T) {
	dir, err := nodepeer.FixtureDir()
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(dir, "node_modules", "socket.io", "client-dist", "socket.io.min.js"))
	if err != nil {
		t.Fatalf("%v (run `make node-peers`)", err)
	}
	got, err := fs.ReadFile(chat.Web(), "socket.io.min.js")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("web/socket.io.min.js (%d bytes) differs from the fixture's socket.io client-dist (%d bytes): run `go generate` in integrations/chat", len(got), len(want))
	}
}
