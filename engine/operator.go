package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/sioredis/sioredis/codec"
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
	broadcast(ctx context.Context, o Operator, p OutPacket) error
	broadcastWithAck(ctx context.Context, o Operator, p OutPacket, h AckHandlers) error
}

// OutPacket is a Socket.IO packet to broadcast, for hosts that build their
// own packets (a Socket.IO server's broadcast operator).
type OutPacket struct {
	// Type is the packet type; 0 means EVENT (2), the only type a
	// broadcast carries today (BINARY_EVENT is chosen by the encoder when
	// the data holds binary).
	Type int
	// Data is [event, …args].
	Data []any
}

// eventArgs checks p and splits its data into the event and its arguments.
func (p OutPacket) eventArgs() (string, []any, error) {
	if p.Type != 0 && p.Type != codec.PacketEvent && p.Type != codec.PacketBinaryEvent {
		return "", nil, fmt.Errorf("packet type %d cannot be broadcast", p.Type)
	}
	if len(p.Data) == 0 {
		return "", nil, errors.New("empty packet data")
	}
	event, ok := p.Data[0].(string)
	if !ok {
		return "", nil, fmt.Errorf("the event name is %T, not a string", p.Data[0])
	}
	return event, p.Data[1:], nil
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
	err    error // an invalid room given to To or Except
}

func (o Operator) with(f func(*Operator)) Operator {
	o.rooms = o.rooms[:len(o.rooms):len(o.rooms)] // appends never alias the parent
	o.except = o.except[:len(o.except):len(o.except)]
	f(&o)
	return o
}

// To adds rooms to target; sockets in any of them are reached (each once).
func (o Operator) To(rooms ...Room) Operator {
	return o.with(func(o *Operator) {
		for _, r := range rooms {
			o.check(r)
			o.rooms = appendRoom(o.rooms, r)
		}
	})
}

// check records the first invalid room; every action then fails with it.
func (o *Operator) check(r Room) {
	if err := validRoom(r); err != nil && o.err == nil {
		o.err = err
	}
}

// In is To.
func (o Operator) In(rooms ...Room) Operator { return o.To(rooms...) }

// Except excludes the sockets of these rooms.
func (o Operator) Except(rooms ...Room) Operator {
	return o.with(func(o *Operator) {
		for _, r := range rooms {
			o.check(r)
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
	if o.err != nil {
		return fmt.Errorf("sioredis: emit: %w", o.err)
	}
	return o.t.emit(ctx, o, event, args) // by value: a pointer through the interface would put o on the heap
}

// EmitWithAck broadcasts event and waits for one acknowledgement per reached
// client, across the cluster, until the Timeout (default
// Options.RequestTimeout). It returns the first argument of every
// acknowledgement; when some are missing at the deadline it returns those
// that arrived with an *IncompleteError.
func (o Operator) EmitWithAck(ctx context.Context, event string, args ...any) ([]any, error) {
	if o.err != nil {
		return nil, fmt.Errorf("sioredis: emitWithAck: %w", o.err)
	}
	return o.t.emitWithAck(ctx, o, event, args)
}

// Broadcast sends packet p to the selected sockets of every server, like
// Emit.
func (o Operator) Broadcast(ctx context.Context, p OutPacket) error {
	if o.err != nil {
		return fmt.Errorf("sioredis: broadcast: %w", o.err)
	}
	return o.t.broadcast(ctx, o, p)
}

// BroadcastWithAck sends packet p with an ack id to the selected sockets of
// every server and returns once it is published; h then receives each
// server's client count and each client's acknowledgement as they arrive,
// and Done at the end (all arrived, or the Timeout passed). The
// acknowledgement ids are the Host's (AckIDs) when it gives them.
func (o Operator) BroadcastWithAck(ctx context.Context, p OutPacket, h AckHandlers) error {
	if o.err != nil {
		return fmt.Errorf("sioredis: broadcastWithAck: %w", o.err)
	}
	return o.t.broadcastWithAck(ctx, o, p, h)
}

// FetchSockets returns the selected sockets of every server.
func (o Operator) FetchSockets(ctx context.Context) ([]SocketInfo, error) {
	if o.err != nil {
		return nil, fmt.Errorf("sioredis: fetchSockets: %w", o.err)
	}
	return o.t.fetchSockets(ctx, &o)
}

// SocketsJoin makes the selected sockets of every server join rooms.
func (o Operator) SocketsJoin(ctx context.Context, rooms ...Room) error {
	if err := errors.Join(o.err, validRooms(rooms)); err != nil {
		return fmt.Errorf("sioredis: socketsJoin: %w", err)
	}
	return o.t.socketsJoin(ctx, &o, dedupRooms(rooms))
}

// SocketsLeave makes the selected sockets of every server leave rooms.
func (o Operator) SocketsLeave(ctx context.Context, rooms ...Room) error {
	if err := errors.Join(o.err, validRooms(rooms)); err != nil {
		return fmt.Errorf("sioredis: socketsLeave: %w", err)
	}
	return o.t.socketsLeave(ctx, &o, dedupRooms(rooms))
}

// DisconnectSockets disconnects the selected sockets of every server; with
// close their underlying connections are closed too.
func (o Operator) DisconnectSockets(ctx context.Context, close bool) error {
	if o.err != nil {
		return fmt.Errorf("sioredis: disconnectSockets: %w", o.err)
	}
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

// dedupRooms returns rs without repeats (Socket.IO keeps rooms in a Set).
func dedupRooms(rs []Room) []Room {
	out := make([]Room, 0, len(rs))
	for _, r := range rs {
		out = appendRoom(out, r)
	}
	return out
}

// Rooms returns the string rooms of names: Rooms("a", "b") is
// []Room{StringRoom("a"), StringRoom("b")}, for calls such as
// ns.To(Rooms("a", "b")...).
func Rooms(names ...string) []Room {
	out := make([]Room, len(names))
	for i, n := range names {
		out[i] = StringRoom(n)
	}
	return out
}

// ErrInvalidRoom is wrapped by calls given a room that cannot exist: a
// numeric room whose Name is not the string form of a number.
var ErrInvalidRoom = errors.New("sioredis: invalid room")

// validRoom checks that a numeric room's name is a number in JavaScript's
// String(n) form (what NumberRoom writes), so every server encodes and
// matches it the same way.
func validRoom(r Room) error {
	if !r.Numeric {
		return nil
	}
	f, err := strconv.ParseFloat(r.Name, 64)
	if err != nil || NumberRoom(f).Name != r.Name {
		return fmt.Errorf("%w: numeric room %q is not a number (use NumberRoom)", ErrInvalidRoom, r.Name)
	}
	return nil
}

func validRooms(rs []Room) error {
	for _, r := range rs {
		if err := validRoom(r); err != nil {
			return err
		}
	}
	return nil
}
