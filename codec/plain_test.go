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
