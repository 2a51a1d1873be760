package engine

import (
	"context"
	"strconv"
	"time"

	"github.com/sioredis/sioredis/shard"
)

// Room is a Socket.IO room: a string, or a JavaScript number kept typed
// (Numeric), because Socket.IO's room 42 and room "42" are different rooms.
// Name is the room's string form (String(n) for numbers).
type Room = shard.Room

// StringRoom returns the string room s.
func StringRoom(s string) Room { return Room{Name: s} }

// NumberRoom returns the numeric room n (JavaScript io.to(42)).
func NumberRoom(n float64) Room {
	return Room{Name: strconv.FormatFloat(n, 'f', -1, 64), Numeric: true}
}

// Flags are the broadcast flags of an Operator.
type Flags struct {
	// Local: deliver to this server's sockets only, publish nothing.
	Local bool
	// Volatile: the packet may be dropped by sockets that cannot take it now.
	Volatile bool
	// Compress, when set, is the compress(bool) flag; nil leaves it unset
	// (receivers compress).
	Compress *bool
	// Timeout bounds acknowledgements (EmitWithAck) and, for fetchSockets,
	// the request; zero uses Options.RequestTimeout.
	Timeout time.Duration
	// Binary, when set, is Socket.IO 2.x's binary(bool) flag
	// (SocketIORedis4/5): true sends the packet as BINARY_EVENT (type 5),
	// false as EVENT (type 2) even when it holds binary (Socket.IO 1.x/2.x
	// receivers then write each Buffer as {"type":"Buffer","data":[…]});
	// nil lets the engine look for binary. Other protocols only carry it in
	// the flags, where their receivers ignore it.
	Binary *bool
}

// target is what an Operator acts on: a namespace of this server, or a
// namespace seen through the emitter.
type target interface {
	emit(ctx context.Context, o Operator, event string, args []any) error
	emitWithAck(ctx context.Context, o Operator, event string, args []any) ([]any, error)
	fetchSockets(ctx context.Context, o *Operator) ([]SocketInfo, error)
	socketsJoin(ctx context.Context, o *Operator, rooms []Room) error
	socketsLeave(ctx context.Context, o *Operator, rooms []Room) error
	disconnectSockets(ctx context.Context, o *Operator, close bool) error
}

// Operator selects sockets of a namespace across the cluster — rooms to
// target (none: every socket), rooms to exclude — and acts on them, as
// Socket.IO's BroadcastOperator does. Its methods return modified copies, so
// an Operator can be shared and extended freely.
type Operator struct {
	t      target
	rooms  []Room
	except []Room
	flags  Flags
}

func (o Operator) with(f func(*Operator)) Operator {
	o.rooms = o.rooms[:len(o.rooms):len(o.rooms)] // appends never alias the parent
	o.except = o.except[:len(o.except):len(o.except)]
	f(&o)
	return o
}

// To adds rooms to target; sockets in any of them are reached (each once).
func (o Operator) To(rooms ...string) Operator {
	return o.with(func(o *Operator) {
		for _, r := range rooms {
			o.rooms = appendRoom(o.rooms, StringRoom(r))
		}
	})
}

// In is To.
func (o Operator) In(rooms ...string) Operator { return o.To(rooms...) }

// ToRooms adds typed rooms (numeric rooms) to target.
func (o Operator) ToRooms(rooms ...Room) Operator {
	return o.with(func(o *Operator) {
		for _, r := range rooms {
			o.rooms = appendRoom(o.rooms, r)
		}
	})
}

// Except excludes the sockets of these rooms.
func (o Operator) Except(rooms ...string) Operator {
	return o.with(func(o *Operator) {
		for _, r := range rooms {
			o.except = appendRoom(o.except, StringRoom(r))
		}
	})
}

// ExceptRooms excludes the sockets of these typed rooms.
func (o Operator) ExceptRooms(rooms ...Room) Operator {
	return o.with(func(o *Operator) {
		for _, r := range rooms {
			o.except = appendRoom(o.except, r)
		}
	})
}

// Local restricts the operation to this server's sockets.
func (o Operator) Local() Operator { return o.with(func(o *Operator) { o.flags.Local = true }) }

// Volatile marks the packet as droppable.
func (o Operator) Volatile() Operator { return o.with(func(o *Operator) { o.flags.Volatile = true }) }

// Compress sets the compress flag.
func (o Operator) Compress(b bool) Operator {
	return o.with(func(o *Operator) { o.flags.Compress = &b })
}

// Binary sets Socket.IO 2.x's binary flag (see Flags.Binary).
func (o Operator) Binary(b bool) Operator {
	return o.with(func(o *Operator) { o.flags.Binary = &b })
}

// Timeout sets the acknowledgement (or fetchSockets) timeout.
func (o Operator) Timeout(d time.Duration) Operator {
	return o.with(func(o *Operator) { o.flags.Timeout = d })
}

// Emit broadcasts event with args to the selected sockets of every server.
// It returns once the broadcast is queued for publishing and delivered to
// the local sockets; an error means it was not published.
func (o Operator) Emit(ctx context.Context, event string, args ...any) error {
	return o.t.emit(ctx, o, event, args) // by value: a pointer through the interface would put o on the heap
}

// EmitWithAck broadcasts event and waits for one acknowledgement per reached
// client, across the cluster, until the Timeout (default
// Options.RequestTimeout). It returns the first argument of every
// acknowledgement; when some are missing at the deadline it returns those
// that arrived with an *IncompleteError.
func (o Operator) EmitWithAck(ctx context.Context, event string, args ...any) ([]any, error) {
	return o.t.emitWithAck(ctx, o, event, args)
}

// FetchSockets returns the selected sockets of every server.
func (o Operator) FetchSockets(ctx context.Context) ([]SocketInfo, error) {
	return o.t.fetchSockets(ctx, &o)
}

// SocketsJoin makes the selected sockets of every server join rooms.
func (o Operator) SocketsJoin(ctx context.Context, rooms ...string) error {
	return o.t.socketsJoin(ctx, &o, stringRooms(rooms))
}

// SocketsLeave makes the selected sockets of every server leave rooms.
func (o Operator) SocketsLeave(ctx context.Context, rooms ...string) error {
	return o.t.socketsLeave(ctx, &o, stringRooms(rooms))
}

// DisconnectSockets disconnects the selected sockets of every server; with
// close their underlying connections are closed too.
func (o Operator) DisconnectSockets(ctx context.Context, close bool) error {
	return o.t.disconnectSockets(ctx, &o, close)
}

// appendRoom appends r unless present (Socket.IO keeps rooms in a Set).
func appendRoom(rs []Room, r Room) []Room {
	for _, x := range rs {
		if x == r {
			return rs
		}
	}
	return append(rs, r)
}

func stringRooms(rs []string) []Room {
	out := make([]Room, 0, len(rs))
	for _, r := range rs {
		out = appendRoom(out, StringRoom(r))
	}
	return out
}
