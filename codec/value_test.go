package codec

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"
)

func mustEncode(t *testing.T, v any, f Flavor) []byte {
	t.Helper()
	b, err := AppendValueFlavor(nil, v, f)
	if err != nil {
		t.Fatalf("encode %#v: %v", v, err)
	}
	return b
}

func TestNumbersKeepJSType(t *testing.T) {
	cases := []struct {
		in   any
		want string // hex, notepack 3
	}{
		{0, "00"}, {127, "7f"}, {128, "cc80"}, {int64(1<<32 + 1), "cf0000000100000001"},
		{-1, "ff"}, {-33, "d0df"}, {int64(-1 << 40), "d3ffffff0000000000"},
		{uint64(math.MaxUint64), "cfffffffffffffffff"},
		{1.5, "cb3ff8000000000000"}, {float32(0.5), "cb3fe0000000000000"},
		{3.0, "03"}, {math.Copysign(0, -1), "00"}, {float64(1 << 32), "cf0000000100000000"},
		{-2147483649.0, "d3ffffffff7fffffff"}, {1e21, "cf35c9adc5dea00000"},
		{math.NaN(), "cb7ff8000000000000"}, {math.Inf(-1), "cbfff0000000000000"},
	}
	for _, c := range cases {
		if got := hex.EncodeToString(mustEncode(t, c.in, Notepack3)); got != c.want {
			t.Errorf("%v: got %s want %s", c.in, got, c.want)
		}
	}
	// msgpack-lite: integers outside int32 are float64.
	if got := hex.EncodeToString(mustEncode(t, int64(1<<31), MsgpackLite)); got != "cb41e0000000000000" {
		t.Errorf("lite 2^31: %s", got)
	}
	// Decoding keeps the type: integers are int64, floats float64.
	for _, c := range []struct {
		hex  string
		want any
	}{
		{"cf0000000100000001", int64(1<<32 + 1)}, {"cb3ff8000000000000", 1.5},
		{"ce80000000", int64(1 << 31)}, {"cb4000000000000000", 2.0},
		{"cfffffffffffffffff", uint64(math.MaxUint64)}, {"ca3f800000", 1.0},
	} {
		b, _ := hex.DecodeString(c.hex)
		v, err := DecodeValue(b)
		if err != nil || v != c.want {
			t.Errorf("%s: got %#v (%v), want %#v", c.hex, v, err, c.want)
		}
	}
}

func TestAppendJSNumber(t *testing.T) {
	for f, want := range map[float64]string{
		0: "0", 1: "1", -1: "-1", 1.5: "1.5", 0.1: "0.1", 100: "100", 1e20: "100000000000000000000",
		1e21: "1e+21", 1.5e21: "1.5e+21", 1e-6: "0.000001", 1e-7: "1e-7", 1.25e-7: "1.25e-7",
		123456789012345680000: "123456789012345680000", 5e-324: "5e-324",
		1.7976931348623157e308: "1.7976931348623157e+308", -1e-7: "-1e-7", 9007199254740993: "9007199254740992",
		0.000001234: "0.000001234", 123.456: "123.456", -0.5: "-0.5", 2e-7: "2e-7", 1e100: "1e+100",
	} {
		if got := string(AppendJSNumber(nil, f)); got != want {
			t.Errorf("%v: got %s want %s", f, got, want)
		}
	}
	if got := string(AppendJSNumber(nil, math.Copysign(0, -1))); got != "0" {
		t.Errorf("-0: %s", got)
	}
	if NumberRoom(42).Name != "42" || NumberRoom(1.5).Name != "1.5" || !NumberRoom(7).Numeric {
		t.Errorf("NumberRoom")
	}
}

