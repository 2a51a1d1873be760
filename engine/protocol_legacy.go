package engine

import (
	"fmt"
	"strings"

	"github.com/redis/rueidis"
	"github.com/sioredis/sioredis/codec"
	"github.com/tinylib/msgp/msgp"
)

// legacyGen is a generation of the socket.io-redis 4.x/5.x protocol.
type legacyGen uint8

const (
	legacy4 legacyGen = iota // socket.io-redis 4.0.x, Socket.IO 1.x, msgpack-lite
	legacy5                  // socket.io-redis 5.x, Socket.IO 2.x, notepack.io 2
)

// legacyProtocol is the protocol of socket.io-redis 4.0.x and 5.x
// (wire-format spec §2, §3.1), bound to one namespace:
//
//	key#nsp#            broadcasts to all / several rooms (msgpack [uid, packet, opts])
//	key#nsp#room#       broadcasts to exactly one room
//	key-request#nsp#    requests, JSON {requestid, type, …}, types 0–6
//	key-response#nsp#   answers, JSON {requestid, …}
//
// 4.0 SUBSCRIBEs key#nsp# and one key#nsp#room# per room it hosts, socket
// ids included (roomSub); with withChannelMultiplexing false
// (Options.NoChannelMultiplexing) every broadcast goes to key#nsp# and no
// room is subscribed. 5.x PSUBSCRIBEs key#nsp#* (or, with
// RoomSubscriptions, subscribes per room as 4.0 does: wire-identical).
//
// Node differences that matter here: packets carrying binary are type 5
// (BINARY_EVENT), as Socket.IO 1.x/2.x receivers need; `except` holds
// socket ids, not rooms (a received except entry that is not a local
// socket id excludes nobody, as on a Node node of that generation); every
// number of 4.0's packet data is what msgpack-lite writes (integers
// outside int32 as float64).
//
// A Node requester answers its own request (NUMSUB counts it); a Go
// requester computes its own part locally and waits for NUMSUB − 1 answers,
// recognising the echo of its request by the request id it is waiting for.
type legacyProtocol struct {
	channelProtocol
	gen   legacyGen
	hooks *hookSlot

	scratchLegacy codec.LegacyMessage
}

func newLegacyProtocol(client rueidis.Client, key, nsp, uid string, gen legacyGen, perRoom bool) *legacyProtocol {
	return &legacyProtocol{channelProtocol: newChannelProtocol(client, key, nsp, uid, perRoom), gen: gen, hooks: &hookSlot{}}
}

func (p *legacyProtocol) plan() []plannedSub {
	c := &p.ch
	// 4.0 subscribes to the namespace's channel itself, never a pattern
	// (and to room channels by roomSub unless NoChannelMultiplexing).
	return p.planWith(p.gen == legacy4,
		plannedSub{key: subKey{subChannel, c.request}},
		plannedSub{key: subKey{subChannel, c.response}})
}

// typedPackets: Socket.IO 1.x/2.x senders mark packets with attachments
// BINARY_EVENT and send binary(false) packets as EVENT.
func (p *legacyProtocol) typedPackets() bool { return true }

func (p *legacyProtocol) flavor() codec.Flavor {
	if p.gen == legacy4 {
		return codec.MsgpackLite
	}
	return codec.Notepack2
}

// has: the seven requests of 4.0; no bulk operations, fetchSockets,
// serverSideEmit or acknowledged broadcasts (Socket.IO 1.x/2.x have none).
func (p *legacyProtocol) has(k msgKind) bool {
	switch k {
	case msgSockets, msgClientRooms, msgAllRooms, msgSidJoin, msgSidLeave, msgCustomRequest, msgSidDisconnect:
		return true
	}
	return false
}

func (p *legacyProtocol) decode(ns *Namespace, channel, payload string, m *message) (bool, DropReason) {
	c := &p.ch
	switch {
	case channel == c.request:
		return p.decodeRequest(ns, channel, payload, m)
	case channel == c.response:
		return p.decodeResponse(ns, channel, payload, m)
	case strings.HasPrefix(channel, c.broadcast):
		b := &p.scratchBroadcast
		if ok, reason := decodeBroadcast(ns, c, b, channel, payload, m); !ok {
			return false, reason
		}
		// Socket.IO 1.x/2.x compare except with socket ids: an entry that
		// is not one of our sockets excludes nobody here either.
		for _, r := range fromCodecRooms(b.Opts.Except) {
			if !r.Numeric && ns.index.HasSocket(r.Name) {
				m.except = append(m.except, r)
			}
		}
		return true, 0
	}
	return false, DropForeign
}

