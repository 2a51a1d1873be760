package codec

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// vmihailenco/msgpack equivalents of the broadcast, for comparison.
type vmPacket struct {
	Type int                `msgpack:"type"`
	Data msgpack.RawMessage `msgpack:"data"`
	Nsp  string             `msgpack:"nsp"`
}

type vmOpts struct {
	Rooms  []string        `msgpack:"rooms"`
	Except []string        `msgpack:"except"`
	Flags  map[string]bool `msgpack:"flags"`
}

type vmBroadcast struct {
	_msgpack struct{} `msgpack:",as_array"`
	UID      string
	Packet   vmPacket
	Opts     vmOpts
}

// nestedObject is a ~1 KiB nested object as msgpack (a fetchSockets-like
// socket description).
func nestedObject() []byte {
	v := Map{
		{"id", "xZQPUJrkUE6ujyYbAAAB"},
		{"handshake", Map{
			{"headers", Map{
				{"sec-websocket-version", "13"},
				{"sec-websocket-key", "2unitkGVOqRfImIU7VcJMw=="},
				{"connection", "Upgrade"},
				{"upgrade", "websocket"},
				{"sec-websocket-extensions", "permessage-deflate; client_max_window_bits"},
				{"host", "localhost:3993"},
				{"user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"},
			}},
			{"time", "Tue Nov 14 2023 22:13:20 GMT+0000 (Coordinated Universal Time)"},
			{"address", "::ffff:127.0.0.1"},
			{"xdomain", false},
			{"secure", false},
			{"issued", int64(1700000000123)},
			{"url", "/socket.io/?EIO=4&transport=websocket"},
			{"query", Map{{"EIO", "4"}, {"transport", "websocket"}}},
			{"auth", Map{{"token", "abc"}}},
		}},
		{"rooms", []any{"xZQPUJrkUE6ujyYbAAAB", "room1", "room#1", int64(42)}},
		{"data", Map{
			{"user", "cB1"}, {"server", "B"}, {"score", 1234.5}, {"level", int64(7)},
			{"tags", []any{"a", "b", "c", "d"}},
			{"profile", Map{{"name", "Jane Doe"}, {"age", int64(33)}, {"verified", true},
				{"bio", strings.Repeat("lorem ipsum ", 12)}}},
		}},
	}
	b, err := AppendValue(nil, v)
	if err != nil {
		panic(err)
	}
	return b
}

