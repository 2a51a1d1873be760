package engine

import (
	"sync"

	"github.com/sioredis/sioredis/codec"
)

// Host is the part of the embedding server the engine calls: it owns the
// sockets (websocket connections, a Socket.IO server framework…), the engine
// owns rooms and Redis. One Host serves one namespace.
//
// The contract:
//   - Concurrency: every method may be called from several goroutines at
//     once, also for the same socket (a local emit from the host's own
//     goroutine and a remote broadcast on the namespace's worker may
//     deliver to one socket at the same moment): implementations must be
//     safe for concurrent use, and must order a socket's writes themselves
//     if they need an order across those two sources. Remote traffic alone
//     comes from the namespace's one worker, in Redis's order.
//   - Blocking: methods run on the namespace's worker goroutine for remote
//     traffic. A slow Host delays only its own namespace; when the
//     namespace's queue (Options.ReceiveQueue) fills, messages are dropped
//     and counted (Dropped["queue_full"]). Queue writes rather than block.
//   - Re-entrance: methods may call the Namespace (Join, Leave, Emit…).
//   - Immutability: a *Packet and everything it holds (frame text and
//     attachments) is shared by every recipient and must not be modified;
//     it belongs to no pool and may be retained.
//   - Optional extensions: a Host may also implement AckIDs (the ack ids of
//     packets it delivers are then its own) and MembershipObserver (it is
//     told of every room change, local or remote).
type Host interface {
	// Deliver sends a packet to the local socket sid. For a broadcast it is
	// called once per recipient with the same *Packet, whose frame was
	// encoded once; the Packet is immutable and may be retained (queued for a
	// writer goroutine, for example).
	Deliver(sid string, p *Packet)

	// Disconnect disconnects the local socket sid (disconnectSockets, remote
	// disconnect). With close the underlying connection is closed too.
	// The engine has already removed sid from its rooms when it calls this
	// (so no broadcast reaches it any more); calling Namespace.RemoveSocket
	// again when the socket is gone is harmless.
	Disconnect(sid string, close bool)

	// Describe reports what fetchSockets returns for the local socket sid:
	// its handshake and data (any value codec can encode: maps, slices,
	// strings, numbers…; structs go through encoding/json). ok is false if
	// the socket is unknown. Rooms are filled in by the engine.
	Describe(sid string) (info SocketInfo, ok bool)

	// ServerSideEmit receives an event sent with serverSideEmit by another
	// server of the cluster. When the sender asked for an acknowledgement,
	// ev.Ack is non-nil and must be called at most once.
	ServerSideEmit(ev *ServerEvent)
}

// Packet is what Host.Deliver receives: a Socket.IO packet already encoded
// for a Socket.IO v3/v4 client (Engine.IO 4), and on demand for a Socket.IO
// 1.x/2.x client (Engine.IO 3).
//
// Engine.IO versions: Frame is built once per broadcast, before the first
// Deliver. A host whose socket speaks Engine.IO 3 (its handshake had EIO=3)
// writes Frame3() to it instead: that frame is derived from Frame on the
// first call, by whichever recipient asks first, and shared by every later
// call for the same broadcast — once per broadcast and per Engine.IO
// version, and only when a recipient needs it. A broadcast whose recipients
// all speak Engine.IO 4 costs exactly what it did without Frame3.
type Packet struct {
	// Frame is the engine.io message: Frame.Text is the text frame
	// ("42[…]", "451-[…]"…), Frame.Attachments the binary frames that follow
	// it, in order.
	Frame codec.Frame
	// Volatile: the packet may be dropped if the socket cannot take it now.
	Volatile bool
	// Compress: whether per-message compression may be used (true unless the
	// sender said compress(false)).
	Compress bool
	// AckID is the Socket.IO packet id the client acknowledges with; valid
	// when Ack is not nil.
	AckID uint64
	// Ack, when not nil, must be called with the arguments of the client's
	// acknowledgement (packet "3<AckID>[…]") for this packet, once per
	// socket. Arguments may be Go values or a json.RawMessage of the JSON
	// array the client sent.
	Ack func(sid string, args ...any)

	eio3 struct {
		once  sync.Once
		frame *codec.Frame3
	}
}

// Frame3 returns the packet as an Engine.IO 3 client (Socket.IO 1.x/2.x)
// receives it: the websocket text frame, the attachments as binary frames
// led by the message type byte 0x04 (or base64 text frames for b64=1
// clients), and the packet's part of a polling body (codec.Frame3;
// codec.AppendPayload3 joins several into one response). It is built from
// Frame on the first call — a few allocations, once per broadcast — and the
// same immutable *codec.Frame3 is returned to every caller afterwards. Safe
// for concurrent use; Frame must not change once it has been called.
func (p *Packet) Frame3() *codec.Frame3 {
	p.eio3.once.Do(func() {
		f := new(codec.Frame3)
		codec.BuildFrame3(f, &p.Frame)
		p.eio3.frame = f
	})
	return p.eio3.frame
}

// SocketInfo describes a socket for fetchSockets.
type SocketInfo struct {
	// ID is the socket id.
	ID string
	// Handshake is Socket.IO's handshake object (headers, time, address,
	// xdomain, secure, issued, url, query, auth).
	Handshake any
	// Rooms are the socket's rooms, its own id first. Filled in by the engine
	// for local sockets; decoded from the answer for remote ones.
	Rooms []Room
	// Data is socket.data.
	Data any
}

// ServerEvent is a serverSideEmit event received from another server.
type ServerEvent struct {
	// Namespace is the namespace name.
	Namespace string
	// Event is the event name.
	Event string
	// Args are the decoded arguments (see codec.DecodeValue for the types).
	Args []any
	// Ack is non-nil when the sender waits for an acknowledgement: call it
	// once with the value to send back (only the first call counts).
	Ack func(arg any)
}
