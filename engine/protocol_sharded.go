package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/redis/rueidis"
	"github.com/sioredis/sioredis/codec"
	"github.com/tinylib/msgp/msgp"
)

// ShardedMode is the subscription mode of the Sharded protocol (the Node
// sharded adapter's subscriptionMode). Every server of a cluster must use
// the same one.
type ShardedMode int

const (
	// ShardedDynamic ("dynamic", the default, as Node): besides the two
	// fixed channels, a server subscribes prefix#nsp#room# for the rooms it
	// hosts, and single-room broadcasts without ack are published there, so
	// a server hears only the single-room broadcasts of its own rooms.
	//
	// Which rooms get a channel, and where a single-room broadcast goes, is
	// decided so that Go and Node servers agree where it matters:
	//
	//   - Publishing: a single-room broadcast without ack goes to the room
	//     channel unless the room is a string of exactly 20 characters
	//     (Node's looksLikeASocketId), which goes to prefix#nsp#. This is
	//     Node's own rule, kept as it is because Node servers subscribe
	//     only their public rooms: a Node socket id (20 characters) must be
	//     reached on the main channel.
	//   - Subscribing: a channel for every local room except strings of
	//     exactly 20 characters, whatever they are. No publisher, Go or
	//     Node, ever sends on the channel of a 20-character room in this
	//     mode, so such a channel would carry nothing; every other room's
	//     channel may carry broadcasts, and socket-id rooms are no
	//     exception: a socket whose id is not 20 characters long (a custom
	//     id, or the 24-character ids of other Go servers) gets its channel,
	//     which is where every publisher sends to(id). Node instead skips
	//     the channels of rooms that are local socket ids and so loses
	//     those emits (socketio/socket.io-redis-adapter#524, #561).
	//
	// Rooms 7 and "7" share prefix#nsp#7#, kept subscribed while either
	// exists (Node unsubscribes it when one of them is deleted).
	ShardedDynamic ShardedMode = iota
	// ShardedStatic ("static"): only prefix#nsp# and prefix#nsp#<uid>#;
	// every broadcast is published on prefix#nsp#.
	ShardedStatic
	// ShardedDynamicPrivate ("dynamic-private"): like ShardedDynamic, but
	// every room has its channel, socket-id rooms included, and every
	// single-room broadcast without ack goes to its room channel.
	ShardedDynamicPrivate
)

// String returns the mode's name as the Node adapter spells it.
func (m ShardedMode) String() string {
	switch m {
	case ShardedDynamic:
		return "dynamic"
	case ShardedStatic:
		return "static"
	case ShardedDynamicPrivate:
		return "dynamic-private"
	}
	return fmt.Sprintf("ShardedMode(%d)", int(m))
}

// shardedProtocol is the protocol of @socket.io/redis-adapter 8.3
// createShardedAdapter (socket.io-adapter's ClusterAdapter, wire-format
// spec §5), bound to one namespace. Every message is one envelope
// {type, data, uid, nsp}, JSON unless a binary-capable type carries binary
// (then msgpack), published with SPUBLISH on:
//
//	prefix#nsp#         SSUBSCRIBE, every server   everything but answers and room broadcasts
//	prefix#nsp#<uid>#   SSUBSCRIBE, this server    answers addressed to it
//	prefix#nsp#room#    SSUBSCRIBE (dynamic modes) single-room broadcasts without ack
//
// There is no request channel: requests go to prefix#nsp#, and the
// requester's own SPUBLISH comes back to it there (ownEcho drops it).
// Servers are counted with PUBSUB SHARDNUMSUB prefix#nsp#, summed over
// the masters of a cluster. The protocol has no allRooms, no SOCKETS and
// no single-socket requests (they fail with ErrUnsupported), and no
// heartbeats (8.3.0 sends none).
type shardedProtocol struct {
	mode     ShardedMode
	client   rueidis.Client
	nodes    *nodeClients // may be nil
	nsp      string
	uid      string
	main     string // prefix#nsp#
	response string // prefix#nsp#<uid>#

	// The tails of our own envelopes, JSON and msgpack: uid and nsp are
	// the last keys, so an echo is recognised without decoding.
	echoJSON, echoMsgpack string

	// Decode scratch: decode runs on the namespace's worker only.
	scratch codec.Envelope
	packet  codec.Packet
}

func newShardedProtocol(e *Engine, nsp, uid string) *shardedProtocol {
	main := e.opts.Key + "#" + nsp + "#"
	js := append([]byte(`,"uid":`), codec.AppendJSONString(nil, uid)...)
	js = append(js, `,"nsp":`...)
	js = append(codec.AppendJSONString(js, nsp), '}')
	mp := codec.AppendString([]byte("\xa3uid"), uid)
	mp = codec.AppendString(append(mp, "\xa3nsp"...), nsp)
	return &shardedProtocol{
		mode: e.opts.ShardedMode, client: e.client, nodes: e.nodes,
		nsp: nsp, uid: uid, main: main, response: main + uid + "#",
		echoJSON: string(js), echoMsgpack: string(mp),
	}
}

