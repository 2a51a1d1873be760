package codec

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/tinylib/msgp/msgp"
)

// This file holds the hand-written field types that the msgp-generated
// message code calls. They exist because JavaScript peers are loose where
// Go code generators are strict: numbers may arrive in any numeric format,
// rooms may be strings or numbers, lists may be nil or {} (an encoded Set),
// flags may be nil, and strings should alias the input instead of being
// copied.
//
// Aliasing: UnmarshalMsg of these types (and so of every message type of
// this package) keeps references into the input bytes: strings, Raw values
// and room names point into it. Decode from an immutable string (the
// Decode* functions) or from a buffer you will not modify while the result
// is in use.

// Str is a string field that decodes without copying (it aliases the
// input). Convert with string(s).
type Str string

// MarshalMsg appends s as a msgpack str.
func (s Str) MarshalMsg(b []byte) ([]byte, error) { return AppendString(b, string(s)), nil }

// UnmarshalMsg reads a str (nil reads as ""), aliasing b.
func (s *Str) UnmarshalMsg(b []byte) ([]byte, error) {
	if len(b) > 0 && b[0]&0xe0 == 0xa0 { // fixstr
		n := int(b[0] & 0x1f)
		if len(b) <= n {
			return b, ErrTruncated
		}
		*s = Str(stringOf(b[1 : 1+n]))
		return b[1+n:], nil
	}
	h, rest, err := readHead(b)
	if err != nil {
		return b, err
	}
	switch h.kind {
	case kStr:
		*s = Str(stringOf(h.data))
	case kNil:
		*s = ""
	default:
		return b, errWrongType("string", h)
	}
	return rest, nil
}

// Msgsize returns an upper bound of the encoded size.
func (s Str) Msgsize() int { return 5 + len(s) }

// IsZero reports whether s is empty (omitted by omitzero fields).
func (s Str) IsZero() bool { return s == "" }

// errWrongType builds an ErrMalformed error naming the expected type.
func errWrongType(want string, h head) error {
	return fmt.Errorf("%w: expected %s, found %s", ErrMalformed, want, kindName(h.kind))
}

func kindName(k byte) string {
	switch k {
	case kNil:
		return "nil"
	case kBool:
		return "bool"
	case kInt, kUint:
		return "integer"
	case kFloat:
		return "float"
	case kStr:
		return "string"
	case kBin:
		return "bin"
	case kArray:
		return "array"
	case kMap:
		return "map"
	case kExt:
		return "ext"
	}
	return "invalid"
}

// readInt reads any msgpack number that holds an integral value fitting
// in int64 (JS peers may write 2 as a float64).
func readInt(b []byte) (int64, []byte, error) {
	if len(b) > 0 && b[0] <= 0x7f {
		return int64(b[0]), b[1:], nil
	}
	h, rest, err := readHead(b)
	if err != nil {
		return 0, b, err
	}
	switch h.kind {
	case kInt:
		return h.i, rest, nil
	case kFloat:
		if h.f == math.Trunc(h.f) && h.f >= -(1<<63) && h.f < 1<<63 {
			return int64(h.f), rest, nil
		}
		return 0, b, fmt.Errorf("%w: number %v is not an integer", ErrMalformed, h.f)
	case kUint:
		return 0, b, fmt.Errorf("%w: integer %d out of range", ErrMalformed, h.u)
	}
	return 0, b, errWrongType("number", h)
}

// readFloat reads any msgpack number as a float64.
func readFloat(b []byte) (float64, []byte, error) {
	h, rest, err := readHead(b)
	if err != nil {
		return 0, b, err
	}
	switch h.kind {
	case kInt:
		return float64(h.i), rest, nil
	case kUint:
		return float64(h.u), rest, nil
	case kFloat:
		return h.f, rest, nil
	}
	return 0, b, errWrongType("number", h)
}

// Int is an integer field (message type, clientCount). It decodes from any
// numeric format holding an integral value and encodes with notepack's
// smallest integer format.
type Int int64

// MarshalMsg appends i with notepack.io rules.
func (i Int) MarshalMsg(b []byte) ([]byte, error) { return appendInt(b, int64(i), Notepack3), nil }

// UnmarshalMsg reads any integral number.
func (i *Int) UnmarshalMsg(b []byte) ([]byte, error) {
	v, rest, err := readInt(b)
	if err != nil {
		return b, err
	}
	*i = Int(v)
	return rest, nil
}

// Msgsize returns the maximum encoded size.
func (i Int) Msgsize() int { return 9 }

// IsZero reports whether i is 0.
func (i Int) IsZero() bool { return i == 0 }

