package engine

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sioredis/sioredis/internal/redistest"
)

// TestReceivePathAllocations decodes and delivers a typical received
// broadcast (event + 100-byte string, one room) through the worker path, to
// 1 and to 1 000 recipients: at most 1 allocation per broadcast (the Packet
// with its frame text), whatever the number of recipients.
func TestReceivePathAllocations(t *testing.T) {
	srv := redistest.Standalone(t)
	a := newNode(t, srv.Addr, Options{})
	b := newNode(t, srv.Addr, Options{})
	for _, recipients := range []int{1, 1000} {
		h := &countingHost{}
		ns, err := b.e.Namespace(ctx(t), fmt.Sprintf("/allocs%d", recipients), h)
		must(t, err)
		for i := 0; i < recipients; i++ {
			must(t, ns.Join(NewSocketID(), StringRoom("room")))
		}
		// A real message as another server publishes it.
		src, err := a.e.Namespace(ctx(t), ns.Name(), newTestHost())
		must(t, err)
		data, _ := encodeArgs("ev", []any{strings.Repeat("x", 100)})
		m := message{kind: msgBroadcast, packetType: 2, data: data, rooms: []Room{StringRoom("room")}}
		_, buf, _, err := encodeWith(src.proto, &src.sender, &m, nil)
		must(t, err)
		channel := src.proto.(*classicProtocol).ch.broadcast + "room#"
		msg := string(buf[:len(buf)-len(channel)]) // the room channel follows the payload in buf
		if !strings.HasSuffix(string(buf), channel) {
			t.Fatalf("buffer %q does not end with the channel", buf)
		}
		ns.handle(channel, msg) // warm the scratch space and pools
		allocs := testing.AllocsPerRun(200, func() { ns.handle(channel, msg) })
		if h.n.Load() == 0 {
			t.Fatal("nothing delivered")
		}
		t.Logf("%d recipients: %.1f allocations per broadcast", recipients, allocs)
		if allocs > 1 && !raceEnabled {
			t.Errorf("%d recipients: %.1f allocations per received broadcast, want ≤ 1", recipients, allocs)
		}
	}
}

// countingHost counts deliveries and keeps nothing.
type countingHost struct{ n atomic.Int64 }

func (h *countingHost) Deliver(string, *Packet)            { h.n.Add(1) }
func (h *countingHost) Disconnect(string, bool)            {}
func (h *countingHost) Describe(string) (SocketInfo, bool) { return SocketInfo{}, false }
func (h *countingHost) ServerSideEmit(*ServerEvent)        {}

// TestNewPacketAllocations checks the one-allocation Packet at every size
// class edge:
// the text is an exact copy whose capacity is its length, so that a host
// appending to it cannot write into memory another packet shares.
func TestNewPacketAllocations(t *testing.T) {
	var edges []int
	for _, max := range []int{len(text192{}), len(text256{}), len(text384{}), len(text640{}), len(text1024{})} {
		edges = append(edges, max, max+1)
	}
	for _, n := range append([]int{0, 1, 5000}, edges...) {
		text := []byte(strings.Repeat("y", n))
		p := newPacket(text)
		if string(p.Frame.Text) != string(text) || cap(p.Frame.Text) != n {
			t.Fatalf("%d bytes: text %q cap %d", n, p.Frame.Text, cap(p.Frame.Text))
		}
		if n > 0 {
			text[0] = 'z'
			if p.Frame.Text[0] != 'y' {
				t.Fatalf("%d bytes: the packet aliases its source", n)
			}
		}
		if allocs := testing.AllocsPerRun(50, func() { newPacket(text) }); allocs > 1 && n <= len(text1024{}) && !raceEnabled {
			t.Errorf("%d bytes: %.0f allocations, want 1", n, allocs)
		}
	}
}
