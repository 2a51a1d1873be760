package engine

import (
	"testing"

	"github.com/sioredis/sioredis/internal/redistest"
)

// TestSubscriptionSurvivesConnectionLoss kills the subscription connection
// on the Redis side: the engine must notice, reconnect and subscribe every
// channel again, so delivery goes on (the Node adapter's #446 went silent).
func TestSubscriptionSurvivesConnectionLoss(t *testing.T) {
	srv := redistest.NewStandalone(t)
	a, b := newNode(t, srv.Addr, Options{}), newNode(t, srv.Addr, Options{})
	b1 := b.socket(t, "room1")

	must(t, a.ns.To(StringRoom("room1")).Emit(ctx(t), "before"))
	b.host.waitReceived(t, b1, 1)

	if _, err := srv.Command("CLIENT", "KILL", "TYPE", "pubsub"); err != nil {
		t.Fatal(err)
	}
	// Both engines lose their subscription connection; wait until both
	// are counted as servers again.
	eventually(t, "both engines subscribed again", func() bool {
		n, err := a.ns.ServerCount(ctx(t))
		return err == nil && n == 2 && b.e.Stats().Resubscribes >= 1 && a.e.Stats().Resubscribes >= 1
	})
	must(t, a.ns.To(StringRoom("room1")).Emit(ctx(t), "after"))
	got := b.host.waitReceived(t, b1, 2)
	if got[1].Event != "after" {
		t.Fatalf("after reconnect got %+v", got)
	}
	if st := b.e.Stats(); st.RedisErrors == 0 {
		t.Fatalf("the lost connection was not counted: %+v", st)
	}
}

// TestPublishErrorsAreCounted kills Redis: a broadcast queued afterwards
// cannot be sent, and the loss is visible in Stats.PublishErrors.
func TestPublishErrorsAreCounted(t *testing.T) {
	srv := redistest.NewStandalone(t)
	a := newNode(t, srv.Addr, Options{})
	srv.Kill()
	// The emit is queued; the publisher's batch fails and is counted.
	_ = a.ns.Emit(ctx(t), "lost")
	eventually(t, "publish error counted", func() bool { return a.e.Stats().PublishErrors >= 1 })
}