// OptInt is an integer field that may be absent (Valid false): the `type`
// of a classic or legacy message, which responses do not carry.
type OptInt struct {
	Value int64
	Valid bool
}

// MarshalMsg appends the value (even when not Valid; use omitzero fields
// to omit it).
func (o OptInt) MarshalMsg(b []byte) ([]byte, error) {
	return appendInt(b, o.Value, Notepack3), nil
}

// UnmarshalMsg reads any integral number and sets Valid.
func (o *OptInt) UnmarshalMsg(b []byte) ([]byte, error) {
	v, rest, err := readInt(b)
	if err != nil {
		return b, err
	}
	o.Value, o.Valid = v, true
	return rest, nil
}

// Msgsize returns the maximum encoded size.
func (o OptInt) Msgsize() int { return 9 }

// IsZero reports whether the field is absent.
func (o OptInt) IsZero() bool { return !o.Valid }

// Is reports whether the field is present and equal to v.
func (o OptInt) Is(v int64) bool { return o.Valid && o.Value == v }

// MarshalMsg appends r verbatim (nil when empty).
func (r Raw) MarshalMsg(b []byte) ([]byte, error) {
	if len(r) == 0 {
		return append(b, 0xc0), nil
	}
	return append(b, r...), nil
}

// UnmarshalMsg takes the next complete value, aliasing b.
func (r *Raw) UnmarshalMsg(b []byte) ([]byte, error) {
	rest, err := skipValue(b)
	if err != nil {
		return b, err
	}
	*r = Raw(b[: len(b)-len(rest) : len(b)-len(rest)])
	return rest, nil
}

// Msgsize returns the encoded size.
func (r Raw) Msgsize() int {
	if len(r) == 0 {
		return 1
	}
	return len(r)
}

// IsZero reports whether r is empty.
func (r Raw) IsZero() bool { return len(r) == 0 }

// IsNil reports whether r is empty or the msgpack nil.
func (r Raw) IsNil() bool { return len(r) == 0 || (len(r) == 1 && r[0] == 0xc0) }

// ---- rooms ---------------------------------------------------------------

// Room is one Socket.IO room. Socket.IO rooms may be strings or JavaScript
// numbers, and its room map tells 42 from "42", so both are kept: Name is
// the string form (JavaScript String(n) for numbers: "42", "1.5") and
// Numeric says the room is a number on the wire.
type Room struct {
	Name    string
	Numeric bool
}

// StringRoom returns the room named s.
func StringRoom(s string) Room { return Room{Name: s} }

// NumberRoom returns the numeric room f (named String(f)).
func NumberRoom(f float64) Room { return Room{Name: JSNumberString(f), Numeric: true} }

// String returns JavaScript's String(room), which is also the room part of
// a Redis channel name.
func (r Room) String() string { return r.Name }

// MarshalMsg appends the room as a str, or as a JS number when Numeric.
func (r Room) MarshalMsg(b []byte) ([]byte, error) {
	if !r.Numeric {
		return AppendString(b, r.Name), nil
	}
	f, err := strconv.ParseFloat(r.Name, 64)
	if err != nil {
		return b, fmt.Errorf("%w: numeric room %q is not a number", ErrUnsupported, r.Name)
	}
	return appendNumber(b, f, Notepack3), nil
}

// UnmarshalMsg reads a string or numeric room, aliasing b for strings.
func (r *Room) UnmarshalMsg(b []byte) ([]byte, error) {
	if len(b) > 0 && b[0]&0xe0 == 0xa0 { // fixstr
		n := int(b[0] & 0x1f)
		if len(b) <= n {
			return b, ErrTruncated
		}
		r.Name, r.Numeric = stringOf(b[1:1+n]), false
		return b[1+n:], nil
	}
	h, rest, err := readHead(b)
	if err != nil {
		return b, err
	}
	switch h.kind {
	case kStr:
		r.Name, r.Numeric = stringOf(h.data), false
	case kInt:
		r.Name, r.Numeric = jsIntString(h.i), true
	case kUint:
		r.Name, r.Numeric = jsUintString(h.u), true
	case kFloat:
		r.Name, r.Numeric = JSNumberString(h.f), true
	default:
		return b, errWrongType("room (string or number)", h)
	}
	return rest, nil
}

// Msgsize returns an upper bound of the encoded size.
func (r Room) Msgsize() int { return 9 + len(r.Name) }

// IsZero reports whether the room is the empty string room.
func (r Room) IsZero() bool { return r.Name == "" && !r.Numeric }

// Rooms is a list of rooms. On the wire it is an array; nil, a missing
// key and an empty map (a JavaScript Set encoded by msgpack) decode as
// empty. Decoding reuses the slice's capacity.
type Rooms []Room

