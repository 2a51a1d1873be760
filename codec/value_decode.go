package codec

import (
	"encoding/binary"
	"math"
	"time"
	"unsafe"
)

// Kinds of MessagePack items, as classified by readHead.
const (
	kNil byte = iota
	kBool
	kInt   // signed value in head.i
	kUint  // unsigned value above MaxInt64 in head.u
	kFloat // head.f (float32 widened)
	kStr   // head.data
	kBin   // head.data
	kArray // head.n elements follow
	kMap   // head.n pairs follow
	kExt   // head.ext, head.data
	kNever // 0xc1
)

// head is one decoded MessagePack item header. For str, bin and ext the
// payload is already sliced out into data.
type head struct {
	kind  byte
	fixed bool  // ext: fixext framing (d4…d8) rather than ext8/16/32
	ext   int8  // ext type
	b     bool  // kBool
	n     int   // kArray, kMap: element/pair count
	i     int64 // kInt
	u     uint64
	f     float64
	data  []byte
}

// readHead reads one item header from b. It never reads past b and never
// allocates.
func readHead(b []byte) (h head, rest []byte, err error) {
	if len(b) == 0 {
		return h, b, ErrTruncated
	}
	c := b[0]
	switch {
	case c <= 0x7f:
		h.kind, h.i = kInt, int64(c)
		return h, b[1:], nil
	case c >= 0xe0:
		h.kind, h.i = kInt, int64(int8(c))
		return h, b[1:], nil
	case c <= 0x8f:
		h.kind, h.n = kMap, int(c&0x0f)
		return h, b[1:], nil
	case c <= 0x9f:
		h.kind, h.n = kArray, int(c&0x0f)
		return h, b[1:], nil
	case c <= 0xbf:
		return payload(b, 1, int(c&0x1f), kStr)
	}
	switch c {
	case 0xc0:
		h.kind = kNil
		return h, b[1:], nil
	case 0xc1:
		return h, b, ErrMalformed
	case 0xc2, 0xc3:
		h.kind, h.b = kBool, c == 0xc3
		return h, b[1:], nil
	case 0xc4, 0xc5, 0xc6:
		n, hl, err := lenN(b, 1<<(c-0xc4))
		if err != nil {
			return h, b, err
		}
		return payload(b, hl, n, kBin)
	case 0xc7, 0xc8, 0xc9:
		w := 1 << (c - 0xc7)
		n, hl, err := lenN(b, w)
		if err != nil {
			return h, b, err
		}
		if len(b) < hl+1 {
			return h, b, ErrTruncated
		}
		h, rest, err = payload(b, hl+1, n, kExt)
		h.ext = int8(b[hl])
		return h, rest, err
	case 0xca:
		if len(b) < 5 {
			return h, b, ErrTruncated
		}
		h.kind, h.f = kFloat, float64(math.Float32frombits(binary.BigEndian.Uint32(b[1:])))
		return h, b[5:], nil
	case 0xcb:
		if len(b) < 9 {
			return h, b, ErrTruncated
		}
		h.kind, h.f = kFloat, math.Float64frombits(binary.BigEndian.Uint64(b[1:]))
		return h, b[9:], nil
	case 0xcc:
		if len(b) < 2 {
			return h, b, ErrTruncated
		}
		h.kind, h.i = kInt, int64(b[1])
		return h, b[2:], nil
	case 0xcd:
		if len(b) < 3 {
			return h, b, ErrTruncated
		}
		h.kind, h.i = kInt, int64(binary.BigEndian.Uint16(b[1:]))
		return h, b[3:], nil
	case 0xce:
		if len(b) < 5 {
			return h, b, ErrTruncated
		}
		h.kind, h.i = kInt, int64(binary.BigEndian.Uint32(b[1:]))
		return h, b[5:], nil
	case 0xcf:
		if len(b) < 9 {
			return h, b, ErrTruncated
		}
		u := binary.BigEndian.Uint64(b[1:])
		if u > math.MaxInt64 {
			h.kind, h.u = kUint, u
		} else {
			h.kind, h.i = kInt, int64(u)
		}
		return h, b[9:], nil
	case 0xd0:
		if len(b) < 2 {
			return h, b, ErrTruncated
		}
		h.kind, h.i = kInt, int64(int8(b[1]))
		return h, b[2:], nil
	case 0xd1:
		if len(b) < 3 {
			return h, b, ErrTruncated
		}
		h.kind, h.i = kInt, int64(int16(binary.BigEndian.Uint16(b[1:])))
		return h, b[3:], nil
	case 0xd2:
		if len(b) < 5 {
			return h, b, ErrTruncated
		}
		h.kind, h.i = kInt, int64(int32(binary.BigEndian.Uint32(b[1:])))
		return h, b[5:], nil
	case 0xd3:
		if len(b) < 9 {
			return h, b, ErrTruncated
		}
		h.kind, h.i = kInt, int64(binary.BigEndian.Uint64(b[1:]))
		return h, b[9:], nil
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
		if len(b) < 2 {
			return h, b, ErrTruncated
		}
		h, rest, err = payload(b, 2, 1<<(c-0xd4), kExt)
		h.ext = int8(b[1])
		h.fixed = true
		return h, rest, err
	case 0xd9, 0xda, 0xdb:
		n, hl, err := lenN(b, 1<<(c-0xd9))
		if err != nil {
			return h, b, err
		}
		return payload(b, hl, n, kStr)
	case 0xdc, 0xdd:
		n, hl, err := lenN(b, 2<<(c-0xdc))
		if err != nil {
			return h, b, err
		}
		h.kind, h.n = kArray, n
		return h, b[hl:], nil
	case 0xde, 0xdf:
		n, hl, err := lenN(b, 2<<(c-0xde))
		if err != nil {
			return h, b, err
		}
		h.kind, h.n = kMap, n
		return h, b[hl:], nil
	}
	return h, b, ErrMalformed // unreachable
}

