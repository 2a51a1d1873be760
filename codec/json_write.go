package codec

import (
	"encoding/binary"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends the JSON text that JavaScript's JSON.stringify would
// produce for the value notepack.io 3 decodes from the MessagePack bytes
// src (which must hold exactly one value). It transcodes directly, without
// building a Go value tree:
//
//   - strings are escaped as JSON.stringify does: \" \\ \b \f \n \r \t,
//     other control characters as \u00xx (lowercase hex), nothing else —
//     no HTML escaping, U+2028/U+2029 written as is. Invalid UTF-8 is
//     replaced by U+FFFD like Node's UTF-8 decoder (one per maximal
//     invalid subsequence).
//   - numbers use the JavaScript Number::toString form (AppendJSNumber);
//     integers beyond 2^53 are rounded to the double JavaScript would hold;
//     NaN and ±Infinity become null.
//   - Dates (timestamp ext -1, notepack 1/2 fixext8 type 0) become ISO
//     strings like "2023-11-14T22:13:20.123Z".
//   - undefined (fixext1 type 0) becomes null in arrays and at the top
//     level; an object key whose value is undefined is omitted.
//   - bin (a Node Buffer) becomes {"type":"Buffer","data":[1,2]}; an
//     ArrayBuffer (ext8/16/32 type 0) becomes {}; any other extension
//     becomes [type,{"type":"Buffer","data":[…]}], as notepack.io 3 reads it.
//   - object keys are written in JavaScript property order: array-index
//     keys ("0", "1", …) ascending first, then the others in wire order;
//     with duplicate keys (up to 16 keys per object) the last value wins at
//     the first position.
func AppendJSON(dst []byte, src []byte) ([]byte, error) {
	w := jsonWriter{}
	out, rest, err := w.value(dst, src, 0, ctxTop)
	if err != nil {
		return dst, errWrap(err, "codec: msgpack to json")
	}
	if len(rest) != 0 {
		return dst, errWrap(ErrTrailing, "codec: msgpack to json")
	}
	return out, nil
}

// AppendJSONValue appends the JSON.stringify text of a Go value (accepted
// types as for AppendValue). The value is first encoded with notepack.io 3
// rules, so numbers, Dates, undefined and []byte follow the same
// JavaScript semantics as values that arrived over the wire.
func AppendJSONValue(dst []byte, v any) ([]byte, error) {
	bp := GetBuffer()
	defer PutBuffer(bp)
	mp, err := AppendValue((*bp)[:0], v)
	*bp = mp
	if err != nil {
		return dst, err
	}
	return AppendJSON(dst, mp)
}

type jsonCtx uint8

const (
	ctxTop jsonCtx = iota
	ctxArray
	ctxMapValue
)

// jsonWriter transcodes msgpack to JSON. In placeholder mode (frames),
// binary values are replaced by {"_placeholder":true,"num":n} and collected
// in attachments.
type jsonWriter struct {
	placeholders bool
	attachments  [][]byte
}

func (w *jsonWriter) value(dst, src []byte, depth int, ctx jsonCtx) ([]byte, []byte, error) {
	if len(src) > 0 {
		switch c := src[0]; {
		case c <= 0x7f:
			if c < 10 {
				return append(dst, '0'+c), src[1:], nil
			}
			return strconv.AppendUint(dst, uint64(c), 10), src[1:], nil
		case c >= 0xa0 && c <= 0xbf:
			n := int(c & 0x1f)
			if len(src) <= n {
				return dst, src, ErrTruncated
			}
			return appendJSONString(dst, src[1:1+n]), src[1+n:], nil
		}
	}
	h, rest, err := readHead(src)
	if err != nil {
		return dst, src, err
	}
	switch h.kind {
	case kNil:
		return append(dst, "null"...), rest, nil
	case kBool:
		if h.b {
			return append(dst, "true"...), rest, nil
		}
		return append(dst, "false"...), rest, nil
	case kInt:
		return appendJSInt(dst, h.i), rest, nil
	case kUint:
		return appendJSUint(dst, h.u), rest, nil
	case kFloat:
		if h.f != h.f || h.f > 1.7976931348623157e308 || h.f < -1.7976931348623157e308 {
			return append(dst, "null"...), rest, nil
		}
		return AppendJSNumber(dst, h.f), rest, nil
	case kStr:
		return appendJSONString(dst, h.data), rest, nil
	case kBin:
		return w.binary(dst, h.data), rest, nil
	case kExt:
		return w.ext(dst, h), rest, nil
	case kArray:
		if depth >= MaxDepth {
			return dst, src, ErrTooDeep
		}
		if h.n > len(rest) {
			return dst, src, ErrTruncated
		}
		dst = append(dst, '[')
		for i := 0; i < h.n; i++ {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst, rest, err = w.value(dst, rest, depth+1, ctxArray)
			if err != nil {
				return dst, src, err
			}
		}
		return append(dst, ']'), rest, nil
	case kMap:
		if depth >= MaxDepth {
			return dst, src, ErrTooDeep
		}
		if h.n > len(rest)/2 {
			return dst, src, ErrTruncated
		}
		return w.object(dst, rest, h.n, depth, src)
	}
	return dst, src, ErrMalformed
}

// isUndefinedItem reports whether the next item is fixext1 type 0.
func isUndefinedItem(b []byte) bool {
	return len(b) >= 3 && b[0] == 0xd4 && b[1] == 0x00
}

// object writes a map of n pairs starting at b. A first pass over the
// keys (skipping the values) decides whether JavaScript would reorder
// them (array-index keys) or merge duplicates (checked for objects of up
// to 16 keys); if so the ordered slow path is taken. Deciding before
// writing keeps the cost linear in the input size per nesting level; a
// write-then-rewind strategy would be exponential in the depth.
func (w *jsonWriter) object(dst, b []byte, n int, depth int, src []byte) ([]byte, []byte, error) {
	var keysBuf [16][]byte
	keys := keysBuf[:0]
	scan := b
	var err error
	for i := 0; i < n; i++ {
		var kb, rest []byte
		if len(scan) > 0 && scan[0]&0xe0 == 0xa0 { // fixstr
			kl := int(scan[0] & 0x1f)
			if len(scan) <= kl {
				return dst, src, ErrTruncated
			}
			kb, rest = scan[1:1+kl], scan[1+kl:]
		} else {
			var kh head
			if kh, rest, err = readHead(scan); err != nil {
				return dst, src, err
			}
			if kh.kind != kStr {
				return w.objectOrdered(dst, b, n, depth, src)
			}
			kb = kh.data
		}
		if len(kb) > 0 && kb[0] >= '0' && kb[0] <= '9' {
			if _, ok := isArrayIndex(stringOf(kb)); ok {
				return w.objectOrdered(dst, b, n, depth, src)
			}
		}
		if n <= 16 {
			for _, k := range keys {
				if string(k) == string(kb) {
					return w.objectOrdered(dst, b, n, depth, src)
				}
			}
			keys = append(keys, kb)
		}
		if scan, err = skipValue(rest); err != nil {
			return dst, src, err
		}
	}
	dst = append(dst, '{')
	first := true
	for i := 0; i < n; i++ {
		var kb, rest []byte
		if b[0]&0xe0 == 0xa0 {
			kl := int(b[0] & 0x1f)
			kb, rest = b[1:1+kl], b[1+kl:]
		} else {
			var kh head
			kh, rest, _ = readHead(b)
			kb = kh.data
		}
		if isUndefinedItem(rest) {
			b = rest[3:]
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendJSONString(dst, kb)
		dst = append(dst, ':')
		if dst, b, err = w.value(dst, rest, depth+1, ctxMapValue); err != nil {
			return dst, src, err
		}
	}
	return append(dst, '}'), b, nil
}

type jsonEntry struct {
	key   string
	index uint32
	isIdx bool
	val   []byte
}

// objectOrdered is the slow path of object: JavaScript property order and
// last-wins duplicates.
func (w *jsonWriter) objectOrdered(dst, b []byte, n int, depth int, src []byte) ([]byte, []byte, error) {
	entries := make([]jsonEntry, 0, n)
	for i := 0; i < n; i++ {
		kh, rest, err := readHead(b)
		if err != nil {
			return dst, src, err
		}
		key, ok := keyString(kh, stringOf)
		if !ok {
			return dst, src, ErrMalformed
		}
		after, err := skipValue(rest)
		if err != nil {
			return dst, src, err
		}
		val := rest[:len(rest)-len(after)]
		b = after
		dup := false
		for j := range entries {
			if entries[j].key == key {
				entries[j].val = val
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		idx, isIdx := isArrayIndex(key)
		entries = append(entries, jsonEntry{key: key, index: idx, isIdx: isIdx, val: val})
	}
	// Stable insertion sort: index keys ascending first.
	for i := 1; i < len(entries); i++ {
		for j := i; j > 0 && entries[j].isIdx && (!entries[j-1].isIdx || entries[j-1].index > entries[j].index); j-- {
			entries[j], entries[j-1] = entries[j-1], entries[j]
		}
	}
	dst = append(dst, '{')
	first := true
	var err error
	for _, e := range entries {
		if isUndefinedItem(e.val) {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendJSONString(dst, bytesOf(e.key))
		dst = append(dst, ':')
		if dst, _, err = w.value(dst, e.val, depth+1, ctxMapValue); err != nil {
			return dst, src, err
		}
	}
	return append(dst, '}'), b, nil
}

// binary writes a Buffer (or a placeholder in frame mode).
func (w *jsonWriter) binary(dst, data []byte) []byte {
	if w.placeholders {
		dst = append(dst, `{"_placeholder":true,"num":`...)
		dst = strconv.AppendInt(dst, int64(len(w.attachments)), 10)
		w.attachments = append(w.attachments, data)
		return append(dst, '}')
	}
	dst = append(dst, `{"type":"Buffer","data":[`...)
	for i, c := range data {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendUint(dst, uint64(c), 10)
	}
	return append(dst, "]}"...)
}

// ext writes an extension value as notepack.io 3 reads it.
func (w *jsonWriter) ext(dst []byte, h head) []byte {
	switch {
	case h.ext == 0 && h.fixed && len(h.data) == 1: // undefined
		return append(dst, "null"...)
	case h.ext == 0 && h.fixed && len(h.data) == 8: // notepack 1/2 Date
		ms := int64(uint64(h.data[0])<<56 | uint64(h.data[1])<<48 | uint64(h.data[2])<<40 | uint64(h.data[3])<<32 |
			uint64(h.data[4])<<24 | uint64(h.data[5])<<16 | uint64(h.data[6])<<8 | uint64(h.data[7]))
		return appendJSDate(dst, ms)
	case h.ext == -1:
		if t, ok := decodeTimestamp(h.data); ok {
			return appendJSDate(dst, jsMillis(t))
		}
	case h.ext == 0 && !h.fixed: // ArrayBuffer
		if w.placeholders {
			return w.binary(dst, h.data)
		}
		return append(dst, "{}"...)
	}
	dst = append(dst, '[')
	dst = strconv.AppendInt(dst, int64(h.ext), 10)
	dst = append(dst, ',')
	dst = w.binary(dst, h.data)
	return append(dst, ']')
}

// jsMillis converts a decoded timestamp to the millisecond value a
// JavaScript Date constructed from it holds (truncation toward zero).
func jsMillis(t time.Time) int64 {
	sec := t.Unix()
	ns := int64(t.Nanosecond())
	ms := sec*1000 + ns/1e6
	if ms < 0 && ns%1e6 != 0 {
		ms++
	}
	return ms
}

// maxJSDate is the largest |ms| a JavaScript Date can hold.
const maxJSDate = 8.64e15

// appendJSDate writes Date.prototype.toJSON of ms as a JSON string (or
// null for an invalid Date).
func appendJSDate(dst []byte, ms int64) []byte {
	if ms > maxJSDate || ms < -maxJSDate {
		return append(dst, "null"...)
	}
	t := time.UnixMilli(ms).UTC()
	y := t.Year()
	dst = append(dst, '"')
	switch {
	case y >= 0 && y <= 9999:
		dst = appendPad(dst, y, 4)
	case y < 0:
		dst = append(dst, '-')
		dst = appendPad(dst, -y, 6)
	default:
		dst = append(dst, '+')
		dst = appendPad(dst, y, 6)
	}
	dst = append(dst, '-')
	dst = appendPad(dst, int(t.Month()), 2)
	dst = append(dst, '-')
	dst = appendPad(dst, t.Day(), 2)
	dst = append(dst, 'T')
	dst = appendPad(dst, t.Hour(), 2)
	dst = append(dst, ':')
	dst = appendPad(dst, t.Minute(), 2)
	dst = append(dst, ':')
	dst = appendPad(dst, t.Second(), 2)
	dst = append(dst, '.')
	dst = appendPad(dst, t.Nanosecond()/1e6, 3)
	return append(dst, 'Z', '"')
}

func appendPad(dst []byte, v, width int) []byte {
	var buf [12]byte
	s := strconv.AppendInt(buf[:0], int64(v), 10)
	for i := len(s); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// jsonNoEscape[c] is true for ASCII bytes JSON.stringify writes verbatim.
var jsonNoEscape = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return
}()

const hexDigits = "0123456789abcdef"

// appendJSONString writes s (UTF-8 bytes) as a JSON string literal the
// way JSON.stringify does.
func appendJSONString(dst []byte, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		// Eight bytes at a time while they need no escape (most text).
		for i+8 <= len(s) && plainASCII8(binary.LittleEndian.Uint64(s[i:])) {
			i += 8
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonNoEscape[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"':
				dst = append(dst, '\\', '"')
			case '\\':
				dst = append(dst, '\\', '\\')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size <= 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\uFFFD"...)
			i += maximalSubpart(s[i:])
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// plainASCII8 reports whether the eight bytes of v are all ASCII that
// JSON.stringify writes as is: nothing ≥ 0x80, and none of what a JSON
// string scan stops at (jsonSpecial8: a control character, '"', '\\').
func plainASCII8(v uint64) bool {
	return v&0x8080808080808080 == 0 && !jsonSpecial8(v)
}

// maximalSubpart returns how many bytes of an invalid UTF-8 sequence at
// the start of b the WHATWG decoder (Node's Buffer#toString) replaces with
// one U+FFFD.
func maximalSubpart(b []byte) int {
	c := b[0]
	need := 0
	lo, hi := byte(0x80), byte(0xbf)
	switch {
	case c >= 0xc2 && c <= 0xdf:
		need = 1
	case c == 0xe0:
		need, lo = 2, 0xa0
	case c >= 0xe1 && c <= 0xec, c == 0xee, c == 0xef:
		need = 2
	case c == 0xed:
		need, hi = 2, 0x9f
	case c == 0xf0:
		need, lo = 3, 0x90
	case c >= 0xf1 && c <= 0xf3:
		need = 3
	case c == 0xf4:
		need, hi = 3, 0x8f
	default:
		return 1
	}
	i := 1
	for ; i <= need && i < len(b); i++ {
		if b[i] < lo || b[i] > hi {
			return i
		}
		lo, hi = 0x80, 0xbf
	}
	return i
}

// AppendJSONString appends s as a JSON string literal exactly as
// JSON.stringify writes it.
func AppendJSONString(dst []byte, s string) []byte {
	return appendJSONString(dst, bytesOf(s))
}
