package codec

//go:generate go tool msgp -file request_classic.go -o request_classic_gen.go -io=false

// Request and response types of the classic adapter (socket.io-redis 6.x,
// @socket.io/redis-adapter 7.x/8.x), the `type` field.
const (
	RequestSockets               = 0 // SOCKETS (legacy, still answered)
	RequestAllRooms              = 1 // ALL_ROOMS
	RequestRemoteJoin            = 2 // REMOTE_JOIN (bulk or by sid)
	RequestRemoteLeave           = 3 // REMOTE_LEAVE (bulk or by sid)
	RequestRemoteDisconnect      = 4 // REMOTE_DISCONNECT (bulk or by sid)
	RequestRemoteFetch           = 5 // REMOTE_FETCH
	RequestServerSideEmit        = 6 // SERVER_SIDE_EMIT (request and response)
	RequestBroadcast             = 7 // BROADCAST (with acks)
	ResponseBroadcastClientCount = 8 // BROADCAST_CLIENT_COUNT
	ResponseBroadcastAck         = 9 // BROADCAST_ACK
)

// ClassicMessage is the union of every request and response of the
// classic adapter, for decoding (DecodeClassic). Which fields are set
// depends on Type and on the channel it arrived on; Type.Valid is false
// for responses that carry no type (ALL_ROOMS, REMOTE_FETCH, SOCKETS and
// legacy join/leave/disconnect answers).
//
// Raw fields hold msgpack (JSON messages are transcoded first): Data is
// the serverSideEmit [event, …args] or its answer; Packet is the BROADCAST
// packet object (decode it with DecodePacket) or the BROADCAST_ACK
// argument; Sockets is the SOCKETS ([sid…]) or REMOTE_FETCH ([{id,
// handshake, rooms, data}…]) answer.
type ClassicMessage struct {
	UID         Str           `msg:"uid"`
	RequestID   Str           `msg:"requestId"`
	Type        OptInt        `msg:"type"`
	Opts        BroadcastOpts `msg:"opts"`
	Rooms       Rooms         `msg:"rooms"`
	Sid         Str           `msg:"sid"`
	Room        Room          `msg:"room"`
	Close       bool          `msg:"close"`
	Data        Raw           `msg:"data"`
	Packet      Raw           `msg:"packet"`
	Sockets     Raw           `msg:"sockets"`
	ClientCount Int           `msg:"clientCount"`
}

// AllRoomsRequest is ALL_ROOMS: {uid, requestId, type:1} (6.x: no uid).
// JSON.
type AllRoomsRequest struct {
	UID       Str `msg:"uid,omitzero"`
	RequestID Str `msg:"requestId"`
	Type      Int `msg:"type"`
}

// FetchSocketsRequest is REMOTE_FETCH: {uid, requestId, type:5,
// opts:{rooms, except}}. JSON. Set Opts.Order to OrderRoomsExcept.
type FetchSocketsRequest struct {
	UID       Str           `msg:"uid,omitzero"`
	RequestID Str           `msg:"requestId"`
	Type      Int           `msg:"type"`
	Opts      BroadcastOpts `msg:"opts"`
}

// RoomsRequest is the bulk REMOTE_JOIN / REMOTE_LEAVE (socketsJoin,
// socketsLeave): {uid, type:2|3, opts:{rooms, except}, rooms}. The emitter
// sends it without uid (leave UID empty). JSON.
type RoomsRequest struct {
	UID   Str           `msg:"uid,omitzero"`
	Type  Int           `msg:"type"`
	Opts  BroadcastOpts `msg:"opts"`
	Rooms Rooms         `msg:"rooms"`
}

// DisconnectSocketsRequest is the bulk REMOTE_DISCONNECT:
// {uid, type:4, opts:{rooms, except}, close}. JSON.
type DisconnectSocketsRequest struct {
	UID   Str           `msg:"uid,omitzero"`
	Type  Int           `msg:"type"`
	Opts  BroadcastOpts `msg:"opts"`
	Close bool          `msg:"close"`
}

