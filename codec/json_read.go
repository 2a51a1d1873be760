package codec

import (
	"encoding/binary"
	"math"
	"strconv"
	"unicode/utf8"
)

// JSONToMsgpack appends the MessagePack encoding of the JSON text js.
//
// Object keys keep their order. A number written as an integer literal
// (no fraction, no exponent) that fits in int64/uint64 becomes a msgpack
// integer in notepack's smallest format; every other number becomes a
// float64. Parsing is strict (RFC 8259: no trailing commas, no comments,
// no control characters in strings, valid UTF-8) and bounded: nesting
// deeper than MaxDepth fails with ErrTooDeep. Lone UTF-16 surrogates in
// \u escapes are replaced by U+FFFD.
//
// It is how JSON-encoded requests, responses and envelopes are decoded: the
// result goes through the same MessagePack decoders as msgpack messages.
func JSONToMsgpack(dst []byte, js []byte) ([]byte, error) {
	out, err := jsonToMsgpack(dst, js, Notepack3Exact) // a JSON number is a float64: no notepack wrapping
	if err != nil {
		return dst, errWrap(err, "codec: json to msgpack")
	}
	return out, nil
}

// JSONToMsgpackString is JSONToMsgpack for a string input.
func JSONToMsgpackString(dst []byte, js string) ([]byte, error) {
	return JSONToMsgpack(dst, bytesOf(js))
}

func jsonToMsgpack(dst []byte, js []byte, f Flavor) ([]byte, error) {
	p := jsonParser{in: js, out: dst, flavor: f}
	p.ws()
	if err := p.value(0); err != nil {
		return dst, err
	}
	p.ws()
	if p.pos != len(p.in) {
		return dst, ErrTrailing
	}
	return p.out, nil
}

type jsonParser struct {
	in     []byte
	pos    int
	out    []byte
	flavor Flavor
}

