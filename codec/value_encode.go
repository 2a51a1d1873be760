package codec

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/tinylib/msgp/msgp"
)

// AppendValue appends v encoded as notepack.io 3 would encode the
// equivalent JavaScript value (see AppendValueFlavor for the accepted Go
// types and the rules).
func AppendValue(dst []byte, v any) ([]byte, error) {
	return AppendValueFlavor(dst, v, Notepack3)
}

// AppendValueFlavor appends v encoded with the rules of flavor f.
//
// Accepted Go values: nil; bool; every int and uint width; float32 and
// float64; string; []byte (bin); Raw (appended verbatim); []any, []string,
// []int, []int64, []float64; map[string]any and map[string]string (keys in
// JavaScript enumeration order: array-index keys ascending first, then the
// others sorted, since Go maps have no insertion order); Map (keys in slice
// order); time.Time (a JS Date, millisecond precision); Undefined; Ext;
// values implementing msgp.Marshaler (their output is appended as is).
// Anything else is marshalled with encoding/json and transcoded from JSON
// (so []byte inside structs becomes a base64 string, as encoding/json
// writes it). Channels, functions, complex numbers and unsafe pointers fail
// with ErrUnsupported.
//
// Numbers follow JavaScript: a Go number is a JS number, so an integral
// float64 is written as an integer (smallest of fixint, uint8/16/32/64 or
// negative fixint, int8/16/32/64), a non-integral one as float64 (never
// float32), -0 as 0. With MsgpackLite, integers outside the int32 range
// are written as float64, as msgpack-lite does.
func AppendValueFlavor(dst []byte, v any, f Flavor) ([]byte, error) {
	e := encoder{flavor: f}
	out, err := e.value(dst, v, 0)
	if err != nil {
		return dst, errWrap(err, "codec: encode value")
	}
	return out, nil
}

// AppendArgs appends the MessagePack array [event, args…] — the `data` of
// a Socket.IO EVENT packet — with notepack.io 3 rules.
func AppendArgs(dst []byte, event string, args ...any) ([]byte, error) {
	return AppendArgsFlavor(dst, Notepack3, event, args...)
}

// AppendArgsFlavor is AppendArgs with an explicit flavor.
func AppendArgsFlavor(dst []byte, f Flavor, event string, args ...any) ([]byte, error) {
	start := len(dst)
	dst = appendArrayHeader(dst, uint32(len(args)+1))
	dst = AppendString(dst, event)
	e := encoder{flavor: f}
	var err error
	for _, a := range args {
		dst, err = e.value(dst, a, 1)
		if err != nil {
			return dst[:start], errWrap(err, "codec: encode args")
		}
	}
	return dst, nil
}

type encoder struct {
	flavor Flavor
}

