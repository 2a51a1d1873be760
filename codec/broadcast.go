package codec

//go:generate go tool msgp -file broadcast.go -o broadcast_gen.go -io=false

//msgp:tuple Broadcast

// Socket.IO packet types (socket.io-parser).
const (
	PacketConnect      = 0
	PacketDisconnect   = 1
	PacketEvent        = 2
	PacketAck          = 3
	PacketConnectError = 4
	PacketBinaryEvent  = 5
	PacketBinaryAck    = 6
)

// Packet is the Socket.IO packet inside a broadcast: {type, data, nsp}.
// Data is the raw msgpack of the data array ([event, …args]) and is never
// decoded on the hot path; Nsp is empty when absent (sharded BROADCAST
// packets carry none; receivers use their own namespace, "/" by default).
type Packet struct {
	Type Int `msg:"type"`
	Data Raw `msg:"data,omitzero"`
	Nsp  Str `msg:"nsp,omitzero"`
}

// Broadcast is the message published by a classic adapter or the emitter
// on `key#nsp#` / `key#nsp#room#`: the msgpack array [uid, packet, opts].
type Broadcast struct {
	UID    Str
	Packet Packet
	Opts   BroadcastOpts
}

// NamespaceOr returns p.Nsp, or def when the packet carries none.
func (p *Packet) NamespaceOr(def string) string {
	if p.Nsp == "" {
		return def
	}
	return string(p.Nsp)
}