func (p *jsonParser) ws() {
	for p.pos < len(p.in) {
		switch p.in[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jsonParser) lit(s string) error {
	if len(p.in)-p.pos < len(s) {
		return ErrTruncated
	}
	if string(p.in[p.pos:p.pos+len(s)]) != s {
		return ErrMalformed
	}
	p.pos += len(s)
	return nil
}

func (p *jsonParser) value(depth int) error {
	if p.pos >= len(p.in) {
		return ErrTruncated
	}
	switch c := p.in[p.pos]; c {
	case '{':
		return p.object(depth)
	case '[':
		return p.array(depth)
	case '"':
		return p.str()
	case 't':
		if err := p.lit("true"); err != nil {
			return err
		}
		p.out = append(p.out, 0xc3)
		return nil
	case 'f':
		if err := p.lit("false"); err != nil {
			return err
		}
		p.out = append(p.out, 0xc2)
		return nil
	case 'n':
		if err := p.lit("null"); err != nil {
			return err
		}
		p.out = append(p.out, 0xc0)
		return nil
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return p.number()
		}
		return ErrMalformed
	}
}

// fixHeader turns the 1-byte placeholder at pos into the real header for
// n items (map or array), shifting the content when a longer header is
// needed.
func (p *jsonParser) fixHeader(pos int, n int, isMap bool) error {
	if uint64(n) > math.MaxUint32 {
		return ErrMalformed
	}
	if n < 16 {
		if isMap {
			p.out[pos] = 0x80 | byte(n)
		} else {
			p.out[pos] = 0x90 | byte(n)
		}
		return nil
	}
	var hdr [5]byte
	var h []byte
	if isMap {
		h = appendMapHeader(hdr[:0], uint32(n))
	} else {
		h = appendArrayHeader(hdr[:0], uint32(n))
	}
	extra := len(h) - 1
	end := len(p.out)
	p.out = append(p.out, h[:extra]...) // grow
	copy(p.out[pos+1+extra:], p.out[pos+1:end])
	copy(p.out[pos:], h)
	return nil
}

func (p *jsonParser) array(depth int) error {
	if depth >= MaxDepth {
		return ErrTooDeep
	}
	p.pos++ // [
	hpos := len(p.out)
	p.out = append(p.out, 0x90)
	p.ws()
	n := 0
	if p.pos < len(p.in) && p.in[p.pos] == ']' {
		p.pos++
		return nil
	}
	for {
		p.ws()
		if err := p.value(depth + 1); err != nil {
			return err
		}
		n++
		p.ws()
		if p.pos >= len(p.in) {
			return ErrTruncated
		}
		switch p.in[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return p.fixHeader(hpos, n, false)
		default:
			return ErrMalformed
		}
	}
}

func (p *jsonParser) object(depth int) error {
	if depth >= MaxDepth {
		return ErrTooDeep
	}
	p.pos++ // {
	hpos := len(p.out)
	p.out = append(p.out, 0x80)
	p.ws()
	n := 0
	if p.pos < len(p.in) && p.in[p.pos] == '}' {
		p.pos++
		return nil
	}
	for {
		p.ws()
		if p.pos >= len(p.in) {
			return ErrTruncated
		}
		if p.in[p.pos] != '"' {
			return ErrMalformed
		}
		if err := p.str(); err != nil {
			return err
		}
		p.ws()
		if p.pos >= len(p.in) {
			return ErrTruncated
		}
		if p.in[p.pos] != ':' {
			return ErrMalformed
		}
		p.pos++
		p.ws()
		if err := p.value(depth + 1); err != nil {
			return err
		}
		n++
		p.ws()
		if p.pos >= len(p.in) {
			return ErrTruncated
		}
		switch p.in[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return p.fixHeader(hpos, n, true)
		default:
			return ErrMalformed
		}
	}
}

func hexVal(c byte) rune {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0')
	case c >= 'a' && c <= 'f':
		return rune(c - 'a' + 10)
	case c >= 'A' && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for i := 0; i < 4; i++ {
		v := hexVal(b[i])
		if v < 0 {
			return -1
		}
		r = r<<4 | v
	}
	return r
}

// jsonSpecial8 reports whether one of the eight bytes of v is a control
// character (< 0x20), '"' or '\\': what a JSON string scan stops at. The
// word tests are exact for any byte values (Hacker's Delight 6-1: with no
// byte below n ≤ 0x80 nothing borrows and no high bit is set; the lowest
// byte below n always sets its own).
func jsonSpecial8(v uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	ctl := (v - 0x20*ones) &^ v
	q := v ^ '"'*ones
	quote := (q - ones) &^ q
	b := v ^ '\\'*ones
	backslash := (b - ones) &^ b
	return (ctl|quote|backslash)&highs != 0
}

// str parses a JSON string at p.pos and writes it as a msgpack str.
func (p *jsonParser) str() error {
	p.pos++ // opening quote
	start := p.pos
	i := start
	escapes := false
	for {
		// Eight bytes at a time while none ends the string or needs a look.
		for i+8 <= len(p.in) && !jsonSpecial8(binary.LittleEndian.Uint64(p.in[i:])) {
			i += 8
		}
		if i >= len(p.in) {
			return ErrTruncated
		}
		c := p.in[i]
		if c == '"' {
			break
		}
		if c < 0x20 {
			return ErrMalformed
		}
		if c == '\\' {
			escapes = true
			i += 2
			continue
		}
		i++
	}
	raw := p.in[start:i]
	p.pos = i + 1
	if !escapes {
		if !utf8.Valid(raw) {
			return ErrMalformed
		}
		p.out = AppendString(p.out, stringOf(raw))
		return nil
	}
	// Pass 1: validate and measure the decoded length.
	n, err := unescapedLen(raw)
	if err != nil {
		return err
	}
	var hdr [5]byte
	p.out = append(p.out, strHeader(hdr[:0], n)...)
	// Pass 2: decode.
	for j := 0; j < len(raw); {
		c := raw[j]
		if c != '\\' {
			p.out = append(p.out, c)
			j++
			continue
		}
		e := raw[j+1]
		j += 2
		switch e {
		case '"', '\\', '/':
			p.out = append(p.out, e)
		case 'b':
			p.out = append(p.out, '\b')
		case 'f':
			p.out = append(p.out, '\f')
		case 'n':
			p.out = append(p.out, '\n')
		case 'r':
			p.out = append(p.out, '\r')
		case 't':
			p.out = append(p.out, '\t')
		case 'u':
			r, used := decodeUEscape(raw[j:])
			j += used
			p.out = utf8.AppendRune(p.out, r)
		}
	}
	return nil
}

// decodeUEscape decodes the 4 hex digits after "\u" (already validated),
// combining a following \uDC00-\uDFFF escape into one code point. It
// returns the rune and the bytes consumed after the first "\u".
func decodeUEscape(b []byte) (rune, int) {
	r := hex4(b)
	if r >= 0xd800 && r < 0xdc00 {
		if len(b) >= 10 && b[4] == '\\' && b[5] == 'u' {
			r2 := hex4(b[6:])
			if r2 >= 0xdc00 && r2 < 0xe000 {
				return 0x10000 + (r-0xd800)<<10 + (r2 - 0xdc00), 10
			}
		}
		return utf8.RuneError, 4
	}
	if r >= 0xdc00 && r < 0xe000 {
		return utf8.RuneError, 4
	}
	return r, 4
}

// unescapedLen validates the escapes and UTF-8 of a raw JSON string body
// and returns its decoded byte length.
func unescapedLen(raw []byte) (int, error) {
	n := 0
	for j := 0; j < len(raw); {
		c := raw[j]
		if c != '\\' {
			if c < utf8.RuneSelf {
				n++
				j++
				continue
			}
			r, size := utf8.DecodeRune(raw[j:])
			if r == utf8.RuneError && size <= 1 {
				return 0, ErrMalformed
			}
			n += size
			j += size
			continue
		}
		if j+1 >= len(raw) {
			return 0, ErrTruncated
		}
		switch raw[j+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			n++
			j += 2
		case 'u':
			if hex4(raw[j+2:]) < 0 {
				return 0, ErrMalformed
			}
			r, used := decodeUEscape(raw[j+2:])
			n += utf8.RuneLen(r)
			j += 2 + used
		default:
			return 0, ErrMalformed
		}
	}
	return n, nil
}

func strHeader(dst []byte, n int) []byte {
	switch {
	case n < 32:
		return append(dst, 0xa0|byte(n))
	case n < 1<<8:
		return append(dst, 0xd9, byte(n))
	case n < 1<<16:
		return append(dst, 0xda, byte(n>>8), byte(n))
	}
	return append(dst, 0xdb, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// number parses a JSON number with the strict grammar.
func (p *jsonParser) number() error {
	start := p.pos
	i := p.pos
	in := p.in
	if in[i] == '-' {
		i++
	}
	if i >= len(in) {
		return ErrTruncated
	}
	switch {
	case in[i] == '0':
		i++
	case in[i] >= '1' && in[i] <= '9':
		for i < len(in) && in[i] >= '0' && in[i] <= '9' {
			i++
		}
	default:
		return ErrMalformed
	}
	integer := true
	if i < len(in) && in[i] == '.' {
		integer = false
		i++
		d := i
		for i < len(in) && in[i] >= '0' && in[i] <= '9' {
			i++
		}
		if i == d {
			return ErrMalformed
		}
	}
	if i < len(in) && (in[i] == 'e' || in[i] == 'E') {
		integer = false
		i++
		if i < len(in) && (in[i] == '+' || in[i] == '-') {
			i++
		}
		d := i
		for i < len(in) && in[i] >= '0' && in[i] <= '9' {
			i++
		}
		if i == d {
			return ErrMalformed
		}
	}
	p.pos = i
	var err error
	p.out, err = appendNumberLiteral(p.out, in[start:i], integer, p.flavor)
	return err
}

// appendNumberLiteral writes a validated JSON number literal.
func appendNumberLiteral(dst []byte, lit []byte, integer bool, f Flavor) ([]byte, error) {
	s := stringOf(lit)
	if integer {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return appendInt(dst, i, f), nil
		}
		if u, err := strconv.ParseUint(s, 10, 64); err == nil {
			return appendUint(dst, u, f), nil
		}
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil && !isRangeErr(err) {
		return dst, ErrMalformed
	}
	return appendFloat64(dst, x), nil
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// appendJSONNumber writes a json.Number (validated with the JSON grammar).
func appendJSONNumber(dst []byte, s string, f Flavor) ([]byte, error) {
	p := jsonParser{in: bytesOf(s), out: dst, flavor: f}
	if len(s) == 0 {
		return dst, ErrMalformed
	}
	c := s[0]
	if c != '-' && (c < '0' || c > '9') {
		return dst, ErrMalformed
	}
	if err := p.number(); err != nil {
		return dst, err
	}
	if p.pos != len(s) {
		return dst, ErrMalformed
	}
	return p.out, nil
}