func (e *encoder) value(dst []byte, v any, depth int) ([]byte, error) {
	if depth > MaxDepth {
		return dst, ErrTooDeep
	}
	switch x := v.(type) {
	case nil:
		return append(dst, 0xc0), nil
	case bool:
		return appendBool(dst, x), nil
	case string:
		return AppendString(dst, x), nil
	case int:
		return appendInt(dst, int64(x), e.flavor), nil
	case int64:
		return appendInt(dst, x, e.flavor), nil
	case int32:
		return appendInt(dst, int64(x), e.flavor), nil
	case int16:
		return appendInt(dst, int64(x), e.flavor), nil
	case int8:
		return appendInt(dst, int64(x), e.flavor), nil
	case uint:
		return appendUint(dst, uint64(x), e.flavor), nil
	case uint64:
		return appendUint(dst, x, e.flavor), nil
	case uint32:
		return appendUint(dst, uint64(x), e.flavor), nil
	case uint16:
		return appendUint(dst, uint64(x), e.flavor), nil
	case uint8:
		return appendUint(dst, uint64(x), e.flavor), nil
	case uintptr:
		return appendUint(dst, uint64(x), e.flavor), nil
	case float64:
		return appendNumber(dst, x, e.flavor), nil
	case float32:
		return appendNumber(dst, float64(x), e.flavor), nil
	case []byte:
		return AppendBin(dst, x), nil
	case Raw:
		if len(x) == 0 {
			return append(dst, 0xc0), nil
		}
		return append(dst, x...), nil
	case []any:
		dst = appendArrayHeader(dst, uint32(len(x)))
		var err error
		for _, it := range x {
			if _, ok := it.(Undefined); ok {
				dst = e.undefined(dst)
				continue
			}
			if dst, err = e.value(dst, it, depth+1); err != nil {
				return dst, err
			}
		}
		return dst, nil
	case []string:
		dst = appendArrayHeader(dst, uint32(len(x)))
		for _, s := range x {
			dst = AppendString(dst, s)
		}
		return dst, nil
	case []int:
		dst = appendArrayHeader(dst, uint32(len(x)))
		for _, n := range x {
			dst = appendInt(dst, int64(n), e.flavor)
		}
		return dst, nil
	case []int64:
		dst = appendArrayHeader(dst, uint32(len(x)))
		for _, n := range x {
			dst = appendInt(dst, n, e.flavor)
		}
		return dst, nil
	case []float64:
		dst = appendArrayHeader(dst, uint32(len(x)))
		for _, n := range x {
			dst = appendNumber(dst, n, e.flavor)
		}
		return dst, nil
	case Map:
		return e.kvs(dst, x, depth)
	case []KV:
		return e.kvs(dst, x, depth)
	case map[string]any:
		keys := jsKeyOrder(x)
		n := len(keys)
		if e.flavor.base() == Notepack3 {
			for _, k := range keys {
				if _, ok := x[k].(Undefined); ok {
					n--
				}
			}
		}
		dst = appendMapHeader(dst, uint32(n))
		var err error
		for _, k := range keys {
			val := x[k]
			if _, ok := val.(Undefined); ok {
				if e.flavor.base() == Notepack3 {
					continue
				}
				dst = AppendString(dst, k)
				dst = e.undefined(dst)
				continue
			}
			dst = AppendString(dst, k)
			if dst, err = e.value(dst, val, depth+1); err != nil {
				return dst, err
			}
		}
		return dst, nil
	case map[string]string:
		keys := jsKeyOrder(x)
		dst = appendMapHeader(dst, uint32(len(keys)))
		for _, k := range keys {
			dst = AppendString(dst, k)
			dst = AppendString(dst, x[k])
		}
		return dst, nil
	case time.Time:
		return appendTime(dst, x, e.flavor), nil
	case *time.Time:
		if x == nil {
			return append(dst, 0xc0), nil
		}
		return appendTime(dst, *x, e.flavor), nil
	case Undefined:
		return e.undefined(dst), nil
	case Ext:
		return appendExt(dst, x.Type, x.Data, e.flavor), nil
	case json.Number:
		return appendJSONNumber(dst, string(x), e.flavor)
	case json.RawMessage:
		return jsonToMsgpack(dst, x, e.flavor)
	case msgp.Marshaler:
		return x.MarshalMsg(dst)
	}
	return e.reflectValue(dst, v)
}

// kvs encodes an ordered map.
func (e *encoder) kvs(dst []byte, m []KV, depth int) ([]byte, error) {
	n := len(m)
	if e.flavor.base() == Notepack3 {
		for i := range m {
			if _, ok := m[i].Value.(Undefined); ok {
				n--
			}
		}
	}
	dst = appendMapHeader(dst, uint32(n))
	var err error
	for i := range m {
		if _, ok := m[i].Value.(Undefined); ok {
			if e.flavor.base() == Notepack3 {
				continue
			}
			dst = AppendString(dst, m[i].Key)
			dst = e.undefined(dst)
			continue
		}
		dst = AppendString(dst, m[i].Key)
		if dst, err = e.value(dst, m[i].Value, depth+1); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// undefined writes JS undefined in the flavor's form.
func (e *encoder) undefined(dst []byte) []byte {
	if e.flavor == Notepack2 {
		return append(dst, 0xd4, 0x00, 0x00)
	}
	return append(dst, 0xc0)
}

// reflectValue handles the remaining Go values through encoding/json.
func (e *encoder) reflectValue(dst []byte, v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Chan, reflect.Func, reflect.Complex64, reflect.Complex128, reflect.UnsafePointer:
		return dst, fmt.Errorf("%w: %T", ErrUnsupported, v)
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return append(dst, 0xc0), nil
		}
	}
	js, err := json.Marshal(v)
	if err != nil {
		return dst, fmt.Errorf("%w: %T: %v", ErrUnsupported, v, err)
	}
	return jsonToMsgpack(dst, js, e.flavor)
}

// jsKeyOrder returns the keys of a Go map in JavaScript enumeration order:
// array-index keys ascending, then the other keys sorted (Go maps have no
// insertion order to preserve).
func jsKeyOrder[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		ai, aok := isArrayIndex(a)
		bi, bok := isArrayIndex(b)
		switch {
		case aok && bok:
			switch {
			case ai < bi:
				return -1
			case ai > bi:
				return 1
			}
			return 0
		case aok:
			return -1
		case bok:
			return 1
		}
		return strings.Compare(a, b)
	})
	return keys
}