func BenchmarkBroadcastDecode(b *testing.B) {
	raw := typicalBroadcast()
	msg := string(raw)
	b.Run("impl=sioredis", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		var m Broadcast
		for i := 0; i < b.N; i++ {
			if err := DecodeBroadcast(msg, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=vmihailenco", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		var m vmBroadcast
		for i := 0; i < b.N; i++ {
			if err := msgpack.Unmarshal(raw, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkBroadcastEncode(b *testing.B) {
	raw := typicalBroadcast()
	var m Broadcast
	if err := DecodeBroadcast(string(raw), &m); err != nil {
		b.Fatal(err)
	}
	b.Run("impl=sioredis", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		dst := make([]byte, 0, 512)
		for i := 0; i < b.N; i++ {
			dst, _ = AppendBroadcast(dst[:0], &m, OrderAdapter)
		}
	})
	b.Run("impl=vmihailenco", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		var vm vmBroadcast
		if err := msgpack.Unmarshal(raw, &vm); err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		enc := msgpack.NewEncoder(&buf)
		for i := 0; i < b.N; i++ {
			buf.Reset()
			if err := enc.Encode(&vm); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkNestedDecode(b *testing.B) {
	raw := nestedObject()
	msg := string(raw)
	b.Run("impl=sioredis", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for i := 0; i < b.N; i++ {
			if _, err := DecodeValueString(msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=vmihailenco", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for i := 0; i < b.N; i++ {
			var v any
			if err := msgpack.Unmarshal(raw, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkNestedEncode(b *testing.B) {
	raw := nestedObject()
	tree, _ := DecodeValue(raw)
	var vtree any
	if err := msgpack.Unmarshal(raw, &vtree); err != nil {
		b.Fatal(err)
	}
	b.Run("impl=sioredis", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		dst := make([]byte, 0, 2048)
		for i := 0; i < b.N; i++ {
			dst, _ = AppendValue(dst[:0], tree)
		}
	})
	b.Run("impl=vmihailenco", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		var buf bytes.Buffer
		enc := msgpack.NewEncoder(&buf)
		enc.SetSortMapKeys(true) // deterministic, like JS key order
		for i := 0; i < b.N; i++ {
			buf.Reset()
			if err := enc.Encode(vtree); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkNestedToJSON is the nested object as JSON (fetchSockets answer,
// serverSideEmit): direct transcoding vs decode + encoding/json.
func BenchmarkNestedToJSON(b *testing.B) {
	raw := nestedObject()
	b.Run("impl=sioredis", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		dst := make([]byte, 0, 2048)
		for i := 0; i < b.N; i++ {
			dst, _ = AppendJSON(dst[:0], raw)
		}
	})
	b.Run("impl=vmihailenco+json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for i := 0; i < b.N; i++ {
			var v any
			if err := msgpack.Unmarshal(raw, &v); err != nil {
				b.Fatal(err)
			}
			if _, err := json.Marshal(v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkBuildFrame(b *testing.B) {
	raw := typicalBroadcast()
	var m Broadcast
	if err := DecodeBroadcast(string(raw), &m); err != nil {
		b.Fatal(err)
	}
	b.Run("impl=sioredis", func(b *testing.B) {
		b.ReportAllocs()
		var f Frame
		for i := 0; i < b.N; i++ {
			if err := BuildFrame(&f, PacketEvent, "/", NoAckID, m.Packet.Data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=vmihailenco+json", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 512)
		for i := 0; i < b.N; i++ {
			var v any
			if err := msgpack.Unmarshal(m.Packet.Data, &v); err != nil {
				b.Fatal(err)
			}
			js, err := json.Marshal(v)
			if err != nil {
				b.Fatal(err)
			}
			buf = append(append(buf[:0], '4', '2'), js...)
		}
	})
}

// BenchmarkJSONToMsgpack transcodes a sharded-adapter JSON envelope of a
// typical broadcast (event, timestamp, 100-byte string), as a sharded
// receiver does for every message Node sent without binary.
func BenchmarkJSONToMsgpack(b *testing.B) {
	js := []byte(`{"uid":"Jx2c8fQ","type":3,"data":{"packet":{"type":2,"data":["n0",1733091234567,"` +
		strings.Repeat("x", 100) + `"],"nsp":"/"},"opts":{"rooms":["room-7"],"except":[],"flags":{}}}}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(js)))
	buf := make([]byte, 0, 512)
	for i := 0; i < b.N; i++ {
		var err error
		if buf, err = JSONToMsgpack(buf[:0], js); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendEnvelope encodes a typical sharded BROADCAST (event,
// timestamp, 100-byte string; one room) as the sharded adapter does: JSON,
// since it has no binary (EncodingAuto scans only the packet data for it).
func BenchmarkAppendEnvelope(b *testing.B) {
	data, err := AppendArgs(nil, "n0", int64(1733091234567), strings.Repeat("x", 100))
	if err != nil {
		b.Fatal(err)
	}
	bd := &BroadcastData{Packet: Packet{Type: PacketEvent, Data: data},
		Opts: BroadcastOpts{Rooms: Rooms{{Name: "room-7"}}, Order: OrderAdapter}}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		var enc Encoding
		if buf, enc, err = AppendEnvelope(buf[:0], ClusterBroadcast, "Jx2c8fQ", "/", bd, EncodingAuto); err != nil || enc != EncodingJSON {
			b.Fatal(enc, err)
		}
	}
}
