package codec

//go:generate go tool msgp -file envelope_sharded.go -o envelope_sharded_gen.go -io=false

// ClusterAdapter message types (socket.io-adapter cluster-adapter), the
// envelope `type` of the sharded adapter.
const (
	ClusterInitialHeartbeat       = 1
	ClusterHeartbeat              = 2
	ClusterBroadcast              = 3
	ClusterSocketsJoin            = 4
	ClusterSocketsLeave           = 5
	ClusterDisconnectSockets      = 6
	ClusterFetchSockets           = 7
	ClusterFetchSocketsResponse   = 8
	ClusterServerSideEmit         = 9
	ClusterServerSideEmitResponse = 10
	ClusterBroadcastClientCount   = 11
	ClusterBroadcastAck           = 12
	ClusterAdapterClose           = 13
)

// Envelope is a ClusterAdapter message {type, data, uid, nsp}, for
// decoding (DecodeEnvelope). Data is absent (zero) for heartbeats and
// ADAPTER_CLOSE.
type Envelope struct {
	Type Int          `msg:"type"`
	Data EnvelopeData `msg:"data"`
	UID  Str          `msg:"uid"`
	Nsp  Str          `msg:"nsp"`
}

// EnvelopeData is the union of the `data` objects of every message type.
// Packet is raw msgpack: the packet object of BROADCAST (decode it with
// DecodePacket), the [event, …args] array of SERVER_SIDE_EMIT, or the
// first ack argument of SERVER_SIDE_EMIT_RESPONSE and BROADCAST_ACK.
// Sockets is the FETCH_SOCKETS_RESPONSE list.
type EnvelopeData struct {
	Packet      Raw           `msg:"packet"`
	RequestID   Str           `msg:"requestId"`
	Opts        BroadcastOpts `msg:"opts"`
	Rooms       Rooms         `msg:"rooms"`
	Close       bool          `msg:"close"`
	Sockets     Raw           `msg:"sockets"`
	ClientCount Int           `msg:"clientCount"`
}

// BroadcastData is the data of BROADCAST: {packet, [requestId,] opts}.
// Packet has no nsp; RequestID is set only for broadcasts with acks.
type BroadcastData struct {
	Packet    Packet        `msg:"packet"`
	RequestID Str           `msg:"requestId,omitzero"`
	Opts      BroadcastOpts `msg:"opts"`
}

// SocketsJoinData is the data of SOCKETS_JOIN and SOCKETS_LEAVE:
// {opts, rooms}.
type SocketsJoinData struct {
	Opts  BroadcastOpts `msg:"opts"`
	Rooms Rooms         `msg:"rooms"`
}

// DisconnectSocketsData is the data of DISCONNECT_SOCKETS: {opts, close}.
type DisconnectSocketsData struct {
	Opts  BroadcastOpts `msg:"opts"`
	Close bool          `msg:"close"`
}

// FetchSocketsData is the data of FETCH_SOCKETS: {opts, requestId}.
type FetchSocketsData struct {
	Opts      BroadcastOpts `msg:"opts"`
	RequestID Str           `msg:"requestId"`
}

// FetchSocketsResponseData is the data of FETCH_SOCKETS_RESPONSE:
// {requestId, sockets}.
type FetchSocketsResponseData struct {
	RequestID Str `msg:"requestId"`
	Sockets   Raw `msg:"sockets"`
}

// ServerSideEmitData is the data of SERVER_SIDE_EMIT: {[requestId,]
// packet:[event, …args]}.
type ServerSideEmitData struct {
	RequestID Str `msg:"requestId,omitzero"`
	Packet    Raw `msg:"packet"`
}

// RequestPacketData is the data of SERVER_SIDE_EMIT_RESPONSE and
// BROADCAST_ACK: {requestId, packet:<first ack argument>}.
type RequestPacketData struct {
	RequestID Str `msg:"requestId"`
	Packet    Raw `msg:"packet"`
}

// ClientCountData is the data of BROADCAST_CLIENT_COUNT:
// {requestId, clientCount}.
type ClientCountData struct {
	RequestID   Str `msg:"requestId"`
	ClientCount Int `msg:"clientCount"`
}

// binaryCarrier is implemented by the envelope data types whose only
// place for binary is one raw value: AppendEnvelope's EncodingAuto then
// scans that value instead of the whole envelope (ids, counts, rooms and
// flags never hold binary).
type binaryCarrier interface{ binaryPart() Raw }

func (d *BroadcastData) binaryPart() Raw            { return d.Packet.Data }
func (d *ServerSideEmitData) binaryPart() Raw       { return d.Packet }
func (d *RequestPacketData) binaryPart() Raw        { return d.Packet }
func (d *FetchSocketsResponseData) binaryPart() Raw { return d.Sockets }
