package codec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// addVectorSeeds seeds a fuzz target with every payload of the golden
// vectors (and, for JSON targets, JSON payloads only).
func addVectorSeeds(f *testing.F, jsonOnly bool) {
	for _, pf := range payloadFiles {
		for _, l := range loadVectors(f, pf.file) {
			if jsonOnly && l.Format != "json" {
				continue
			}
			f.Add(l.payload)
		}
	}
	if !jsonOnly {
		f.Add([]byte{0xdd, 0xff, 0xff, 0xff, 0xff}) // lying array length
		f.Add([]byte{0x91, 0x91, 0x91, 0x91, 0xc0})
	}
}

// watchdog turns a hang into a crash that the fuzzer records: if the
// returned stop function is not called within 10 s, the process panics
// with the input.
func watchdog(b []byte) (stop func() bool) {
	input := string(b)
	return time.AfterFunc(10*time.Second, func() {
		panic(fmt.Sprintf("fuzz input took more than 10s: %q", input))
	}).Stop
}

// rawsValid reports whether every raw field holds a value the generic
// decoder accepts (Raw fields are only skipped, not validated, when a
// message is decoded; a map with a non-scalar key is skippable but has
// no JSON form).
func rawsValid(rs ...Raw) bool {
	for _, r := range rs {
		if len(r) > 0 {
			if _, err := DecodeValue(r); err != nil {
				return false
			}
		}
	}
	return true
}

// FuzzDecodeValue: the generic decoder never panics; whatever it accepts
// can be re-encoded, written as JSON that is valid, and read back.
func FuzzDecodeValue(f *testing.F) {
	addVectorSeeds(f, false)
	f.Fuzz(func(t *testing.T, b []byte) {
		defer watchdog(b)()
		v, err := DecodeValue(b)
		vs, errs := DecodeValueString(string(b))
		if (err == nil) != (errs == nil) {
			t.Fatalf("DecodeValue and DecodeValueString disagree: %v / %v", err, errs)
		}
		if err != nil {
			return
		}
		_ = vs
		if _, err := AppendValue(nil, v); err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		js, err := AppendJSON(nil, b)
		if err != nil {
			t.Fatalf("AppendJSON of decodable input: %v", err)
		}
		if !json.Valid(js) {
			t.Fatalf("invalid JSON %q", js)
		}
		if _, err := JSONToMsgpack(nil, js); err != nil {
			t.Fatalf("JSON written is not readable: %v: %q", err, js)
		}
	})
}

// FuzzDecodeBroadcast: never panics; a decoded broadcast re-encodes and
// decodes to the same fields.
func FuzzDecodeBroadcast(f *testing.F) {
	addVectorSeeds(f, false)
	f.Fuzz(func(t *testing.T, b []byte) {
		defer watchdog(b)()
		var m Broadcast
		if err := DecodeBroadcast(string(b), &m); err != nil {
			return
		}
		out, err := AppendBroadcast(nil, &m, m.Opts.Order)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		var m2 Broadcast
		if err := DecodeBroadcast(string(out), &m2); err != nil {
			t.Fatalf("decode of re-encoded: %v (%x)", err, out)
		}
		if m.UID != m2.UID || m.Packet.Type != m2.Packet.Type || m.Packet.Nsp != m2.Packet.Nsp ||
			!bytes.Equal(m.Packet.Data, m2.Packet.Data) || !sameRooms(m.Opts.Rooms, m2.Opts.Rooms) ||
			!sameRooms(m.Opts.Except, m2.Opts.Except) || m.Opts.Flags.Has != m2.Opts.Flags.Has {
			t.Fatalf("round trip differs: %+v vs %+v", m, m2)
		}
	})
}

// FuzzDecodeClassic: never panics; decoded messages with a packet decode
// their packet without panicking.
func FuzzDecodeClassic(f *testing.F) {
	addVectorSeeds(f, false)
	f.Fuzz(func(t *testing.T, b []byte) {
		defer watchdog(b)()
		var m ClassicMessage
		if err := DecodeClassic(string(b), &m); err != nil {
			return
		}
		var p Packet
		_ = DecodePacket(m.Packet, &p)
		if _, err := AppendMessage(nil, &m, EncodingJSON); err != nil && rawsValid(m.Data, m.Packet, m.Sockets) {
			t.Fatalf("re-encode as JSON: %v", err)
		}
	})
}

