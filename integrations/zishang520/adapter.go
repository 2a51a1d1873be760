package zishang520

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/sioredis/sioredis/engine"
	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// Adapter is the socket.Adapter of one namespace of a zishang520 server,
// served by a namespace of the sioredis engine. Get it through
// AdapterBuilder; the server calls its methods. It embeds the base adapter
// (socket.MakeAdapter) for the Rooms()/Sids() mirror and the event emitter.
//
// Its methods are safe for concurrent use.
type Adapter struct {
	socket.Adapter // the base adapter: Rooms()/Sids(), events, local fallback

	b    *AdapterBuilder
	nsp  socket.Namespace
	name string
	ns   *engine.Namespace // nil when the engine namespace could not be created
	host *host

	closed atomic.Bool
	wg     sync.WaitGroup // ServerSideEmit acks in flight
}

var _ socket.Adapter = (*Adapter)(nil)

func newAdapter(b *AdapterBuilder) *Adapter {
	return &Adapter{Adapter: socket.MakeAdapter(), b: b}
}

// Engine returns the engine namespace serving this adapter, or nil when it
// could not be created (the error went to the builder's Logger and OnError).
func (a *Adapter) Engine() *engine.Namespace { return a.ns }

// Construct implements socket.Adapter: it creates the engine namespace,
// returning once Redis confirmed its subscriptions (bounded by
// AdapterBuilder.SetupTimeout). On failure the error is reported and the
// adapter serves this server's sockets only.
func (a *Adapter) Construct(nsp socket.Namespace) {
	a.Adapter.Construct(nsp)
	a.nsp = nsp
	a.name = nsp.Name()
	a.host = &host{a: a}
	if old := a.b.register(a.name, a); old != nil && old != a {
		old.closeEngine()
	}
	if a.b.Engine == nil {
		a.b.report(a.name, "construct", errors.New("AdapterBuilder.Engine is nil"))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.b.setupTimeout())
	defer cancel()
	ns, err := a.b.Engine.Namespace(ctx, a.name, a.host)
	if err != nil {
		a.b.report(a.name, "construct", err)
		return
	}
	a.ns = ns
}

// Init implements socket.Adapter; the work is done in Construct.
func (a *Adapter) Init() {}

// Close implements socket.Adapter: it closes the engine namespace (the
// engine stays open) and waits for the serverSideEmit acknowledgements in
// flight, which fail with engine.ErrClosed.
func (a *Adapter) Close() {
	a.b.unregister(a.name, a)
	a.closeEngine()
	a.wg.Wait()
	a.Adapter.Close()
}

func (a *Adapter) closeEngine() {
	if a.closed.Swap(true) || a.ns == nil {
		return
	}
	if err := a.ns.Close(); err != nil {
		a.b.report(a.name, "close", err)
	}
}

// ServerCount implements socket.Adapter: the servers serving this
// namespace, this one included (1 when Redis cannot be asked).
func (a *Adapter) ServerCount() int64 {
	if a.ns == nil {
		return 1
	}
	n, err := a.ns.ServerCount(context.Background())
	if err != nil {
		a.b.report(a.name, "serverCount", err)
		return 1
	}
	return int64(max(n, 1))
}

// AddAll implements socket.Adapter: the socket joins rooms in the engine,
// whose membership events update Rooms()/Sids() and emit create-room and
// join-room.
func (a *Adapter) AddAll(id socket.SocketId, rooms *types.Set[socket.Room]) {
	if a.ns == nil {
		a.Adapter.AddAll(id, rooms)
		return
	}
	if err := a.ns.Join(string(id), toRooms(rooms)...); err != nil {
		a.b.report(a.name, "join", err)
		return
	}
	// The engine has reported the join to the mirror unless another
	// goroutine was reporting changes at that moment (it then reports
	// this one too, later): apply it here as well, so that Rooms() holds
	// the rooms when Join returns, as with zishang520's own adapter. The
	// base adapter's AddAll is idempotent (no second event).
	a.Adapter.AddAll(id, rooms)
}

// Del implements socket.Adapter: the socket leaves room in the engine.
func (a *Adapter) Del(id socket.SocketId, room socket.Room) {
	if a.ns == nil {
		a.Adapter.Del(id, room)
		return
	}
	if err := a.ns.Leave(string(id), engine.StringRoom(string(room))); err != nil {
		a.b.report(a.name, "leave", err)
		return
	}
	a.Adapter.Del(id, room) // as in AddAll; idempotent
}

// DelAll implements socket.Adapter: the socket leaves every room (it is
// disconnecting).
func (a *Adapter) DelAll(id socket.SocketId) {
	if a.ns != nil {
		a.ns.RemoveSocket(string(id))
	}
	a.Adapter.DelAll(id) // forgets the Sids() entry (its rooms are gone already)
}

