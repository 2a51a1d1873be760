package zishang520

import (
	"testing"

	"github.com/sioredis/sioredis/codec"
	"github.com/sioredis/sioredis/engine"
)

// TestPrepare: the engine's frame goes to WriteToEngine as it is: the
// Socket.IO packet without the engine.io "4", the whole message as the
// websocket's pre-encoded frame when there is no attachment, built once
// per packet.
func TestPrepare(t *testing.T) {
	h := &host{}
	text := &engine.Packet{Frame: codec.Frame{Text: []byte(`42["e",1]`)}, Compress: true}
	c := h.prepare(text)
	if len(c.bufs) != 1 || string(c.bufs[0].Bytes()) != `2["e",1]` {
		t.Fatalf("bufs = %v", c.bufs)
	}
	if c.opts.WsPreEncodedFrame == nil || string(c.opts.WsPreEncodedFrame.Bytes()) != `42["e",1]` {
		t.Fatalf("pre-encoded frame = %v", c.opts.WsPreEncodedFrame)
	}
	if !c.opts.PreEncoded || c.opts.Compress == nil || !*c.opts.Compress {
		t.Fatalf("opts = %+v", c.opts)
	}
	if h.prepare(text) != c {
		t.Error("prepared twice for one packet")
	}

	bin := &engine.Packet{Frame: codec.Frame{Text: []byte(`451-["e",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1, 2}}}, Volatile: true}
	c = h.prepare(bin)
	if len(c.bufs) != 2 || string(c.bufs[0].Bytes()) != `51-["e",{"_placeholder":true,"num":0}]` || string(c.bufs[1].Bytes()) != "\x01\x02" {
		t.Fatalf("bufs = %v", c.bufs)
	}
	if c.opts.WsPreEncodedFrame != nil {
		t.Error("a pre-encoded frame for a packet with attachments")
	}
	if !c.opts.Volatile || *c.opts.Compress {
		t.Errorf("opts = %+v", c.opts)
	}
}