// FuzzDecodeEnvelope: never panics.
func FuzzDecodeEnvelope(f *testing.F) {
	addVectorSeeds(f, false)
	f.Fuzz(func(t *testing.T, b []byte) {
		defer watchdog(b)()
		var e Envelope
		if err := DecodeEnvelope(string(b), &e); err != nil {
			return
		}
		var p Packet
		_ = DecodePacket(e.Data.Packet, &p)
		if _, _, err := AppendEnvelope(nil, int(e.Type), string(e.UID), string(e.Nsp), &e.Data, EncodingAuto); err != nil && rawsValid(e.Data.Packet, e.Data.Sockets) {
			t.Fatalf("re-encode: %v", err)
		}
	})
}

// FuzzDecodeLegacy: never panics.
func FuzzDecodeLegacy(f *testing.F) {
	addVectorSeeds(f, false)
	f.Fuzz(func(t *testing.T, b []byte) {
		defer watchdog(b)()
		var m LegacyMessage
		if err := DecodeLegacy(string(b), &m); err != nil {
			return
		}
		if _, err := AppendMessage(nil, &m, EncodingJSON); err != nil && rawsValid(m.Data) {
			t.Fatalf("re-encode as JSON: %v", err)
		}
	})
}

// FuzzJSONToMsgpack: never panics, accepts only valid JSON, and what it
// accepts decodes and writes back as JSON that reads the same.
func FuzzJSONToMsgpack(f *testing.F) {
	addVectorSeeds(f, true)
	for _, s := range []string{`{"a":[1,2.5,-0,1e21,"\ud83d\ude00\u0001"]}`, `[`, `"\ud800"`, `1E400`, `{"a":1,}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		defer watchdog(b)()
		mp, err := JSONToMsgpack(nil, b)
		if err != nil {
			return
		}
		if !json.Valid(b) {
			t.Fatalf("accepted invalid JSON %q", b)
		}
		if _, err := DecodeValue(mp); err != nil {
			t.Fatalf("output does not decode: %v", err)
		}
		js, err := AppendJSON(nil, mp)
		if err != nil {
			t.Fatalf("AppendJSON: %v", err)
		}
		mp2, err := JSONToMsgpack(nil, js)
		if err != nil {
			t.Fatalf("re-read %q: %v", js, err)
		}
		js2, err := AppendJSON(nil, mp2)
		if err != nil || !bytes.Equal(js, js2) {
			t.Fatalf("JSON not stable: %q vs %q (%v)", js, js2, err)
		}
	})
}

// FuzzBuildFrame: never panics; attachments match the placeholders and
// the JSON part is valid.
func FuzzBuildFrame(f *testing.F) {
	addVectorSeeds(f, false)
	var fr Frame
	f.Fuzz(func(t *testing.T, b []byte) {
		defer watchdog(b)()
		data := Raw(b)
		var m Broadcast
		if DecodeBroadcast(string(b), &m) == nil {
			data = m.Packet.Data
		}
		if err := BuildFrame(&fr, PacketEvent, "/chat", 7, data); err != nil {
			return
		}
		text := string(fr.Text)
		if !strings.HasPrefix(text, "4") {
			t.Fatalf("bad prefix %q", text)
		}
		i := strings.Index(text, ",7")
		if i < 0 {
			t.Fatalf("no nsp/ack id in %q", text)
		}
		body := text[i+2:]
		if body != "" && !json.Valid([]byte(body)) {
			t.Fatalf("invalid JSON in %q", text)
		}
		if n := strings.Count(body, `{"_placeholder":true,"num":`); len(fr.Attachments) > 0 && n < len(fr.Attachments) {
			t.Fatalf("%d attachments, %d placeholders", len(fr.Attachments), n)
		}
	})
}

// TestFuzzCorpusPresent makes sure regression inputs found by fuzzing
// stay in the repository (go test runs them as seeds).
func TestFuzzCorpusPresent(t *testing.T) {
	if _, err := os.Stat(filepath.Join("testdata", "fuzz")); err != nil {
		t.Skip("no fuzz regression corpus yet")
	}
}
