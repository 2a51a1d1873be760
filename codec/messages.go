package codec

import (
	"github.com/tinylib/msgp/msgp"
)

// Encoding is the wire encoding of a request, response or envelope.
type Encoding uint8

const (
	// EncodingJSON is JavaScript JSON.stringify output.
	EncodingJSON Encoding = iota
	// EncodingMsgpack is notepack.io 3 MessagePack.
	EncodingMsgpack
	// EncodingAuto (envelopes only) is what the sharded adapter does:
	// msgpack when the type may carry binary and the data contains
	// binary, JSON otherwise.
	EncodingAuto
)

// IsJSON applies the adapters' decoding rule: a payload whose first byte
// is '{' is JSON, anything else is msgpack.
func IsJSON(msg string) bool { return len(msg) > 0 && msg[0] == '{' }

// toMsgpack returns the msgpack bytes of msg, transcoding JSON into a new
// buffer (which the decoded message then aliases).
func toMsgpack(msg string) ([]byte, error) {
	if IsJSON(msg) {
		return jsonToMsgpack(make([]byte, 0, len(msg)), bytesOf(msg), Notepack3Exact)
	}
	return bytesOf(msg), nil
}

// unmarshalFull runs a generated UnmarshalMsg and checks for trailing
// bytes.
func unmarshalFull(u msgp.Unmarshaler, b []byte, what string) error {
	rest, err := u.UnmarshalMsg(b)
	if err != nil {
		return normalizeErr(err, what)
	}
	if len(rest) != 0 {
		return errWrap(ErrTrailing, what)
	}
	return nil
}

// Reset clears m, keeping the capacity of its lists.
func (m *ClassicMessage) Reset() {
	rooms, opts := m.Rooms[:0], m.Opts
	opts.reset()
	*m = ClassicMessage{Rooms: rooms, Opts: opts}
}

// DecodeClassic decodes a request or response of the classic adapter
// (JSON or msgpack by the first-byte rule) into m. The result aliases msg
// (or, for JSON, a buffer private to m).
func DecodeClassic(msg string, m *ClassicMessage) error {
	m.Reset()
	b, err := toMsgpack(msg)
	if err != nil {
		return errWrap(err, "codec: decode classic message")
	}
	return unmarshalFull(m, b, "codec: decode classic message")
}

// ClassicEncoding returns the encoding the classic adapter (7.2+/8.x)
// uses for a message kind: msgpack for BROADCAST requests and
// BROADCAST_ACK responses, JSON for everything else.
func ClassicEncoding(typ int) Encoding {
	if typ == RequestBroadcast || typ == ResponseBroadcastAck {
		return EncodingMsgpack
	}
	return EncodingJSON
}

// AppendMessage appends m (any message struct of this package, or any
// msgp.Marshaler) in the given encoding. EncodingJSON marshals to msgpack
// in a pooled scratch buffer and transcodes (AppendJSON), so the JSON is
// what JSON.stringify would write for the same JavaScript object.
func AppendMessage(dst []byte, m msgp.Marshaler, enc Encoding) ([]byte, error) {
	if enc == EncodingMsgpack {
		out, err := m.MarshalMsg(dst)
		if err != nil {
			return dst, normalizeErr(err, "codec: encode message")
		}
		return out, nil
	}
	bp := GetBuffer()
	defer PutBuffer(bp)
	mp, err := m.MarshalMsg((*bp)[:0])
	*bp = mp
	if err != nil {
		return dst, normalizeErr(err, "codec: encode message")
	}
	return AppendJSON(dst, mp)
}

// Reset clears e, keeping the capacity of its lists.
func (e *Envelope) Reset() {
	rooms, opts := e.Data.Rooms[:0], e.Data.Opts
	opts.reset()
	*e = Envelope{Data: EnvelopeData{Rooms: rooms, Opts: opts}}
}

// DecodeEnvelope decodes a sharded-adapter (ClusterAdapter) message,
// JSON or msgpack by the first-byte rule, into e. The result aliases msg
// (or, for JSON, a buffer private to e).
func DecodeEnvelope(msg string, e *Envelope) error {
	e.Reset()
	b, err := toMsgpack(msg)
	if err != nil {
		return errWrap(err, "codec: decode envelope")
	}
	return unmarshalFull(e, b, "codec: decode envelope")
}

// binaryCapable reports whether the sharded adapter may send a message
// type as msgpack (when its data contains binary).
func binaryCapable(typ int) bool {
	switch typ {
	case ClusterBroadcast, ClusterFetchSocketsResponse, ClusterServerSideEmit,
		ClusterServerSideEmitResponse, ClusterBroadcastAck:
		return true
	}
	return false
}