// MarshalMsg appends the rooms as an array.
func (rs Rooms) MarshalMsg(b []byte) ([]byte, error) {
	b = appendArrayHeader(b, uint32(len(rs)))
	var err error
	for i := range rs {
		if b, err = rs[i].MarshalMsg(b); err != nil {
			return b, err
		}
	}
	return b, nil
}

// UnmarshalMsg reads an array of rooms (or nil / {} as empty).
func (rs *Rooms) UnmarshalMsg(b []byte) ([]byte, error) {
	n, rest, err := readListHeader(b, "rooms")
	if err != nil {
		return b, err
	}
	out := (*rs)[:0]
	if cap(out) < n {
		out = make(Rooms, 0, n)
	}
	out = out[:n]
	for i := range out {
		if rest, err = out[i].UnmarshalMsg(rest); err != nil {
			return b, fmt.Errorf("rooms[%d]: %w", i, err)
		}
	}
	*rs = out
	return rest, nil
}

// readListHeader reads the header of a list the way JavaScript peers send
// one: an array, or nil or an empty map (an encoded Set) for an empty list.
// The length is checked against the bytes left (each item takes at least
// one), so a lying header cannot make the caller allocate.
func readListHeader(b []byte, what string) (n int, rest []byte, err error) {
	h, rest, err := readHead(b)
	if err != nil {
		return 0, b, err
	}
	switch h.kind {
	case kNil:
		return 0, rest, nil
	case kMap:
		if h.n != 0 {
			return 0, b, fmt.Errorf("%w: %s: non-empty map", ErrMalformed, what)
		}
		return 0, rest, nil
	case kArray:
		if h.n > len(rest) {
			return 0, b, ErrTruncated
		}
		return h.n, rest, nil
	}
	return 0, b, errWrongType(what+" array", h)
}

// readMapHeader reads the header of an object that JavaScript peers may
// also send as nil (read as empty). The length is checked against the bytes
// left (each pair takes at least two).
func readMapHeader(b []byte, what string) (n int, rest []byte, err error) {
	h, rest, err := readHead(b)
	if err != nil {
		return 0, b, err
	}
	switch h.kind {
	case kNil:
		return 0, rest, nil
	case kMap:
		if h.n > len(rest)/2 {
			return 0, b, ErrTruncated
		}
		return h.n, rest, nil
	}
	return 0, b, errWrongType(what+" map", h)
}

// Msgsize returns an upper bound of the encoded size.
func (rs Rooms) Msgsize() int {
	n := 5
	for i := range rs {
		n += rs[i].Msgsize()
	}
	return n
}

// IsZero reports whether the list is empty.
func (rs Rooms) IsZero() bool { return len(rs) == 0 }

// Strings is a list of strings (socket ids) decoded like Rooms: nil or {}
// read as empty, capacity reused, elements alias the input.
type Strings []string

// MarshalMsg appends the strings as an array.
func (ss Strings) MarshalMsg(b []byte) ([]byte, error) {
	b = appendArrayHeader(b, uint32(len(ss)))
	for _, s := range ss {
		b = AppendString(b, s)
	}
	return b, nil
}

// UnmarshalMsg reads an array of strings.
func (ss *Strings) UnmarshalMsg(b []byte) ([]byte, error) {
	n, rest, err := readListHeader(b, "strings")
	if err != nil {
		return b, err
	}
	out := (*ss)[:0]
	if cap(out) < n {
		out = make(Strings, 0, n)
	}
	out = out[:n]
	for i := range out {
		var s Str
		if rest, err = s.UnmarshalMsg(rest); err != nil {
			return b, fmt.Errorf("strings[%d]: %w", i, err)
		}
		out[i] = string(s)
	}
	*ss = out
	return rest, nil
}

// Msgsize returns an upper bound of the encoded size.
func (ss Strings) Msgsize() int {
	n := 5
	for _, s := range ss {
		n += 5 + len(s)
	}
	return n
}

// IsZero reports whether the list is empty.
func (ss Strings) IsZero() bool { return len(ss) == 0 }

// ---- errors from generated code ------------------------------------------

// normalizeErr maps errors from msgp-generated code onto this package's
// sentinels, keeping the generated context (field names) in the text.
func normalizeErr(err error, what string) error {
	if err == nil {
		return nil
	}
	for _, s := range []error{ErrTruncated, ErrTooDeep, ErrMalformed, ErrUnsupported, ErrTrailing} {
		if errors.Is(err, s) {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	if errors.Is(err, msgp.ErrShortBytes) {
		return fmt.Errorf("%s: %w (%v)", what, ErrTruncated, err)
	}
	return fmt.Errorf("%s: %w (%v)", what, ErrMalformed, err)
}
