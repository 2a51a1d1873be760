package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sioredis/sioredis/codec"
)

// This file holds the cluster-wide operations of a Namespace, the requester
// side of the protocol: they publish a request and collect the answers of
// the other servers, each bounded by a timeout.

// ServerCount returns the number of servers that serve this namespace, this
// one included.
func (n *Namespace) ServerCount(ctx context.Context) (int, error) {
	if n.closed.Load() {
		return 0, ErrClosed
	}
	c, err := n.proto.serverCount(ctx)
	if err != nil {
		n.e.stats.redisErrors.Add(1)
		return 0, fmt.Errorf("sioredis: serverCount %s: %w", n.name, err)
	}
	return c, nil
}

// ask publishes request m under a fresh request id and waits until handle
// reports the request complete, the timeout passes, ctx ends or the
// namespace closes. handle runs for every answer, serialized with the other
// answers; it may increment *answered. On an early end ask returns an
// *IncompleteError.
func (n *Namespace) ask(ctx context.Context, op string, m *message, expected int, timeout time.Duration,
	handle func(r *message, answered *int) (complete bool)) error {
	if n.closed.Load() {
		return ErrClosed
	}
	m.requestID = newUID(12)
	p := &pending{}
	p.handle = func(r *message) bool { return handle(r, &p.answered) }
	if err := n.reqs.add(m.requestID, p); err != nil {
		return fmt.Errorf("sioredis: %s %s: %w", op, n.name, err)
	}
	defer n.reqs.remove(m.requestID)
	if err := n.publish(ctx, m, p.failOnPublishError); err != nil {
		return fmt.Errorf("sioredis: %s %s: %w", op, n.name, err)
	}
	return n.wait(ctx, op, p, expected, timeout)
}

// wait blocks until p finishes, then reports an incomplete end.
func (n *Namespace) wait(ctx context.Context, op string, p *pending, expected int, timeout time.Duration) error {
	start := time.Now()
	defer func() { n.latency.observe(time.Since(start)) }()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-p.done:
	case <-timer.C:
		p.finish(ErrTimeout)
	case <-ctx.Done():
		p.finish(ctx.Err())
	}
	p.mu.Lock()
	answered, err := p.answered, p.err
	p.mu.Unlock()
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrTimeout) {
		n.e.stats.requestTimeouts.Add(1)
		n.timeouts.Add(1)
	}
	return &IncompleteError{Op: op + " " + n.name, Answered: answered, Expected: expected, Err: err}
}

// others returns how many other servers must answer a request (NUMSUB − 1).
func (n *Namespace) others(ctx context.Context, op string) (int, error) {
	c, err := n.ServerCount(ctx)
	if err != nil {
		return 0, fmt.Errorf("sioredis: %s: %w", op, err)
	}
	return c - 1, nil
}

// AllRooms returns every room of every server of the namespace (socket-id
// rooms included, as Node does), each once: local rooms first.
func (n *Namespace) AllRooms(ctx context.Context) ([]Room, error) {
	if n.closed.Load() {
		return nil, ErrClosed
	}
	if err := n.unsupported("allRooms", msgAllRooms); err != nil {
		return nil, err
	}
	rooms := n.index.AllRooms(nil)
	others, err := n.others(ctx, "allRooms")
	if err != nil || others <= 0 {
		return rooms, err
	}
	seen := make(map[Room]struct{}, len(rooms))
	for _, r := range rooms {
		seen[r] = struct{}{}
	}
	m := message{kind: msgAllRooms}
	err = n.ask(ctx, "allRooms", &m, others, n.e.opts.RequestTimeout, func(r *message, answered *int) bool {
		*answered++
		for _, room := range r.targetRooms {
			if _, ok := seen[room]; !ok {
				seen[room] = struct{}{}
				rooms = append(rooms, Room{Name: string([]byte(room.Name)), Numeric: room.Numeric})
			}
		}
		return *answered >= others
	})
	return rooms, err
}

