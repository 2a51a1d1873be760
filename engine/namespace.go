package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/sioredis/sioredis/codec"
	"github.com/sioredis/sioredis/shard"
)

// Namespace is the adapter of one Socket.IO namespace: the local sockets and
// their rooms, and every cluster-wide operation on them. Get one with
// Engine.Namespace. Its methods are safe for concurrent use.
//
// The host tells the namespace about its sockets (AddSocket, Join, Leave,
// RemoveSocket); the namespace calls the Host to deliver packets to them.
type Namespace struct {
	e      *Engine
	name   string
	host   Host
	uid    string
	index  *shard.Index
	reqs   *requestTable
	worker *worker
	quit   chan struct{} // stops the worker
	proto  protocol      // the wire protocol, bound to this namespace
	sender sender

	// scratchMsg is the worker's decode target.
	scratchMsg message

	ackIDs  atomic.Uint64
	hostIDs AckIDs // the host's ack ids, when it gives them
	// typedPackets: the protocol's senders say with the packet type
	// whether a packet has attachments (socket.io-redis 4.0/5.x).
	typedPackets bool
	members      membership // the host's MembershipObserver, when it is one

	gaps gapTracker

	published, received, delivered, timeouts atomic.Uint64
	latency                                  latencyHistogram
	watch                                    serverWatch
	drops                                    dropCounters

	ready    chan struct{}
	readyErr error

	closed    atomic.Bool
	closeOnce sync.Once
}

func newNamespace(e *Engine, name string, host Host) *Namespace {
	n := &Namespace{
		e:      e,
		name:   name,
		host:   host,
		uid:    e.nodeUID(),
		reqs:   newRequestTable(e.opts.MaxPendingRequests),
		worker: newWorker(e.opts.ReceiveQueue),
		quit:   make(chan struct{}),
		ready:  make(chan struct{}),
	}
	n.proto = e.newProtocol(name, n.uid)
	n.sender = sender{client: e.client, nsp: name, uid: n.uid, specificResponses: e.opts.PublishOnSpecificResponseChannel}
	if tp, ok := n.proto.(interface{ typedPackets() bool }); ok {
		n.typedPackets = tp.typedPackets()
	}
	n.hostIDs, _ = host.(AckIDs)
	n.members.obs, _ = host.(MembershipObserver)
	n.index = shard.New(shard.Options{OnRoomCreate: n.onRoomCreate, OnRoomDelete: n.onRoomDelete})
	return n
}

// onRoomCreate and onRoomDelete are the index's room events: in the
// protocol modes that follow rooms, they subscribe and unsubscribe the
// room's channel. They run under the index's room lock: they only update
// the subscriber's reference counts, never wait.
func (n *Namespace) onRoomCreate(r Room) {
	n.roomEvent(evRoomCreated, r)
	if k, ok := n.proto.roomSub(r); ok {
		n.e.sub.want(n, true, k)
	}
}

func (n *Namespace) onRoomDelete(r Room) {
	n.roomEvent(evRoomDeleted, r)
	if k, ok := n.proto.roomSub(r); ok {
		n.e.sub.unwant(k)
	}
}

// awaitRooms waits, in the modes that follow rooms, until the channels of
// rooms (and of sid's own room) are confirmed by Redis, so that a broadcast
// published after Join returned reaches the socket. It does not wait while
// the subscription connection is down (the gap is counted).
func (n *Namespace) awaitRooms(sid string, rooms []Room) error {
	// A mode may follow some rooms and not others (the sharded dynamic
	// mode skips rooms no publisher sends on their own channel).
	var keys []subKey
	if own, ok := n.proto.roomSub(StringRoom(sid)); ok {
		keys = append(keys, own)
	}
	for _, r := range rooms {
		if k, ok := n.proto.roomSub(r); ok {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), n.e.opts.RequestTimeout)
	defer cancel()
	if err := n.e.sub.await(ctx, false, keys...); err != nil {
		return fmt.Errorf("sioredis: join %s: %w", n.name, err)
	}
	return nil
}