// newHexUID returns a ClusterAdapter node uid: 16 lowercase hex characters
// (8 random bytes), as socket.io-adapter's randomId.
func newHexUID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// looksLikeSocketID is Node's looksLikeASocketId: a string of exactly 20
// characters (JavaScript counts UTF-16 units; a socket id is ASCII, and a
// non-ASCII room of 20 units is treated alike).
func looksLikeSocketID(r Room) bool {
	// 20 UTF-16 units take 20 to 60 bytes: most rooms need no counting.
	return !r.Numeric && len(r.Name) >= 20 && len(r.Name) <= 60 && jsLength(r.Name) == 20
}

// jsLength is the length of s in UTF-16 code units, as JavaScript counts.
func jsLength(s string) int {
	n := 0
	for _, c := range s {
		n++
		if c >= 0x10000 {
			n++
		}
	}
	return n
}

// roomChannel reports whether a single-room broadcast to r (without ack)
// is published on r's own channel; see ShardedDynamic for the rule.
func (p *shardedProtocol) roomChannel(r Room) bool {
	switch p.mode {
	case ShardedDynamicPrivate:
		return true
	case ShardedDynamic:
		return !looksLikeSocketID(r)
	}
	return false
}

func (p *shardedProtocol) plan() []plannedSub {
	return []plannedSub{
		{key: subKey{subShard, p.main}, broadcast: true},
		{key: subKey{subShard, p.response}},
	}
}

// roomSub follows exactly the rooms whose channel a publisher may use, so
// subscribing and publishing agree by construction.
func (p *shardedProtocol) roomSub(r Room) (subKey, bool) {
	if !p.roomChannel(r) {
		return subKey{}, false
	}
	return subKey{subShard, p.main + r.Name + "#"}, true
}

func (p *shardedProtocol) ownEcho(msg string) bool {
	if codec.IsJSON(msg) {
		return len(msg) > len(p.echoJSON) && msg[len(msg)-len(p.echoJSON):] == p.echoJSON
	}
	return len(msg) > len(p.echoMsgpack) && msg[len(msg)-len(p.echoMsgpack):] == p.echoMsgpack
}

func (p *shardedProtocol) serverCount(ctx context.Context) (int, error) {
	return shardNumsubAll(ctx, p.client, p.nodes, p.main)
}

// flavor is the MessagePack dialect of packet data: notepack.io 3, except
// integral numbers beyond the 64-bit range, written as float64 so that the
// JSON path (most sharded traffic) carries them as Node's JSON.stringify
// does (1e21 → 1e+21) instead of notepack's wrapped integer; on the
// msgpack path Node peers then read the right number where Node's own
// encoder would have sent garbage.
func (p *shardedProtocol) flavor() codec.Flavor { return codec.Notepack3Exact }

// has reports whether the protocol has the request of kind k: the
// ClusterAdapter has no allRooms, no SOCKETS and no single-socket
// requests.
func (p *shardedProtocol) has(k msgKind) bool {
	switch k {
	case msgAllRooms, msgSockets, msgSidJoin, msgSidLeave, msgSidDisconnect, msgClientRooms, msgCustomRequest:
		return false
	}
	return true
}

func (p *shardedProtocol) decode(ns *Namespace, channel, payload string, m *message) (bool, DropReason) {
	e := &p.scratch
	if err := codec.DecodeEnvelope(payload, e); err != nil {
		ns.malformed(channel, payload, err)
		return false, DropMalformed
	}
	if string(e.Nsp) != p.nsp {
		// socket.io-adapter 2.5.6+ drops these too (8.2.x senders had no nsp).
		return false, DropOtherNamespace
	}
	d := &e.Data
	m.uid = string(e.UID)
	m.requestID = string(d.RequestID)
	typ := int(e.Type)
	if channel == p.response {
		switch typ {
		case codec.ClusterFetchSocketsResponse, codec.ClusterServerSideEmitResponse,
			codec.ClusterBroadcastClientCount, codec.ClusterBroadcastAck:
		default:
			return false, DropForeign // Node's onResponse ignores anything else here too
		}
	}
	opts := func() {
		m.rooms = fromCodecRooms(d.Opts.Rooms)
		m.except = fromCodecRooms(d.Opts.Except)
		m.flags = d.Opts.Flags
	}
	switch typ {
	case codec.ClusterBroadcast:
		pk := &p.packet
		pk.Reset()
		if err := codec.DecodePacket(d.Packet, pk); err != nil {
			ns.malformed(channel, payload, err)
			return false, DropMalformed
		}
		opts()
		m.kind = msgBroadcast
		if m.requestID != "" {
			m.kind = msgBroadcastWithAck
		}
		m.packetType = int(pk.Type)
		m.data = pk.Data
		m.nsp = p.nsp // the packet has no nsp: the envelope's was checked
	case codec.ClusterSocketsJoin, codec.ClusterSocketsLeave:
		opts()
		m.kind = msgSocketsJoin
		if typ == codec.ClusterSocketsLeave {
			m.kind = msgSocketsLeave
		}
		m.targetRooms = fromCodecRooms(d.Rooms)
	case codec.ClusterDisconnectSockets:
		opts()
		m.kind = msgDisconnectSockets
		m.close = d.Close
	case codec.ClusterFetchSockets:
		if m.requestID == "" {
			return false, DropForeign // nobody could be answered
		}
		opts()
		m.kind = msgFetchSockets
	case codec.ClusterServerSideEmit:
		m.kind = msgServerSideEmit
		m.data = d.Packet
	case codec.ClusterFetchSocketsResponse:
		m.kind = msgSocketsResponse
		m.sockets = d.Sockets
	case codec.ClusterServerSideEmitResponse:
		m.kind = msgServerSideEmitResponse
		m.data = d.Packet
	case codec.ClusterBroadcastClientCount:
		m.kind = msgClientCount
		m.clientCount = int(d.ClientCount)
	case codec.ClusterBroadcastAck:
		m.kind = msgBroadcastAck
		m.data = d.Packet
	default:
		// Heartbeats and ADAPTER_CLOSE (ClusterAdapterWithHeartbeat peers)
		// and unknown types: a plain ClusterAdapter ignores them.
		return false, DropForeign
	}
	if m.kind.isResponse() && m.requestID == "" {
		return false, DropForeign
	}
	return true, 0
}

