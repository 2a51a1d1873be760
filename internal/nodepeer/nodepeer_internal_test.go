package nodepeer

import (
	"fmt"
	"strings"
	"testing"
)

// fatalTB records the first Fatalf and stops the calling goroutine's flow
// with a panic that the test recovers.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(f)
}

func startFatal(t *testing.T, opts Options) string {
	t.Helper()
	f := &fatalTB{TB: t}
	func() {
		defer func() {
			if r := recover(); r != nil && r != any(f) {
				panic(r)
			}
		}()
		Start(f, opts)
	}()
	return f.msg
}

func TestStartWithoutNode(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	msg := startFatal(t, Options{RedisURL: "redis://127.0.0.1:1"})
	if !strings.Contains(msg, "node not found") || !strings.Contains(msg, "make node-peers") {
		t.Fatalf("message = %q", msg)
	}
}

func TestStartWithoutRedisURL(t *testing.T) {
	if msg := startFatal(t, Options{}); !strings.Contains(msg, "RedisURL") {
		t.Fatalf("message = %q", msg)
	}
}

func TestCheckNodeModules(t *testing.T) {
	err := checkNodeModules(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "socket.io missing") {
		t.Fatalf("checkNodeModules(empty dir) = %v", err)
	}
	dir, err := FixtureDir()
	if err != nil {
		t.Fatal(err)
	}
	if err := checkNodeModules(dir); err != nil {
		t.Fatalf("fixture: %v (run make node-peers)", err)
	}
}

func TestWireValues(t *testing.T) {
	v := ToWire([]any{[]byte{1, 255}, map[string]any{"b": []byte("A")}, "s"})
	got := fmt.Sprint(v)
	if !strings.Contains(got, "[1 255]") {
		t.Fatalf("ToWire = %v", got)
	}
	raw := []byte(`[{"$bin":"01ff"},{"b":{"$bin":"41"}},{"$bigint":"18446744073709551616"},{"$bin":"zz"},{"$bin":"00","x":1}]`)
	dec, err := DecodeValue(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%#v", []any{[]byte{1, 255}, map[string]any{"b": []byte("A")}, BigInt("18446744073709551616"),
		map[string]any{"$bin": "zz"}, map[string]any{"$bin": "00", "x": 1.0}})
	if fmt.Sprintf("%#v", dec) != want {
		t.Fatalf("DecodeValue = %#v\nwant %s", dec, want)
	}
	for _, c := range []struct {
		v    any
		want string
	}{
		{Bin{0xab}, `{"$bin":"ab"}`},
		{BigInt("5"), `{"$bigint":"5"}`},
		{Undefined{}, `{"$undefined":true}`},
	} {
		b, err := c.v.(interface{ MarshalJSON() ([]byte, error) }).MarshalJSON()
		if err != nil || string(b) != c.want {
			t.Fatalf("%#v -> %s, %v; want %s", c.v, b, err, c.want)
		}
	}
}
