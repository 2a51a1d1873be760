package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/rueidis"
	"github.com/sioredis/sioredis/codec"
	"github.com/tinylib/msgp/msgp"
)

// classicProtocol is the protocol of @socket.io/redis-adapter 7.x/8.x
// createAdapter (wire-format spec §4), bound to one namespace:
//
//	key#nsp#            PSUBSCRIBE key#nsp#*   broadcasts to all / several rooms
//	key#nsp#room#       (same pattern)         broadcasts to exactly one room
//	key-request#nsp#    SUBSCRIBE              requests, JSON (BROADCAST: msgpack)
//	key-response#nsp#   SUBSCRIBE              answers, JSON (BROADCAST_ACK: msgpack)
//	key-response#nsp#uid#  SUBSCRIBE           answers addressed to this node
//
// In the per-room mode (RoomSubscriptions) the pattern is replaced by a
// SUBSCRIBE to key#nsp# and one to key#nsp#room# per room this node hosts,
// socket-id rooms included: Node 8.x servers and the emitter publish
// single-room broadcasts on the room channel, so nothing changes on the
// wire, and a node no longer hears the single-room broadcasts of rooms it
// does not host.
//
// Servers are counted with PUBSUB NUMSUB key-request#nsp#, summed over every
// node of a cluster.
type classicProtocol struct {
	channelProtocol
	scratchClassic codec.ClassicMessage // decode scratch (the worker's only)
}

func newClassicProtocol(client rueidis.Client, key, nsp, uid string, perRoom bool) *classicProtocol {
	return &classicProtocol{channelProtocol: newChannelProtocol(client, key, nsp, uid, perRoom)}
}

// channelProtocol is what the classic protocol and socket.io-redis 4.0 to
// 6.x share: one namespace's channels (classicChannels), the subscription
// mode, the client, the uid, and what follows from them alone.
type channelProtocol struct {
	ch      classicChannels
	perRoom bool
	client  rueidis.Client
	nodes   *nodeClients // cluster nodes the client has no connection to; may be nil
	uid     string

	scratchBroadcast codec.Broadcast // decode scratch: decode runs on the namespace's worker only
}

func newChannelProtocol(client rueidis.Client, key, nsp, uid string, perRoom bool) channelProtocol {
	return channelProtocol{ch: newClassicChannels(key, nsp, uid), perRoom: perRoom, client: client, uid: uid}
}

// planWith is a plan: the subscriptions subs (requests, responses), then
// the broadcasts: the namespace's broadcast channel in per-room mode or
// when roomChannels (the room channels come by roomSub), else the pattern
// over it.
func (p *channelProtocol) planWith(roomChannels bool, subs ...plannedSub) []plannedSub {
	if roomChannels || p.perRoom {
		return append(subs, plannedSub{key: subKey{subChannel, p.ch.broadcast}, broadcast: true})
	}
	return append(subs, plannedSub{key: subKey{subPattern, p.ch.pattern}, broadcast: true})
}

func (p *channelProtocol) roomSub(r Room) (subKey, bool) {
	if !p.perRoom {
		return subKey{}, false
	}
	return subKey{subChannel, p.ch.broadcast + r.Name + "#"}, true
}

// ownEcho recognises our own broadcasts by their first bytes: a msgpack
// array of 3 whose first element is our uid (a fixstr).
func (p *channelProtocol) ownEcho(msg string) bool { return echoOf(p.uid, msg) }

// serverCount is NUMSUB of the request channel, which every server of the
// namespace subscribes to.
func (p *channelProtocol) serverCount(ctx context.Context) (int, error) {
	return numsub(ctx, p.client, p.nodes, p.ch.request)
}

// classicChannels are the channel names of one namespace.
type classicChannels struct {
	broadcast string // key#nsp#
	pattern   string // key#nsp#*
	request   string // key-request#nsp#
	response  string // key-response#nsp#
	specific  string // key-response#nsp#uid#
}

func newClassicChannels(key, nsp, uid string) classicChannels {
	return classicChannels{
		broadcast: key + "#" + nsp + "#",
		pattern:   key + "#" + nsp + "#*",
		request:   key + "-request#" + nsp + "#",
		response:  key + "-response#" + nsp + "#",
		specific:  key + "-response#" + nsp + "#" + uid + "#",
	}
}