func (p *shardedProtocol) encode(s *sender, m *message, dst []byte) (rueidis.Completed, []byte, bool, error) {
	opts := codec.BroadcastOpts{Rooms: toCodecRooms(m.rooms), Except: toCodecRooms(m.except), Order: codec.OrderAdapter}
	reqID := codec.Str(m.requestID)
	var (
		typ      int
		data     msgp.Marshaler
		room     = false // published on the room channel of m.rooms[0]
		fanout   = true  // prefix#nsp#: every server
		response = m.kind.isResponse()
	)
	switch m.kind {
	case msgBroadcast, msgBroadcastWithAck:
		typ = codec.ClusterBroadcast
		opts.Flags = m.flags
		bd := codec.BroadcastData{Packet: codec.Packet{Type: codec.Int(m.packetType), Data: m.data}, Opts: opts}
		if m.kind == msgBroadcastWithAck {
			// Never on a room channel: the requester expects an answer
			// from every server SHARDNUMSUB counts on the main channel.
			bd.RequestID = reqID
		} else if len(m.rooms) == 1 && p.roomChannel(m.rooms[0]) {
			room, fanout = true, false
		}
		data = &bd
	case msgSocketsJoin, msgSocketsLeave:
		typ = codec.ClusterSocketsJoin
		if m.kind == msgSocketsLeave {
			typ = codec.ClusterSocketsLeave
		}
		data = &codec.SocketsJoinData{Opts: opts, Rooms: toCodecRooms(m.targetRooms)}
	case msgDisconnectSockets:
		typ = codec.ClusterDisconnectSockets
		data = &codec.DisconnectSocketsData{Opts: opts, Close: m.close}
	case msgFetchSockets:
		typ = codec.ClusterFetchSockets
		opts.Flags = m.flags
		data = &codec.FetchSocketsData{Opts: opts, RequestID: reqID}
	case msgServerSideEmit:
		typ = codec.ClusterServerSideEmit
		data = &codec.ServerSideEmitData{RequestID: reqID, Packet: m.data}
	case msgSocketsResponse:
		typ = codec.ClusterFetchSocketsResponse
		data = &codec.FetchSocketsResponseData{RequestID: reqID, Sockets: m.sockets}
	case msgServerSideEmitResponse:
		typ = codec.ClusterServerSideEmitResponse
		data = &codec.RequestPacketData{RequestID: reqID, Packet: m.data}
	case msgBroadcastAck:
		typ = codec.ClusterBroadcastAck
		data = &codec.RequestPacketData{RequestID: reqID, Packet: m.data}
	case msgClientCount:
		typ = codec.ClusterBroadcastClientCount
		data = &codec.ClientCountData{RequestID: reqID, ClientCount: codec.Int(m.clientCount)}
	default:
		return rueidis.Completed{}, dst, false, fmt.Errorf("sharded protocol: message kind %d: %w", m.kind, ErrUnsupported)
	}
	if response && m.to == "" {
		return rueidis.Completed{}, dst, false, fmt.Errorf("sharded protocol: an answer without the requester's uid")
	}
	out, _, err := codec.AppendEnvelope(dst, typ, s.uid, s.nsp, data, codec.EncodingAuto)
	if err != nil {
		return rueidis.Completed{}, dst, false, fmt.Errorf("sharded protocol: encode: %w", err)
	}
	payload := out[len(dst):]
	channel := p.main
	if room || response {
		// The room or requester channel goes into the same buffer as the
		// payload rather than into a new string per message.
		start := len(out)
		out = append(out, p.main...)
		if room {
			out = append(out, m.rooms[0].Name...)
		} else {
			out = append(out, m.to...)
		}
		out = append(out, '#')
		channel = rueidis.BinaryString(out[start:])
		payload = out[len(dst):start]
		fanout = false
	}
	cmd := s.client.B().Spublish().Channel(channel).Message(rueidis.BinaryString(payload)).Build()
	return cmd, out, fanout, nil
}
