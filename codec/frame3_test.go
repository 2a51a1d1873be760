package codec

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// frame3Case is one line of testdata/frames/eio3-*.jsonl, written by
// internal/nodepeer/testdata-legacy/frames.js from the npm packages
// (`make frames`).
type frame3Case struct {
	Name    string   `json:"name"`
	Batch   []string `json:"batch"`
	Nsp     string   `json:"nsp"`
	Type    int      `json:"type"`
	ID      *int64   `json:"id"`
	DataHex string   `json:"data_hex"`
	WS      []struct {
		Text *string `json:"text"`
		Bin  *string `json:"bin"`
	} `json:"ws"`
	WSB64         []string `json:"ws_b64"`
	PayloadBinary bool     `json:"payload_binary"`
	PayloadHex    string   `json:"payload_hex"`
	PayloadB64Hex string   `json:"payload_b64_hex"`
}

func loadFrame3Cases(t *testing.T, file string) []frame3Case {
	t.Helper()
	fh, err := os.Open(filepath.Join("testdata", "frames", file))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var out []frame3Case
	sc := bufio.NewScanner(fh)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var c frame3Case
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("%s: no cases", file)
	}
	return out
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBuildFrame3NodeParsers compares BuildFrame + BuildFrame3 (and
// AppendPayload3 for one packet and for batches) byte for byte with what
// socket.io-parser 3.4.5 + engine.io-parser 2.2.1 (Socket.IO 2.4.1) and
// socket.io-parser 2.3.1 + engine.io-parser 1.3.2 (Socket.IO 1.7.4) send for
// the same packets, whose data is the msgpack their adapters publish
// (notepack.io 2.2.0, msgpack-lite 0.1.26).
func TestBuildFrame3NodeParsers(t *testing.T) {
	for _, gen := range []struct {
		file   string
		parser Parser3
	}{
		{"eio3-socket.io-2.4.1.jsonl", Parser3V2},
		{"eio3-socket.io-1.7.4.jsonl", Parser3V1},
	} {
		t.Run(gen.file, func(t *testing.T) {
			frames := map[string]*Frame3{}
			var f Frame
			for _, c := range loadFrame3Cases(t, gen.file) {
				if c.Batch != nil {
					var fs []*Frame3
					for _, n := range c.Batch {
						fs = append(fs, frames[n])
					}
					checkPayloads(t, "batch "+c.Batch[0]+"…", fs, gen.parser, c)
					continue
				}
				id := int64(NoAckID)
				if c.ID != nil {
					id = *c.ID
				}
				if err := BuildFrame(&f, c.Type, c.Nsp, id, unhex(t, c.DataHex)); err != nil {
					t.Errorf("%s: %v", c.Name, err)
					continue
				}
				f3 := new(Frame3)
				BuildFrame3(f3, &f)
				frames[c.Name] = f3

				// websocket, binary-capable client
				if len(c.WS) != 1+len(f3.Attachments) || c.WS[0].Text == nil {
					t.Errorf("%s: %d frames, Node sent %d", c.Name, 1+len(f3.Attachments), len(c.WS))
					continue
				}
				if string(f3.Text) != *c.WS[0].Text {
					t.Errorf("%s: text\n got %q\nwant %q", c.Name, f3.Text, *c.WS[0].Text)
				}
				for i, a := range f3.Attachments {
					if w := c.WS[i+1].Bin; w == nil || !bytes.Equal(a, unhex(t, *w)) {
						t.Errorf("%s: attachment %d: got %x, want %v", c.Name, i, a, c.WS[i+1])
					}
				}
				// websocket, b64=1 client
				if len(c.WSB64) != 1+len(f3.Base64Attachments) {
					t.Errorf("%s: %d b64 frames, Node sent %d", c.Name, 1+len(f3.Base64Attachments), len(c.WSB64))
				} else {
					for i, a := range f3.Base64Attachments {
						if string(a) != c.WSB64[i+1] {
							t.Errorf("%s: b64 attachment %d: got %q, want %q", c.Name, i, a, c.WSB64[i+1])
						}
					}
				}
				if gen.parser == Parser3V2 {
					if c.PayloadBinary {
						if !bytes.Equal(f3.Payload, unhex(t, c.PayloadHex)) {
							t.Errorf("%s: Payload\n got %x\nwant %s", c.Name, f3.Payload, c.PayloadHex)
						}
					} else if !bytes.Equal(f3.TextPayload, unhex(t, c.PayloadHex)) {
						t.Errorf("%s: TextPayload\n got %q\nwant %q", c.Name, f3.TextPayload, unhex(t, c.PayloadHex))
					}
				}
				checkPayloads(t, c.Name, []*Frame3{f3}, gen.parser, c)

				// Rebuilding into the same Frame3 gives the same bytes and
				// allocates nothing.
				want := append([]byte(nil), f3.Payload...)
				if n := testing.AllocsPerRun(10, func() { BuildFrame3(f3, &f) }); n != 0 {
					t.Errorf("%s: rebuilding allocates %.0f times", c.Name, n)
				}
				if !bytes.Equal(f3.Payload, want) {
					t.Errorf("%s: rebuilt Payload differs", c.Name)
				}
			}
		})
	}
}

func checkPayloads(t *testing.T, name string, fs []*Frame3, parser Parser3, c frame3Case) {
	t.Helper()
	body, binary := AppendPayload3(nil, fs, true, parser)
	if binary != c.PayloadBinary || !bytes.Equal(body, unhex(t, c.PayloadHex)) {
		t.Errorf("%s: binary-capable polling body (binary %v)\n got %x\nwant %s (binary %v)", name, binary, body, c.PayloadHex, c.PayloadBinary)
	}
	body, binary = AppendPayload3(nil, fs, false, parser)
	if binary || !bytes.Equal(body, unhex(t, c.PayloadB64Hex)) {
		t.Errorf("%s: b64 polling body (binary %v)\n got %q\nwant %q", name, binary, body, unhex(t, c.PayloadB64Hex))
	}
}

// TestAppendPayload3Empty: an empty body is what each parser writes for no
// packets (engine.io-parser 1.3: an empty binary body when the client
// supports binary; otherwise "0:").
func TestAppendPayload3Empty(t *testing.T) {
	for _, c := range []struct {
		parser         Parser3
		supportsBinary bool
		body           string
		binary         bool
	}{
		{Parser3V1, true, "", true},
		{Parser3V1, false, "0:", false},
		{Parser3V2, true, "0:", false},
		{Parser3V2, false, "0:", false},
	} {
		if b, bin := AppendPayload3(nil, nil, c.supportsBinary, c.parser); string(b) != c.body || bin != c.binary {
			t.Errorf("parser %d, supportsBinary %v: %q %v, want %q %v", c.parser, c.supportsBinary, b, bin, c.body, c.binary)
		}
	}
}

func TestUTF16Len(t *testing.T) {
	for _, c := range []struct {
		s string
		n int
	}{{"", 0}, {"abc", 3}, {"é", 1}, {"日本", 2}, {"😀", 2}, {"a\xffb", 3}} {
		if n := utf16Len([]byte(c.s)); n != c.n {
			t.Errorf("utf16Len(%q) = %d, want %d", c.s, n, c.n)
		}
	}
}