// fetchSockets implements Operator.FetchSockets.
func (n *Namespace) fetchSockets(ctx context.Context, o *Operator) ([]SocketInfo, error) {
	if err := n.unsupported("fetchSockets", msgFetchSockets); err != nil {
		return nil, err
	}
	sockets := n.localSockets(o.rooms, o.except)
	if o.flags.Local {
		return sockets, nil
	}
	others, err := n.others(ctx, "fetchSockets")
	if err != nil || others <= 0 {
		return sockets, err
	}
	m := message{kind: msgFetchSockets, rooms: o.rooms, except: o.except}
	var bad error
	err = n.ask(ctx, "fetchSockets", &m, others, n.timeoutOf(&o.flags), func(r *message, answered *int) bool {
		*answered++
		remote, err := decodeSockets(r.sockets)
		if err != nil {
			bad = err
			n.e.stats.drop(DropMalformed)
		}
		for i := range remote {
			remote[i].Handshake, remote[i].Data = n.out(remote[i].Handshake), n.out(remote[i].Data)
		}
		sockets = append(sockets, remote...)
		return *answered >= others
	})
	if err == nil && bad != nil {
		err = fmt.Errorf("sioredis: fetchSockets %s: an answer was malformed: %w", n.name, bad)
	}
	return sockets, err
}

