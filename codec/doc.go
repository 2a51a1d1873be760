// Package codec encodes and decodes the messages that Socket.IO servers
// exchange through Redis, byte for byte as the Node.js packages write
// them: socket.io-redis 4.x/5.x/6.x, @socket.io/redis-adapter 7.x/8.x
// (classic and sharded) and @socket.io/redis-emitter 5.x. It also turns a
// received packet into the exact text and binary frames a Socket.IO client
// receives: Engine.IO 4 (Socket.IO 3/4) and Engine.IO 3 (Socket.IO 1.x/2.x).
//
// The package knows nothing about Redis, channels or sockets: it maps
// bytes to Go values and back. It imports nothing from the rest of the
// module. WIRE.md, beside this file, describes each generation's wire
// format and the frames clients receive; the tests replay the golden
// vectors captured from the real npm packages (testdata/vectors, re-captured
// with `make vectors`) and the Engine.IO 3 frames of testdata/frames.
//
// # JavaScript values
//
// Decoded MessagePack values use these Go types: nil, bool, int64
// (uint64 only above math.MaxInt64), float64, string, []byte (bin, a Node
// Buffer), []any, Map (an ordered object: key order survives so that
// re-encoding is byte-exact), time.Time (timestamp ext -1 and notepack 1/2
// Dates), Undefined (notepack 1/2 undefined) and Ext (any other
// extension; type 0 is notepack 2's ArrayBuffer). Numbers keep their
// MessagePack type: integer formats give int64, float formats float64.
//
//	DecodeValue(b []byte) (any, error)          // strings copied
//	DecodeValueString(s string) (any, error)    // zero copy: aliases s
//	AppendValue(dst []byte, v any) ([]byte, error)
//	AppendValueFlavor(dst []byte, v any, f Flavor) ([]byte, error)
//	AppendArgs(dst []byte, event string, args ...any) ([]byte, error) // [event, …args]
//
// Encoding follows the JavaScript number model of the chosen Flavor
// (Notepack3 by default, Notepack2, MsgpackLite): a Go number is a JS
// number, so integral values (also integral float64s) use the smallest
// integer format and other values float64, never float32; -0 is written as
// 0. Go maps are written with JavaScript's key order (array-index keys
// first, ascending, then the other keys sorted); use Map for an explicit
// order. Values of other Go types go through encoding/json.
//
// # JSON
//
// JSON is produced from MessagePack, never from Go reflection, so it is
// exactly what JavaScript's JSON.stringify writes for the value Node
// decodes (no HTML escaping, JS number formatting such as 1e+21, Dates as
// ISO strings, Buffers as {"type":"Buffer","data":[…]}, undefined keys
// omitted):
//
//	AppendJSON(dst, msgpack []byte) ([]byte, error)
//	AppendJSONValue(dst []byte, v any) ([]byte, error)
//	JSONToMsgpack(dst, json []byte) ([]byte, error) // strict, order-preserving
//
// JSON messages are decoded by transcoding them to MessagePack first and
// running the same decoders.
//
// # Messages
//
// Message structs have msgp-generated MarshalMsg/UnmarshalMsg methods
// (the *_gen.go files; regenerate with `go generate ./codec`). Fields use
// hand-written types where JavaScript is loose: Str (zero-copy string),
// Int/OptInt (any numeric format), Raw (pre-encoded MessagePack kept as
// bytes), Room/Rooms (string or numeric rooms; nil or {} read as empty),
// Flags and BroadcastOpts (nil tolerated, key order remembered).
//
//	// broadcasts [uid, {type, data, nsp}, {rooms, except, flags}]
//	DecodeBroadcast(msg string, b *Broadcast) error
//	AppendBroadcast(dst []byte, b *Broadcast, order OptsOrder) ([]byte, error)
//	DecodePacket(raw Raw, p *Packet) error
//
//	// classic adapter requests/responses (types 0–9), JSON or msgpack
//	DecodeClassic(msg string, m *ClassicMessage) error
//	AppendMessage(dst []byte, m msgp.Marshaler, enc Encoding) ([]byte, error)
//	ClassicEncoding(typ int) Encoding
//
//	// sharded adapter (ClusterAdapter) envelopes {type, data, uid, nsp}
//	DecodeEnvelope(msg string, e *Envelope) error
//	AppendEnvelope(dst []byte, typ int, uid, nsp string, data msgp.Marshaler, enc Encoding) ([]byte, Encoding, error)
//
//	// socket.io-redis 4.x/5.x requests/responses (`requestid`)
//	DecodeLegacy(msg string, m *LegacyMessage) error
//
// Decoding uses one union struct per protocol (ClassicMessage, Envelope,
// LegacyMessage); encoding uses one struct per message kind
// (AllRoomsRequest, ClientCountResponse, BroadcastData, …) whose field
// order is the key order Node writes. The `type` field of those structs is
// set by the caller (constants RequestAllRooms, ClusterBroadcast, …).
//
// Packet data ([event, …args]) stays raw MessagePack (Packet.Data, a Raw
// sub-slice of the message): it is never decoded into a Go value tree on
// the hot path. Build it with AppendArgs, deliver it with BuildFrame.
//
// # Zero copy and allocations
//
// The Decode* functions take the message as a Go string (immutable, as
// rueidis delivers Pub/Sub payloads) and return strings, room names and
// Raw values that alias it: keep the string alive while the result is in
// use, and never modify a Raw taken from it. JSON messages are transcoded
// into a buffer owned by the result. The generated UnmarshalMsg methods
// alias their input the same way, so only pass buffers you will not
// modify. Decoding a broadcast into a reused Broadcast allocates nothing
// (into a fresh one: one allocation for the room list).
//
// Encoding appends to a caller-supplied buffer and allocates nothing once
// the buffer is large enough; GetBuffer/PutBuffer offer a sync.Pool of
// buffers with a size cap (MaxPooledBuffer).
//
// # Frames
//
// BuildFrame(f *Frame, typ int, nsp string, ackID int64, data Raw) writes
// into a reusable Frame what socket.io-parser 4 produces for a packet:
// the Engine.IO text message ("4" + "2" + [nsp ","] + [id] + JSON) and,
// when the data holds binary, the placeholder form ("45<n>-…") with the n
// binary attachments as sub-slices of data. It transcodes the MessagePack
// data directly to JSON and allocates nothing in steady state.
//
// Socket.IO 1.x/2.x clients speak Engine.IO 3: the Socket.IO string is the
// same, the engine.io layer differs. BuildFrame3(f3 *Frame3, f *Frame)
// derives from a built Frame, without transcoding again, what engine.io
// 1.8/3.x servers write: websocket frames (attachments as binary frames
// led by the message type byte 0x04, or "b4"+base64 text frames for b64=1
// clients) and the packet's part of a polling body, in the binary payload
// encoding (XHR2) and in the text one (lengths in UTF-16 units, binary as
// "b4"+base64). AppendPayload3 joins the parts of several packets into one
// polling response the way engine.io-parser 2.x (Socket.IO 2) or 1.3
// (Socket.IO 1) does. The tests compare both with frames the npm packages
// produced (testdata/frames).
//
// # Safety
//
// Decoders never panic on malformed input, never pre-allocate more than
// the remaining input can hold (a 5-byte message claiming a 4 GiB array
// is ErrTruncated, not an allocation) and stop at MaxDepth levels of
// nesting (ErrTooDeep). Every error wraps one of ErrTruncated,
// ErrTooDeep, ErrMalformed, ErrUnsupported or ErrTrailing.
//
// # What it does not do
//
// It does not choose channels, filter own messages, track rooms or
// sockets, or talk to Redis: that is the engine's job. It does not encode
// the quirks that no current peer needs: msgpack-lite's nil rooms/flags
// in socket.io-redis 4.0 broadcasts and notepack's mangling of lone UTF-16
// surrogates are decoded but never produced, and Go values without a
// JavaScript equivalent (channels, functions, complex numbers) are
// rejected with ErrUnsupported instead of being silently dropped.
package codec
