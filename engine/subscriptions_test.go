package engine

import (
	"context"
	"errors"
	"sort"
	"strings"

	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/sioredis/sioredis/internal/redistest"
)

// channels returns the channels Redis has subscribers for, matching pattern.
func channels(t testing.TB, srv *redistest.Server, pattern string) []string {
	t.Helper()
	out, err := srv.Command("PUBSUB", "CHANNELS", pattern)
	must(t, err)
	if out == "" {
		return nil
	}
	list := strings.Split(out, "\n")
	sort.Strings(list)
	return list
}

func hasString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestRoomSubscriptionsFollowRooms checks the per-room mode against Redis
// itself: no pattern, the namespace channel, one channel per hosted room
// (socket-id rooms included), a channel shared by the number 7 and the
// string "7" kept while either exists, and rooms unsubscribed when they go.
func TestRoomSubscriptionsFollowRooms(t *testing.T) {
	srv := redistest.NewStandalone(t)
	b := newNode(t, srv.Addr, Options{Subscriptions: RoomSubscriptions})
	if n, _ := srv.Command("PUBSUB", "NUMPAT"); n != "0" {
		t.Fatalf("NUMPAT = %s in per-room mode, want 0", n)
	}
	s1 := b.socket(t, "a")
	s2 := b.socket(t)
	must(t, b.ns.Join(s1, NumberRoom(7)))
	must(t, b.ns.Join(s2, StringRoom("7")))
	got := channels(t, srv, "socket.io#/#*")
	want := []string{"socket.io#/#", "socket.io#/#" + s1 + "#", "socket.io#/#" + s2 + "#", "socket.io#/#7#", "socket.io#/#a#"}
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("channels after joins:\n  %q\nwant\n  %q", got, want)
	}

	// A pattern-mode server publishes to the string room "7" after the
	// numeric 7 is gone: the shared channel must still be subscribed.
	a := newNode(t, srv.Addr, Options{})
	b.ns.Leave(s1, NumberRoom(7))
	must(t, a.ns.To(StringRoom("7")).Emit(ctx(t), "to-7"))
	b.host.waitReceived(t, s2, 1)
	if !hasString(channels(t, srv, "socket.io#/#*"), "socket.io#/#7#") {
		t.Fatal("socket.io#/#7# unsubscribed while the string room 7 exists")
	}
	b.ns.Leave(s2, StringRoom("7"))
	b.ns.Leave(s1, StringRoom("a"))
	b.ns.RemoveSocket(s2)
	b.host.mu.Lock()
	b.host.sockets[s2].disconnected = true // gone: the sentinel below does not wait for it
	b.host.mu.Unlock()
	eventually(t, "rooms 7, a and socket s2 unsubscribed", func() bool {
		got := channels(t, srv, "socket.io#/#*")
		return !hasString(got, "socket.io#/#7#") && !hasString(got, "socket.io#/#a#") && !hasString(got, "socket.io#/#"+s2+"#") &&
			hasString(got, "socket.io#/#"+s1+"#")
	})

	// Single-room broadcasts for rooms B does not host never reach B.
	before := b.e.Stats().Received
	for i := 0; i < 20; i++ {
		must(t, a.ns.To(StringRoom("elsewhere")).Emit(ctx(t), "nobody-here"))
	}
	sentinel(t, a, b)
	st := b.e.Stats()
	if got := st.Received - before; got != 1 {
		t.Errorf("B received %d messages for 20 broadcasts to a room it does not host and one sentinel, want 1", got)
	}
	if st.Dropped["no_room"] != 0 {
		t.Errorf("no_room drops %d in per-room mode", st.Dropped["no_room"])
	}
}

// TestJoinReturnsOnceSubscribed: a broadcast published right after Join
// returned reaches the socket, for rooms new to the server.
func TestJoinReturnsOnceSubscribed(t *testing.T) {
	srv := redistest.Standalone(t)
	b := newNode(t, srv.Addr, Options{Subscriptions: RoomSubscriptions, Key: "join-test"})
	pub, err := newRueidis(srv.Addr)
	must(t, err)
	defer pub.Close()
	a := NewEmitter(pub, EmitterOptions{Key: "join-test"}).Of("/")
	const rounds = 30
	for i := 0; i < rounds; i++ {
		sid := NewSocketID()
		b.host.addSocket(sid)
		must(t, b.ns.AddSocket(sid))
		room := "fresh-" + NewSocketID()
		must(t, b.ns.Join(sid, StringRoom(room)))
		// Straight after Join: to the new room, and to the socket id.
		must(t, a.To(StringRoom(room)).Emit(ctx(t), "room"))
		must(t, a.To(StringRoom(sid)).Emit(ctx(t), "id"))
		got := b.host.waitReceived(t, sid, 2)
		if got[0].Event != "room" || got[1].Event != "id" {
			t.Fatalf("round %d: got %+v", i, got)
		}
	}
}