// decodeSockets decodes a REMOTE_FETCH answer [{id, handshake, rooms, data}…].
func decodeSockets(raw codec.Raw) ([]SocketInfo, error) {
	v, err := raw.Value()
	if err != nil {
		return nil, err
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("sockets is %T, not an array", v)
	}
	out := make([]SocketInfo, 0, len(arr))
	for _, item := range arr {
		m, ok := item.(codec.Map)
		if !ok {
			return out, fmt.Errorf("socket is %T, not an object", item)
		}
		var s SocketInfo
		id, _ := m.Get("id")
		s.ID, _ = id.(string)
		s.Handshake, _ = m.Get("handshake")
		s.Data, _ = m.Get("data")
		if rs, ok := m.Get("rooms"); ok {
			list, _ := rs.([]any)
			for _, r := range list {
				if room, ok := roomOf(r); ok {
					s.Rooms = append(s.Rooms, room)
				}
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// roomOf converts a decoded JS value (string or number) to a Room.
func roomOf(v any) (Room, bool) {
	switch x := v.(type) {
	case string:
		return StringRoom(x), true
	case int64:
		return NumberRoom(float64(x)), true
	case uint64:
		return NumberRoom(float64(x)), true
	case float64:
		return NumberRoom(x), true
	}
	return Room{}, false
}

// Sockets returns the ids of the sockets in rooms (all sockets when empty)
// on every server: the legacy SOCKETS request, still answered by Node 8.x.
func (n *Namespace) Sockets(ctx context.Context, rooms ...Room) ([]string, error) {
	if err := validRooms(rooms); err != nil {
		return nil, fmt.Errorf("sioredis: sockets %s: %w", n.name, err)
	}
	return n.clients(ctx, "sockets", rooms)
}

// socketsJoin, socketsLeave and disconnectSockets apply the operation to
// this server's sockets at once and publish it for the others (the classic
// Node adapter applies its own on the echo of its publish instead; applying
// at once makes a following local emit see the change).
func (n *Namespace) socketsJoin(ctx context.Context, o *Operator, rooms []Room) error {
	return n.bulk(ctx, "socketsJoin", &message{kind: msgSocketsJoin, rooms: o.rooms, except: o.except, targetRooms: rooms}, o.flags.Local)
}

func (n *Namespace) socketsLeave(ctx context.Context, o *Operator, rooms []Room) error {
	return n.bulk(ctx, "socketsLeave", &message{kind: msgSocketsLeave, rooms: o.rooms, except: o.except, targetRooms: rooms}, o.flags.Local)
}

func (n *Namespace) disconnectSockets(ctx context.Context, o *Operator, close bool) error {
	return n.bulk(ctx, "disconnectSockets", &message{kind: msgDisconnectSockets, rooms: o.rooms, except: o.except, close: close}, o.flags.Local)
}

func (n *Namespace) bulk(ctx context.Context, op string, m *message, local bool) error {
	if err := n.unsupported(op, m.kind); err != nil {
		return err
	}
	if n.closed.Load() {
		return ErrClosed
	}
	n.applyBulk(m.kind, m.rooms, m.except, m.targetRooms, m.close)
	if local {
		return nil
	}
	if err := n.publish(ctx, m, nil); err != nil {
		return fmt.Errorf("sioredis: %s %s: %w", op, n.name, err)
	}
	return nil
}

// RemoteJoin makes the socket sid, wherever it is, join room: at once when
// it is local, else through the owner (a single-socket REMOTE_JOIN request,
// answered by its owner only). An unknown sid times out.
func (n *Namespace) RemoteJoin(ctx context.Context, sid string, room Room) error {
	if err := validRoom(room); err != nil {
		return fmt.Errorf("sioredis: remoteJoin %s: %w", n.name, err)
	}
	return n.sidOp(ctx, "remoteJoin", &message{kind: msgSidJoin, sid: sid, room: room})
}

// RemoteLeave makes the socket sid, wherever it is, leave room.
func (n *Namespace) RemoteLeave(ctx context.Context, sid string, room Room) error {
	if err := validRoom(room); err != nil {
		return fmt.Errorf("sioredis: remoteLeave %s: %w", n.name, err)
	}
	return n.sidOp(ctx, "remoteLeave", &message{kind: msgSidLeave, sid: sid, room: room})
}

// RemoteDisconnect disconnects the socket sid, wherever it is.
func (n *Namespace) RemoteDisconnect(ctx context.Context, sid string, close bool) error {
	return n.sidOp(ctx, "remoteDisconnect", &message{kind: msgSidDisconnect, sid: sid, close: close})
}

func (n *Namespace) sidOp(ctx context.Context, op string, m *message) error {
	if m.sid == "" {
		return fmt.Errorf("sioredis: %s: empty socket id", op)
	}
	if err := n.unsupported(op, m.kind); err != nil {
		return err
	}
	if n.applySidOp(m) { // a local socket: no request
		return nil
	}
	return n.ask(ctx, op, m, 1, n.e.opts.RequestTimeout, func(r *message, answered *int) bool {
		*answered++
		return true
	})
}

// ServerSideEmit sends event to the other servers of the namespace (their
// Host.ServerSideEmit, or Node's io.on(event)), without acknowledgement.
func (n *Namespace) ServerSideEmit(ctx context.Context, event string, args ...any) error {
	if err := n.unsupported("serverSideEmit", msgServerSideEmit); err != nil {
		return err
	}
	data, err := encodeArgs(event, n.inArgs(args))
	if err != nil {
		return fmt.Errorf("sioredis: serverSideEmit %s: %w", n.name, err)
	}
	if n.closed.Load() {
		return ErrClosed
	}
	if err := n.publish(ctx, &message{kind: msgServerSideEmit, data: data}, nil); err != nil {
		return fmt.Errorf("sioredis: serverSideEmit %s: %w", n.name, err)
	}
	return nil
}

// ServerSideEmitWithAck sends event to the other servers and returns the
// acknowledgement of each (its first argument), waiting up to
// Options.RequestTimeout. With no other server it returns an empty list at
// once.
func (n *Namespace) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([]any, error) {
	if err := n.unsupported("serverSideEmit", msgServerSideEmit); err != nil {
		return nil, err
	}
	data, err := encodeArgs(event, n.inArgs(args))
	if err != nil {
		return nil, fmt.Errorf("sioredis: serverSideEmit %s: %w", n.name, err)
	}
	others, err := n.others(ctx, "serverSideEmit")
	if err != nil || others <= 0 {
		return []any{}, err
	}
	var acks []any
	m := message{kind: msgServerSideEmit, data: data}
	err = n.ask(ctx, "serverSideEmit", &m, others, n.e.opts.RequestTimeout, func(r *message, answered *int) bool {
		*answered++
		v, err := r.data.Value()
		if err != nil {
			n.e.stats.drop(DropMalformed)
		}
		acks = append(acks, n.out(v))
		return *answered >= others
	})
	if acks == nil {
		acks = []any{}
	}
	return acks, err
}

// emitWithAck implements Operator.EmitWithAck: broadcast with an ack id to
// the local recipients and, through a BROADCAST request, to every other
// server's, which answer with their client count and then one message per
// acknowledgement. Complete when every server reported its count and as
// many acks arrived as the counts add up to.
func (n *Namespace) emitWithAck(ctx context.Context, o Operator, event string, args []any) ([]any, error) {
	data, err := encodeArgsFlavor(event, n.inArgs(args), n.proto.flavor())
	if err != nil {
		return nil, fmt.Errorf("sioredis: emitWithAck %s: %w", n.name, err)
	}
	var (
		mu   sync.Mutex
		acks = []any{}
		done = make(chan error, 1)
	)
	h := AckHandlers{
		Ack: func(arg any) {
			mu.Lock()
			acks = append(acks, arg)
			mu.Unlock()
		},
		Done: func(err error) { done <- err },
	}
	if err := n.ackBroadcast(ctx, ctx, o, data, h); err != nil {
		return nil, err
	}
	err = <-done // the request ends with ctx too
	mu.Lock()
	defer mu.Unlock()
	return append([]any{}, acks...), err
}

// packetData checks and encodes an OutPacket.
func (n *Namespace) packetData(op string, p OutPacket) (codec.Raw, error) {
	event, args, err := p.eventArgs()
	if err != nil {
		return nil, fmt.Errorf("sioredis: %s %s: %w", op, n.name, err)
	}
	data, err := encodeArgsFlavor(event, n.inArgs(args), n.proto.flavor())
	if err != nil {
		return nil, fmt.Errorf("sioredis: %s %s: %w", op, n.name, err)
	}
	return data, nil
}

func (n *Namespace) broadcast(ctx context.Context, o Operator, p OutPacket) error {
	if n.closed.Load() {
		return ErrClosed
	}
	data, err := n.packetData("broadcast", p)
	if err != nil {
		return err
	}
	return n.emitData(ctx, o, data)
}

func (n *Namespace) broadcastWithAck(ctx context.Context, o Operator, p OutPacket, h AckHandlers) error {
	data, err := n.packetData("broadcastWithAck", p)
	if err != nil {
		return err
	}
	// The answers are awaited after the call returns: only the
	// operator's timeout ends them, not ctx.
	return n.ackBroadcast(ctx, context.Background(), o, data, h)
}

// AckHandlers receive the answers of a broadcast with acknowledgements as
// they arrive. They are called one at a time (never concurrently), on
// engine goroutines: they must not block for long. Any may be nil.
type AckHandlers struct {
	// ClientCount is called once per server (this one included), with
	// how many clients it reached, as the counts arrive.
	ClientCount func(clients int)
	// Ack is called once per client acknowledgement, with its first
	// argument (decoded as codec.DecodeValue does).
	Ack func(arg any)
	// Done is called once, last: nil when every server reported its count
	// and every counted client acknowledged; an *IncompleteError when the
	// timeout passed first (its Acks, ExpectedAcks and CountsKnown say
	// what was missing), the namespace closed, or the publish failed.
	Done func(err error)
}

// ackBroadcast delivers the EVENT data locally with an ack id and
// publishes it as a broadcast with acknowledgements; it returns once
// published (ctx bounds that), and h gets the answers until the operator's
// timeout or until waitCtx ends.
func (n *Namespace) ackBroadcast(ctx, waitCtx context.Context, o Operator, data codec.Raw, h AckHandlers) error {
	if n.closed.Load() {
		return ErrClosed
	}
	const packetType = codec.PacketEvent
	servers := 1
	if !o.flags.Local {
		if err := n.unsupported("emitWithAck", msgBroadcastWithAck); err != nil {
			return err
		}
		var err error
		if servers, err = n.ServerCount(ctx); err != nil {
			return fmt.Errorf("sioredis: emitWithAck: %w", err)
		}
		servers = max(servers, 1)
	}
	var (
		acks      = 0     // acknowledgements received
		remote    = 0     // servers that reported their client count
		localDone = false // this server's local delivery is counted
		clients   = 0
		p         = &pending{done: make(chan struct{})}
	)
	complete := func() bool { return localDone && 1+remote >= servers && acks >= clients }
	onAck := func(v any) {
		acks++
		if h.Ack != nil {
			h.Ack(v)
		}
	}
	p.handle = func(r *message) bool { // under p.mu
		switch r.kind {
		case msgClientCount:
			remote++
			p.answered++
			clients += r.clientCount
			if h.ClientCount != nil {
				h.ClientCount(r.clientCount)
			}
		case msgBroadcastAck:
			v, err := r.data.Value()
			if err != nil {
				n.drop(DropMalformed)
			}
			onAck(n.out(v))
		default:
			n.drop(DropForeign)
		}
		return complete()
	}
	timeout := n.timeoutOf(&o.flags)
	m := message{kind: msgBroadcastWithAck, packetType: packetType, data: data, rooms: o.rooms, except: o.except,
		flags: wireFlags(&Flags{Volatile: o.flags.Volatile, Compress: o.flags.Compress, Timeout: timeout}, true)}
	if servers > 1 {
		m.requestID = newUID(12)
		if err := n.reqs.add(m.requestID, p); err != nil {
			return fmt.Errorf("sioredis: emitWithAck %s: %w", n.name, err)
		}
		if err := n.publish(ctx, &m, p.failOnPublishError); err != nil {
			n.reqs.remove(m.requestID)
			return fmt.Errorf("sioredis: emitWithAck %s: %w", n.name, err)
		}
	}
	// Local delivery. Until its client count is added (localDone), no
	// answer or fast local ack can complete the request.
	local := n.deliver(o.rooms, o.except, packetType, data, &m.flags, func(sid string, args ...any) {
		var arg any
		if len(args) > 0 {
			arg = normalizeAck(n.in(args[0]))
		}
		p.mu.Lock()
		select {
		case <-p.done:
			p.mu.Unlock()
			return
		default:
		}
		onAck(n.out(arg))
		done := complete()
		p.mu.Unlock()
		if done {
			p.finish(nil)
		}
	})
	p.mu.Lock()
	localDone = true
	clients += local
	if h.ClientCount != nil {
		h.ClientCount(local)
	}
	done := complete()
	p.mu.Unlock()
	if done {
		p.finish(nil)
	}
	go func() {
		err := n.wait(waitCtx, "emitWithAck", p, servers-1, timeout)
		if m.requestID != "" {
			n.reqs.remove(m.requestID)
		}
		p.mu.Lock()
		if ie, ok := err.(*IncompleteError); ok {
			ie.Acks, ie.ExpectedAcks, ie.CountsKnown = acks, clients, 1+remote >= servers
		}
		p.mu.Unlock()
		if h.Done != nil {
			h.Done(err)
		}
	}()
	return nil
}

// normalizeAck gives a local acknowledgement argument the same Go form as a
// remote one (decoded from msgpack), so callers see one set of types.
func normalizeAck(v any) any {
	b, err := codec.AppendValue(nil, v)
	if err != nil {
		return v
	}
	// (the caller converts the result for the host with plain)
	out, err := codec.Raw(b).Value()
	if err != nil {
		return v
	}
	return out
}