func (p *classicProtocol) plan() []plannedSub {
	c := &p.ch
	return p.planWith(false,
		plannedSub{key: subKey{subChannel, c.request}},
		plannedSub{key: subKey{subChannel, c.response}},
		plannedSub{key: subKey{subChannel, c.specific}})
}

// echoOf reports whether msg is a msgpack broadcast [uid, packet, opts] of
// sender uid (a fixstr), reading only its first bytes.
func echoOf(uid, msg string) bool {
	return len(uid) < 32 && len(msg) > 2+len(uid) &&
		msg[0] == 0x93 && msg[1] == 0xa0|byte(len(uid)) && msg[2:2+len(uid)] == uid
}

func (p *classicProtocol) flavor() codec.Flavor { return codec.Notepack3 }

// has: every operation but the socket.io-redis 4.x/5.x clientRooms and
// customRequest.
func (p *classicProtocol) has(k msgKind) bool { return k != msgClientRooms && k != msgCustomRequest }

func (p *classicProtocol) decode(ns *Namespace, channel, payload string, m *message) (bool, DropReason) {
	c := &p.ch
	switch {
	case strings.HasPrefix(channel, c.broadcast):
		ok, reason := decodeBroadcast(ns, c, &p.scratchBroadcast, channel, payload, m)
		if ok {
			m.except = fromCodecRooms(p.scratchBroadcast.Opts.Except)
		}
		return ok, reason
	case channel == c.request:
		return p.decodeRequest(ns, channel, payload, m)
	case strings.HasPrefix(channel, c.response):
		return p.decodeResponse(ns, channel, payload, m)
	}
	return false, DropForeign
}

// decodeBroadcast decodes a [uid, packet, opts] broadcast that arrived on
// key#nsp# or a room channel key#nsp#room# (dropped when this server does
// not host the room), for the classic and legacy protocols; m.except is
// left to the caller (their rules differ).
func decodeBroadcast(ns *Namespace, c *classicChannels, b *codec.Broadcast, channel, payload string, m *message) (bool, DropReason) {
	if room := channel[len(c.broadcast):]; room != "" {
		room = room[:len(room)-1] // the trailing '#'
		if !ns.index.HasRoom(StringRoom(room)) && !(looksNumeric(room) && ns.index.HasRoom(Room{Name: room, Numeric: true})) {
			return false, DropNoRoom
		}
	}
	if err := codec.DecodeBroadcast(payload, b); err != nil {
		ns.malformed(channel, payload, err)
		return false, DropMalformed
	}
	m.kind = msgBroadcast
	m.uid = string(b.UID)
	m.packetType = int(b.Packet.Type)
	m.data = b.Packet.Data
	m.nsp = b.Packet.NamespaceOr("/")
	m.rooms = fromCodecRooms(b.Opts.Rooms)
	m.flags = b.Opts.Flags
	return true, 0
}

func (p *classicProtocol) decodeRequest(ns *Namespace, channel, payload string, m *message) (bool, DropReason) {
	cm := &p.scratchClassic
	if err := codec.DecodeClassic(payload, cm); err != nil {
		ns.malformed(channel, payload, err)
		return false, DropMalformed
	}
	if !cm.Type.Valid {
		return false, DropForeign
	}
	m.uid = string(cm.UID)
	m.requestID = string(cm.RequestID)
	m.rooms = fromCodecRooms(cm.Opts.Rooms)
	m.except = fromCodecRooms(cm.Opts.Except)
	m.flags = cm.Opts.Flags
	m.sid = string(cm.Sid)
	m.room = Room(cm.Room)
	m.close = cm.Close
	switch cm.Type.Value {
	case codec.RequestSockets:
		m.kind = msgSockets
		m.targetRooms = fromCodecRooms(cm.Rooms)
	case codec.RequestAllRooms:
		m.kind = msgAllRooms
	case codec.RequestRemoteJoin, codec.RequestRemoteLeave:
		join := cm.Type.Value == codec.RequestRemoteJoin
		switch {
		case m.sid != "" && join:
			m.kind = msgSidJoin
		case m.sid != "":
			m.kind = msgSidLeave
		case join:
			m.kind = msgSocketsJoin
		default:
			m.kind = msgSocketsLeave
		}
		m.targetRooms = fromCodecRooms(cm.Rooms)
	case codec.RequestRemoteDisconnect:
		m.kind = msgDisconnectSockets
		if m.sid != "" {
			m.kind = msgSidDisconnect
		}
	case codec.RequestRemoteFetch:
		m.kind = msgFetchSockets
	case codec.RequestServerSideEmit:
		m.kind = msgServerSideEmit
		m.data = cm.Data
	case codec.RequestBroadcast:
		m.kind = msgBroadcastWithAck
		var p codec.Packet
		if err := codec.DecodePacket(cm.Packet, &p); err != nil {
			ns.malformed(channel, payload, err)
			return false, DropMalformed
		}
		m.packetType = int(p.Type)
		m.data = p.Data
		m.nsp = p.NamespaceOr(ns.name)
	default:
		return false, DropForeign
	}
	if m.requestID == "" && (m.kind == msgAllRooms || m.kind == msgFetchSockets || m.kind == msgSockets ||
		m.kind == msgSidJoin || m.kind == msgSidLeave || m.kind == msgSidDisconnect || m.kind == msgBroadcastWithAck) {
		return false, DropForeign // nobody could be answered
	}
	return true, 0
}

