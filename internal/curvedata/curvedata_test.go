package curvedata

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestWriteRead(t *testing.T) {
	want := &Curves{Command: "go run ./bench -curves d", Commit: "abc", Engine: "e", Node: "n",
		Charts: []Chart{{Name: "payload", XUnit: "bytes", LogX: true, NodePointErrors: []string{"payload 16384 B: exited"},
			Series: []Series{{Name: "e", Points: []Point{{100, 2.5e5}, {1024, 1.5e5}}}}}}}
	path, err := Write(t.TempDir(), want)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(path, "/"+FileName) {
		t.Errorf("wrote %s, want a %s", path, FileName)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := Read(f)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read back %+v, want %+v", got, want)
	}
}

func TestReadRejects(t *testing.T) {
	for _, in := range []string{`{}`, `{"charts":[{"name":"../x"}]}`, `{"charts":[{"name":".."}]}`, `{"charts":[{"name":""}]}`, `not json`} {
		if _, err := Read(strings.NewReader(in)); err == nil {
			t.Errorf("Read(%s) accepted", in)
		}
	}
}
