package engine

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/sioredis/sioredis/internal/redistest"
)

// legacyProtocols are the socket.io-redis generations, with the 4.0
// withChannelMultiplexing:false variant.
var legacyProtocols = []struct {
	name string
	opts Options
}{
	{"redis4", Options{Protocol: SocketIORedis4}},
	{"redis4-nomux", Options{Protocol: SocketIORedis4, NoChannelMultiplexing: true}},
	{"redis5", Options{Protocol: SocketIORedis5}},
	{"redis5-rooms", Options{Protocol: SocketIORedis5, Subscriptions: RoomSubscriptions}},
	{"redis6", Options{Protocol: SocketIORedis6}},
}

// muteServer subscribes key-request#nsp# on a connection of its own: NUMSUB
// counts it, it never answers.
func muteServer(t *testing.T, addr, channel string) {
	t.Helper()
	mute, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}, DisableCache: true})
	must(t, err)
	t.Cleanup(mute.Close)
	dc, cancel := mute.Dedicate()
	t.Cleanup(cancel)
	dc.SetPubSubHooks(rueidis.PubSubHooks{OnMessage: func(rueidis.PubSubMessage) {}})
	must(t, dc.Do(ctx(t), dc.B().Subscribe().Channel(channel).Build()).Error())
}

func TestLegacyProtocolsAcrossGoNodes(t *testing.T) {
	for _, p := range legacyProtocols {
		t.Run(p.name, func(t *testing.T) {
			srv := redistest.NewStandalone(t)
			want := 5 * time.Second
			if p.opts.Protocol == SocketIORedis4 {
				want = time.Second
			}
			probe := newNode(t, srv.Addr, p.opts)
			if d := probe.e.opts.RequestTimeout; d != want {
				t.Errorf("default RequestTimeout %v, want %v", d, want)
			}
			must(t, probe.e.Close())
			opts := p.opts
			opts.RequestTimeout = 600 * time.Millisecond
			a := newNode(t, srv.Addr, opts)
			b := newNode(t, srv.Addr, opts)
			a1 := a.socket(t, "room1")
			b1 := b.socket(t, "room1")
			b2 := b.socket(t, "room2")
			cx := ctx(t)

			// 4.0 subscribes per room (socket ids included), never a pattern.
			chans, err := srv.Command("PUBSUB", "CHANNELS", "socket.io#/#*")
			must(t, err)
			numpat, err := srv.Command("PUBSUB", "NUMPAT")
			must(t, err)
			switch {
			case p.name == "redis4":
				for _, ch := range []string{"socket.io#/#", "socket.io#/#room1#", "socket.io#/#room2#", "socket.io#/#" + a1 + "#", "socket.io#/#" + b2 + "#"} {
					if !strings.Contains(chans, ch) {
						t.Errorf("4.0: %s not subscribed (%q)", ch, chans)
					}
				}
				if numpat != "0" {
					t.Errorf("4.0: %s patterns", numpat)
				}
			case p.name == "redis4-nomux":
				if strings.Contains(chans, "room1") || numpat != "0" {
					t.Errorf("4.0 without multiplexing: channels %q, %s patterns", chans, numpat)
				}
			case p.name == "redis5" || p.name == "redis6":
				if numpat != "1" || chans != "" { // one pattern, socket.io#/#*
					t.Errorf("%s: channels %q, %s patterns", p.name, chans, numpat)
				}
			}

			must(t, a.ns.Emit(cx, "all", "x", int64(1)<<33, -1.5, []byte{1, 2}))
			must(t, a.ns.To(StringRoom("room1")).Emit(cx, "r1"))
			must(t, a.ns.To(StringRoom("room1"), StringRoom("room2")).Emit(cx, "r12"))
			must(t, a.ns.To(StringRoom(b2)).Emit(cx, "direct"))
			must(t, a.ns.From(a1).Emit(cx, "from-a1"))
			sentinel(t, a, a, b)
			all := ev("all", "x", int64(1)<<33, -1.5, map[string]any{"$bin": "0102"})
			assertEvents(t, a.host, a1, all, ev("r1"), ev("r12"))
			assertEvents(t, b.host, b1, all, ev("r1"), ev("r12"), ev("from-a1"))
			assertEvents(t, b.host, b2, all, ev("r12"), ev("direct"), ev("from-a1"))

			ids, err := a.ns.Clients(cx, StringRoom("room1"))
			must(t, err)
			if got := sortedCopy(ids); !reflect.DeepEqual(got, sortedCopy([]string{a1, b1})) {
				t.Errorf("Clients(room1) = %v", got)
			}
			rooms, err := a.ns.AllRooms(cx)
			must(t, err)
			if got := roomNames(rooms); !reflect.DeepEqual(got, sortedCopy([]string{a1, b1, b2, "room1", "room2"})) {
				t.Errorf("AllRooms = %v", got)
			}
			must(t, a.ns.RemoteJoin(cx, b1, StringRoom("joined")))
			if !hasRoom(b.ns.SocketRooms(b1), "joined") {
				t.Errorf("RemoteJoin: b1 in %v", b.ns.SocketRooms(b1))
			}
			must(t, a.ns.RemoteLeave(cx, b1, StringRoom("room1")))
			if hasRoom(b.ns.SocketRooms(b1), "room1") {
				t.Errorf("RemoteLeave: b1 in %v", b.ns.SocketRooms(b1))
			}

			legacy := p.opts.Protocol != SocketIORedis6
			if legacy {
				cr, err := a.ns.ClientRooms(cx, b1)
				must(t, err)
				if got := roomNames(cr); !reflect.DeepEqual(got, sortedCopy([]string{b1, "joined"})) {
					t.Errorf("ClientRooms = %v", got)
				}
				must(t, b.ns.SetCustomHook(func(data any) any { return map[string]any{"from": "b", "got": data} }))
				replies, err := a.ns.CustomRequest(cx, map[string]any{"q": "hi"})
				must(t, err)
				if got := canon(t, replies); got != `[null,{"from":"b","got":{"q":"hi"}}]` {
					t.Errorf("CustomRequest = %s", got)
				}
				_, err = a.ns.Operator().FetchSockets(cx)
				if !errors.Is(err, ErrUnsupported) {
					t.Errorf("FetchSockets on %v: %v", p.opts.Protocol, err)
				}
				if err := a.ns.Operator().SocketsJoin(cx, StringRoom("x")); !errors.Is(err, ErrUnsupported) {
					t.Errorf("SocketsJoin on %v: %v", p.opts.Protocol, err)
				}
			} else {
				socks, err := a.ns.To(StringRoom("joined")).FetchSockets(cx)
				must(t, err)
				if len(socks) != 1 || socks[0].ID != b1 {
					t.Errorf("FetchSockets(joined) = %+v", socks)
				}
				must(t, a.ns.Operator().SocketsJoin(cx, StringRoom("bulk")))
				eventually(t, "bulk join", func() bool { return hasRoom(b.ns.SocketRooms(b2), "bulk") })
				if !hasRoom(a.ns.SocketRooms(a1), "bulk") {
					t.Error("bulk join not applied locally")
				}
				// The echo of a bulk operation is not applied again.
				must(t, a.ns.Operator().SocketsLeave(cx, StringRoom("bulk")))
				sentinel(t, a, a, b)
				if hasRoom(a.ns.SocketRooms(a1), "bulk") {
					t.Error("a1 rejoined bulk")
				}
				if _, err := a.ns.CustomRequest(cx, 1); !errors.Is(err, ErrUnsupported) {
					t.Errorf("CustomRequest on 6.x: %v", err)
				}
				if _, err := a.ns.ClientRooms(cx, b1); !errors.Is(err, ErrUnsupported) {
					t.Errorf("ClientRooms on 6.x: %v", err)
				}
			}
			if err := a.ns.ServerSideEmit(cx, "x"); !errors.Is(err, ErrUnsupported) {
				t.Errorf("ServerSideEmit on %v: %v", p.opts.Protocol, err)
			}
			if _, err := a.ns.Operator().EmitWithAck(cx, "x"); !errors.Is(err, ErrUnsupported) {
				t.Errorf("EmitWithAck on %v: %v", p.opts.Protocol, err)
			}
			must(t, a.ns.RemoteDisconnect(cx, b2, true))
			b.host.waitFor(t, "b2 disconnected", func() bool { return b.host.sockets[b2].disconnected })

			// A silent server: partial results and the count.
			muteServer(t, srv.Addr, "socket.io-request#/#")
			start := time.Now()
			ids, err = a.ns.Clients(cx)
			var inc *IncompleteError
			if !errors.As(err, &inc) || !errors.Is(err, ErrTimeout) || inc.Answered != 1 || inc.Expected != 2 {
				t.Fatalf("Clients with a silent server: %v", err)
			}
			if got := sortedCopy(ids); !reflect.DeepEqual(got, sortedCopy([]string{a1, b1})) {
				t.Errorf("partial Clients = %v", got)
			}
			if d := time.Since(start); d < opts.RequestTimeout || d > opts.RequestTimeout+2*time.Second {
				t.Errorf("timeout after %v, want %v", d, opts.RequestTimeout)
			}
			if legacy {
				replies, err := a.ns.CustomRequest(cx, "q")
				if !errors.As(err, &inc) || inc.Answered != 1 || canon(t, replies) != `[null,{"from":"b","got":"q"}]` {
					t.Errorf("CustomRequest with a silent server = %s, %v", canon(t, replies), err)
				}
			}
			if st := a.e.Stats(); st.Dropped["malformed"] != 0 || st.Dropped["foreign"] != 0 {
				t.Errorf("drops %v", st.Dropped)
			}
		})
	}
}
