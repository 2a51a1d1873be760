package codec

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

type matrixResult struct {
	Hex         string          `json:"hex"`
	EncodeError string          `json:"encode_error"`
	ReadsAs     json.RawMessage `json:"notepack3_reads_as"`
}

type matrixLine struct {
	Value   string                  `json:"value"`
	Results map[string]matrixResult `json:"results"`
}

// toJSONer stands for a JavaScript object with a toJSON method.
type toJSONer struct{}

func (toJSONer) MarshalJSON() ([]byte, error) { return []byte(`"from-toJSON"`), nil }

// matrixGoValue returns the Go value standing for a codec-matrix JS value,
// per flavor (nil, false when Go has no equivalent).
func matrixGoValue(label string, f Flavor) (any, bool) {
	nums := map[string]float64{
		"2^31-1": 1<<31 - 1, "2^31": 1 << 31, "2^32-1": 1<<32 - 1, "2^32": 1 << 32,
		"2^53-1": 1<<53 - 1, "2^53": 1 << 53, "2^63 (double)": 1 << 63, "1e21": 1e21,
		"-2^31": -(1 << 31), "-2^31-1": -(1 << 31) - 1, "-2^53+1": -(1 << 53) + 1,
		"-0": math.Copysign(0, -1), "NaN": math.NaN(), "Infinity": math.Inf(1), "-Infinity": math.Inf(-1),
	}
	if x, ok := nums[label]; ok {
		return x, true
	}
	if x, err := strconv.ParseFloat(label, 64); err == nil {
		return x, true
	}
	rep := func(c string, n int) string { return strings.Repeat(c, n) }
	switch label {
	case "true":
		return true, true
	case "false":
		return false, true
	case "null":
		return nil, true
	case "undefined":
		return Undefined{}, true
	case `""`:
		return "", true
	case `"a"`:
		return "a", true
	case "31 x a":
		return rep("a", 31), true
	case "32 x a":
		return rep("a", 32), true
	case "255 x a":
		return rep("a", 255), true
	case "256 x a":
		return rep("a", 256), true
	case `"é"`:
		return "é", true
	case `"😀"`:
		return "😀", true
	case "Buffer(0)":
		return []byte{}, true
	case "Buffer[1,2,3]":
		return []byte{1, 2, 3}, true
	case "Buffer(256)":
		return bytes.Repeat([]byte{7}, 256), true
	case "Uint8Array[1,2,3]":
		switch f {
		case Notepack3:
			return []byte{1, 2, 3}, true
		case Notepack2:
			return Ext{Type: 0, Data: []byte{1, 2, 3}}, true
		}
		return Ext{Type: 0x12, Data: []byte{1, 2, 3}}, true
	case "ArrayBuffer[4,5]":
		switch f {
		case Notepack3:
			return []byte{4, 5}, true
		case Notepack2:
			return Ext{Type: 0, Data: []byte{4, 5}}, true
		}
		return Ext{Type: 0x1a, Data: []byte{4, 5}}, true
	case "Date(0)":
		return time.UnixMilli(0), true
	case "Date(1700000000123)":
		return time.UnixMilli(1700000000123), true
	case "Date(-1)":
		return time.UnixMilli(-1), true
	case "[]":
		return []any{}, true
	case "[1,2]":
		return []any{1, 2}, true
	case "array of 16":
		a := make([]int, 16)
		for i := range a {
			a[i] = i
		}
		return a, true
	case "[undefined, 1]":
		return []any{Undefined{}, 1}, true
	case "{}":
		return Map{}, true
	case "{a:1}":
		return map[string]any{"a": 1}, true
	case "object with 16 keys":
		m := Map{}
		for i := 0; i < 16; i++ {
			m = append(m, KV{"k" + strconv.Itoa(i), i})
		}
		return m, true
	case "{u:undefined,f:1}":
		return Map{{"u", Undefined{}}, {"f", 1}}, true
	case `{"2":"x","1":"y","z":0}`:
		return map[string]any{"2": "x", "1": "y", "z": 0}, true
	case "object with toJSON":
		if f == MsgpackLite {
			return nil, false // msgpack-lite ignores toJSON
		}
		return toJSONer{}, true
	}
	// lone surrogates, functions, Set/Map, BigInt: no Go equivalent.
	return nil, false
}

var truncHex = regexp.MustCompile(`^([0-9a-f]+)\.\.\.\((\d+) bytes\)$`)

// TestCodecMatrix checks every corner case of codec-matrix.jsonl: each
// library's bytes decode as notepack.io 3 reads them, and encoding the Go
// equivalent with each flavor gives that library's bytes.
func TestCodecMatrix(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "vectors", "codec-matrix.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	flavors := map[string]Flavor{"notepack.io@3.0.1": Notepack3, "notepack.io@2.2.0": Notepack2, "msgpack-lite@0.1.26": MsgpackLite}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	decoded, encoded, noGo := 0, 0, 0
	for sc.Scan() {
		var ml matrixLine
		if err := json.Unmarshal(sc.Bytes(), &ml); err != nil {
			t.Fatal(err)
		}
		for lib, r := range ml.Results {
			if r.EncodeError != "" {
				continue
			}
			wantHex, wantLen := r.Hex, len(r.Hex)/2
			if m := truncHex.FindStringSubmatch(r.Hex); m != nil {
				wantHex = m[1]
				wantLen, _ = strconv.Atoi(m[2])
			}
			full := wantLen == len(wantHex)/2
			// Encode the Go equivalent with the library's flavor.
			var enc []byte
			if fl, ok := flavors[lib]; ok {
				if gv, ok := matrixGoValue(ml.Value, fl); ok {
					enc, err = AppendValueFlavor(nil, gv, fl)
					if err != nil {
						t.Errorf("%s %s: encode: %v", ml.Value, lib, err)
					} else if len(enc) != wantLen || !strings.HasPrefix(hex.EncodeToString(enc), wantHex) {
						t.Errorf("%s %s: encode = %x, want %s", ml.Value, lib, enc, r.Hex)
					}
					encoded++
				} else {
					noGo++
				}
			}
			// Decode the library's bytes as notepack.io 3 would.
			raw, _ := hex.DecodeString(wantHex)
			if !full {
				if enc == nil || len(enc) != wantLen {
					continue
				}
				raw = enc // the full bytes, equal to the library's by the check above
			}
			v, err := DecodeValue(raw)
			if err != nil {
				t.Errorf("%s %s: decode %x: %v", ml.Value, lib, raw, err)
				continue
			}
			exp := expectedTree(t, r.ReadsAs)
			if err := matchMarker(exp, v, "$"); err != nil {
				t.Errorf("%s %s: %v", ml.Value, lib, err)
			}
			decoded++
		}
	}
	t.Logf("codec matrix: %d library outputs decoded, %d flavor encodings compared, %d values without Go equivalent", decoded, encoded, noGo)
	// A Go function has no JS msgpack form: it is an error, not a silent nil.
	if _, err := AppendValue(nil, Map{{"fn", func() {}}}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("function value: err = %v, want ErrUnsupported", err)
	}
}
