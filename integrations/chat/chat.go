// Package chat is a small Socket.IO chat server: a
// github.com/zishang520/socket.io v3 server on the sioredis adapter
// (integrations/zishang520), serving its own web page. Start it twice on two
// ports against one Redis, or beside the Node version of the same server
// (internal/nodepeer/testdata/chat.js, socket.io 4.8 with
// @socket.io/redis-adapter 8.3), and the pages of every server talk to each
// other: room joins, room messages, private messages and their
// acknowledgements cross the cluster through Redis.
//
// Run one server with `go run ./cmd/chat -addr 127.0.0.1:3000 -redis
// 127.0.0.1:6379`, or a whole cluster (its own redis-server and two chat
// servers) with `make chat` from the repository root.
//
// # Protocol
//
// The page connects with auth {nick}. The same events, with the same
// payloads, are served by the Go server (this package) and by the Node one;
// a user is {id, nick, server}.
//
//	client → server (each with an ack callback)
//	  "join"  room             ack {ok, room, server}          then "joined" {room, user} to the room (Socket.IO room "room:"+room)
//	  "leave" room             ack {ok, room, server}          then "left" {room, user} to the room
//	  "msg"   {room, text, mid} ack {ok, mid, server, delivered} (delivered: how many other members acked)
//	  "pm"    {to, text, mid}   ack {ok, mid, server, by}        (by: the recipient's ack, {nick, server})
//	  "who"                     ack [user…]                      (every socket of the cluster, fetchSockets)
//	server → client
//	  "welcome" user (the socket's own), "presence" {status: "online"|"offline", user},
//	  "joined", "left", "msg" {room, text, mid, from, server} and "pm" {to, text, mid, from, server}
//	  (these two with an ack callback: the page answers {nick, server}).
//
// Messages are broadcast with emitWithAck, so a sender's message is marked
// delivered only once the members of the room — on whatever server — have
// acknowledged it.
package chat

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
	"github.com/sioredis/sioredis/engine"
	"github.com/sioredis/sioredis/integrations/zishang520"
	"github.com/zishang520/socket.io/servers/socket/v3"
)

// The page, its script and the socket.io client (socket.io-client 4.8's
// dist/socket.io.min.js, the file the Node server serves too; refresh it
// with `go generate` after `make node-peers`).
//
//go:generate cp ../../internal/nodepeer/testdata/node_modules/socket.io/client-dist/socket.io.min.js web/socket.io.min.js
//go:embed web/index.html web/app.js web/socket.io.min.js
var webFiles embed.FS

// Web returns the page's files (index.html, app.js, socket.io.min.js).
func Web() fs.FS {
	sub, err := fs.Sub(webFiles, "web")
	if err != nil {
		panic(err)
	}
	return sub
}

// AckTimeout is how long a message waits for the acknowledgements of its
// recipients.
const AckTimeout = 5 * time.Second

// Options configures a Server.
type Options struct {
	// Redis is the address of the Redis server ("127.0.0.1:6379"). Required.
	Redis string
	// Name is the server's name, shown in the pages. Empty: "go".
	Name string
	// Logger receives the adapter's errors and the server's log. Nil:
	// slog.Default().
	Logger *slog.Logger
}

// Server is one chat server: a zishang520 Socket.IO server on a sioredis
// engine, and its web page. It is an http.Handler.
type Server struct {
	name string
	log  *slog.Logger
	eng  *engine.Engine
	io   *socket.Server
	mux  *http.ServeMux

	closing atomic.Bool // set by Close: no more presence broadcasts
}