// TestSubscribeChurnIsBatched: many joins at once cost few SUBSCRIBE
// commands, and a join and leave of one room within a batch cost none.
func TestSubscribeChurnIsBatched(t *testing.T) {
	srv := redistest.NewStandalone(t)
	b := newNode(t, srv.Addr, Options{Subscriptions: RoomSubscriptions})
	before := commandCalls(t, srv, "subscribe")
	const sockets = 2000
	done := make(chan error, 100)
	for w := 0; w < 100; w++ {
		go func() {
			var err error
			for i := 0; i < sockets/100 && err == nil; i++ {
				sid := NewSocketID()
				if err = b.ns.AddSocket(sid); err == nil {
					err = b.ns.Join(sid, StringRoom("r-"+sid))
				}
			}
			done <- err
		}()
	}
	for w := 0; w < 100; w++ {
		must(t, <-done)
	}
	calls := commandCalls(t, srv, "subscribe") - before
	subs, err := srv.Command("PUBSUB", "NUMSUB", "socket.io#/#")
	must(t, err)
	n := len(channels(t, srv, "socket.io#/#*"))
	t.Logf("%d sockets, %d channels: %d SUBSCRIBE commands (%s)", sockets, n, calls, strings.ReplaceAll(subs, "\n", "="))
	if n != 2*sockets+1 {
		t.Fatalf("%d channels subscribed, want %d", n, 2*sockets+1)
	}
	if calls > sockets/2 {
		t.Errorf("%d SUBSCRIBE commands for %d new channels: not batched", calls, 2*sockets)
	}
}

// commandCalls reads INFO commandstats for one command.
func commandCalls(t testing.TB, srv *redistest.Server, cmd string) int {
	t.Helper()
	info, err := srv.Command("INFO", "commandstats")
	must(t, err)
	for _, line := range strings.Split(info, "\r\n") {
		if rest, ok := strings.CutPrefix(line, "cmdstat_"+cmd+":calls="); ok {
			n := 0
			for _, c := range rest {
				if c < '0' || c > '9' {
					break
				}
				n = n*10 + int(c-'0')
			}
			return n
		}
	}
	return 0
}

// slowHost blocks in every Deliver.
type slowHost struct {
	*countingHost
	delay time.Duration
}

func (h slowHost) Deliver(sid string, p *Packet) {
	time.Sleep(h.delay) // the slow host under test, not synchronisation
	h.countingHost.Deliver(sid, p)
}

// TestSlowHostStallsOnlyItsNamespace: a host that blocks 20 ms per
// delivery fills its own namespace's queue (drops counted there) while a
// namespace beside it gets every broadcast.
func TestSlowHostStallsOnlyItsNamespace(t *testing.T) {
	srv := redistest.Standalone(t)
	e, err := New(Options{ClientOption: rueidis.ClientOption{InitAddress: []string{srv.Addr}}, ReceiveQueue: 64, Key: "slow-test"})
	must(t, err)
	defer e.Close()
	slow := slowHost{&countingHost{}, 20 * time.Millisecond}
	fast := &countingHost{}
	nsSlow, err := e.Namespace(ctx(t), "/slow", slow)
	must(t, err)
	nsFast, err := e.Namespace(ctx(t), "/fast", fast)
	must(t, err)
	must(t, nsSlow.AddSocket("s"))
	must(t, nsFast.AddSocket("f"))
	pub, err := newRueidis(srv.Addr)
	must(t, err)
	defer pub.Close()
	em := NewEmitter(pub, EmitterOptions{Key: "slow-test"})
	const n = 200
	start := time.Now()
	for i := 0; i < n; i++ {
		must(t, em.Of("/slow").Emit(ctx(t), "x"))
		must(t, em.Of("/fast").Emit(ctx(t), "x"))
	}
	eventually(t, "every broadcast delivered on the fast namespace", func() bool { return fast.n.Load() == n })
	if slow.n.Load() >= n/2 {
		t.Fatalf("the slow namespace delivered %d of %d meanwhile: the test did not stall it", slow.n.Load(), n)
	}
	t.Logf("fast namespace: %d deliveries in %v beside a 20 ms host", n, time.Since(start))
	eventually(t, "every slow broadcast delivered or counted", func() bool {
		st := e.Stats().Namespaces["/slow"]
		return uint64(slow.n.Load())+st.Dropped["queue_full"] == n
	})
	st := e.Stats()
	if st.Namespaces["/slow"].Dropped["queue_full"] == 0 {
		t.Errorf("no queue_full drop counted on the slow namespace: %+v", st.Namespaces["/slow"])
	}
	if d := st.Namespaces["/fast"].Dropped["queue_full"]; d != 0 {
		t.Errorf("fast namespace dropped %d", d)
	}
}