func (p *classicProtocol) decodeResponse(ns *Namespace, channel, payload string, m *message) (bool, DropReason) {
	cm := &p.scratchClassic
	if err := codec.DecodeClassic(payload, cm); err != nil {
		ns.malformed(channel, payload, err)
		return false, DropMalformed
	}
	m.requestID = string(cm.RequestID)
	if m.requestID == "" {
		return false, DropForeign
	}
	switch {
	case !cm.Type.Valid:
		m.kind = msgDoneResponse // allRooms, fetchSockets, SOCKETS and sid answers: the request knows
		m.targetRooms = fromCodecRooms(cm.Rooms)
		m.sockets = cm.Sockets
	case cm.Type.Value == codec.RequestServerSideEmit:
		m.kind = msgServerSideEmitResponse
		m.data = cm.Data
	case cm.Type.Value == codec.ResponseBroadcastClientCount:
		m.kind = msgClientCount
		m.clientCount = int(cm.ClientCount)
	case cm.Type.Value == codec.ResponseBroadcastAck:
		m.kind = msgBroadcastAck
		m.data = cm.Packet
	default:
		return false, DropForeign
	}
	return true, 0
}

func (p *classicProtocol) encode(s *sender, m *message, dst []byte) (rueidis.Completed, []byte, bool, error) {
	c := &p.ch
	channel := c.request
	fanout := true // key#nsp# and key-request#nsp# reach every server
	var (
		v   msgp.Marshaler
		err error
		out []byte
	)
	opts := codec.BroadcastOpts{Rooms: toCodecRooms(m.rooms), Except: toCodecRooms(m.except), Order: codec.OrderRoomsExcept}
	uid := codec.Str(s.uid)
	bulkUID := uid
	if s.emitter {
		bulkUID = "" // the emitter's bulk operations carry no uid
	}
	reqID := codec.Str(m.requestID)
	switch m.kind {
	case msgBroadcast:
		channel = c.broadcast
		if len(m.rooms) == 1 {
			channel = "" // written after the payload, below
			fanout = false
		}
		order := codec.OrderAdapter
		if s.emitter {
			order = codec.OrderEmitter
		}
		opts.Order, opts.Flags = order, m.flags
		b := codec.Broadcast{UID: uid, Packet: codec.Packet{Type: codec.Int(m.packetType), Data: m.data, Nsp: codec.Str(s.nsp)}, Opts: opts}
		out, err = codec.AppendBroadcast(dst, &b, order)
	case msgSocketsJoin, msgSocketsLeave:
		typ := codec.RequestRemoteJoin
		if m.kind == msgSocketsLeave {
			typ = codec.RequestRemoteLeave
		}
		v = &codec.RoomsRequest{UID: bulkUID, Type: codec.Int(typ), Opts: opts, Rooms: toCodecRooms(m.targetRooms)}
	case msgDisconnectSockets:
		v = &codec.DisconnectSocketsRequest{UID: bulkUID, Type: codec.RequestRemoteDisconnect, Opts: opts, Close: m.close}
	case msgAllRooms:
		v = &codec.AllRoomsRequest{UID: uid, RequestID: reqID, Type: codec.RequestAllRooms}
	case msgFetchSockets:
		v = &codec.FetchSocketsRequest{UID: uid, RequestID: reqID, Type: codec.RequestRemoteFetch, Opts: opts}
	case msgSockets:
		v = &codec.SocketsRequest{UID: uid, RequestID: reqID, Type: codec.RequestSockets, Rooms: toCodecRooms(m.targetRooms)}
	case msgSidJoin, msgSidLeave:
		typ := codec.RequestRemoteJoin
		if m.kind == msgSidLeave {
			typ = codec.RequestRemoteLeave
		}
		v = &codec.SidRoomRequest{UID: uid, RequestID: reqID, Type: codec.Int(typ), Sid: codec.Str(m.sid), Room: codec.Room(m.room)}
	case msgSidDisconnect:
		v = &codec.SidDisconnectRequest{UID: uid, RequestID: reqID, Type: codec.RequestRemoteDisconnect, Sid: codec.Str(m.sid), Close: m.close}
	case msgServerSideEmit:
		v = &codec.ServerSideEmitRequest{UID: uid, RequestID: reqID, Type: codec.RequestServerSideEmit, Data: m.data}
	case msgBroadcastWithAck:
		opts.Order, opts.Flags = codec.OrderAdapter, m.flags
		req := codec.BroadcastRequest{UID: uid, RequestID: reqID, Type: codec.RequestBroadcast,
			Packet: codec.Packet{Type: codec.Int(m.packetType), Data: m.data, Nsp: codec.Str(s.nsp)}, Opts: opts}
		out, err = codec.AppendMessage(dst, &req, codec.EncodingMsgpack)
	case msgRoomsResponse:
		channel = c.responseTo(s, m.to)
		v = &codec.RoomsResponse{RequestID: reqID, Rooms: toCodecRooms(m.targetRooms)}
	case msgSocketsResponse:
		channel = c.responseTo(s, m.to)
		v = &codec.SocketsResponse{RequestID: reqID, Sockets: m.sockets}
	case msgDoneResponse:
		channel = c.responseTo(s, m.to)
		v = &codec.RequestIDResponse{RequestID: reqID}
	case msgServerSideEmitResponse:
		channel = c.response // always the shared channel, as Node does
		v = &codec.ServerSideEmitResponse{Type: codec.RequestServerSideEmit, RequestID: reqID, Data: m.data}
	case msgClientCount:
		channel = c.responseTo(s, m.to)
		v = &codec.ClientCountResponse{Type: codec.ResponseBroadcastClientCount, RequestID: reqID, ClientCount: codec.Int(m.clientCount)}
	case msgBroadcastAck:
		channel = c.responseTo(s, m.to)
		ack := codec.BroadcastAckResponse{Type: codec.ResponseBroadcastAck, RequestID: reqID, Packet: m.data}
		out, err = codec.AppendMessage(dst, &ack, codec.EncodingMsgpack)
	default:
		return rueidis.Completed{}, dst, false, fmt.Errorf("classic protocol: cannot encode message kind %d", m.kind)
	}
	return publishCommand(s, c, m, dst, out, v, channel, fanout && !m.kind.isResponse(), err)
}

