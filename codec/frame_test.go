package codec

import (
	"encoding/hex"
	"testing"
)

// TestBuildFrameSocketIOParser compares BuildFrame with what
// socket.io-parser 4.2.4 produced for the same packets (frame_cases_test.go),
// including every broadcast line of the golden vectors.
func TestBuildFrameSocketIOParser(t *testing.T) {
	vec := map[string][]*vectorLine{}
	var f Frame
	for _, c := range frameCases {
		var data Raw
		if c.vector != "" {
			if vec[c.vector] == nil {
				vec[c.vector] = loadVectors(t, c.vector)
			}
			var l *vectorLine
			for _, x := range vec[c.vector] {
				if x.lineNo == c.line {
					l = x
				}
			}
			var b Broadcast
			if err := DecodeBroadcast(string(l.payload), &b); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			data = b.Packet.Data
		} else {
			var err error
			if data, err = hex.DecodeString(c.hex); err != nil {
				t.Fatal(err)
			}
		}
		if err := BuildFrame(&f, c.typ, c.nsp, c.id, data); err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if string(f.Text) != c.text {
			t.Errorf("%s:\n got %q\nwant %q", c.name, f.Text, c.text)
		}
		if len(f.Attachments) != len(c.atts) {
			t.Errorf("%s: %d attachments, want %d", c.name, len(f.Attachments), len(c.atts))
			continue
		}
		for i := range c.atts {
			if hex.EncodeToString(f.Attachments[i]) != c.atts[i] {
				t.Errorf("%s: attachment %d = %x, want %s", c.name, i, f.Attachments[i], c.atts[i])
			}
		}
	}
	t.Logf("%d frames compared with socket.io-parser output", len(frameCases))
}
