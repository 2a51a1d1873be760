package codec

import (
	"fmt"
	"reflect"
	"runtime"
	"testing"
)

// TestSlabTreeSurvivesGC decodes trees built in slabs, drops every other
// reference, forces collections and checks the values are intact.
func TestSlabTreeSurvivesGC(t *testing.T) {
	want := []any{"a", int64(-5), int64(300), 1.5, []byte{1, 2}, Map{{"k", []any{"x", Map{{"n", int64(-1 << 40)}}}}}, []any{}, Map{}}
	raw, err := AppendValue(nil, want)
	if err != nil {
		t.Fatal(err)
	}
	var trees []any
	for i := 0; i < 200; i++ {
		v, err := DecodeValue(raw)
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			trees = append(trees, v.([]any)[5]) // keep only an inner value
		} else {
			trees = append(trees, v)
		}
		_ = make([]byte, 1<<12) // churn
	}
	runtime.GC()
	runtime.GC()
	for i, v := range trees {
		var w any = want
		if i%2 == 0 {
			w = want[5]
		}
		if !reflect.DeepEqual(v, w) {
			t.Fatalf("tree %d changed: %s", i, fmt.Sprint(v))
		}
	}
	// Scalars at the top level are boxed normally.
	if v, _ := DecodeValue([]byte{0xa1, 'z'}); v != "z" {
		t.Errorf("top-level string: %#v", v)
	}
}
