package engine

import (
	"context"
	"fmt"

	"github.com/redis/rueidis"
	"github.com/sioredis/sioredis/codec"
)

// protocol is one Redis wire protocol bound to one namespace (or to the
// emitter's side of one). It owns everything protocol-specific: channel
// names, decode scratch, how our own echoes are recognised, how servers are
// counted, and the subscription plan. The namespace logic (what a request
// means, who answers, when a request is complete) is shared by every
// protocol and works on the neutral message below, so adding a protocol is
// one file beside protocol_classic.go, plus its case in encodeWith.
type protocol interface {
	// plan lists the namespace's static subscriptions, with whether
	// broadcasts (and so our own echoes) arrive on them.
	plan() []plannedSub
	// roomSub returns the subscription that follows the local room r, when
	// the protocol's mode subscribes per room; ok is false otherwise. Rooms
	// that map to the same name share it (reference counted).
	roomSub(r Room) (k subKey, ok bool)
	// decode parses a message that arrived on one of the namespace's
	// subscriptions. It runs on the namespace's worker only, so it may use
	// scratch space of its own. It returns false (and the reason to count)
	// when the message must be dropped before any further work: a room
	// channel for a room this node does not host, a malformed payload.
	decode(ns *Namespace, channel, payload string, m *message) (ok bool, reason DropReason)
	// ownEcho reports, cheaply and without decoding, whether a broadcast
	// is this namespace's own publish coming back (it runs on the Redis
	// reader goroutine, before the hand-off to a worker).
	ownEcho(payload string) bool
	// serverCount counts the servers of the namespace, this one included.
	serverCount(ctx context.Context) (int, error)
	// flavor is the MessagePack dialect of packet data (the library the
	// protocol's Node peers decode it with).
	flavor() codec.Flavor
	// has reports whether the protocol has the request (or bulk
	// operation) of kind k; operations it lacks fail with ErrUnsupported.
	has(k msgKind) bool
}

// plannedSub is one static subscription of a namespace.
type plannedSub struct {
	key       subKey
	broadcast bool
}

// encodeWith encodes m for publishing with p, through a type switch rather
// than an interface method so that m does not escape to the heap (an
// interface call makes every argument escape). Each protocol adds its case
// here. It appends what the command aliases (the payload, and possibly the
// channel name) to dst; buf is the grown dst, which must stay untouched
// until the command was sent. fanout reports that the command goes to a
// channel every server of the namespace subscribes, so that its receiver
// count can be compared with the number of servers.
func encodeWith(p protocol, s *sender, m *message, dst []byte) (cmd rueidis.Completed, buf []byte, fanout bool, err error) {
	switch p := p.(type) {
	case *classicProtocol:
		return p.encode(s, m, dst)
	case *legacyProtocol:
		return p.encode(s, m, dst)
	case *redis6Protocol:
		return p.encode(s, m, dst)
	case *shardedProtocol:
		return p.encode(s, m, dst)
	}
	return rueidis.Completed{}, dst, false, fmt.Errorf("protocol %T has no case in encodeWith", p)
}

// sender is who publishes: a namespace of this server, or the emitter.
type sender struct {
	client rueidis.Client
	nsp    string
	// uid is the sender id put in messages; the emitter's is "emitter".
	uid string
	// emitter: publish as @socket.io/redis-emitter does (options order
	// rooms, flags, except; no uid in bulk operations).
	emitter bool
	// specificResponses: answer on the requester's own response channel.
	specificResponses bool
}

// msgKind is what a message is, independent of its wire form.
type msgKind uint8

const (
	msgNone msgKind = iota
	// broadcasts
	msgBroadcast
	// bulk operations (no answer)
	msgSocketsJoin
	msgSocketsLeave
	msgDisconnectSockets
	// requests
	msgAllRooms
	msgFetchSockets
	msgSockets // legacy SOCKETS: socket ids of rooms
	msgSidJoin
	msgSidLeave
	msgSidDisconnect
	msgServerSideEmit // with requestID: expects answers
	msgBroadcastWithAck
	msgClientRooms   // socket.io-redis 4.x/5.x clientRooms(sid)
	msgCustomRequest // socket.io-redis 4.x/5.x customRequest(data)
	// responses
	msgRoomsResponse          // allRooms
	msgSocketsResponse        // fetchSockets (sockets) or SOCKETS (ids)
	msgDoneResponse           // an answer without a type: sid operation done; decoding gives it to every typeless answer (allRooms, fetchSockets, SOCKETS too), the request knows what it asked
	msgServerSideEmitResponse // one ack
	msgClientCount            // BROADCAST_CLIENT_COUNT
	msgBroadcastAck           // BROADCAST_ACK
	msgCustomResponse         // a customHook's answer (data)
)

// isResponse reports whether kind answers a request.
func (k msgKind) isResponse() bool { return k >= msgRoomsResponse }

// message is a protocol-neutral message. Strings and Raw values may alias
// the payload they were decoded from (an immutable string).
type message struct {
	kind      msgKind
	uid       string // sender; empty for the emitter's bulk operations and 6.x peers
	requestID string

	// broadcast packet; data is the msgpack array [event, …args] (also the
	// serverSideEmit data, and the ack argument of responses)
	packetType int
	data       codec.Raw
	nsp        string

	// selection
	rooms  []Room
	except []Room
	flags  codec.Flags

	// operation arguments and answers
	targetRooms []Room    // rooms to join/leave; SOCKETS rooms; allRooms answer
	close       bool      // disconnect: close the connection
	sid         string    // single-socket operations
	room        Room      // single-socket join/leave
	clientCount int       // BROADCAST_CLIENT_COUNT
	sockets     codec.Raw // fetchSockets / SOCKETS answer (msgpack array)
	sids        []string  // socket.io-redis 4.x/5.x clients answer

	// to is the requester uid a response is addressed to (empty: the
	// shared response channel).
	to string
}

func (m *message) reset() {
	rooms, except, target, sids := m.rooms[:0], m.except[:0], m.targetRooms[:0], m.sids[:0]
	*m = message{rooms: rooms, except: except, targetRooms: target, sids: sids}
}