// New connects to Redis and returns the server, its namespace "/" already
// subscribed (a broadcast published by another server from now on reaches
// its sockets).
func New(opts Options) (*Server, error) {
	if opts.Redis == "" {
		return nil, errors.New("chat: Options.Redis is required")
	}
	s := &Server{name: opts.Name, log: opts.Logger}
	if s.name == "" {
		s.name = "go"
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	eng, err := engine.New(engine.Options{ClientOption: rueidis.ClientOption{InitAddress: []string{opts.Redis}}})
	if err != nil {
		return nil, fmt.Errorf("chat: redis %s: %w", opts.Redis, err)
	}
	s.eng = eng

	// The five lines of integrations/zishang520.
	b := zishang520.NewAdapterBuilder(eng)
	b.Logger = s.log
	sopts := socket.DefaultServerOptions()
	sopts.SetAdapter(b)
	s.io = socket.NewServer(nil, sopts)

	_ = s.io.On("connection", func(args ...any) { s.onConnection(args[0].(*socket.Socket)) })

	s.mux = http.NewServeMux()
	page := http.FileServerFS(Web())
	s.mux.Handle("GET /{$}", page)
	s.mux.Handle("GET /app.js", page)
	// The client script from this server, at the path socket.io serves it.
	s.mux.HandleFunc("GET /socket.io/socket.io.min.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, Web(), "socket.io.min.js")
	})
	s.mux.Handle("/socket.io/", s.io.ServeHandler(nil))
	return s, nil
}

// Name returns the server's name.
func (s *Server) Name() string { return s.name }

// IO returns the Socket.IO server.
func (s *Server) IO() *socket.Server { return s.io }

// ServeHTTP serves the page and Socket.IO.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Close disconnects the sockets and the engine.
func (s *Server) Close() error {
	s.closing.Store(true)
	done := make(chan struct{})
	s.io.Close(func(error) { close(done) })
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	return s.eng.Close()
}

// User is how a socket is shown to the others.
type User struct {
	ID     string `json:"id"`
	Nick   string `json:"nick"`
	Server string `json:"server"`
}

func (u User) value() map[string]any {
	return map[string]any{"id": u.ID, "nick": u.Nick, "server": u.Server}
}