// publishCommand finishes the encoding of a PUBLISH for the classic and
// legacy protocols: v, when set, is the JSON message (else out already
// holds the msgpack payload after dst); channel "" is the room channel of
// m's only room.
func publishCommand(s *sender, c *classicChannels, m *message, dst, out []byte, v msgp.Marshaler, channel string, fanout bool, err error) (rueidis.Completed, []byte, bool, error) {
	if v != nil && err == nil {
		out, err = codec.AppendMessage(dst, v, codec.EncodingJSON)
	}
	if err != nil {
		return rueidis.Completed{}, dst, false, err
	}
	payload := out[len(dst):]
	if channel == "" {
		// The room channel key#nsp#room# goes into the same buffer as the
		// payload rather than into a new string per broadcast.
		start := len(out)
		out = append(out, c.broadcast...)
		out = append(out, m.rooms[0].Name...)
		out = append(out, '#')
		channel = rueidis.BinaryString(out[start:])
		payload = out[len(dst):start]
	}
	cmd := s.client.B().Publish().Channel(channel).Message(rueidis.BinaryString(payload)).Build()
	return cmd, out, fanout, nil
}

// responseTo is the channel of an answer to requester uid: its own channel
// when the cluster publishes on specific response channels and the request
// named its sender, else the shared one (a request without uid — 6.x, the
// emitter — would otherwise be answered on key-response#nsp#undefined#).
func (c *classicChannels) responseTo(s *sender, uid string) string {
	if uid != "" && s.specificResponses {
		return c.response + uid + "#"
	}
	return c.response
}
