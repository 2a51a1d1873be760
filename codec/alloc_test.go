package codec

import (
	"strings"
	"testing"
)

// typicalBroadcast is the benchmark message: io.to("room1").emit("message",
// <100-byte string>) from an 8.x node.
func typicalBroadcast() []byte {
	data, _ := AppendArgs(nil, "message", strings.Repeat("x", 100))
	b := Broadcast{UID: "2_J0Qg", Packet: Packet{Type: PacketEvent, Data: data, Nsp: "/"}}
	b.Opts.Rooms = Rooms{StringRoom("room1")}
	out, _ := AppendBroadcast(nil, &b, OrderAdapter)
	return out
}

func TestAllocsDecodeBroadcast(t *testing.T) {
	msg := string(typicalBroadcast())
	var b Broadcast
	if err := DecodeBroadcast(msg, &b); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _ = DecodeBroadcast(msg, &b) }); n != 0 {
		t.Errorf("decode into a reused Broadcast: %v allocs, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() {
		var fresh Broadcast
		_ = DecodeBroadcast(msg, &fresh)
	}); n > 1 {
		t.Errorf("decode into a fresh Broadcast: %v allocs, want <= 1", n)
	}
	// Emitter order, flags and except: still zero with reuse.
	var e Broadcast
	e.UID = "emitter"
	e.Packet = b.Packet
	e.Opts.Rooms = Rooms{StringRoom("a"), NumberRoom(42)}
	e.Opts.Except = Rooms{StringRoom("b")}
	e.Opts.Flags.SetVolatile(true)
	e.Opts.Flags.SetTimeout(2000)
	em, _ := AppendBroadcast(nil, &e, OrderEmitter)
	ems := string(em)
	_ = DecodeBroadcast(ems, &b)
	if n := testing.AllocsPerRun(100, func() { _ = DecodeBroadcast(ems, &b) }); n != 0 {
		t.Errorf("decode emitter broadcast into a reused Broadcast: %v allocs, want 0", n)
	}
}

func TestAllocsEncode(t *testing.T) {
	var b Broadcast
	if err := DecodeBroadcast(string(typicalBroadcast()), &b); err != nil {
		t.Fatal(err)
	}
	dst := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() { dst, _ = AppendBroadcast(dst[:0], &b, OrderAdapter) }); n != 0 {
		t.Errorf("AppendBroadcast: %v allocs, want 0", n)
	}
	args := []any{strings.Repeat("y", 100), 42, 1.5, true, nil, []byte{1, 2}, Map{{"a", int64(1)}}}
	if n := testing.AllocsPerRun(100, func() { dst, _ = AppendArgs(dst[:0], "message", args...) }); n != 0 {
		t.Errorf("AppendArgs: %v allocs, want 0", n)
	}
	resp := &ClientCountResponse{Type: ResponseBroadcastClientCount, RequestID: "abc", ClientCount: 3}
	if n := testing.AllocsPerRun(100, func() { dst, _ = AppendMessage(dst[:0], resp, EncodingMsgpack) }); n != 0 {
		t.Errorf("AppendMessage msgpack: %v allocs, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { dst, _ = AppendMessage(dst[:0], resp, EncodingJSON) }); n != 0 {
		t.Errorf("AppendMessage JSON: %v allocs, want 0", n)
	}
	nested := nestedObject()
	if n := testing.AllocsPerRun(100, func() { dst, _ = AppendJSON(dst[:0], nested) }); n != 0 {
		t.Errorf("AppendJSON: %v allocs, want 0", n)
	}
}

func TestAllocsBuildFrame(t *testing.T) {
	var b Broadcast
	if err := DecodeBroadcast(string(typicalBroadcast()), &b); err != nil {
		t.Fatal(err)
	}
	var f Frame
	_ = BuildFrame(&f, PacketEvent, "/", NoAckID, b.Packet.Data)
	if n := testing.AllocsPerRun(100, func() { _ = BuildFrame(&f, PacketEvent, "/", NoAckID, b.Packet.Data) }); n != 0 {
		t.Errorf("BuildFrame: %v allocs, want 0", n)
	}
	bin, _ := AppendArgs(nil, "bin", []byte{1, 2, 3}, map[string]any{"n": []byte{4}})
	_ = BuildFrame(&f, PacketEvent, "/chat", 12, bin)
	if n := testing.AllocsPerRun(100, func() { _ = BuildFrame(&f, PacketEvent, "/chat", 12, bin) }); n != 0 {
		t.Errorf("BuildFrame with attachments: %v allocs, want 0", n)
	}
	if string(f.Text) != `452-/chat,12["bin",{"_placeholder":true,"num":0},{"n":{"_placeholder":true,"num":1}}]` || len(f.Attachments) != 2 {
		t.Errorf("binary frame: %q %d", f.Text, len(f.Attachments))
	}
}