func (s *Server) onConnection(sock *socket.Socket) {
	me := User{ID: string(sock.Id()), Nick: nickOf(sock), Server: s.name}
	// socket.data: what the other servers see of this socket (fetchSockets).
	sock.SetData(map[string]any{"nick": me.Nick, "server": me.Server})
	_ = sock.Emit("welcome", me.value())
	_ = s.io.Except(socket.Room(me.ID)).Emit("presence", map[string]any{"status": "online", "user": me.value()})

	_ = sock.On("disconnect", func(...any) {
		if s.closing.Load() {
			return // the server is going away: its sockets with it
		}
		_ = s.io.Emit("presence", map[string]any{"status": "offline", "user": me.value()})
	})

	_ = sock.On("join", func(args ...any) {
		ack, args := splitAck(args)
		room, err := roomArg(args)
		if err != nil {
			reply(ack, map[string]any{"ok": false, "error": err.Error()})
			return
		}
		sock.Join(roomKey(room))
		_ = s.io.To(roomKey(room)).Emit("joined", map[string]any{"room": room, "user": me.value()})
		reply(ack, map[string]any{"ok": true, "room": room, "server": s.name})
	})

	_ = sock.On("leave", func(args ...any) {
		ack, args := splitAck(args)
		room, err := roomArg(args)
		if err != nil {
			reply(ack, map[string]any{"ok": false, "error": err.Error()})
			return
		}
		sock.Leave(roomKey(room))
		_ = s.io.To(roomKey(room)).Emit("left", map[string]any{"room": room, "user": me.value()})
		reply(ack, map[string]any{"ok": true, "room": room, "server": s.name})
	})

	_ = sock.On("msg", func(args ...any) {
		ack, args := splitAck(args)
		m := mapArg(args)
		room, text, mid := str(m["room"]), str(m["text"]), str(m["mid"])
		switch {
		case text == "":
			reply(ack, map[string]any{"ok": false, "mid": mid, "error": "empty message"})
			return
		case !sock.Rooms().Has(roomKey(room)):
			reply(ack, map[string]any{"ok": false, "mid": mid, "error": "join " + room + " first"})
			return
		}
		out := map[string]any{"room": room, "text": text, "mid": mid, "from": me.value(), "server": s.name}
		// Every other member of the room, on every server, acknowledges.
		s.io.To(roomKey(room)).Except(socket.Room(me.ID)).Timeout(AckTimeout).EmitWithAck("msg", out)(func(acks []any, err error) {
			r := map[string]any{"ok": true, "mid": mid, "server": s.name, "delivered": len(acks)}
			if err != nil {
				r["error"] = "not every member acknowledged: " + err.Error()
			}
			reply(ack, r)
		})
	})

	_ = sock.On("pm", func(args ...any) {
		ack, args := splitAck(args)
		m := mapArg(args)
		to, text, mid := str(m["to"]), str(m["text"]), str(m["mid"])
		if to == "" || text == "" {
			reply(ack, map[string]any{"ok": false, "mid": mid, "error": "a private message needs a recipient and a text"})
			return
		}
		out := map[string]any{"to": to, "text": text, "mid": mid, "from": me.value(), "server": s.name}
		// A socket id is a room of its own, on whatever server the socket is.
		s.io.To(socket.Room(to)).Timeout(AckTimeout).EmitWithAck("pm", out)(func(acks []any, err error) {
			if len(acks) == 0 {
				reply(ack, map[string]any{"ok": false, "mid": mid, "server": s.name, "error": "no such user: " + to})
				return
			}
			reply(ack, map[string]any{"ok": true, "mid": mid, "server": s.name, "by": acks[0]})
		})
	})

	_ = sock.On("who", func(args ...any) {
		ack, _ := splitAck(args)
		s.io.FetchSockets()(func(socks []*socket.RemoteSocket, err error) {
			if err != nil {
				s.log.Error("chat: fetchSockets", "err", err)
			}
			users := make([]any, 0, len(socks))
			for _, rs := range socks {
				d, _ := rs.Data().(map[string]any)
				users = append(users, User{ID: string(rs.Id()), Nick: str(d["nick"]), Server: str(d["server"])})
			}
			sort.Slice(users, func(i, j int) bool {
				a, b := users[i].(User), users[j].(User)
				return a.Nick+a.ID < b.Nick+b.ID
			})
			for i, u := range users {
				users[i] = u.(User).value()
			}
			reply(ack, users)
		})
	})
}

// nickOf is the nickname the client gave in its auth, or guest-<id>.
func nickOf(sock *socket.Socket) string {
	var nick string
	if h := sock.Handshake(); h != nil {
		nick = strings.TrimSpace(str(h.Auth["nick"]))
	}
	if r := []rune(nick); len(r) > 32 {
		nick = string(r[:32])
	}
	if nick == "" {
		nick = "guest-" + string(sock.Id())[:4]
	}
	return nick
}

// splitAck separates the ack callback (the last argument, when the client
// sent one) from the arguments.
func splitAck(args []any) (socket.Ack, []any) {
	if n := len(args); n > 0 {
		if ack, ok := args[n-1].(socket.Ack); ok {
			return ack, args[:n-1]
		}
		if f, ok := args[n-1].(func([]any, error)); ok {
			return f, args[:n-1]
		}
	}
	return nil, args
}

func reply(ack socket.Ack, v any) {
	if ack != nil {
		ack([]any{v}, nil)
	}
}

// roomKey is the Socket.IO room of the chat room name: "room:" + name, so
// that no chat room is ever a socket's own room (whose name is its id).
func roomKey(name string) socket.Room { return socket.Room("room:" + name) }

func roomArg(args []any) (string, error) {
	var room string
	if len(args) > 0 {
		room = strings.TrimSpace(str(args[0]))
	}
	switch {
	case room == "":
		return "", errors.New("a room needs a name")
	case len(room) > 64:
		return "", errors.New("room names are at most 64 bytes")
	}
	return room, nil
}

func mapArg(args []any) map[string]any {
	if len(args) > 0 {
		if m, ok := args[0].(map[string]any); ok {
			return m
		}
	}
	return map[string]any{}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