func (p *legacyProtocol) decodeRequest(ns *Namespace, channel, payload string, m *message) (bool, DropReason) {
	lm := &p.scratchLegacy
	if err := codec.DecodeLegacy(payload, lm); err != nil {
		ns.malformed(channel, payload, err)
		return false, DropMalformed
	}
	if !lm.Type.Valid || lm.RequestID == "" {
		return false, DropForeign
	}
	m.requestID = string(lm.RequestID)
	m.sid = string(lm.Sid)
	m.room = Room(lm.Room)
	m.close = lm.Close
	switch lm.Type.Value {
	case codec.LegacyTypeClients:
		m.kind = msgSockets
		m.targetRooms = fromCodecRooms(lm.Rooms)
	case codec.LegacyTypeClientRooms:
		m.kind = msgClientRooms
	case codec.LegacyTypeAllRooms:
		m.kind = msgAllRooms
	case codec.LegacyTypeRemoteJoin:
		m.kind = msgSidJoin
	case codec.LegacyTypeRemoteLeave:
		m.kind = msgSidLeave
	case codec.LegacyTypeCustomRequest:
		m.kind = msgCustomRequest
		m.data = lm.Data
	case codec.LegacyTypeRemoteDisconnect:
		m.kind = msgSidDisconnect
	default:
		return false, DropForeign
	}
	markOwnRequest(ns, m)
	return true, 0
}

// markOwnRequest recognises the echo of a request this namespace is
// waiting for (the protocols whose requests carry no uid): it gets our uid,
// so that the namespace drops it as its own.
func markOwnRequest(ns *Namespace, m *message) {
	if m.requestID == "" {
		return
	}
	if _, ok := ns.reqs.m.Load(m.requestID); ok {
		m.uid = ns.uid
	}
}

func (p *legacyProtocol) decodeResponse(ns *Namespace, channel, payload string, m *message) (bool, DropReason) {
	lm := &p.scratchLegacy
	if err := codec.DecodeLegacy(payload, lm); err != nil {
		ns.malformed(channel, payload, err)
		return false, DropMalformed
	}
	if lm.RequestID == "" || lm.Type.Valid {
		return false, DropForeign
	}
	m.requestID = string(lm.RequestID)
	m.kind = msgDoneResponse // the request knows what it asked
	m.targetRooms = fromCodecRooms(lm.Rooms)
	m.sids = append(m.sids, lm.Clients...)
	m.data = lm.Data
	return true, 0
}

func (p *legacyProtocol) encode(s *sender, m *message, dst []byte) (rueidis.Completed, []byte, bool, error) {
	c := &p.ch
	channel := c.request
	fanout := true
	var (
		v   msgp.Marshaler
		err error
		out []byte
	)
	reqID := codec.Str(m.requestID)
	switch m.kind {
	case msgBroadcast:
		channel = c.broadcast
		if len(m.rooms) == 1 && (p.gen != legacy4 || p.perRoom) {
			channel = "" // the room channel, written after the payload
			fanout = false
		}
		typ := m.packetType
		switch {
		case m.flags.Has&codec.FlagBinary != 0 && typ == codec.PacketEvent && m.flags.Binary:
			typ = codec.PacketBinaryEvent // Socket.IO 2.x binary(true)
		case m.flags.Has&codec.FlagBinary != 0:
			// binary(false): EVENT, whatever the data holds
		case typ == codec.PacketEvent && codec.HasBinary(m.data):
			typ = codec.PacketBinaryEvent // what Socket.IO 1.x/2.x receivers need to send binary frames
		}
		b := codec.Broadcast{UID: codec.Str(s.uid), Packet: codec.Packet{Type: codec.Int(typ), Data: m.data, Nsp: codec.Str(s.nsp)},
			Opts: codec.BroadcastOpts{Rooms: toCodecRooms(m.rooms), Except: toCodecRooms(m.except), Flags: m.flags, Order: codec.OrderLegacy}}
		out, err = codec.AppendBroadcast(dst, &b, codec.OrderLegacy)
	case msgSockets:
		v = &codec.LegacyClientsRequest{RequestID: reqID, Type: codec.LegacyTypeClients, Rooms: toCodecRooms(m.targetRooms)}
	case msgClientRooms:
		v = &codec.LegacySidRequest{RequestID: reqID, Type: codec.LegacyTypeClientRooms, Sid: codec.Str(m.sid)}
	case msgAllRooms:
		v = &codec.LegacyAllRoomsRequest{RequestID: reqID, Type: codec.LegacyTypeAllRooms}
	case msgSidJoin, msgSidLeave:
		typ := codec.LegacyTypeRemoteJoin
		if m.kind == msgSidLeave {
			typ = codec.LegacyTypeRemoteLeave
		}
		v = &codec.LegacySidRoomRequest{RequestID: reqID, Type: codec.Int(typ), Sid: codec.Str(m.sid), Room: codec.Room(m.room)}
	case msgCustomRequest:
		v = &codec.LegacyCustomRequest{RequestID: reqID, Type: codec.LegacyTypeCustomRequest, Data: nilIfEmpty(m.data)}
	case msgSidDisconnect:
		v = &codec.LegacyDisconnectRequest{RequestID: reqID, Type: codec.LegacyTypeRemoteDisconnect, Sid: codec.Str(m.sid), Close: m.close}
	case msgSocketsResponse:
		channel = c.response
		v = &legacyRawResponse{requestID: reqID, key: "clients", value: m.sockets}
	case msgRoomsResponse:
		channel = c.response
		v = &codec.LegacyRoomsResponse{RequestID: reqID, Rooms: toCodecRooms(m.targetRooms)}
	case msgCustomResponse:
		channel = c.response
		v = &codec.LegacyDataResponse{RequestID: reqID, Data: nilIfEmpty(m.data)}
	case msgDoneResponse:
		channel = c.response
		v = &codec.LegacyAckResponse{RequestID: reqID}
	default:
		return rueidis.Completed{}, dst, false, fmt.Errorf("%v protocol: cannot encode message kind %d", p.protocol(), m.kind)
	}
	return publishCommand(s, c, m, dst, out, v, channel, fanout && !m.kind.isResponse(), err)
}

