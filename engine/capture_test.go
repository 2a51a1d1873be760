package engine

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/rueidis"
)

// capture records every message published on a Redis server (PSUBSCRIBE *),
// as the golden vectors were captured with MONITOR.
type capture struct {
	msgs chan rueidis.PubSubMessage
}

func newCapture(t testing.TB, addr string) *capture {
	t.Helper()
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}, DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	dc, cancel := c.Dedicate()
	cp := &capture{msgs: make(chan rueidis.PubSubMessage, 1024)}
	wait := dc.SetPubSubHooks(rueidis.PubSubHooks{OnMessage: func(m rueidis.PubSubMessage) { cp.msgs <- m }})
	if err := dc.Do(ctx(t), dc.B().Psubscribe().Pattern("*").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		c.Close()
		<-wait
	})
	return cp
}

// next returns the next captured message.
func (c *capture) next(t testing.TB) rueidis.PubSubMessage {
	t.Helper()
	select {
	case m := <-c.msgs:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("nothing published within 10s")
	}
	return rueidis.PubSubMessage{}
}

// vector is one line of a golden vector file.
type vector struct {
	Scenario    string          `json:"scenario"`
	Description string          `json:"description"`
	Channel     string          `json:"channel"`
	PayloadHex  string          `json:"payload_hex"`
	Decoded     json.RawMessage `json:"decoded"`
	Format      string          `json:"format"`
	From        string          `json:"from"`
}

func (v vector) payload(t testing.TB) []byte {
	b, err := hex.DecodeString(v.PayloadHex)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// loadVectors reads a vector file of the codec's testdata, by scenario (the
// lines of a scenario in order).
func loadVectors(t testing.TB, file string) map[string][]vector {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "codec", "testdata", "vectors", file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]vector{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var v vector
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		out[v.Scenario] = append(out[v.Scenario], v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func rueidisHooks() rueidis.PubSubHooks {
	return rueidis.PubSubHooks{OnMessage: func(rueidis.PubSubMessage) {}}
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
