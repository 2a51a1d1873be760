package codec

import "time"

// This file defines the Go representation of decoded JavaScript values.
//
// DecodeValue and friends produce only these Go types:
//
//	nil            JS null (msgpack nil)
//	bool           JS boolean
//	int64          a msgpack integer (any width) that fits in int64
//	uint64         a msgpack uint64 above math.MaxInt64
//	float64        a msgpack float32/float64
//	string         a msgpack str
//	[]byte         a msgpack bin (Node Buffer)
//	[]any          a msgpack array
//	Map            a msgpack map, keys in wire order
//	time.Time      timestamp ext -1, or notepack 1/2 Date (fixext8 type 0)
//	Undefined      notepack 1/2 `undefined` (fixext1 type 0)
//	Ext            any other extension (ArrayBuffer = type 0, msgpack-lite types…)

// KV is one key/value pair of a Map.
type KV struct {
	Key   string
	Value any
}

// Map is a JavaScript object with its keys in order. Order matters for
// byte-exact re-encoding, so decoded maps keep the wire order and encoding
// writes the pairs in slice order. Duplicate keys are kept as they arrived
// (JavaScript would keep the last value at the position of the first).
type Map []KV

// Get returns the value of key and whether it is present. With duplicate
// keys the last one wins, as in JavaScript.
func (m Map) Get(key string) (any, bool) {
	for i := len(m) - 1; i >= 0; i-- {
		if m[i].Key == key {
			return m[i].Value, true
		}
	}
	return nil, false
}

// Undefined is the JavaScript `undefined` value. notepack.io 1.x/2.x write it
// as fixext1 type 0 (d4 00 00); notepack.io 3 writes nil in arrays and omits
// object keys whose value is undefined; msgpack-lite writes nil.
type Undefined struct{}

// Ext is a MessagePack extension value that has no more specific Go type.
// Type 0 with ext8/16/32 framing is how notepack.io 2 writes an ArrayBuffer
// or typed array (IsArrayBuffer reports it); msgpack-lite writes typed
// arrays as types 0x12…0x1A and Dates as type 0x0D.
type Ext struct {
	Type int8
	Data []byte
}

// IsArrayBuffer reports whether the extension is notepack's ArrayBuffer
// encoding (type 0). Socket.IO treats it as binary.
func (e Ext) IsArrayBuffer() bool { return e.Type == 0 }

// Raw is a pre-encoded MessagePack value. Encoding appends it verbatim;
// decoding a Raw field keeps the bytes of the value (aliasing the input).
// An empty Raw encodes as nil.
type Raw []byte

// Flavor selects the number, undefined, Date and typed-array rules of one
// generation of JavaScript msgpack encoder, so that Go output is byte for
// byte what that generation would have written.
type Flavor uint8

const (
	// Notepack3 is notepack.io 3.x: @socket.io/redis-adapter 8.x, the
	// sharded adapter and @socket.io/redis-emitter 5.x. The default.
	Notepack3 Flavor = iota
	// Notepack2 is notepack.io 2.x: socket.io-redis 5.1–7.x. Undefined is
	// d4 00 00, Dates are fixext8 type 0 with int64 epoch milliseconds.
	Notepack2
	// MsgpackLite is msgpack-lite 0.1.26: socket.io-redis 4.0.x. Integers
	// outside the int32 range are written as float64, undefined as nil,
	// Dates as ext 0x0D wrapping the millisecond number.
	MsgpackLite
	// Notepack3Exact is Notepack3 except that integral numbers beyond the
	// 64-bit integer range are written as float64 instead of notepack's
	// wrapped integer, so the value survives: what the sharded adapter's
	// JSON path shows a Node peer (JSON.stringify(1e21) is "1e+21"). Used
	// where a message may be converted to JSON before it is sent.
	Notepack3Exact
)

// base is the flavor whose rules apply apart from number encoding.
func (f Flavor) base() Flavor {
	if f == Notepack3Exact {
		return Notepack3
	}
	return f
}

// String returns the library name of the flavor.
func (f Flavor) String() string {
	switch f {
	case Notepack3:
		return "notepack.io@3"
	case Notepack2:
		return "notepack.io@2"
	case MsgpackLite:
		return "msgpack-lite"
	case Notepack3Exact:
		return "notepack.io@3 (exact numbers)"
	}
	return "unknown-flavor"
}

// jsDate converts a time to JavaScript Date milliseconds (floor).
func jsDateMillis(t time.Time) int64 {
	return t.UnixMilli()
}