// lenN reads a w-byte big-endian length following the type byte and
// returns it with the total header length.
func lenN(b []byte, w int) (n int, hl int, err error) {
	if len(b) < 1+w {
		return 0, 0, ErrTruncated
	}
	switch w {
	case 1:
		n = int(b[1])
	case 2:
		n = int(binary.BigEndian.Uint16(b[1:]))
	default:
		n = int(binary.BigEndian.Uint32(b[1:]))
	}
	return n, 1 + w, nil
}

// payload slices n bytes after an hl-byte header.
func payload(b []byte, hl, n int, kind byte) (h head, rest []byte, err error) {
	if n < 0 || len(b)-hl < n {
		return h, b, ErrTruncated
	}
	h.kind = kind
	h.data = b[hl : hl+n : hl+n]
	h.n = n
	return h, b[hl+n:], nil
}

// skipValue skips one complete value. It is iterative (no recursion) and
// rejects counts that cannot fit in the remaining bytes before looping.
func skipValue(b []byte) ([]byte, error) {
	pending := uint64(1)
	for pending > 0 {
		if uint64(len(b)) < pending {
			return b, ErrTruncated
		}
		switch c := b[0]; {
		case c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3:
			b = b[1:]
			pending--
			continue
		case c >= 0xa0 && c <= 0xbf:
			n := int(c&0x1f) + 1
			if len(b) < n {
				return b, ErrTruncated
			}
			b = b[n:]
			pending--
			continue
		case c >= 0x80 && c <= 0x9f:
			n := uint64(c & 0x0f)
			if c < 0x90 {
				n *= 2
			}
			b = b[1:]
			pending += n - 1
			continue
		}
		h, rest, err := readHead(b)
		if err != nil {
			return b, err
		}
		b = rest
		pending--
		switch h.kind {
		case kArray:
			pending += uint64(h.n)
		case kMap:
			pending += 2 * uint64(h.n)
		}
	}
	return b, nil
}