// AppendEnvelope appends the ClusterAdapter message {type, data, uid, nsp}
// (data omitted when nil: heartbeats, ADAPTER_CLOSE). With EncodingAuto it
// chooses like the sharded adapter: msgpack if typ is BROADCAST,
// FETCH_SOCKETS_RESPONSE, SERVER_SIDE_EMIT(_RESPONSE) or BROADCAST_ACK and
// the data contains binary, JSON otherwise. It returns the encoding used.
func AppendEnvelope(dst []byte, typ int, uid, nsp string, data msgp.Marshaler, enc Encoding) ([]byte, Encoding, error) {
	bp := GetBuffer()
	defer PutBuffer(bp)
	mp := (*bp)[:0]
	if enc == EncodingMsgpack {
		mp = dst
	}
	start := len(mp)
	if data != nil {
		mp = append(mp, 0x84)
	} else {
		mp = append(mp, 0x83)
	}
	mp = append(mp, "\xa4type"...)
	mp = appendInt(mp, int64(typ), Notepack3)
	if data != nil {
		mp = append(mp, "\xa4data"...)
		var err error
		if mp, err = data.MarshalMsg(mp); err != nil {
			if enc != EncodingMsgpack {
				*bp = mp
			}
			return dst, enc, normalizeErr(err, "codec: encode envelope")
		}
	}
	mp = append(mp, "\xa3uid"...)
	mp = AppendString(mp, uid)
	mp = append(mp, "\xa3nsp"...)
	mp = AppendString(mp, nsp)
	if enc == EncodingMsgpack {
		return mp, enc, nil
	}
	*bp = mp
	if enc == EncodingAuto {
		enc = EncodingJSON
		scan := mp[start:]
		if c, ok := data.(binaryCarrier); ok {
			scan = c.binaryPart()
		}
		if binaryCapable(typ) && HasBinary(scan) {
			return append(dst, mp[start:]...), EncodingMsgpack, nil
		}
	}
	out, err := AppendJSON(dst, mp[start:])
	return out, enc, err
}

// HasBinary reports whether the msgpack value(s) in b contain binary data
// as Socket.IO's hasBinary sees it after notepack.io 3 decoding: a bin, an
// ArrayBuffer (ext type 0), or another extension (read as [type, Buffer]).
// Dates (timestamp -1, fixext8 type 0) and undefined (fixext1 type 0) are
// not binary. Malformed input reports false.
func HasBinary(b []byte) bool {
	for len(b) > 0 {
		// The common heads are skipped here; the others (bin, ext, the
		// longer strings and containers) go through readHead.
		c := b[0]
		switch {
		case c <= 0x9f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3:
			// fixint, fixmap and fixarray heads (their items follow
			// flat), nil, booleans.
			b = b[1:]
			continue
		case c <= 0xbf: // fixstr
			n := 1 + int(c&0x1f)
			if n > len(b) {
				return false
			}
			b = b[n:]
			continue
		case c == 0xd9: // str8
			if len(b) < 2 || 2+int(b[1]) > len(b) {
				return false
			}
			b = b[2+int(b[1]):]
			continue
		case c >= 0xca && c <= 0xd3: // float32/64, (u)int8..64
			n := 1 + fixedWidth[c-0xca]
			if n > len(b) {
				return false
			}
			b = b[n:]
			continue
		}
		h, rest, err := readHead(b)
		if err != nil {
			return false
		}
		if isBinary(&h) {
			return true
		}
		b = rest
	}
	return false
}

// isBinary reports whether the value of head h is binary for hasBinary: a
// bin, or an extension other than a Date (timestamp -1) or notepack's
// undefined and Date (fixext1 and fixext8 of type 0).
func isBinary(h *head) bool {
	switch h.kind {
	case kBin:
		return true
	case kExt:
		switch {
		case h.ext == 0 && h.fixed && (len(h.data) == 1 || len(h.data) == 8):
		case h.ext == -1:
			_, ok := decodeTimestamp(h.data)
			return !ok
		default:
			return true
		}
	}
	return false
}

// fixedWidth is the payload size of the heads 0xca..0xd3: float32,
// float64, uint8..64, int8..64.
var fixedWidth = [10]int{4, 8, 1, 2, 4, 8, 1, 2, 4, 8}

// Reset clears m, keeping the capacity of its lists.
func (m *LegacyMessage) Reset() {
	rooms, clients := m.Rooms[:0], m.Clients[:0]
	*m = LegacyMessage{Rooms: rooms, Clients: clients}
}

// DecodeLegacy decodes a socket.io-redis 4.x/5.x request or response
// (JSON; msgpack accepted too) into m.
func DecodeLegacy(msg string, m *LegacyMessage) error {
	m.Reset()
	b, err := toMsgpack(msg)
	if err != nil {
		return errWrap(err, "codec: decode legacy message")
	}
	return unmarshalFull(m, b, "codec: decode legacy message")
}
