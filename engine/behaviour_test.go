package engine

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sioredis/sioredis/internal/redistest"
)

func TestBadArgumentsGetClearErrors(t *testing.T) {
	srv := redistest.Standalone(t)
	if _, err := New(Options{}); err == nil {
		t.Fatal("New without a client or address must fail")
	}
	a := newNode(t, srv.Addr, Options{})
	c := ctx(t)
	if _, err := a.e.Namespace(c, "chat", newTestHost()); err == nil {
		t.Error("namespace without leading / accepted")
	}
	if _, err := a.e.Namespace(c, "/x", nil); err == nil {
		t.Error("nil host accepted")
	}
	if err := a.ns.AddSocket(""); err == nil {
		t.Error("empty socket id accepted")
	}
	if err := a.ns.Join("", StringRoom("r")); err == nil {
		t.Error("Join with empty socket id accepted")
	}
	for _, ev := range []string{"", "connect", "disconnect", "disconnecting", "newListener", "removeListener", "connect_error"} {
		if err := a.ns.Emit(c, ev); err == nil {
			t.Errorf("emit of %q accepted", ev)
		}
	}
	if err := a.ns.Emit(c, "x", make(chan int)); err == nil {
		t.Error("a channel argument was accepted")
	}
	if err := a.ns.RemoteJoin(c, "", StringRoom("r")); err == nil {
		t.Error("RemoteJoin with empty sid accepted")
	}
	if ns2, err := a.e.Namespace(c, "/", newTestHost()); err != nil || ns2 != a.ns {
		t.Errorf("Namespace twice = %p, %v; want the same namespace", ns2, err)
	}
}

// TestConcurrentBroadcastsShareRoundTrips holds Redis still (CLIENT PAUSE
// WRITE) while 1 000 goroutines broadcast: they must leave in a handful of
// pipelined batches, not in 1 000 round trips.
func TestConcurrentBroadcastsShareRoundTrips(t *testing.T) {
	srv := redistest.NewStandalone(t)
	a := newNode(t, srv.Addr, Options{PublishBatch: 256})
	before := a.e.Stats()
	if _, err := srv.Command("CLIENT", "PAUSE", "300", "WRITE"); err != nil {
		t.Fatal(err)
	}
	const n = 1000
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.ns.To(StringRoom("room")).Emit(context.Background(), "x", i); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	eventually(t, "all published", func() bool { return a.e.Stats().Published-before.Published == n })
	batches := a.e.Stats().PublishBatches - before.PublishBatches
	// At most one batch can leave before the pause bites; the rest queue
	// behind it and go in batches of up to 256.
	if batches > 1+(n+255)/256+1 {
		t.Fatalf("%d broadcasts took %d round trips", n, batches)
	}
	t.Logf("%d concurrent broadcasts in %d round trips", n, batches)
}

func TestPendingRequestsAreBounded(t *testing.T) {
	srv := redistest.NewStandalone(t)
	a := newNode(t, srv.Addr, Options{MaxPendingRequests: 2, RequestTimeout: 2 * time.Second})
	mute(t, srv.Addr, "socket.io-request#/#") // a server that never answers
	c, cancel := context.WithCancel(ctx(t))
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = a.ns.AllRooms(c) }()
	}
	eventually(t, "two requests pending", func() bool { return a.ns.reqs.len() == 2 })
	if _, err := a.ns.AllRooms(c); !errors.Is(err, ErrTooManyRequests) {
		t.Fatalf("third request: %v, want ErrTooManyRequests", err)
	}
	cancel()
	wg.Wait()
	if n := a.ns.reqs.len(); n != 0 {
		t.Fatalf("%d requests still pending after cancel", n)
	}
	// Close fails what is pending.
	done := make(chan error, 1)
	go func() { _, err := a.ns.AllRooms(ctx(t)); done <- err }()
	eventually(t, "request pending", func() bool { return a.ns.reqs.len() == 1 })
	must(t, a.ns.Close())
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("pending request after Close: %v, want ErrClosed", err)
	}
}

func TestDropsAreCountedByReason(t *testing.T) {
	srv := redistest.NewStandalone(t)
	a, b := newNode(t, srv.Addr, Options{}), newNode(t, srv.Addr, Options{})
	b1 := b.socket(t, "here")
	c := ctx(t)
	must(t, a.ns.To(StringRoom("elsewhere")).Emit(c, "x")) // room channel b does not host
	must(t, a.ns.Emit(c, "y"))
	sentinel(t, a, b)
	assertEvents(t, b.host, b1, ev("y"))
	st := b.e.Stats()
	if st.Dropped["no_room"] != 1 {
		t.Errorf("no_room = %d, want 1 (%v)", st.Dropped["no_room"], st.Dropped)
	}
	// a's own three broadcasts come back to it and are dropped as its own
	// before anything else is looked at.
	eventually(t, "a drops its own echoes", func() bool { return a.e.Stats().Dropped["own"] == 3 })
	if n := a.e.Stats().Dropped["no_room"]; n != 0 {
		t.Errorf("the sender's own room-channel echo was counted as no_room (%d)", n)
	}
	// A broadcast for another namespace whose name starts like ours.
	if _, err := srv.Command("PUBLISH", "socket.io#/#", string(mustHex(t, "93a6585858585858"+"83a47479706502a46461746191a178a36e7370a62f6f74686572"+"83a5726f6f6d7390a665786365707490a5666c61677380"))); err != nil {
		t.Fatal(err)
	}
	sentinel(t, a, b)
	if n := b.e.Stats().Dropped["other_namespace"]; n != 1 {
		t.Errorf("other_namespace = %d, want 1", n)
	}
}

func TestSocketIDsLookLikeSocketIOs(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := NewSocketID()
		if len(id) != 20 {
			t.Fatalf("socket id %q has %d characters, want 20 (Node peers classify rooms by that length)", id, len(id))
		}
		for _, c := range id {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				t.Fatalf("socket id %q has %q outside the URL-safe base64 alphabet", id, c)
			}
		}
		if seen[id] {
			t.Fatalf("socket id %q generated twice", id)
		}
		seen[id] = true
	}
}

func TestNamespaceCanBeRetriedAfterAFailedSubscribe(t *testing.T) {
	srv := redistest.Standalone(t)
	a := newNode(t, srv.Addr, Options{})
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.e.Namespace(cancelled, "/retry", newTestHost()); err == nil {
		t.Skip("subscribed before noticing the cancelled context") // the connection was already up: nothing to retry
	}
	ns, err := a.e.Namespace(ctx(t), "/retry", newTestHost())
	if err != nil || ns == nil {
		t.Fatalf("second attempt: %v", err)
	}
	if n, err := ns.ServerCount(ctx(t)); err != nil || n < 1 {
		t.Fatalf("ServerCount after retry = %d, %v", n, err)
	}
}