// ---- primitive appenders -------------------------------------------------

func appendBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, 0xc3)
	}
	return append(dst, 0xc2)
}

// AppendString appends s as a MessagePack str (fixstr/str8/str16/str32).
func AppendString(dst []byte, s string) []byte {
	n := len(s)
	switch {
	case n < 32:
		dst = append(dst, 0xa0|byte(n))
	case n < 1<<8:
		dst = append(dst, 0xd9, byte(n))
	case n < 1<<16:
		dst = append(dst, 0xda, byte(n>>8), byte(n))
	default:
		dst = append(dst, 0xdb, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, s...)
}

// AppendBin appends b as a MessagePack bin (bin8/16/32): a Node Buffer.
func AppendBin(dst []byte, b []byte) []byte {
	n := len(b)
	switch {
	case n < 1<<8:
		dst = append(dst, 0xc4, byte(n))
	case n < 1<<16:
		dst = append(dst, 0xc5, byte(n>>8), byte(n))
	default:
		dst = append(dst, 0xc6, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, b...)
}

func appendArrayHeader(dst []byte, n uint32) []byte {
	switch {
	case n < 16:
		return append(dst, 0x90|byte(n))
	case n < 1<<16:
		return append(dst, 0xdc, byte(n>>8), byte(n))
	}
	return append(dst, 0xdd, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

func appendMapHeader(dst []byte, n uint32) []byte {
	switch {
	case n < 16:
		return append(dst, 0x80|byte(n))
	case n < 1<<16:
		return append(dst, 0xde, byte(n>>8), byte(n))
	}
	return append(dst, 0xdf, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// AppendArrayHeader appends a MessagePack array header for n elements.
func AppendArrayHeader(dst []byte, n uint32) []byte { return appendArrayHeader(dst, n) }

// AppendMapHeader appends a MessagePack map header for n pairs.
func AppendMapHeader(dst []byte, n uint32) []byte { return appendMapHeader(dst, n) }

// appendInt writes a signed integer with the flavor's rules.
func appendInt(dst []byte, i int64, f Flavor) []byte {
	if i >= 0 {
		return appendUint(dst, uint64(i), f)
	}
	if f == MsgpackLite && i < math.MinInt32 {
		return appendFloat64(dst, float64(i))
	}
	switch {
	case i >= -32:
		return append(dst, byte(int8(i)))
	case i >= math.MinInt8:
		return append(dst, 0xd0, byte(int8(i)))
	case i >= math.MinInt16:
		return append(dst, 0xd1, byte(uint16(i)>>8), byte(i))
	case i >= math.MinInt32:
		return append(dst, 0xd2, byte(uint32(i)>>24), byte(uint32(i)>>16), byte(uint32(i)>>8), byte(i))
	}
	dst = append(dst, 0xd3)
	return binary.BigEndian.AppendUint64(dst, uint64(i))
}

// appendUint writes a non-negative integer with the flavor's rules.
func appendUint(dst []byte, u uint64, f Flavor) []byte {
	if f == MsgpackLite && u > math.MaxInt32 {
		return appendFloat64(dst, float64(u))
	}
	switch {
	case u < 0x80:
		return append(dst, byte(u))
	case u < 1<<8:
		return append(dst, 0xcc, byte(u))
	case u < 1<<16:
		return append(dst, 0xcd, byte(u>>8), byte(u))
	case u < 1<<32:
		return append(dst, 0xce, byte(u>>24), byte(u>>16), byte(u>>8), byte(u))
	}
	dst = append(dst, 0xcf)
	return binary.BigEndian.AppendUint64(dst, u)
}

// appendFloat64 writes a float64 (NaN canonicalised to JavaScript's NaN).
func appendFloat64(dst []byte, f float64) []byte {
	bits := math.Float64bits(f)
	if f != f {
		bits = 0x7ff8000000000000
	}
	dst = append(dst, 0xcb)
	return binary.BigEndian.AppendUint64(dst, bits)
}

// appendNumber writes a JavaScript number with the flavor's rules:
// integral values as integers, others as float64.
func appendNumber(dst []byte, x float64, f Flavor) []byte {
	if x != math.Trunc(x) || math.IsInf(x, 0) { // NaN fails the first test
		return appendFloat64(dst, x)
	}
	if x == 0 {
		return append(dst, 0x00) // also -0
	}
	if f == MsgpackLite {
		if x > math.MaxInt32 || x < math.MinInt32 {
			return appendFloat64(dst, x)
		}
		return appendInt(dst, int64(x), f)
	}
	const two32 = 4294967296.0
	if f == Notepack3Exact && (x >= 18446744073709551616.0 || x < -9223372036854775808.0) {
		return appendFloat64(dst, x)
	}
	f = f.base()
	if x >= 0 {
		if x < two32 {
			return appendUint(dst, uint64(x), f)
		}
		// notepack: hi = (x / 2^32) >> 0, lo = x >>> 0 (both mod 2^32):
		// exact below 2^64, "wrapped" garbage above, as notepack writes it.
		hi := math.Mod(math.Trunc(x/two32), two32)
		lo := math.Mod(x, two32)
		dst = append(dst, 0xcf)
		dst = binary.BigEndian.AppendUint32(dst, uint32(hi))
		return binary.BigEndian.AppendUint32(dst, uint32(lo))
	}
	if x >= math.MinInt32 {
		return appendInt(dst, int64(x), f)
	}
	hi := math.Mod(math.Floor(x/two32), two32)
	if hi < 0 {
		hi += two32
	}
	lo := math.Mod(x, two32)
	if lo < 0 {
		lo += two32
	}
	dst = append(dst, 0xd3)
	dst = binary.BigEndian.AppendUint32(dst, uint32(hi))
	return binary.BigEndian.AppendUint32(dst, uint32(lo))
}

// AppendNumber appends a JavaScript number with notepack.io 3 rules.
func AppendNumber(dst []byte, x float64) []byte { return appendNumber(dst, x, Notepack3) }

// AppendInt appends an integer with notepack.io 3 rules (smallest unsigned
// format for non-negative values, smallest signed one for negative ones).
func AppendInt(dst []byte, i int64) []byte { return appendInt(dst, i, Notepack3) }

// appendExt writes an extension value. notepack writes type 0
// (ArrayBuffer) always with ext8/16/32 framing; everything else uses
// fixext when the length allows, like msgpack-lite.
func appendExt(dst []byte, typ int8, data []byte, f Flavor) []byte {
	n := len(data)
	if typ != 0 || f == MsgpackLite {
		var c byte
		switch n {
		case 1:
			c = 0xd4
		case 2:
			c = 0xd5
		case 4:
			c = 0xd6
		case 8:
			c = 0xd7
		case 16:
			c = 0xd8
		}
		if c != 0 {
			dst = append(dst, c, byte(typ))
			return append(dst, data...)
		}
	}
	switch {
	case n < 1<<8:
		dst = append(dst, 0xc7, byte(n), byte(typ))
	case n < 1<<16:
		dst = append(dst, 0xc8, byte(n>>8), byte(n), byte(typ))
	default:
		dst = append(dst, 0xc9, byte(n>>24), byte(n>>16), byte(n>>8), byte(n), byte(typ))
	}
	return append(dst, data...)
}

// appendTime writes a JavaScript Date (millisecond precision).
func appendTime(dst []byte, t time.Time, f Flavor) []byte {
	ms := jsDateMillis(t)
	switch f {
	case Notepack2:
		dst = append(dst, 0xd7, 0x00)
		return binary.BigEndian.AppendUint64(dst, uint64(ms))
	case MsgpackLite:
		var tmp [16]byte
		num := appendNumber(tmp[:0], float64(ms), MsgpackLite)
		return appendExt(dst, 0x0d, num, MsgpackLite)
	}
	s := ms / 1000
	if ms%1000 < 0 {
		s--
	}
	ns := (ms - s*1000) * 1e6
	if s >= 0 && s <= 1<<34-1 {
		if ns == 0 && s <= 1<<32-1 {
			dst = append(dst, 0xd6, 0xff)
			return binary.BigEndian.AppendUint32(dst, uint32(s))
		}
		dst = append(dst, 0xd7, 0xff)
		return binary.BigEndian.AppendUint64(dst, uint64(ns)<<34|uint64(s))
	}
	dst = append(dst, 0xc7, 12, 0xff)
	dst = binary.BigEndian.AppendUint32(dst, uint32(ns))
	return binary.BigEndian.AppendUint64(dst, uint64(s))
}

// AppendTime appends t as a JavaScript Date with notepack.io 3 rules
// (timestamp extension -1, millisecond precision).
func AppendTime(dst []byte, t time.Time) []byte { return appendTime(dst, t, Notepack3) }