// ServerSideEmitRequest is SERVER_SIDE_EMIT: {uid, [requestId,] type:6,
// data:[event, …args]}. RequestID only when an acknowledgement is
// expected. JSON.
type ServerSideEmitRequest struct {
	UID       Str `msg:"uid"`
	RequestID Str `msg:"requestId,omitzero"`
	Type      Int `msg:"type"`
	Data      Raw `msg:"data"`
}

// BroadcastRequest is BROADCAST (a broadcast expecting acks): {uid,
// requestId, type:7, packet:{type, data, nsp}, opts:{rooms, except,
// flags}}. msgpack.
type BroadcastRequest struct {
	UID       Str           `msg:"uid"`
	RequestID Str           `msg:"requestId"`
	Type      Int           `msg:"type"`
	Packet    Packet        `msg:"packet"`
	Opts      BroadcastOpts `msg:"opts"`
}

// SocketsRequest is the legacy SOCKETS request: {[uid,] requestId,
// type:0, rooms}. JSON.
type SocketsRequest struct {
	UID       Str   `msg:"uid,omitzero"`
	RequestID Str   `msg:"requestId"`
	Type      Int   `msg:"type"`
	Rooms     Rooms `msg:"rooms"`
}

// SidRoomRequest is the legacy REMOTE_JOIN / REMOTE_LEAVE by socket id:
// {[uid,] requestId, type:2|3, sid, room}. JSON.
type SidRoomRequest struct {
	UID       Str  `msg:"uid,omitzero"`
	RequestID Str  `msg:"requestId"`
	Type      Int  `msg:"type"`
	Sid       Str  `msg:"sid"`
	Room      Room `msg:"room"`
}

// SidDisconnectRequest is the legacy REMOTE_DISCONNECT by socket id:
// {[uid,] requestId, type:4, sid, close}. JSON.
type SidDisconnectRequest struct {
	UID       Str  `msg:"uid,omitzero"`
	RequestID Str  `msg:"requestId"`
	Type      Int  `msg:"type"`
	Sid       Str  `msg:"sid"`
	Close     bool `msg:"close"`
}

// RoomsResponse answers ALL_ROOMS: {requestId, rooms}. JSON.
type RoomsResponse struct {
	RequestID Str   `msg:"requestId"`
	Rooms     Rooms `msg:"rooms"`
}

// SocketsResponse answers REMOTE_FETCH ([{id, handshake, rooms, data}…])
// and legacy SOCKETS ([sid…]): {requestId, sockets}. JSON.
type SocketsResponse struct {
	RequestID Str `msg:"requestId"`
	Sockets   Raw `msg:"sockets"`
}

// ServerSideEmitResponse answers SERVER_SIDE_EMIT: {type:6, requestId,
// data:<first ack argument>}. JSON, always on the shared response channel.
type ServerSideEmitResponse struct {
	Type      Int `msg:"type"`
	RequestID Str `msg:"requestId"`
	Data      Raw `msg:"data"`
}

// ClientCountResponse is BROADCAST_CLIENT_COUNT: {type:8, requestId,
// clientCount}. JSON.
type ClientCountResponse struct {
	Type        Int `msg:"type"`
	RequestID   Str `msg:"requestId"`
	ClientCount Int `msg:"clientCount"`
}

// BroadcastAckResponse is BROADCAST_ACK: {type:9, requestId,
// packet:<first ack argument>}. msgpack.
type BroadcastAckResponse struct {
	Type      Int `msg:"type"`
	RequestID Str `msg:"requestId"`
	Packet    Raw `msg:"packet"`
}

// RequestIDResponse answers the legacy join/leave/disconnect by sid:
// {requestId}. JSON.
type RequestIDResponse struct {
	RequestID Str `msg:"requestId"`
}
