package codec_test

import (
	"fmt"

	"github.com/sioredis/sioredis/codec"
)

// Publishing io.to("room1").emit("hello", "world") like an 8.x node.
func ExampleAppendBroadcast() {
	data, _ := codec.AppendArgs(nil, "hello", "world")
	b := codec.Broadcast{
		UID:    "2_J0Qg",
		Packet: codec.Packet{Type: codec.PacketEvent, Data: data, Nsp: "/"},
	}
	b.Opts.Rooms = codec.Rooms{codec.StringRoom("room1")}
	msg, _ := codec.AppendBroadcast(nil, &b, codec.OrderAdapter)
	fmt.Printf("%x\n", msg)
	// Output:
	// 93a6325f4a30516783a47479706502a46461746192a568656c6c6fa5776f726c64a36e7370a12f83a5726f6f6d7391a5726f6f6d31a665786365707490a5666c61677380
}

// Receiving a broadcast and building what each local client gets.
func ExampleDecodeBroadcast() {
	msg := "\x93\xa6abcdef\x83\xa4type\x02\xa4data\x92\xa3msg\xc4\x02\x01\x02\xa3nsp\xa5/chat" +
		"\x83\xa5rooms\x91\x2a\xa6except\x90\xa5flags\x81\xa8volatile\xc3"
	var b codec.Broadcast
	if err := codec.DecodeBroadcast(msg, &b); err != nil {
		panic(err)
	}
	fmt.Println(b.UID, b.Packet.Nsp, b.Opts.Rooms, b.Opts.Rooms[0].Numeric, b.Opts.Flags.IsVolatile())

	var f codec.Frame
	_ = codec.BuildFrame(&f, int(b.Packet.Type), string(b.Packet.Nsp), codec.NoAckID, b.Packet.Data)
	fmt.Printf("%s %x\n", f.Text, f.Attachments)
	// Output:
	// abcdef /chat [42] true true
	// 451-/chat,["msg",{"_placeholder":true,"num":0}] [0102]
}

// Answering a classic-adapter request in the encoding the Node adapter uses.
func ExampleDecodeClassic() {
	var req codec.ClassicMessage
	_ = codec.DecodeClassic(`{"uid":"2_J0Qg","requestId":"y2doO2","type":1}`, &req)
	fmt.Println(req.Type.Value, req.RequestID, req.UID)

	resp := codec.RoomsResponse{RequestID: req.RequestID, Rooms: codec.Rooms{codec.StringRoom("room1"), codec.NumberRoom(42)}}
	out, _ := codec.AppendMessage(nil, &resp, codec.ClassicEncoding(codec.RequestAllRooms))
	fmt.Println(string(out))
	// Output:
	// 1 y2doO2 2_J0Qg
	// {"requestId":"y2doO2","rooms":["room1",42]}
}

// A sharded-adapter broadcast: JSON unless the data holds binary.
func ExampleAppendEnvelope() {
	data, _ := codec.AppendArgs(nil, "hello", 1.5)
	bd := codec.BroadcastData{Packet: codec.Packet{Type: codec.PacketEvent, Data: data}}
	out, enc, _ := codec.AppendEnvelope(nil, codec.ClusterBroadcast, "c16ed251896b7f70", "/", &bd, codec.EncodingAuto)
	fmt.Println(enc == codec.EncodingJSON, string(out))
	// Output:
	// true {"type":3,"data":{"packet":{"type":2,"data":["hello",1.5]},"opts":{"rooms":[],"except":[],"flags":{}}},"uid":"c16ed251896b7f70","nsp":"/"}
}

// JSON exactly as JavaScript's JSON.stringify writes it.
func ExampleAppendJSON() {
	mp, _ := codec.AppendValue(nil, []any{2.5e-7, 0.1, 1e19, "<&>\n", []byte{1, 2}})
	js, _ := codec.AppendJSON(nil, mp)
	fmt.Println(string(js))
	// Output:
	// [2.5e-7,0.1,10000000000000000000,"<&>\n",{"type":"Buffer","data":[1,2]}]
}

// Reading JSON into MessagePack keeps key order and integer/float types.
func ExampleJSONToMsgpack() {
	mp, _ := codec.JSONToMsgpack(nil, []byte(`{"z":1,"a":1.0}`))
	v, _ := codec.DecodeValue(mp)
	fmt.Printf("%x %v\n", mp, v)
	// Output:
	// 82a17a01a161cb3ff0000000000000 [{z 1} {a 1}]
}
