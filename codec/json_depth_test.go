package codec

import (
	"testing"
	"time"
)

// TestNoExponentialJSON: nested maps whose last key is an array index at
// every level (each level needs JavaScript reordering) must transcode in
// time linear in size × depth, not exponential in depth.
func TestNoExponentialJSON(t *testing.T) {
	var b []byte
	const depth = 200
	for i := 0; i < depth; i++ {
		b = append(b, 0x82, 0xa1, 'a')
	}
	b = append(b, 0xc0)
	for i := 0; i < depth; i++ {
		b = append(b, 0xa1, '0', 0x01)
	}
	start := time.Now()
	if _, err := AppendJSON(nil, b); err != nil {
		t.Fatal(err)
	}
	var f Frame
	if err := BuildFrame(&f, PacketEvent, "/", NoAckID, b); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > time.Second {
		t.Fatalf("took %v", el)
	}
}
