package engine

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// testHost is a Host whose sockets record what they receive, decoded back
// from the frames the engine built (so the tests check the exact bytes a
// Socket.IO client would get).
type testHost struct {
	mu       sync.Mutex
	sockets  map[string]*testSocket
	events   []*ServerEvent
	sseReply any
	changed  chan struct{} // closed and replaced on every change
	ackIDs   []uint64      // the ack ids of the packets that asked for one
}

type testSocket struct {
	id           string
	received     []received
	disconnected bool
	closed       bool
	handshake    any
	data         any
	ackReply     any // when set, acknowledges packets that ask for it
}

// received is one event as a client would see it: binary attachments are
// put back in place as {"$bin": hex}, the convention of the Node peers.
type received struct {
	Event string `json:"event"`
	Args  []any  `json:"args"`
}

func newTestHost() *testHost {
	return &testHost{sockets: map[string]*testSocket{}, changed: make(chan struct{})}
}

func (h *testHost) notify() {
	close(h.changed)
	h.changed = make(chan struct{})
}

func (h *testHost) addSocket(sid string) *testSocket {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := &testSocket{id: sid, handshake: map[string]any{"auth": map[string]any{}, "query": map[string]any{}}}
	h.sockets[sid] = s
	return s
}

func (h *testHost) Deliver(sid string, p *Packet) {
	ev, err := decodeFrame(p.Frame.Text, p.Frame.Attachments)
	h.mu.Lock()
	s := h.sockets[sid]
	if s == nil {
		h.mu.Unlock()
		panic("deliver to unknown socket " + sid)
	}
	if err != nil {
		ev = received{Event: "!bad-frame", Args: []any{err.Error(), string(p.Frame.Text)}}
	}
	s.received = append(s.received, ev)
	if p.Ack != nil {
		h.ackIDs = append(h.ackIDs, p.AckID)
	}
	reply := s.ackReply
	h.notify()
	h.mu.Unlock()
	if p.Ack != nil && reply != nil {
		p.Ack(sid, reply)
	}
}

func (h *testHost) Disconnect(sid string, close bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s := h.sockets[sid]; s != nil {
		s.disconnected, s.closed = true, close
	}
	h.notify()
}

func (h *testHost) Describe(sid string) (SocketInfo, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.sockets[sid]
	if s == nil {
		return SocketInfo{}, false
	}
	return SocketInfo{ID: sid, Handshake: s.handshake, Data: s.data}, true
}

func (h *testHost) ServerSideEmit(ev *ServerEvent) {
	h.mu.Lock()
	h.events = append(h.events, ev)
	reply := h.sseReply
	h.notify()
	h.mu.Unlock()
	if ev.Ack != nil && reply != nil {
		ev.Ack(reply)
	}
}

// waitFor polls cond (under the host lock) until it holds or the deadline
// passes; it wakes on every change instead of sleeping.
func (h *testHost) waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		h.mu.Lock()
		ok := cond()
		ch := h.changed
		h.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("timed out waiting for %s; sockets: %s", what, h.dump())
		}
	}
}

// waitReceived waits until socket sid received n events and returns them.
func (h *testHost) waitReceived(t testing.TB, sid string, n int) []received {
	t.Helper()
	h.waitFor(t, fmt.Sprintf("%d events on %s", n, sid), func() bool { return len(h.sockets[sid].received) >= n })
	return h.receivedBy(sid)
}

func (h *testHost) receivedBy(sid string) []received {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]received(nil), h.sockets[sid].received...)
}

func (h *testHost) dump() string {
	var b strings.Builder
	for id, s := range h.sockets {
		j, _ := json.Marshal(s.received)
		fmt.Fprintf(&b, "\n  %s: %s disconnected=%v", id, j, s.disconnected)
	}
	return b.String()
}

// decodeFrame parses an engine.io "4" message carrying a Socket.IO EVENT or
// BINARY_EVENT packet, as socket.io-client would, and puts attachments back.
func decodeFrame(text []byte, attachments [][]byte) (received, error) {
	s := string(text)
	if !strings.HasPrefix(s, "4") || len(s) < 2 {
		return received{}, fmt.Errorf("not an engine.io message: %q", s)
	}
	s = s[1:]
	typ := s[0]
	s = s[1:]
	if typ == '5' {
		i := strings.IndexByte(s, '-')
		if i < 0 {
			return received{}, fmt.Errorf("binary packet without attachment count: %q", text)
		}
		n, err := strconv.Atoi(s[:i])
		if err != nil || n != len(attachments) {
			return received{}, fmt.Errorf("attachment count %q, got %d attachments", s[:i], len(attachments))
		}
		s = s[i+1:]
	} else if typ != '2' {
		return received{}, fmt.Errorf("not an event packet: %q", text)
	}
	if strings.HasPrefix(s, "/") { // namespace
		i := strings.IndexByte(s, ',')
		if i < 0 {
			return received{}, fmt.Errorf("namespace without comma: %q", text)
		}
		s = s[i+1:]
	}
	for len(s) > 0 && s[0] >= '0' && s[0] <= '9' { // ack id
		s = s[1:]
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	var data []any
	if err := dec.Decode(&data); err != nil || len(data) == 0 {
		return received{}, fmt.Errorf("bad packet data %q: %v", s, err)
	}
	data = restoreBinary(data, attachments).([]any)
	ev, ok := data[0].(string)
	if !ok {
		return received{}, fmt.Errorf("event name is not a string: %q", s)
	}
	return received{Event: ev, Args: normalizeNumbers(data[1:]).([]any)}, nil
}

func restoreBinary(v any, att [][]byte) any {
	switch x := v.(type) {
	case []any:
		for i := range x {
			x[i] = restoreBinary(x[i], att)
		}
	case map[string]any:
		if x["_placeholder"] == true {
			if n, err := x["num"].(json.Number).Int64(); err == nil && int(n) < len(att) {
				return map[string]any{"$bin": hex.EncodeToString(att[n])}
			}
		}
		for k := range x {
			x[k] = restoreBinary(x[k], att)
		}
	}
	return v
}

// normalizeNumbers turns json.Number into int64 when integral, else float64,
// so expectations can be written as Go literals.
func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = normalizeNumbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = normalizeNumbers(x[k])
		}
	}
	return v
}