func (n *Namespace) drop(r DropReason) {
	n.e.stats.drop(r)
	n.drops[r].Add(1)
}

func (n *Namespace) setReady(err error) {
	n.readyErr = err
	close(n.ready)
}

func (n *Namespace) isReady() bool {
	select {
	case <-n.ready:
		return n.readyErr == nil
	default:
		return false
	}
}

// Stats returns the namespace's figures.
func (n *Namespace) Stats() NamespaceStats {
	gaps := n.gaps.snapshot()
	return NamespaceStats{
		Sockets:         n.index.SocketCount(),
		Rooms:           n.index.RoomCount(),
		Published:       n.published.Load(),
		Received:        n.received.Load(),
		Delivered:       n.delivered.Load(),
		RequestTimeouts: n.timeouts.Load(),
		RequestLatency:  n.latency.snapshot(),
		Live:            n.isReady() && !gaps.Open && !n.closed.Load(),
		Gaps:            gaps,
		ShortPublishes:  n.watch.snapshot(),
		Dropped:         n.drops.snapshot(),
	}
}

func (n *Namespace) waitReady(ctx context.Context) error {
	select {
	case <-n.ready:
		return n.readyErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Name returns the namespace name, e.g. "/chat".
func (n *Namespace) Name() string { return n.name }

// UID returns this server's uid in the namespace (the sender id of its
// messages).
func (n *Namespace) UID() string { return n.uid }

// ---- local sockets ---------------------------------------------------------

// AddSocket registers a connected local socket. Every socket is a member of
// the room named by its id.
func (n *Namespace) AddSocket(sid string) error {
	if sid == "" {
		return errors.New("sioredis: AddSocket: empty socket id")
	}
	if n.closed.Load() {
		return ErrClosed
	}
	n.join(sid, nil, false)
	return n.awaitRooms(sid, nil)
}

// Join adds the local socket sid to rooms (registering it if needed). In
// the modes that follow rooms it returns once Redis confirmed the channels
// of rooms new to this server (see RoomSubscriptions).
func (n *Namespace) Join(sid string, rooms ...Room) error {
	if sid == "" {
		return errors.New("sioredis: Join: empty socket id")
	}
	if err := validRooms(rooms); err != nil {
		return fmt.Errorf("sioredis: Join %s: %w", sid, err)
	}
	if n.closed.Load() {
		return ErrClosed
	}
	n.join(sid, rooms, false)
	return n.awaitRooms(sid, rooms)
}

// Leave removes the local socket sid from rooms.
func (n *Namespace) Leave(sid string, rooms ...Room) error {
	if n.closed.Load() {
		return ErrClosed
	}
	for _, r := range rooms {
		n.leave(sid, r)
	}
	return nil
}

// RemoveSocket forgets a local socket that disconnected: it leaves every room.
func (n *Namespace) RemoveSocket(sid string) { n.disconnect(sid) }

// SocketRooms returns the rooms of the local socket sid, its own id first.
func (n *Namespace) SocketRooms(sid string) []Room { return n.index.Rooms(sid, nil) }

// HasSocket reports whether sid is a local socket.
func (n *Namespace) HasSocket(sid string) bool { return n.index.HasSocket(sid) }

// LocalRooms returns every room of this server's sockets, their own-id rooms
// included.
func (n *Namespace) LocalRooms() []Room { return n.index.AllRooms(nil) }

// ---- operators ---------------------------------------------------------------

// Operator returns an operator on every socket of the namespace.
func (n *Namespace) Operator() Operator { return Operator{t: n} }

// To returns an operator on the sockets of rooms (io.to(...)).
func (n *Namespace) To(rooms ...Room) Operator { return n.Operator().To(rooms...) }

// In is To.
func (n *Namespace) In(rooms ...Room) Operator { return n.Operator().To(rooms...) }

// Except returns an operator on every socket except those of rooms.
func (n *Namespace) Except(rooms ...Room) Operator { return n.Operator().Except(rooms...) }

// From returns the operator of socket.broadcast for the socket sid: every
// socket but sid. Chain To to get socket.to(room).
func (n *Namespace) From(sid string) Operator { return n.Operator().Except(StringRoom(sid)) }

// Emit broadcasts to every socket of the namespace on every server.
func (n *Namespace) Emit(ctx context.Context, event string, args ...any) error {
	return n.Operator().Emit(ctx, event, args...)
}

// ---- publishing ---------------------------------------------------------------

// publish encodes m with the namespace's protocol and queues it. done, when
// not nil, is called with the outcome once Redis answered.
func (n *Namespace) publish(ctx context.Context, m *message, done func(error)) error {
	bp := codec.GetBuffer()
	cmd, out, fanout, err := encodeWith(n.proto, &n.sender, m, (*bp)[:0])
	if err != nil {
		codec.PutBuffer(bp)
		return fmt.Errorf("encode: %w", err)
	}
	*bp = out
	it := pubItem{cmd: cmd, buf: bp, done: done}
	if fanout && n.e.countsReceivers {
		it.watch = &n.watch
	}
	if err := n.e.pub.publish(ctx, it); err != nil {
		return err
	}
	n.published.Add(1)
	return nil
}

// reserved are the event names Socket.IO refuses to emit.
var reserved = map[string]bool{"connect": true, "connect_error": true, "disconnect": true,
	"disconnecting": true, "newListener": true, "removeListener": true}

// encodeArgs returns the msgpack array [event, …args] in a buffer of its
// own, for callers that keep it past the call (requests waiting for
// answers); emit, which does not, uses appendArgs with a pooled buffer.
func encodeArgs(event string, args []any) (codec.Raw, error) {
	return encodeArgsFlavor(event, args, codec.Notepack3)
}

// encodeArgsFlavor is encodeArgs in the MessagePack dialect of a protocol.
func encodeArgsFlavor(event string, args []any, f codec.Flavor) (codec.Raw, error) {
	return appendArgs(make([]byte, 0, argsSizeHint(event, args)), event, args, f)
}

// appendArgs is encodeArgsFlavor into dst, for callers that are done with
// the encoding when they return (see emit) and can pool the buffer.
func appendArgs(dst []byte, event string, args []any, f codec.Flavor) (codec.Raw, error) {
	if event == "" {
		return nil, errors.New("empty event name")
	}
	if reserved[event] {
		return nil, fmt.Errorf("%q is a reserved event name", event)
	}
	data, err := codec.AppendArgsFlavor(dst, f, event, args...)
	if err != nil {
		return nil, err
	}
	return data, nil
}

// argsSizeHint guesses the encoded size of [event, …args], so that the
// buffer is allocated once for the common payloads.
func argsSizeHint(event string, args []any) int {
	n := 8 + len(event)
	for _, a := range args {
		switch x := a.(type) {
		case string:
			n += len(x) + 5
		case []byte:
			n += len(x) + 5
		default:
			n += 16
		}
	}
	return n
}

func wireFlags(f *Flags, withTimeout bool) codec.Flags {
	var out codec.Flags
	if f.Volatile {
		out.SetVolatile(true)
	}
	if f.Compress != nil {
		out.SetCompress(*f.Compress)
	}
	if f.Binary != nil {
		out.SetBinary(*f.Binary)
	}
	if withTimeout && f.Timeout > 0 {
		out.SetTimeout(float64(f.Timeout.Milliseconds()))
	}
	return out
}

func (n *Namespace) timeoutOf(f *Flags) time.Duration {
	if f.Timeout > 0 {
		return f.Timeout
	}
	return n.e.opts.RequestTimeout
}

// emit implements Operator.Emit.
func (n *Namespace) emit(ctx context.Context, o Operator, event string, args []any) error {
	if n.closed.Load() {
		return ErrClosed
	}
	// The arguments live in a pooled buffer: emitData is done with them
	// when it returns (publish encodes the PUBLISH into a buffer of its
	// own at once, deliver copies the frame it builds from them).
	bp := codec.GetBuffer()
	data, err := appendArgs((*bp)[:0], event, n.inArgs(args), n.proto.flavor())
	if err != nil {
		codec.PutBuffer(bp)
		return fmt.Errorf("sioredis: emit %s: %w", n.name, err)
	}
	err = n.emitData(ctx, o, data)
	*bp = data
	codec.PutBuffer(bp)
	return err
}

// emitData publishes and delivers an encoded [event, …args].
func (n *Namespace) emitData(ctx context.Context, o Operator, data codec.Raw) error {
	m := message{kind: msgBroadcast, packetType: codec.PacketEvent, data: data, rooms: o.rooms, except: o.except,
		flags: wireFlags(&o.flags, false)}
	if !o.flags.Local {
		if err := n.publish(ctx, &m, nil); err != nil {
			return fmt.Errorf("sioredis: emit %s: %w", n.name, err)
		}
	}
	local := codec.PacketEvent
	if n.typedPackets && o.flags.Binary != nil && !*o.flags.Binary {
		local = packetEventNoBinary // binary(false): what a 2.x server's own sockets get
	}
	n.deliver(o.rooms, o.except, local, data, &m.flags, nil)
	return nil
}

// packetEventNoBinary is, for deliver, an EVENT whose binaries are written
// as JSON, not as attachments (see codec.BuildFrameTyped).
const packetEventNoBinary = -2

// ---- local delivery -------------------------------------------------------------

// deliver hands the packet to every local recipient, building the frame once
// (and not at all when nobody here is targeted). It returns the recipient
// count. ack, when set, makes it a packet with an ack id.
func (n *Namespace) deliver(rooms, except []Room, packetType int, data codec.Raw, flags *codec.Flags, ack func(sid string, args ...any)) int {
	var (
		p     *Packet
		count int
		bad   bool
	)
	n.index.ForEachRecipient(rooms, except, func(sid string) bool {
		if p == nil {
			ackID, id := int64(-1), uint64(0)
			if ack != nil {
				if n.hostIDs != nil {
					id = n.hostIDs.NextAckID()
				} else {
					id = n.ackIDs.Add(1) - 1
				}
				ackID = int64(id)
			}
			// Build in a pooled frame, then keep an exact copy: the Packet
			// must own its memory (hosts may queue it). The copy and the
			// Packet are one allocation (see newPacket).
			fr := framePool.Get().(*codec.Frame)
			build := codec.BuildFrame
			if packetType == packetEventNoBinary {
				build, packetType = codec.BuildFrameTyped, codec.PacketEvent
			}
			if err := build(fr, packetType, n.name, ackID, data); err != nil {
				framePool.Put(fr)
				bad = true
				return false
			}
			p = newPacket(fr.Text)
			p.Volatile, p.Compress = flags.IsVolatile(), flags.CompressOr(true)
			if ack != nil {
				p.AckID, p.Ack = id, ack
			}
			if len(fr.Attachments) > 0 {
				// They alias data, which may alias Redis's reply memory:
				// the Packet gets its own copy, in one buffer, so that a
				// host writing into one cannot corrupt another's.
				p.Frame.Attachments = copyAttachments(fr.Attachments)
			}
			framePool.Put(fr)
		}
		n.host.Deliver(sid, p)
		count++
		return true
	})
	if bad {
		n.drop(DropMalformed)
		return 0
	}
	n.e.stats.delivered.Add(uint64(count))
	n.delivered.Add(uint64(count))
	return count
}

func copyAttachments(atts [][]byte) [][]byte {
	n := 0
	for _, a := range atts {
		n += len(a)
	}
	buf := make([]byte, 0, n)
	out := make([][]byte, len(atts))
	for i, a := range atts {
		start := len(buf)
		buf = append(buf, a...)
		out[i] = buf[start:len(buf):len(buf)]
	}
	return out
}

// newPacket returns a Packet whose Frame.Text is a copy of text. While the
// text is small, as most are, the Packet and the copy are one allocation
// (packetWithText), the array sized so that the whole is one of Go's
// allocator size classes (192, 256, 384, 640, 1024 bytes). The text's
// capacity is its length, so a host appending to it gets its own copy.
func newPacket(text []byte) *Packet {
	switch n := len(text); {
	case n <= len(text192{}):
		return packetWithText[text192](text)
	case n <= len(text256{}):
		return packetWithText[text256](text)
	case n <= len(text384{}):
		return packetWithText[text384](text)
	case n <= len(text640{}):
		return packetWithText[text640](text)
	case n <= len(text1024{}):
		return packetWithText[text1024](text)
	}
	p := new(Packet)
	p.Frame.Text = make([]byte, len(text))
	copy(p.Frame.Text, text)
	return p
}

// The arrays behind a Packet of newPacket: textN fills a Packet up to N
// bytes, a size class of Go's allocator.
type (
	text192  [192 - packetSize]byte
	text256  [256 - packetSize]byte
	text384  [384 - packetSize]byte
	text640  [640 - packetSize]byte
	text1024 [1024 - packetSize]byte
)

const packetSize = unsafe.Sizeof(Packet{})

// packetWithText allocates a Packet and the array A behind it as one
// object and copies text (at most len(A) bytes) into the array.
func packetWithText[A text192 | text256 | text384 | text640 | text1024](text []byte) *Packet {
	x := new(struct {
		p Packet
		b A
	})
	n := len(text)
	buf := unsafe.Slice((*byte)(unsafe.Pointer(&x.b)), n)
	copy(buf, text)
	x.p.Frame.Text = buf[:n:n]
	return &x.p
}

// framePool holds frames to build into; frames grow to the largest packet
// they built, so very large ones are not returned.
var framePool = sync.Pool{New: func() any { return new(codec.Frame) }}

// matching returns the local sockets selected by rooms/except.
func (n *Namespace) matching(rooms, except []Room) []string {
	var sids []string
	n.index.ForEachRecipient(rooms, except, func(sid string) bool {
		sids = append(sids, sid)
		return true
	})
	return sids
}

// ---- incoming messages ----------------------------------------------------------

// handle processes one message from Redis; it runs on the namespace's worker.
func (n *Namespace) handle(channel, payload string) {
	if n.closed.Load() {
		n.drop(DropClosed)
		return
	}
	n.received.Add(1)
	m := &n.scratchMsg
	m.reset()
	ok, reason := n.proto.decode(n, channel, payload, m)
	if !ok {
		n.drop(reason)
		return
	}
	switch {
	case m.kind == msgBroadcast:
		n.onBroadcast(m)
	case m.kind.isResponse():
		if !n.reqs.dispatch(m.requestID, m) {
			n.drop(DropUnknownResponse)
		}
	default:
		if m.uid == n.uid {
			// Our own request echoed back: bulk operations were applied
			// when they were sent, and nobody answers their own requests.
			n.drop(DropOwn)
			return
		}
		n.onRequest(m)
	}
}

func (n *Namespace) malformed(channel, payload string, err error) {
	n.e.opts.Logger.Warn("sioredis: dropped malformed message", "channel", channel, "bytes", len(payload), "err", err)
}

func (n *Namespace) onBroadcast(m *message) {
	if m.uid == n.uid {
		n.drop(DropOwn)
		return
	}
	if m.nsp != n.name {
		n.drop(DropOtherNamespace)
		return
	}
	n.e.stats.broadcastsRecv.Add(1)
	typ := m.packetType
	if n.typedPackets && typ == codec.PacketEvent {
		// A Socket.IO 1.x/2.x sender chose EVENT: no attachments, even
		// for binary data (binary(false)), as its own servers deliver it.
		typ = packetEventNoBinary
	}
	n.deliver(m.rooms, m.except, typ, m.data, &m.flags, nil)
}

// answer publishes a response to request req.
func (n *Namespace) answer(req *message, resp message) {
	resp.requestID = req.requestID
	resp.to = req.uid
	if err := n.publish(context.Background(), &resp, nil); err != nil {
		n.e.opts.Logger.Warn("sioredis: answer not sent", "namespace", n.name, "err", err)
	}
}

func (n *Namespace) onRequest(m *message) {
	switch m.kind {
	case msgSocketsJoin, msgSocketsLeave, msgDisconnectSockets:
		n.applyBulk(m.kind, m.rooms, m.except, m.targetRooms, m.close)
	case msgAllRooms:
		n.answer(m, message{kind: msgRoomsResponse, targetRooms: n.index.AllRooms(nil)})
	case msgSockets:
		n.answer(m, message{kind: msgSocketsResponse, sockets: n.encodeSocketIDs(m.targetRooms)})
	case msgFetchSockets:
		n.answer(m, message{kind: msgSocketsResponse, sockets: n.encodeSockets(m.rooms, m.except)})
	case msgSidJoin, msgSidLeave, msgSidDisconnect:
		if n.applySidOp(m) { // else another server's socket: its owner answers
			n.answer(m, message{kind: msgDoneResponse})
		}
	case msgServerSideEmit:
		n.onServerSideEmit(m)
	case msgBroadcastWithAck:
		n.onBroadcastWithAck(m)
	case msgClientRooms:
		n.onClientRooms(m)
	case msgCustomRequest:
		n.onCustomRequest(m)
	default:
		n.drop(DropForeign)
	}
}

// applySidOp applies a single-socket join, leave or disconnect if the socket
// is local, reporting whether it was.
func (n *Namespace) applySidOp(m *message) bool {
	if !n.index.HasSocket(m.sid) {
		return false
	}
	switch m.kind {
	case msgSidJoin:
		n.join(m.sid, []Room{m.room}, true) // existing only: the socket may have gone meanwhile
	case msgSidLeave:
		n.leave(m.sid, m.room)
	default:
		n.disconnect(m.sid) // first: no broadcast reaches a socket being disconnected
		n.host.Disconnect(m.sid, m.close)
	}
	return true
}

// applyBulk runs socketsJoin / socketsLeave / disconnectSockets on the
// local sockets selected by rooms/except.
func (n *Namespace) applyBulk(kind msgKind, rooms, except, target []Room, close bool) {
	sids := n.matching(rooms, except) // collected first: the host may call back into the index
	for _, sid := range sids {
		switch kind {
		case msgSocketsJoin:
			n.join(sid, target, true)
		case msgSocketsLeave:
			for _, r := range target {
				n.leave(sid, r)
			}
		case msgDisconnectSockets:
			n.disconnect(sid) // first: no broadcast reaches a socket being disconnected
			n.host.Disconnect(sid, close)
		}
	}
}

// encodeSocketIDs is the SOCKETS answer: the ids of the local sockets in rooms.
func (n *Namespace) encodeSocketIDs(rooms []Room) codec.Raw {
	sids := n.matching(rooms, nil)
	out := codec.AppendArrayHeader(nil, uint32(len(sids)))
	for _, sid := range sids {
		out = codec.AppendString(out, sid)
	}
	return out
}

// encodeSockets is the REMOTE_FETCH answer: [{id, handshake, rooms, data}…]
// for the selected local sockets.
func (n *Namespace) encodeSockets(rooms, except []Room) codec.Raw {
	infos := n.localSockets(rooms, except)
	out := codec.AppendArrayHeader(nil, uint32(len(infos)))
	for i := range infos {
		out = appendSocketInfo(out, &infos[i], n.e.opts.Logger)
	}
	return out
}

func appendSocketInfo(out []byte, s *SocketInfo, log interface{ Warn(string, ...any) }) []byte {
	out = codec.AppendMapHeader(out, 4)
	out = codec.AppendString(out, "id")
	out = codec.AppendString(out, s.ID)
	out = codec.AppendString(out, "handshake")
	out = appendValueOrNil(out, s.Handshake, log)
	out = codec.AppendString(out, "rooms")
	out, _ = toCodecRooms(s.Rooms).MarshalMsg(out)
	out = codec.AppendString(out, "data")
	return appendValueOrNil(out, s.Data, log)
}

func appendValueOrNil(out []byte, v any, log interface{ Warn(string, ...any) }) []byte {
	res, err := codec.AppendValue(out, v)
	if err != nil {
		log.Warn("sioredis: socket field cannot be encoded, sent as null", "err", err)
		return append(out, 0xc0)
	}
	return res
}

// localSockets describes the selected local sockets.
func (n *Namespace) localSockets(rooms, except []Room) []SocketInfo {
	sids := n.matching(rooms, except)
	infos := make([]SocketInfo, 0, len(sids))
	for _, sid := range sids {
		info, ok := n.host.Describe(sid)
		if !ok {
			continue
		}
		info.ID = sid
		info.Rooms = n.index.Rooms(sid, nil)
		info.Handshake, info.Data = n.in(info.Handshake), n.in(info.Data)
		infos = append(infos, info)
	}
	return infos
}

func (n *Namespace) onServerSideEmit(m *message) {
	v, err := m.data.Value()
	arr, ok := v.([]any)
	if err != nil || !ok || len(arr) == 0 {
		n.drop(DropMalformed)
		return
	}
	event, ok := arr[0].(string)
	if !ok {
		n.drop(DropMalformed)
		return
	}
	args := arr[1:]
	for i := range args {
		args[i] = n.out(args[i])
	}
	ev := &ServerEvent{Namespace: n.name, Event: event, Args: args}
	if m.requestID != "" {
		req := message{requestID: m.requestID, uid: m.uid}
		var once sync.Once
		ev.Ack = func(arg any) {
			once.Do(func() {
				data, err := codec.AppendValue(nil, n.in(arg))
				if err != nil {
					n.e.opts.Logger.Warn("sioredis: serverSideEmit ack cannot be encoded", "err", err)
					return
				}
				n.answer(&req, message{kind: msgServerSideEmitResponse, data: data})
			})
		}
	}
	n.host.ServerSideEmit(ev)
}

// onBroadcastWithAck answers a BROADCAST request: deliver locally with an
// ack id, report how many clients were reached (even 0), then forward each
// client's acknowledgement.
func (n *Namespace) onBroadcastWithAck(m *message) {
	if m.nsp != n.name {
		n.drop(DropOtherNamespace)
		return
	}
	req := message{requestID: m.requestID, uid: m.uid}
	var (
		mu        sync.Mutex
		countSent bool
		early     []codec.Raw // acks that came before the count was sent
	)
	sendAck := func(data codec.Raw) { n.answer(&req, message{kind: msgBroadcastAck, data: data}) }
	ack := func(sid string, args ...any) {
		var arg any
		if len(args) > 0 {
			arg = args[0]
		}
		data, err := codec.AppendValue(nil, n.in(arg))
		if err != nil {
			n.e.opts.Logger.Warn("sioredis: client ack cannot be encoded", "err", err)
			data = codec.Raw{0xc0}
		}
		mu.Lock()
		if !countSent {
			early = append(early, data)
			mu.Unlock()
			return
		}
		mu.Unlock()
		sendAck(data)
	}
	// Flags are not applied on this path by Node's classic adapter; the
	// sharded one (ClusterAdapter) applies them.
	var flags codec.Flags
	if n.e.opts.Protocol == Sharded {
		flags = m.flags
	}
	count := n.deliver(m.rooms, m.except, m.packetType, m.data, &flags, ack)
	n.answer(&req, message{kind: msgClientCount, clientCount: count})
	mu.Lock()
	countSent = true
	pending := early
	early = nil
	mu.Unlock()
	for _, d := range pending {
		sendAck(d)
	}
}

// Close unsubscribes the namespace's channels, fails its pending requests
// with ErrClosed and stops its worker (what is still queued is counted as
// dropped, closed). Every later call on the namespace fails with ErrClosed.
// The engine stays open.
func (n *Namespace) Close() error {
	n.closeOnce.Do(func() {
		// Wait (bounded) for Redis to confirm the unsubscription, so that
		// the other servers stop counting this one.
		ctx, cancel := context.WithTimeout(context.Background(), n.e.opts.RequestTimeout)
		defer cancel()
		n.shutdown(ctx)
	})
	return nil
}

func (n *Namespace) shutdown(ctx context.Context) {
	n.closed.Store(true)
	n.reqs.failAll(ErrClosed)
	n.e.removeNamespace(ctx, n)
	close(n.quit)
}