// SkipValue returns b without its first complete MessagePack value.
func SkipValue(b []byte) ([]byte, error) {
	rest, err := skipValue(b)
	return rest, errWrap(err, "codec: skip")
}

// bytesOf returns the bytes of s without copying. They must not be
// modified.
func bytesOf(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// stringOf returns b as a string without copying. b must not be modified
// while the string is in use.
func stringOf(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// valueDecoder decodes the generic value tree.
type valueDecoder struct {
	// zc makes decoded strings alias the input (only when the input is an
	// immutable string).
	zc bool
	// s, when set, provides the storage of the tree (see value_slab.go).
	s *slabs
	// slab is the storage s points to (kept here so that it can live on
	// the stack; only the slices it holds are heap-allocated).
	slab slabs
}

func (d *valueDecoder) str(b []byte) string {
	if d.zc {
		return stringOf(b)
	}
	return string(b)
}

// decodeTop decodes one value, sizing the slabs with a counting pass.
func (d *valueDecoder) decodeTop(b []byte) (any, []byte, error) {
	var c slabCounts
	if _, err := c.count(b, 0); err != nil {
		return nil, b, err
	}
	if c.arrays+c.maps > 0 {
		d.slab.init(&c)
		d.s = &d.slab
	}
	return d.value(b, 0)
}

func (d *valueDecoder) value(b []byte, depth int) (any, []byte, error) {
	if len(b) > 0 {
		switch c := b[0]; {
		case c <= 0x7f:
			return int64(c), b[1:], nil
		case c >= 0xa0 && c <= 0xbf:
			n := int(c & 0x1f)
			if len(b) <= n {
				return nil, b, ErrTruncated
			}
			if d.s != nil {
				return d.s.boxString(d.str(b[1 : 1+n])), b[1+n:], nil
			}
			return d.str(b[1 : 1+n]), b[1+n:], nil
		}
	}
	h, rest, err := readHead(b)
	if err != nil {
		return nil, b, err
	}
	switch h.kind {
	case kNil:
		return nil, rest, nil
	case kBool:
		return h.b, rest, nil
	case kInt:
		if d.s != nil {
			return d.s.boxInt(h.i), rest, nil
		}
		return h.i, rest, nil
	case kUint:
		return h.u, rest, nil
	case kFloat:
		if d.s != nil {
			return d.s.boxFloat(h.f), rest, nil
		}
		return h.f, rest, nil
	case kStr:
		if d.s != nil {
			return d.s.boxString(d.str(h.data)), rest, nil
		}
		return d.str(h.data), rest, nil
	case kBin:
		if d.s != nil {
			return d.s.boxBytes(h.data), rest, nil
		}
		return h.data, rest, nil
	case kExt:
		return extValue(h), rest, nil
	case kArray:
		if depth >= MaxDepth {
			return nil, b, ErrTooDeep
		}
		if h.n > len(rest) {
			return nil, b, ErrTruncated
		}
		var arr []any
		if d.s != nil {
			arr = d.s.takeAnys(h.n)
		} else {
			arr = make([]any, h.n)
		}
		for i := range arr {
			arr[i], rest, err = d.value(rest, depth+1)
			if err != nil {
				return nil, b, err
			}
		}
		if d.s != nil {
			return d.s.boxAnys(arr), rest, nil
		}
		return arr, rest, nil
	case kMap:
		if depth >= MaxDepth {
			return nil, b, ErrTooDeep
		}
		if h.n > len(rest)/2 {
			return nil, b, ErrTruncated
		}
		var m Map
		if d.s != nil {
			m = d.s.takeKVs(h.n)
		} else {
			m = make(Map, h.n)
		}
		for i := range m {
			m[i].Key, rest, err = d.key(rest)
			if err != nil {
				return nil, b, err
			}
			m[i].Value, rest, err = d.value(rest, depth+1)
			if err != nil {
				return nil, b, err
			}
		}
		if d.s != nil {
			return d.s.boxMap(m), rest, nil
		}
		return m, rest, nil
	}
	return nil, b, ErrMalformed
}

// key reads a map key and converts it to the JavaScript property name.
func (d *valueDecoder) key(b []byte) (string, []byte, error) {
	if len(b) > 0 && b[0]&0xe0 == 0xa0 { // fixstr fast path
		n := int(b[0] & 0x1f)
		if len(b) <= n {
			return "", b, ErrTruncated
		}
		return d.str(b[1 : 1+n]), b[1+n:], nil
	}
	h, rest, err := readHead(b)
	if err != nil {
		return "", b, err
	}
	s, ok := keyString(h, d.str)
	if !ok {
		return "", b, ErrMalformed
	}
	return s, rest, nil
}

// keyString converts a scalar map key to its JS property name.
func keyString(h head, str func([]byte) string) (string, bool) {
	switch h.kind {
	case kStr:
		return str(h.data), true
	case kInt:
		return jsIntString(h.i), true
	case kUint:
		return jsUintString(h.u), true
	case kFloat:
		return JSNumberString(h.f), true
	case kNil:
		return "null", true
	case kBool:
		if h.b {
			return "true", true
		}
		return "false", true
	}
	return "", false
}

// extValue converts an extension item to its Go value.
func extValue(h head) any {
	switch {
	case h.ext == 0 && h.fixed && len(h.data) == 1:
		return Undefined{}
	case h.ext == 0 && h.fixed && len(h.data) == 8:
		ms := int64(binary.BigEndian.Uint64(h.data))
		return time.UnixMilli(ms).UTC()
	case h.ext == -1:
		if t, ok := decodeTimestamp(h.data); ok {
			return t
		}
	}
	return Ext{Type: h.ext, Data: h.data}
}

// decodeTimestamp decodes the payload of a timestamp extension (-1).
func decodeTimestamp(d []byte) (time.Time, bool) {
	switch len(d) {
	case 4:
		return time.Unix(int64(binary.BigEndian.Uint32(d)), 0).UTC(), true
	case 8:
		v := binary.BigEndian.Uint64(d)
		ns := int64(v >> 34)
		if ns >= 1e9 {
			return time.Time{}, false
		}
		return time.Unix(int64(v&(1<<34-1)), ns).UTC(), true
	case 12:
		ns := int64(binary.BigEndian.Uint32(d))
		if ns >= 1e9 {
			return time.Time{}, false
		}
		return time.Unix(int64(binary.BigEndian.Uint64(d[4:])), ns).UTC(), true
	}
	return time.Time{}, false
}

// DecodeValue decodes one MessagePack value that must fill all of b.
// Strings are copied; []byte values (bin) and Ext data alias b.
func DecodeValue(b []byte) (any, error) {
	d := valueDecoder{}
	v, rest, err := d.decodeTop(b)
	if err != nil {
		return nil, errWrap(err, "codec: decode value")
	}
	if len(rest) != 0 {
		return nil, errWrap(ErrTrailing, "codec: decode value")
	}
	return v, nil
}

// DecodeValueString is DecodeValue for an immutable input string (as
// rueidis delivers Pub/Sub payloads). It copies nothing: every string,
// []byte and Ext in the result aliases s, so []byte values must be treated
// as read-only.
func DecodeValueString(s string) (any, error) {
	d := valueDecoder{zc: true}
	v, rest, err := d.decodeTop(bytesOf(s))
	if err != nil {
		return nil, errWrap(err, "codec: decode value")
	}
	if len(rest) != 0 {
		return nil, errWrap(ErrTrailing, "codec: decode value")
	}
	return v, nil
}

// Value decodes the raw MessagePack value. Strings are copied; []byte and
// Ext data alias r.
func (r Raw) Value() (any, error) {
	if len(r) == 0 {
		return nil, nil
	}
	return DecodeValue(r)
}