func TestJSONStringEscaping(t *testing.T) {
	in := "a\"\\\b\f\n\r\t\x00\x1f\x7f</script>&\u2028\u2029é😀"
	want := `"a\"\\\b\f\n\r\t\u0000\u001f` + "\x7f</script>&\u2028\u2029é😀\""
	if got := string(AppendJSONString(nil, in)); got != want {
		t.Errorf("got %s want %s", got, want)
	}
	// Invalid UTF-8 is replaced like Node's decoder (maximal subparts).
	if got := string(appendJSONString(nil, []byte("\xff\xe2\x82a\xf0\x90\x80"))); got != "\"\uFFFD\uFFFDa\uFFFD\"" {
		t.Errorf("invalid utf8: %q", got)
	}
}

func TestJSONToMsgpack(t *testing.T) {
	cases := map[string]string{
		`{"b":1,"a":[true,false,null]}`: "82a16201a16193c3c2c0",
		`1.0`:                           "cb3ff0000000000000",
		`-0`:                            "00",
		`1e2`:                           "cb4059000000000000",
		`18446744073709551615`:          "cfffffffffffffffff",
		`18446744073709551616`:          "cb43f0000000000000",
		`-9223372036854775809`:          "cbc3e0000000000000",
		`"\ud83d\ude00\u00e9\/"`:        "a7f09f9880c3a92f",
		`"\ud800"`:                      "a3efbfbd",
		` [ ] `:                         "90",
	}
	for in, want := range cases {
		got, err := JSONToMsgpack(nil, []byte(in))
		if err != nil || hex.EncodeToString(got) != want {
			t.Errorf("%s: got %x (%v) want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{`{"a":1,}`, `[1,]`, `01`, `1.`, `.5`, `"a`, "\"\x01\"", `{a:1}`, `tru`, `[1] x`, "\"\xff\"", `"\x"`, `"\u12"`, ``, `+1`, `NaN`} {
		if _, err := JSONToMsgpack(nil, []byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	// More than 15 items: header widened in place.
	long := "[" + strings.Repeat("1,", 99) + "1]"
	mp, err := JSONToMsgpack(nil, []byte(long))
	if err != nil || !bytes.HasPrefix(mp, []byte{0xdc, 0x00, 0x64}) || len(mp) != 103 {
		t.Errorf("long array: %x %v", mp, err)
	}
	js, _ := AppendJSON(nil, mp)
	if string(js) != long {
		t.Errorf("round trip: %s", js)
	}
}

func TestDepthAndLyingLengths(t *testing.T) {
	deep := bytes.Repeat([]byte{0x91}, MaxDepth+10)
	deep = append(deep, 0xc0)
	if _, err := DecodeValue(deep); !errors.Is(err, ErrTooDeep) {
		t.Errorf("deep msgpack: %v", err)
	}
	if _, err := AppendJSON(nil, deep); !errors.Is(err, ErrTooDeep) {
		t.Errorf("deep msgpack to json: %v", err)
	}
	dj := strings.Repeat("[", MaxDepth+10) + strings.Repeat("]", MaxDepth+10)
	if _, err := JSONToMsgpack(nil, []byte(dj)); !errors.Is(err, ErrTooDeep) {
		t.Errorf("deep json: %v", err)
	}
	for _, h := range []string{"ddffffffff", "dfffffffff00", "dbffffffff61", "c6ffffffff", "c9ffffffff01"} {
		b, _ := hex.DecodeString(h)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if _, err := DecodeValue(b); !errors.Is(err, ErrTruncated) {
			t.Errorf("%s: %v", h, err)
		}
		runtime.ReadMemStats(&after)
		if n := after.TotalAlloc - before.TotalAlloc; n > 64<<10 {
			t.Errorf("%s: %d bytes allocated for a lying length", h, n)
		}
		var bc Broadcast
		if err := DecodeBroadcast(string(append([]byte{0x93, 0xa0, 0x80}, b...)), &bc); err == nil {
			t.Errorf("%s: broadcast accepted", h)
		}
	}
	if _, err := DecodeValue([]byte{0xc1}); !errors.Is(err, ErrMalformed) {
		t.Errorf("0xc1: %v", err)
	}
	if _, err := DecodeValue([]byte{0x01, 0x02}); !errors.Is(err, ErrTrailing) {
		t.Errorf("trailing: %v", err)
	}
}

func TestEncodeGoValues(t *testing.T) {
	type point struct {
		X int     `json:"x"`
		Y float64 `json:"y"`
	}
	ts := time.UnixMilli(1700000000123)
	cases := []struct {
		v    any
		f    Flavor
		want string
	}{
		{map[string]any{"z": 0, "2": "x", "1": "y", "b": []string{"s"}}, Notepack3, "84a131a179a132a178a16291a173a17a00"},
		{point{1, 2.5}, Notepack3, "82a17801a179cb4004000000000000"},
		{ts, Notepack3, "d7ff1d5353006553f100"},
		{ts, Notepack2, "d7000000018bcfe5687b"},
		{ts, MsgpackLite, "c7090dcb4278bcfe5687b000"},
		{[]any{Undefined{}, Map{{"u", Undefined{}}, {"f", 1}}}, Notepack3, "92c081a16601"},
		{[]any{Undefined{}, Map{{"u", Undefined{}}, {"f", 1}}}, Notepack2, "92d4000082a175d40000a16601"},
		{[]any{Undefined{}, Map{{"u", Undefined{}}, {"f", 1}}}, MsgpackLite, "92c082a175c0a16601"},
		{Raw{0x92, 0x01, 0x02}, Notepack3, "920102"},
		{[]byte("ab"), Notepack3, "c4026162"},
		{Ext{Type: 0, Data: []byte{1}}, Notepack2, "c7010001"},
		{Ext{Type: 5, Data: []byte{1, 2}}, Notepack3, "d5050102"},
		{(*point)(nil), Notepack3, "c0"},
	}
	for _, c := range cases {
		if got := hex.EncodeToString(mustEncode(t, c.v, c.f)); got != c.want {
			t.Errorf("%#v (%v): got %s want %s", c.v, c.f, got, c.want)
		}
	}
	for _, bad := range []any{make(chan int), func() {}, complex(1, 2), []any{math.Inf(1), make(chan int)}} {
		if _, err := AppendValue(nil, bad); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%T: %v", bad, err)
		}
	}
	self := []any{nil}
	self[0] = self
	if _, err := AppendValue(nil, self); !errors.Is(err, ErrTooDeep) {
		t.Errorf("cyclic: %v", err)
	}
	args, err := AppendArgs(nil, "ev", "world", 1, true)
	if err != nil || hex.EncodeToString(args) != "94a26576a5776f726c6401c3" {
		t.Errorf("AppendArgs: %x %v", args, err)
	}
}

func TestMapOrderAndJSONKeys(t *testing.T) {
	// msgpack map {"z":0,"1":"y","a":1,"a":2}: JS enumerates "1" first and
	// keeps the last "a" at its first position.
	b, _ := hex.DecodeString("84a17a00a131a179a16101a16102")
	js, err := AppendJSON(nil, b)
	if err != nil || string(js) != `{"1":"y","z":0,"a":2}` {
		t.Errorf("got %s %v", js, err)
	}
	v, _ := DecodeValue(b)
	m := v.(Map)
	if x, _ := m.Get("a"); x != int64(2) || len(m) != 4 {
		t.Errorf("Map.Get: %v", x)
	}
	// Plain-mode binary and extension forms.
	b, _ = hex.DecodeString("94c40201ffc70200aabbd5120102d6ff00000000")
	js, _ = AppendJSON(nil, b)
	if string(js) != `[{"type":"Buffer","data":[1,255]},{},[18,{"type":"Buffer","data":[1,2]}],"1970-01-01T00:00:00.000Z"]` {
		t.Errorf("got %s", js)
	}
	js, _ = AppendJSONValue(nil, map[string]any{"t": time.UnixMilli(-62198755200000), "n": math.NaN()})
	if string(js) != `{"n":null,"t":"-000001-01-01T00:00:00.000Z"}` {
		t.Errorf("got %s", js)
	}
}
