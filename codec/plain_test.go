package codec

import (
	"reflect"
	"testing"
)

func TestPlain(t *testing.T) {
	in := Map{{"a", int64(1)}, {"b", []any{Map{{"c", Undefined{}}}, Ext{Type: 0, Data: []byte{1}}}}, {"a", "last"}}
	want := map[string]any{"a": "last", "b": []any{map[string]any{"c": nil}, []byte{1}}}
	if got := Plain(in); !reflect.DeepEqual(got, want) {
		t.Fatalf("Plain = %#v, want %#v", got, want)
	}
	if got := Plain(Ext{Type: 0x12, Data: []byte{2}}); !reflect.DeepEqual(got, Ext{Type: 0x12, Data: []byte{2}}) {
		t.Fatalf("other extensions are kept: %#v", got)
	}
}

func TestNotepack3ExactNumbers(t *testing.T) {
	for _, x := range []float64{1e21, -1e21, 18446744073709551616} {
		mp, err := AppendValueFlavor(nil, x, Notepack3Exact)
		if err != nil {
			t.Fatal(err)
		}
		js, err := AppendJSON(nil, mp)
		if err != nil {
			t.Fatal(err)
		}
		v, err := Raw(mp).Value()
		if err != nil || v != x {
			t.Fatalf("%v: decoded %v, %v", x, v, err)
		}
		t.Logf("%v → %s", x, js)
	}
	// Below 2^64 it is Notepack3 byte for byte.
	for _, x := range []float64{1 << 60, -(1 << 60), 4294967296, 7} {
		a, _ := AppendValueFlavor(nil, x, Notepack3Exact)
		b, _ := AppendValueFlavor(nil, x, Notepack3)
		if string(a) != string(b) {
			t.Fatalf("%v: % x vs Notepack3 % x", x, a, b)
		}
	}
}

// TestJSONBigNumbers: a JSON number beyond 2^64 keeps its value through
// the JSON → MessagePack transcoding (a JSON request or sharded envelope).
func TestJSONBigNumbers(t *testing.T) {
	mp, err := JSONToMsgpack(nil, []byte(`[1e+21,18446744073709552000,-1e+21]`))
	if err != nil {
		t.Fatal(err)
	}
	v, err := Raw(mp).Value()
	if err != nil {
		t.Fatal(err)
	}
	if want := []any{1e21, 18446744073709552000.0, -1e21}; !reflect.DeepEqual(v, want) {
		t.Fatalf("decoded %v, want %v", v, want)
	}
}

func TestBuildFrameTyped(t *testing.T) {
	data, err := AppendArgs(nil, "ev", []byte{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	var f Frame
	if err := BuildFrameTyped(&f, PacketEvent, "/", -1, data); err != nil {
		t.Fatal(err)
	}
	if got, want := string(f.Text), `42["ev",{"type":"Buffer","data":[1,2]}]`; got != want || len(f.Attachments) != 0 {
		t.Fatalf("EVENT: %s (%d attachments), want %s", got, len(f.Attachments), want)
	}
	if err := BuildFrameTyped(&f, PacketBinaryEvent, "/", -1, data); err != nil {
		t.Fatal(err)
	}
	if got, want := string(f.Text), `451-["ev",{"_placeholder":true,"num":0}]`; got != want || len(f.Attachments) != 1 {
		t.Fatalf("BINARY_EVENT: %s (%d attachments), want %s", got, len(f.Attachments), want)
	}
}