func (p *legacyProtocol) protocol() Protocol {
	if p.gen == legacy4 {
		return SocketIORedis4
	}
	return SocketIORedis5
}

// nilIfEmpty is raw msgpack nil for an absent value (JSON null).
func nilIfEmpty(r codec.Raw) codec.Raw {
	if len(r) == 0 {
		return codec.Raw{0xc0}
	}
	return r
}

// legacyRawResponse is {requestid, <key>: <raw msgpack>}: the clients
// answer, whose list is already encoded.
type legacyRawResponse struct {
	requestID codec.Str
	key       string
	value     codec.Raw
}

// MarshalMsg implements msgp.Marshaler.
func (r *legacyRawResponse) MarshalMsg(b []byte) ([]byte, error) {
	b = codec.AppendMapHeader(b, 2)
	b = codec.AppendString(b, "requestid")
	b = codec.AppendString(b, string(r.requestID))
	b = codec.AppendString(b, r.key)
	return nilIfEmpty(r.value).MarshalMsg(b)
}

// redis6Protocol is socket.io-redis 6.x (Socket.IO 3.x/4.0; spec §3.2): the
// channels, request numbering and camelCase requestId of the classic
// protocol, without the node-specific response channel, serverSideEmit and
// acknowledged broadcasts, with notepack.io 2 packet data and without a uid
// in requests that have a requestId (6.x requesters recognise their own
// requests by that id; so does this one).
//
// Bulk operations (socketsJoin, socketsLeave, disconnectSockets) keep the
// sender's uid: 6.x nodes ignore the extra key, and the sender, which has
// applied the operation to its own sockets already, can then recognise its
// echo instead of applying it a second time after later changes.
type redis6Protocol struct {
	classicProtocol
}

func newRedis6Protocol(client rueidis.Client, key, nsp, uid string, perRoom bool) *redis6Protocol {
	return &redis6Protocol{classicProtocol: *newClassicProtocol(client, key, nsp, uid, perRoom)}
}

func (p *redis6Protocol) plan() []plannedSub {
	c := &p.ch
	return p.planWith(false,
		plannedSub{key: subKey{subChannel, c.request}},
		plannedSub{key: subKey{subChannel, c.response}})
}

func (p *redis6Protocol) flavor() codec.Flavor { return codec.Notepack2 }

func (p *redis6Protocol) has(k msgKind) bool {
	switch k {
	case msgServerSideEmit, msgBroadcastWithAck, msgClientRooms, msgCustomRequest:
		return false
	}
	return true
}

func (p *redis6Protocol) decode(ns *Namespace, channel, payload string, m *message) (bool, DropReason) {
	ok, reason := p.classicProtocol.decode(ns, channel, payload, m)
	if ok && m.kind != msgBroadcast && !m.kind.isResponse() && m.uid == "" {
		markOwnRequest(ns, m)
	}
	return ok, reason
}

func (p *redis6Protocol) encode(s *sender, m *message, dst []byte) (rueidis.Completed, []byte, bool, error) {
	if !p.has(m.kind) {
		return rueidis.Completed{}, dst, false, fmt.Errorf("%v protocol: cannot encode message kind %d", SocketIORedis6, m.kind)
	}
	s6 := *s
	s6.specificResponses = false // 6.x answers on the shared channel only
	switch m.kind {
	case msgAllRooms, msgFetchSockets, msgSockets, msgSidJoin, msgSidLeave, msgSidDisconnect:
		s6.uid = ""
	}
	return p.classicProtocol.encode(&s6, m, dst)
}
