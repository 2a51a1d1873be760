package engine

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sioredis/sioredis/codec"
	"github.com/sioredis/sioredis/internal/redistest"
)

// eio3Host writes Frame3 to every socket, as a host whose clients are all
// Socket.IO 1.x/2.x would, and keeps the last packet and frame.
type eio3Host struct {
	countingHost
	mu     sync.Mutex
	last   *Packet
	frames map[*codec.Frame3]int
}

func (h *eio3Host) Deliver(sid string, p *Packet) {
	f := p.Frame3()
	h.n.Add(1)
	if h.frames == nil {
		return
	}
	h.mu.Lock()
	h.last = p
	h.frames[f]++
	h.mu.Unlock()
}

// receivedBroadcast returns a broadcast to room "room" of ns as another
// server publishes it, ready for ns.handle.
func receivedBroadcast(t *testing.T, src, ns *Namespace, args ...any) (channel, msg string) {
	t.Helper()
	data, err := encodeArgs("ev", args)
	must(t, err)
	m := message{kind: msgBroadcast, packetType: 2, data: data, rooms: []Room{StringRoom("room")}}
	_, buf, _, err := encodeWith(src.proto, &src.sender, &m, nil)
	must(t, err)
	channel = src.proto.(*classicProtocol).ch.broadcast + "room#"
	if !strings.HasSuffix(string(buf), channel) {
		t.Fatalf("buffer %q does not end with the channel", buf)
	}
	return channel, string(buf[:len(buf)-len(channel)])
}

// TestPacketFrame3Shared: every recipient of a broadcast gets the same
// Frame3, built from the packet's Frame, also when the host asks from
// several goroutines at once.
func TestPacketFrame3Shared(t *testing.T) {
	srv := redistest.Standalone(t)
	a := newNode(t, srv.Addr, Options{})
	b := newNode(t, srv.Addr, Options{})
	h := &eio3Host{frames: map[*codec.Frame3]int{}}
	ns, err := b.e.Namespace(ctx(t), "/eio3", h)
	must(t, err)
	for i := 0; i < 50; i++ {
		must(t, ns.Join(NewSocketID(), StringRoom("room")))
	}
	src, err := a.e.Namespace(ctx(t), ns.Name(), newTestHost())
	must(t, err)
	channel, msg := receivedBroadcast(t, src, ns, []byte{1, 2, 3}, "héllo")
	ns.handle(channel, msg)
	if len(h.frames) != 1 {
		t.Fatalf("%d distinct frames for one broadcast, want 1", len(h.frames))
	}
	p := h.last
	if got := string(p.Frame.Text); got != `451-/eio3,["ev",{"_placeholder":true,"num":0},"héllo"]` {
		t.Fatalf("Frame.Text %q", got)
	}
	var want codec.Frame3
	codec.BuildFrame3(&want, &p.Frame)
	f := p.Frame3()
	if h.frames[f] != 50 {
		t.Fatalf("frame shared by %d recipients, want 50", h.frames[f])
	}
	if !bytes.Equal(f.Payload, want.Payload) || !bytes.Equal(f.TextPayload, want.TextPayload) ||
		len(f.Attachments) != 1 || !bytes.Equal(f.Attachments[0], []byte{4, 1, 2, 3}) {
		t.Fatalf("Frame3 %+v, want %+v", f, want)
	}

	// A packet a host builds itself, asked from many goroutines at once.
	q := &Packet{Frame: p.Frame}
	var wg sync.WaitGroup
	var got [16]*codec.Frame3
	for i := range got {
		wg.Add(1)
		go func() { defer wg.Done(); got[i] = q.Frame3() }()
	}
	wg.Wait()
	for _, g := range got {
		if g != got[0] {
			t.Fatal("concurrent Frame3 calls returned different frames")
		}
	}
}

// TestReceivePathAllocationsEIO3 is TestReceivePathAllocations with every
// recipient asking for the Engine.IO 3 frame, beside the same broadcast
// delivered to Engine.IO 4 recipients only: a constant number of extra
// allocations per broadcast (the Frame3, its buffer and, with attachments,
// their slice headers), whatever the number of recipients.
func TestReceivePathAllocationsEIO3(t *testing.T) {
	srv := redistest.Standalone(t)
	a := newNode(t, srv.Addr, Options{})
	b := newNode(t, srv.Addr, Options{})
	measure := func(name string, h Host, n *atomic.Int64, recipients int, args []any) float64 {
		ns, err := b.e.Namespace(ctx(t), name, h)
		must(t, err)
		for i := 0; i < recipients; i++ {
			must(t, ns.Join(NewSocketID(), StringRoom("room")))
		}
		src, err := a.e.Namespace(ctx(t), ns.Name(), newTestHost())
		must(t, err)
		channel, msg := receivedBroadcast(t, src, ns, args...)
		ns.handle(channel, msg)
		allocs := testing.AllocsPerRun(200, func() { ns.handle(channel, msg) })
		if n.Load() == 0 {
			t.Fatal("nothing delivered")
		}
		return allocs
	}
	for _, c := range []struct {
		name  string
		args  []any
		extra float64
	}{
		{"text", []any{strings.Repeat("x", 100)}, 2},
		{"binary", []any{strings.Repeat("x", 100), []byte("0123456789")}, 3},
	} {
		for _, recipients := range []int{1, 1000} {
			h4 := &countingHost{}
			eio4 := measure(fmt.Sprintf("/eio4allocs-%s-%d", c.name, recipients), h4, &h4.n, recipients, c.args)
			h3 := &eio3Host{}
			eio3 := measure(fmt.Sprintf("/eio3allocs-%s-%d", c.name, recipients), h3, &h3.n, recipients, c.args)
			t.Logf("%s, %d recipients: %.1f allocations per broadcast for Engine.IO 4 recipients, %.1f with Frame3", c.name, recipients, eio4, eio3)
			if eio3-eio4 > c.extra && !raceEnabled {
				t.Errorf("%s, %d recipients: Frame3 costs %.1f allocations per broadcast, want ≤ %.0f", c.name, recipients, eio3-eio4, c.extra)
			}
		}
	}
}
