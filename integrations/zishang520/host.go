package zishang520

import (
	"sync/atomic"

	"github.com/sioredis/sioredis/engine"
	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// host is the engine.Host of an Adapter: it writes the engine's frames to
// the server's sockets, and mirrors the engine's membership changes into
// the base adapter's Rooms()/Sids() (which emits the room events).
type host struct {
	a *Adapter

	// last is the packet most recently prepared for WriteToEngine: the
	// engine calls Deliver once per recipient with the same *Packet, so
	// the buffers are built once per broadcast.
	last atomic.Pointer[prepared]
}

// prepared is an engine packet in the form Client.WriteToEngine takes.
type prepared struct {
	p    *engine.Packet
	bufs []types.BufferInterface
	opts *socket.WriteOptions
}

var (
	_ engine.Host               = (*host)(nil)
	_ engine.AckIDs             = (*host)(nil)
	_ engine.MembershipObserver = (*host)(nil)
)

// prepare returns p's buffers: the Socket.IO packet (the engine.io message
// without its "4"), its binary attachments, and, when there are none, the
// whole message as the websocket's pre-encoded frame. They alias p's frame,
// which is immutable: WriteToEngine copies them per socket.
func (h *host) prepare(p *engine.Packet) *prepared {
	if c := h.last.Load(); c != nil && c.p == p {
		return c
	}
	text := p.Frame.Text
	c := &prepared{p: p, bufs: make([]types.BufferInterface, 0, 1+len(p.Frame.Attachments))}
	c.bufs = append(c.bufs, types.NewStringBuffer(text[1:]))
	for _, att := range p.Frame.Attachments {
		c.bufs = append(c.bufs, types.NewBytesBuffer(att))
	}
	compress := p.Compress
	c.opts = &socket.WriteOptions{Volatile: p.Volatile, PreEncoded: true, Options: packet.Options{Compress: &compress}}
	if len(p.Frame.Attachments) == 0 {
		c.opts.WsPreEncodedFrame = types.NewStringBuffer(text)
	}
	h.last.Store(c)
	return c
}

// Deliver implements engine.Host.
func (h *host) Deliver(sid string, p *engine.Packet) {
	if len(p.Frame.Text) < 2 || p.Frame.Text[0] != '4' {
		return // not an engine.io message: never built by the engine
	}
	s, ok := h.a.nsp.Sockets().Load(socket.SocketId(sid))
	if !ok || !s.Connected() {
		return
	}
	c := h.prepare(p)
	if p.Ack != nil {
		s.Acks().Store(p.AckID, func(args []any, _ error) { p.Ack(sid, toEngineSlice(args)...) })
	}
	s.Client().WriteToEngine(c.bufs, c.opts)
}

// Disconnect implements engine.Host.
func (h *host) Disconnect(sid string, close bool) {
	if s, ok := h.a.nsp.Sockets().Load(socket.SocketId(sid)); ok {
		s.Disconnect(close)
	}
}

// Describe implements engine.Host: the handshake and data of a local
// socket, as plain values.
func (h *host) Describe(sid string) (engine.SocketInfo, bool) {
	s, ok := h.a.nsp.Sockets().Load(socket.SocketId(sid))
	if !ok {
		return engine.SocketInfo{}, false
	}
	return engine.SocketInfo{ID: sid, Handshake: handshakeValue(s.Handshake()), Data: toEngine(s.Data())}, true
}

// ServerSideEmit implements engine.Host: the event reaches the namespace's
// listeners (nsp.On(event)); when the sender waits for an acknowledgement
// the last argument is a socket.Ack whose first argument is sent back.
func (h *host) ServerSideEmit(ev *engine.ServerEvent) {
	args := make([]any, 0, 2+len(ev.Args))
	args = append(args, ev.Event)
	args = append(args, fromEngineSlice(ev.Args)...)
	if ev.Ack != nil {
		reply := ev.Ack
		args = append(args, socket.Ack(func(res []any, _ error) {
			var v any
			if len(res) > 0 {
				v = toEngine(res[0])
			}
			reply(v)
		}))
	}
	h.a.nsp.OnServerSideEmit(args)
}

// NextAckID implements engine.AckIDs: the namespace's own counter, shared
// with the server's socket.Emit(…, ack), so ids never collide.
func (h *host) NextAckID() uint64 { return h.a.nsp.Ids() }

// RoomCreated implements engine.MembershipObserver. The base adapter emits
// create-room itself when SocketJoined adds the room's first socket.
func (h *host) RoomCreated(engine.Room) {}

// RoomDeleted implements engine.MembershipObserver; delete-room is emitted
// by the base adapter when SocketLeft removes the room's last socket.
func (h *host) RoomDeleted(engine.Room) {}

// SocketJoined implements engine.MembershipObserver: Rooms()/Sids() gain
// the membership, emitting create-room and join-room as the base adapter
// does.
func (h *host) SocketJoined(sid string, r engine.Room) {
	h.a.Adapter.AddAll(socket.SocketId(sid), types.NewSet(socket.Room(r.Name)))
}

// SocketLeft implements engine.MembershipObserver: Rooms()/Sids() lose the
// membership, emitting leave-room and delete-room.
func (h *host) SocketLeft(sid string, r engine.Room) {
	h.a.Adapter.Del(socket.SocketId(sid), socket.Room(r.Name))
}
