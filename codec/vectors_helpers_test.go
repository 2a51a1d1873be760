package codec

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// vectorLine is one payload line of testdata/vectors/<generation>.jsonl.
type vectorLine struct {
	Scenario       string          `json:"scenario"`
	Command        string          `json:"command"`
	Channel        string          `json:"channel"`
	PayloadHex     string          `json:"payload_hex"`
	Decoded        json.RawMessage `json:"decoded"`
	Format         string          `json:"format"`
	MsgpackFormats []string        `json:"msgpack_formats"`
	From           string          `json:"from"`
	file           string
	lineNo         int
	payload        []byte
}

func (l *vectorLine) name() string {
	return fmt.Sprintf("%s:%d(%s)", l.file, l.lineNo, l.Scenario)
}

// payloadFiles are the generation files with their msgpack flavor.
var payloadFiles = []struct {
	file   string
	flavor Flavor
}{
	{"legacy-4.0.0.jsonl", MsgpackLite},
	{"socket.io-redis-5.4.0.jsonl", Notepack2},
	{"socket.io-redis-6.1.1.jsonl", Notepack2},
	{"redis-adapter-8.3.0.jsonl", Notepack3},
	{"sharded-8.3.0.jsonl", Notepack3},
	{"emitter-5.1.0.jsonl", Notepack3},
	{"cluster-heartbeat-2.5.8.jsonl", Notepack3},
}

func loadVectors(t testing.TB, file string) []*vectorLine {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "vectors", file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []*vectorLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	n := 0
	for sc.Scan() {
		n++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		l := &vectorLine{file: file, lineNo: n}
		if err := json.Unmarshal(sc.Bytes(), l); err != nil {
			t.Fatalf("%s:%d: %v", file, n, err)
		}
		if l.payload, err = hex.DecodeString(l.PayloadHex); err != nil {
			t.Fatalf("%s:%d: %v", file, n, err)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// expectedTree parses a `decoded` JSON field with this package's own
// order-preserving JSON reader.
func expectedTree(t testing.TB, raw []byte) any {
	t.Helper()
	mp, err := JSONToMsgpack(nil, raw)
	if err != nil {
		t.Fatalf("decoded field: %v", err)
	}
	v, err := DecodeValue(mp)
	if err != nil {
		t.Fatalf("decoded field: %v", err)
	}
	return v
}

func asFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

func isoOf(t time.Time) string {
	return string(bytes.Trim(appendJSDate(nil, jsMillis(t)), `"`))
}

// matchMarker compares an expected value in the vectors' marker convention
// ($bin, $ext, $int, $float, and the codec matrix's $date, $undefined,
// $arraybuffer, [type, {$bin}]) with a value decoded by this package.
func matchMarker(exp, act any, path string) error {
	if m, ok := exp.(Map); ok && len(m) > 0 {
		switch m[0].Key {
		case "$bin":
			b, ok := act.([]byte)
			if !ok || hex.EncodeToString(b) != m[0].Value.(string) {
				return fmt.Errorf("%s: want bin %v, got %#v", path, m[0].Value, act)
			}
			return nil
		case "$arraybuffer":
			e, ok := act.(Ext)
			if !ok || e.Type != 0 || hex.EncodeToString(e.Data) != m[0].Value.(string) {
				return fmt.Errorf("%s: want arraybuffer %v, got %#v", path, m[0].Value, act)
			}
			return nil
		case "$undefined":
			if _, ok := act.(Undefined); !ok {
				return fmt.Errorf("%s: want undefined, got %#v", path, act)
			}
			return nil
		case "$date":
			tm, ok := act.(time.Time)
			if !ok || isoOf(tm) != m[0].Value.(string) {
				return fmt.Errorf("%s: want date %v, got %#v", path, m[0].Value, act)
			}
			return nil
		case "$int":
			want := m[0].Value.(string)
			var got string
			switch x := act.(type) {
			case int64:
				got = strconv.FormatInt(x, 10)
			case uint64:
				got = strconv.FormatUint(x, 10)
			}
			if got != want {
				return fmt.Errorf("%s: want int %s, got %#v", path, want, act)
			}
			return nil
		case "$float":
			f, ok := act.(float64)
			want := m[0].Value.(string)
			good := ok && ((want == "NaN" && math.IsNaN(f)) || (want == "Infinity" && math.IsInf(f, 1)) ||
				(want == "-Infinity" && math.IsInf(f, -1)) || (want == "-0" && f == 0 && math.Signbit(f)))
			if !good {
				return fmt.Errorf("%s: want %s, got %#v", path, want, act)
			}
			return nil
		case "$ext":
			typ, _ := asFloat(m[0].Value)
			hx, _ := m.Get("hex")
			hs, _ := hx.(string)
			switch a := act.(type) {
			case time.Time:
				if ts, ok := m.Get("timestamp"); ok {
					if isoOf(a) != ts.(string) || typ != -1 {
						return fmt.Errorf("%s: want timestamp %v, got %v", path, ts, isoOf(a))
					}
					return nil
				}
				raw, _ := hex.DecodeString(hs)
				if typ != 0 || len(raw) != 8 || int64(be64(raw)) != a.UnixMilli() {
					return fmt.Errorf("%s: want ext %v %s, got date %v", path, typ, hs, a)
				}
				return nil
			case Undefined:
				if typ != 0 || hs != "00" {
					return fmt.Errorf("%s: want ext %v %s, got undefined", path, typ, hs)
				}
				return nil
			case Ext:
				if float64(a.Type) != typ || hex.EncodeToString(a.Data) != hs {
					return fmt.Errorf("%s: want ext %v %s, got %#v", path, typ, hs, a)
				}
				return nil
			}
			return fmt.Errorf("%s: want ext, got %#v", path, act)
		}
	}
	switch e := exp.(type) {
	case Map:
		a, ok := act.(Map)
		if !ok || len(a) != len(e) {
			return fmt.Errorf("%s: want map of %d, got %#v", path, len(e), act)
		}
		for i := range e {
			if a[i].Key != e[i].Key {
				return fmt.Errorf("%s: key %d: want %q, got %q", path, i, e[i].Key, a[i].Key)
			}
			if err := matchMarker(e[i].Value, a[i].Value, path+"."+e[i].Key); err != nil {
				return err
			}
		}
		return nil
	case []any:
		if x, ok := act.(Ext); ok && len(e) == 2 { // notepack 3 reads other exts as [type, Buffer]
			return matchMarker(e, []any{int64(x.Type), x.Data}, path)
		}
		a, ok := act.([]any)
		if !ok || len(a) != len(e) {
			return fmt.Errorf("%s: want array of %d, got %#v", path, len(e), act)
		}
		for i := range e {
			if err := matchMarker(e[i], a[i], fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	case int64, uint64, float64:
		ef, _ := asFloat(e)
		af, ok := asFloat(act)
		if !ok || ef != af {
			return fmt.Errorf("%s: want number %v, got %#v", path, e, act)
		}
		return nil
	}
	if exp != act {
		return fmt.Errorf("%s: want %#v, got %#v", path, exp, act)
	}
	return nil
}

func be64(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// mget returns a member of a decoded map (nil when absent).
func mget(v any, key string) any {
	m, _ := v.(Map)
	x, _ := m.Get(key)
	return x
}

// keySig is the comma-joined key list of a decoded map.
func keySig(v any) string {
	m, _ := v.(Map)
	var b bytes.Buffer
	for i, kv := range m {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(kv.Key)
	}
	return b.String()
}
