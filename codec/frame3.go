package codec

import (
	"encoding/base64"
	"strconv"
	"unicode/utf8"
)

// Frame3 is what one Engine.IO 3 client (Socket.IO 1.x/2.x) receives for a
// packet, over each transport, as engine.io 1.8/3.x servers write it. The
// Socket.IO string is the same as for Engine.IO 4 (socket.io-parser 2.x, 3.x
// and 4.x agree on it); the engine.io layer around it differs:
//
//   - websocket: Text, then each attachment as a binary frame that starts
//     with the message type byte 0x04 (Attachments) — or, for a client that
//     connected with b64=1, as a text frame "b4" + base64 (Base64Attachments);
//   - polling: one body per request carries every packet queued since the
//     last one, as an engine.io-parser payload. Payload is this packet's part
//     of a binary payload (XHR2 clients), TextPayload its part of a text
//     payload (b64=1 and JSONP clients). Parts concatenate: build a body for
//     several packets with AppendPayload3, which applies the rule that
//     chooses between the two.
//
// All the fields alias one buffer that BuildFrame3 sizes exactly; a Frame3
// is reusable (BuildFrame3 overwrites it and keeps its memory when it is
// large enough). The fields must not be modified when the Frame3 is shared.
type Frame3 struct {
	// Text is the websocket text frame: "4" + the socket.io-parser string,
	// the same bytes as Frame.Text. It is a sub-slice of Payload.
	Text []byte
	// Attachments are the websocket binary frames that follow Text, in
	// order: 0x04 + the attachment's bytes. Sub-slices of Payload.
	Attachments [][]byte
	// Base64Attachments are the same attachments for a websocket client
	// that asked for base64 (b64=1): text frames "b4" + standard base64.
	// Sub-slices of TextPayload.
	Base64Attachments [][]byte
	// Payload is the packet in engine.io-parser's binary payload encoding
	// (encodePayloadAsBinary), one part per engine.io packet: 0x00 (string)
	// or 0x01 (binary), the decimal digits of the part's length in bytes,
	// each as a byte 0–9, 0xFF, then the part — Text, then each attachment
	// frame of Attachments.
	Payload []byte
	// TextPayload is the packet in engine.io-parser 2's text payload
	// encoding: "<length>:" + Text, then "<length>:b4<base64>" for each
	// attachment, lengths counted in UTF-16 code units as JavaScript does.
	TextPayload []byte

	buf  []byte
	hdrs [][]byte
}

// HasBinary reports whether the packet has binary attachments.
func (f *Frame3) HasBinary() bool { return len(f.Attachments) > 0 }

// BuildFrame3 builds into f3 the Engine.IO 3 forms of the packet that src,
// an Engine.IO 4 frame built by BuildFrame, holds. src is only read; f3
// shares no memory with it. It allocates nothing when f3's memory is large
// enough (at most two allocations otherwise: the buffer and, for a packet
// with attachments, the slice headers).
func BuildFrame3(f3 *Frame3, src *Frame) {
	text := src.Text
	atts := src.Attachments
	// Exact size: the binary payload, then the text payload.
	size := binaryPartHeaderLen(len(text)) + len(text)
	size += decimalLen(utf16Len(text)) + 1 + len(text)
	for _, a := range atts {
		n := len(a) + 1
		size += binaryPartHeaderLen(n) + n
		b := 2 + base64.StdEncoding.EncodedLen(len(a))
		size += decimalLen(b) + 1 + b
	}
	buf := f3.buf[:0]
	if cap(buf) < size {
		buf = make([]byte, 0, size)
	}
	f3.buf = buf
	var hdrs [][]byte
	if len(atts) > 0 {
		hdrs = f3.hdrs[:0]
		if cap(hdrs) < 2*len(atts) {
			hdrs = make([][]byte, 0, 2*len(atts))
		}
		hdrs = hdrs[:2*len(atts)]
		f3.hdrs = hdrs
	}

	// Binary payload: the string part, then one binary part per attachment.
	buf = appendBinaryPartHeader(buf, 0, len(text))
	start := len(buf)
	buf = append(buf, text...)
	f3.Text = buf[start:len(buf):len(buf)]
	for i, a := range atts {
		buf = appendBinaryPartHeader(buf, 1, len(a)+1)
		start = len(buf)
		buf = append(buf, 0x04)
		buf = append(buf, a...)
		hdrs[i] = buf[start:len(buf):len(buf)]
	}
	f3.Payload = buf[:len(buf):len(buf)]

	// Text payload.
	tp := len(buf)
	buf = strconv.AppendInt(buf, int64(utf16Len(text)), 10)
	buf = append(buf, ':')
	buf = append(buf, text...)
	for i, a := range atts {
		buf = strconv.AppendInt(buf, int64(2+base64.StdEncoding.EncodedLen(len(a))), 10)
		buf = append(buf, ':')
		start = len(buf)
		buf = append(buf, 'b', '4')
		buf = base64.StdEncoding.AppendEncode(buf, a)
		hdrs[len(atts)+i] = buf[start:len(buf):len(buf)]
	}
	f3.TextPayload = buf[tp:len(buf):len(buf)]
	if len(atts) > 0 {
		f3.Attachments = hdrs[:len(atts):len(atts)]
		f3.Base64Attachments = hdrs[len(atts):]
	} else {
		f3.Attachments = f3.Attachments[:0]
		f3.Base64Attachments = f3.Base64Attachments[:0]
	}
}