// Broadcast implements socket.Adapter: the packet goes to the selected
// sockets of every server (of this one only with the Local flag). The local
// recipients get the engine's frame, built once.
//
// A packet with an ack id (a socket's own Emit with an ack when the server
// has connection-state recovery on, which routes it here) is written by the
// base adapter to the local socket: the engine's packets carry no ack id.
func (a *Adapter) Broadcast(packet *parser.Packet, opts *socket.BroadcastOptions) {
	if a.ns == nil || packet.Id != nil {
		a.Adapter.Broadcast(packet, opts)
		return
	}
	op := a.operator(opts)
	if err := op.Broadcast(context.Background(), outPacket(packet)); err != nil {
		a.b.report(a.name, "broadcast", err)
	}
}

// BroadcastWithAck implements socket.Adapter: clientCount is called once
// per server (this one included) with the number of clients reached there,
// ack once per client acknowledgement, as they arrive; the server's
// broadcast operator completes when it has them all, or its timer fires.
func (a *Adapter) BroadcastWithAck(packet *parser.Packet, opts *socket.BroadcastOptions, clientCount func(uint64), ack socket.Ack) {
	if a.ns == nil {
		a.Adapter.BroadcastWithAck(packet, opts, clientCount, ack)
		return
	}
	op := a.operator(opts)
	h := engine.AckHandlers{
		ClientCount: func(n int) { clientCount(uint64(n)) },
		Ack:         func(arg any) { ack([]any{fromEngine(arg)}, nil) },
		Done: func(err error) {
			var ie *engine.IncompleteError
			if err != nil && !errors.As(err, &ie) { // a timeout is the operator's to report
				a.b.report(a.name, "broadcastWithAck", err)
			}
		},
	}
	if err := op.BroadcastWithAck(context.Background(), outPacket(packet), h); err != nil {
		a.b.report(a.name, "broadcastWithAck", err)
	}
}

// Sockets implements socket.Adapter: the ids of this server's sockets in
// rooms (all of them when rooms is empty), from the engine's index.
func (a *Adapter) Sockets(rooms *types.Set[socket.Room]) *types.Set[socket.SocketId] {
	if a.ns == nil {
		return a.Adapter.Sockets(rooms)
	}
	out := types.NewSet[socket.SocketId]()
	for _, sid := range a.ns.LocalSockets(toRooms(rooms), nil) {
		if s, ok := a.nsp.Sockets().Load(socket.SocketId(sid)); ok && s.Connected() {
			out.Add(s.Id())
		}
	}
	return out
}

// FetchSockets implements socket.Adapter: the selected sockets of every
// server (of this one only with the Local flag). Local sockets are the
// server's *socket.Socket; remote ones carry their id, handshake, rooms and
// data. On a timeout the callback gets the sockets that arrived and the
// *engine.IncompleteError.
func (a *Adapter) FetchSockets(opts *socket.BroadcastOptions) func(func([]socket.SocketDetails, error)) {
	return func(callback func([]socket.SocketDetails, error)) {
		if a.ns == nil {
			a.Adapter.FetchSockets(opts)(callback)
			return
		}
		if opts != nil && opts.Flags != nil && opts.Flags.Local {
			out := []socket.SocketDetails{}
			var rooms, except *types.Set[socket.Room]
			rooms, except = opts.Rooms, opts.Except
			for _, sid := range a.ns.LocalSockets(toRooms(rooms), toRooms(except)) {
				if s, ok := a.nsp.Sockets().Load(socket.SocketId(sid)); ok && s.Connected() {
					out = append(out, s)
				}
			}
			callback(out, nil)
			return
		}
		infos, err := a.operator(opts).FetchSockets(context.Background())
		if err != nil {
			err = fmt.Errorf("sioredis/zishang520 %s: fetchSockets: %w", a.name, err)
		}
		out := make([]socket.SocketDetails, 0, len(infos))
		for i := range infos {
			if s, ok := a.nsp.Sockets().Load(socket.SocketId(infos[i].ID)); ok {
				out = append(out, s)
				continue
			}
			out = append(out, newRemoteDetails(&infos[i]))
		}
		callback(out, err)
	}
}

// AddSockets implements socket.Adapter: the selected sockets of every
// server join rooms (this server's at once).
func (a *Adapter) AddSockets(opts *socket.BroadcastOptions, rooms []socket.Room) {
	if a.ns == nil {
		a.Adapter.AddSockets(opts, rooms)
		return
	}
	if err := a.operator(opts).SocketsJoin(context.Background(), toRoomList(rooms)...); err != nil {
		a.b.report(a.name, "socketsJoin", err)
	}
}