// TestRefusedPublishFailsRequestAtOnce: a request whose PUBLISH Redis
// refuses fails with Redis's error at once, not after its timeout.
func TestRefusedPublishFailsRequestAtOnce(t *testing.T) {
	srv := redistest.NewStandalone(t)
	_, err := srv.Command("ACL", "SETUSER", "nopub", "on", ">pw", "&*", "+@pubsub", "+ping", "+hello", "-publish")
	must(t, err)
	other := newNode(t, srv.Addr, Options{}) // a second server, so the request is published
	_ = other
	e, err := New(Options{ClientOption: rueidis.ClientOption{InitAddress: []string{srv.Addr}, Username: "nopub", Password: "pw"},
		RequestTimeout: 10 * time.Second})
	must(t, err)
	defer e.Close()
	ns, err := e.Namespace(ctx(t), "/", newTestHost())
	must(t, err)
	start := time.Now()
	_, err = ns.Operator().FetchSockets(ctx(t))
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Fatalf("FetchSockets with a refused PUBLISH = %v, want Redis's NOPERM", err)
	}
	var ie *IncompleteError
	if !errors.As(err, &ie) || errors.Is(err, ErrTimeout) {
		t.Fatalf("error %v: want an IncompleteError caused by the publish", err)
	}
	if took > 2*time.Second {
		t.Errorf("FetchSockets took %v to report a refused publish (timeout 10 s)", took)
	}
}

// TestNamespaceRefusedChannelsFailsAtOnce: a user without the channel
// permission gets Redis's NOPERM from Namespace, within a second.
func TestNamespaceRefusedChannelsFailsAtOnce(t *testing.T) {
	srv := redistest.NewStandalone(t)
	_, err := srv.Command("ACL", "SETUSER", "nochan", "on", ">pw", "&other*", "+@pubsub", "+ping", "+hello")
	must(t, err)
	e, err := New(Options{ClientOption: rueidis.ClientOption{InitAddress: []string{srv.Addr}, Username: "nochan", Password: "pw"}})
	must(t, err)
	defer e.Close()
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	_, err = e.Namespace(c, "/", newTestHost())
	if err == nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Fatalf("Namespace = %v, want Redis's NOPERM", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("Namespace took %v to fail", took)
	}
	if st := e.Stats(); st.SubscribeErrors == 0 {
		t.Errorf("refused subscription not counted: %+v", st)
	}
	t.Logf("error: %v", err)
}

// TestNamespaceCloseUnsubscribes: once Close returns, the other servers no
// longer count the namespace, also when it closes during a resubscription.
func TestNamespaceCloseUnsubscribes(t *testing.T) {
	srv := redistest.NewStandalone(t)
	a := newNode(t, srv.Addr, Options{})
	for i := 0; i < 20; i++ {
		e, err := New(Options{ClientOption: rueidis.ClientOption{InitAddress: []string{srv.Addr}}})
		must(t, err)
		ns, err := e.Namespace(ctx(t), "/", newTestHost())
		must(t, err)
		if i%2 == 1 {
			// Cut every subscription connection, then close at once: the
			// link is resubscribing (or about to) while Close runs.
			_, err = srv.Command("CLIENT", "KILL", "TYPE", "pubsub")
			must(t, err)
		}
		must(t, ns.Close())
		n, err := a.ns.ServerCount(ctx(t))
		if i%2 == 0 && (err != nil || n != 1) {
			t.Fatalf("round %d: ServerCount after Close = %d, %v; want 1", i, n, err)
		}
		e.Close()
		eventually(t, "only A counted", func() bool {
			n, err := a.ns.ServerCount(ctx(t))
			return err == nil && n == 1
		})
	}
}
