package main

import (
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/sioredis/sioredis/engine"
)

// Latency histogram range: 1 µs to 60 s, 3 significant digits.
const (
	histMin    = 1
	histMax    = 60_000_000 // µs
	histDigits = 3
)

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(histMin, histMax, histDigits) }

// padded keeps counters that different goroutines bump on different cache
// lines.
type padded struct {
	atomic.Uint64
	_ [56]byte
}

// countingHost is the engine.Host of a bench node: it stands in for the
// node's sockets and counts what the engine delivers to them.
//
// Deliver is called once per recipient with the same *Packet for every
// recipient of one broadcast. It reads the sender's node index from the
// event name (a few bytes at a fixed offset: cheap enough for every
// delivery) and counts the delivery as local (sent by this node, delivered
// synchronously inside Emit) or remote (received through Redis). Once per
// remote broadcast — when the packet differs from the previous one — it
// parses the send timestamp and records the latency in an HDR histogram.
// The engine delivers the broadcasts of one namespace from one worker
// goroutine, so the remote path is effectively single-threaded; the mutex
// only makes a second worker safe.
type countingHost struct {
	self  int
	epoch int64 // unix ns that timestamps count from

	local        padded // deliveries of this node's own broadcasts
	remote       padded // deliveries of broadcasts from other nodes
	remoteBcasts padded // distinct remote broadcasts (latency samples)
	badFrames    padded // frames the host could not parse

	lastRemote atomic.Pointer[engine.Packet]

	mu   sync.Mutex
	hist *hdrhistogram.Histogram
}

func newCountingHost(self int, epoch int64) *countingHost {
	return &countingHost{self: self, epoch: epoch, hist: newHist()}
}

// Deliver implements engine.Host.
func (h *countingHost) Deliver(_ string, p *engine.Packet) {
	origin, ok := frameOrigin(p.Frame.Text)
	if !ok {
		h.badFrames.Add(1)
		return
	}
	if origin == h.self {
		h.local.Add(1)
		return
	}
	h.remote.Add(1)
	if h.lastRemote.Load() == p {
		return
	}
	h.lastRemote.Store(p)
	now := time.Now().UnixNano() - h.epoch
	sent, ok := frameTimestamp(p.Frame.Text)
	if !ok {
		h.badFrames.Add(1)
		return
	}
	h.remoteBcasts.Add(1)
	us := (now - sent) / 1000
	if us < histMin {
		us = histMin
	}
	h.mu.Lock()
	_ = h.hist.RecordValue(min(us, histMax))
	h.mu.Unlock()
}

// takeHist returns the latency histogram so far and starts a new one.
func (h *countingHost) takeHist() *hdrhistogram.Histogram {
	h.mu.Lock()
	defer h.mu.Unlock()
	old := h.hist
	h.hist = newHist()
	return old
}

// Disconnect implements engine.Host (nothing to do: sockets are simulated).
func (h *countingHost) Disconnect(string, bool) {}

// Describe implements engine.Host.
func (h *countingHost) Describe(sid string) (engine.SocketInfo, bool) {
	return engine.SocketInfo{ID: sid}, true
}

// ServerSideEmit implements engine.Host.
func (h *countingHost) ServerSideEmit(*engine.ServerEvent) {}

// Frames look like 42["n<origin>",<timestamp>,"payload"] (the namespace is
// "/", so no namespace prefix).
const framePrefix = `42["n`

// frameOrigin reads <origin>.
func frameOrigin(t []byte) (int, bool) {
	if len(t) < len(framePrefix)+2 || string(t[:len(framePrefix)]) != framePrefix {
		return 0, false
	}
	n := 0
	for i := len(framePrefix); i < len(t); i++ {
		c := t[i]
		if c == '"' {
			return n, i > len(framePrefix)
		}
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return 0, false
}

// frameTimestamp reads <timestamp>.
func frameTimestamp(t []byte) (int64, bool) {
	i := len(framePrefix)
	for i < len(t) && t[i] != '"' {
		i++
	}
	i += 2 // `",`
	if i >= len(t) {
		return 0, false
	}
	var n int64
	start := i
	for ; i < len(t); i++ {
		c := t[i]
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int64(c-'0')
	}
	return n, i > start
}