// DelSockets implements socket.Adapter: the selected sockets of every
// server leave rooms (this server's at once).
func (a *Adapter) DelSockets(opts *socket.BroadcastOptions, rooms []socket.Room) {
	if a.ns == nil {
		a.Adapter.DelSockets(opts, rooms)
		return
	}
	if err := a.operator(opts).SocketsLeave(context.Background(), toRoomList(rooms)...); err != nil {
		a.b.report(a.name, "socketsLeave", err)
	}
}

// DisconnectSockets implements socket.Adapter: the selected sockets of
// every server disconnect (with close, their connections close too).
func (a *Adapter) DisconnectSockets(opts *socket.BroadcastOptions, close bool) {
	if a.ns == nil {
		a.Adapter.DisconnectSockets(opts, close)
		return
	}
	if err := a.operator(opts).DisconnectSockets(context.Background(), close); err != nil {
		a.b.report(a.name, "disconnectSockets", err)
	}
}

// ServerSideEmit implements socket.Adapter: packet is [event, args…], its
// last element a socket.Ack when the sender wants every other server's
// acknowledgement; the Ack is then called once, from another goroutine,
// with one value per server that answered (and the error of an incomplete
// wait).
func (a *Adapter) ServerSideEmit(packet []any) error {
	if a.ns == nil {
		return fmt.Errorf("sioredis/zishang520 %s: serverSideEmit: no engine namespace", a.name)
	}
	if len(packet) == 0 {
		return fmt.Errorf("sioredis/zishang520 %s: serverSideEmit: no event", a.name)
	}
	ev, ok := packet[0].(string)
	if !ok {
		return fmt.Errorf("sioredis/zishang520 %s: serverSideEmit: event name is %T, not a string", a.name, packet[0])
	}
	args := packet[1:]
	var ack socket.Ack
	if n := len(args); n > 0 {
		ack, _ = args[n-1].(socket.Ack)
	}
	if ack != nil {
		args = toEngineSlice(args[:len(args)-1])
		if a.closed.Load() {
			return engine.ErrClosed
		}
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			res, err := a.ns.ServerSideEmitWithAck(context.Background(), ev, args...)
			if err != nil {
				err = fmt.Errorf("sioredis/zishang520 %s: serverSideEmit: %w", a.name, err)
			}
			ack(fromEngineSlice(res), err)
		}()
		return nil
	}
	return a.ns.ServerSideEmit(context.Background(), ev, toEngineSlice(args)...)
}

// PersistSession implements socket.Adapter. Connection-state recovery is
// not supported (see the package doc): nothing is kept.
func (a *Adapter) PersistSession(*socket.SessionToPersist) {}

// RestoreSession implements socket.Adapter: it never finds a session, so a
// reconnecting client starts a new one.
func (a *Adapter) RestoreSession(socket.PrivateSessionId, string) (*socket.Session, error) {
	return nil, nil
}

// operator returns the engine operator of opts.
func (a *Adapter) operator(opts *socket.BroadcastOptions) engine.Operator {
	op := a.ns.Operator()
	if opts == nil {
		return op
	}
	if rs := toRooms(opts.Rooms); len(rs) > 0 {
		op = op.To(rs...)
	}
	if rs := toRooms(opts.Except); len(rs) > 0 {
		op = op.Except(rs...)
	}
	if f := opts.Flags; f != nil {
		if f.Local {
			op = op.Local()
		}
		if f.Volatile {
			op = op.Volatile()
		}
		if f.Compress != nil {
			op = op.Compress(*f.Compress)
		}
		if f.Timeout != nil && *f.Timeout > 0 {
			op = op.Timeout(*f.Timeout)
		}
	}
	return op
}

// outPacket converts a server packet (an EVENT whose Data is
// [event, args…]) for the engine.
func outPacket(p *parser.Packet) engine.OutPacket {
	data, _ := p.Data.([]any)
	t := int(p.Type)
	if p.Type == parser.EVENT || p.Type == parser.BINARY_EVENT {
		t = 0 // the engine picks EVENT or BINARY_EVENT from the values
	}
	return engine.OutPacket{Type: t, Data: toEngineSlice(data)}
}

func toRooms(s *types.Set[socket.Room]) []engine.Room {
	if s == nil || s.Len() == 0 {
		return nil
	}
	return toRoomList(s.Keys())
}

func toRoomList(rs []socket.Room) []engine.Room {
	out := make([]engine.Room, len(rs))
	for i, r := range rs {
		out[i] = engine.StringRoom(string(r))
	}
	return out
}