// Parser3 names the engine.io-parser generation whose polling payloads
// AppendPayload3 writes: the two Engine.IO 3 servers encode them
// differently.
type Parser3 int

const (
	// Parser3V2 is engine.io-parser 2.x (engine.io 3.x, Socket.IO 2.x): a
	// binary payload only when the client supports binary and a packet of
	// the body has attachments, otherwise a text payload whose lengths
	// count UTF-16 code units.
	Parser3V2 Parser3 = iota
	// Parser3V1 is engine.io-parser 1.3 (engine.io 1.8, Socket.IO 1.x): a
	// binary payload whenever the client supports binary; the text payload
	// of the others is UTF-8 encoded twice (each byte of the UTF-8 text
	// written as one code point), its lengths counting UTF-8 bytes.
	Parser3V1
)

// AppendPayload3 appends to dst the body of one polling response that
// carries the packets of frames, in order, as an Engine.IO 3 server of
// the given parser generation writes it for a client that supports binary
// (XHR2) or not (b64=1, JSONP; the JSONP wrapper is not included).
// binary reports which encoding it chose: a binary body is sent as
// application/octet-stream, a text body as text/plain; charset=UTF-8.
// With no frames it writes what the parsers write for no packets: "0:",
// or an empty binary body for a binary-capable client of Parser3V1.
func AppendPayload3(dst []byte, frames []*Frame3, supportsBinary bool, parser Parser3) (body []byte, binary bool) {
	binary = supportsBinary && parser == Parser3V1
	if supportsBinary && !binary {
		for _, f := range frames {
			if f.HasBinary() {
				binary = true
				break
			}
		}
	}
	switch {
	case binary:
		for _, f := range frames {
			dst = append(dst, f.Payload...)
		}
	case len(frames) == 0:
		dst = append(dst, "0:"...)
	case parser == Parser3V1:
		for _, f := range frames {
			dst = strconv.AppendInt(dst, int64(len(f.Text)), 10)
			dst = append(dst, ':')
			dst = appendLatin1AsUTF8(dst, f.Text)
			for _, a := range f.Base64Attachments {
				dst = strconv.AppendInt(dst, int64(len(a)), 10)
				dst = append(dst, ':')
				dst = append(dst, a...)
			}
		}
	default:
		for _, f := range frames {
			dst = append(dst, f.TextPayload...)
		}
	}
	return dst, binary
}

// appendLatin1AsUTF8 writes each byte of b as the UTF-8 encoding of the
// code point of that value: what Node does when it writes as UTF-8 a
// JavaScript string holding one character per byte (engine.io-parser 1.3's
// utf8-encoded payload strings).
func appendLatin1AsUTF8(dst, b []byte) []byte {
	for _, c := range b {
		if c < utf8.RuneSelf {
			dst = append(dst, c)
		} else {
			dst = append(dst, 0xC0|c>>6, 0x80|c&0x3F)
		}
	}
	return dst
}

// appendBinaryPartHeader writes the header of one part of a binary
// payload: kind (0 string, 1 binary), the decimal digits of n as bytes
// 0–9, 0xFF.
func appendBinaryPartHeader(dst []byte, kind byte, n int) []byte {
	dst = append(dst, kind)
	start := len(dst)
	dst = strconv.AppendInt(dst, int64(n), 10)
	for i := start; i < len(dst); i++ {
		dst[i] -= '0'
	}
	return append(dst, 0xFF)
}

func binaryPartHeaderLen(n int) int { return decimalLen(n) + 2 }

func decimalLen(n int) int {
	l := 1
	for n >= 10 {
		n /= 10
		l++
	}
	return l
}

// utf16Len is the length of the UTF-8 text b in UTF-16 code units (the
// JavaScript string length); an invalid byte counts as one unit (U+FFFD).
func utf16Len(b []byte) int {
	n := 0
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			n++
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
		i += size
	}
	return n
}
