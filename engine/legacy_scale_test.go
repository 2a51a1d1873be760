package engine

import (
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/sioredis/sioredis/internal/redistest"
)

// TestLegacy4ConnectManySockets measures what socket.io-redis 4.0's
// per-room subscriptions cost: SIOREDIS_SCALE sockets (default 10 000;
// the figure is for 100 000) connect to a Go server from 64
// goroutines, each AddSocket returning once its own-id channel is
// subscribed. It logs the time and checks with Redis that every channel is
// subscribed: one per socket, plus key#nsp#, key-request#nsp# and
// key-response#nsp#.
func TestLegacy4ConnectManySockets(t *testing.T) {
	n := 10000
	if s := os.Getenv("SIOREDIS_SCALE"); s != "" {
		if _, err := fmt.Sscan(s, &n); err != nil {
			t.Fatal(err)
		}
	}
	srv := redistest.NewStandalone(t)
	g := newNode(t, srv.Addr, Options{Protocol: SocketIORedis4})
	const workers = 64
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				if err := g.ns.AddSocket(NewSocketID()); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	d := time.Since(start)
	t.Logf("%d sockets connected (one SUBSCRIBE channel each) in %v", n, d)
	info, err := srv.Info("stats")
	must(t, err)
	if got, want := info["pubsub_channels"], fmt.Sprint(n+3); got != want {
		t.Fatalf("Redis has %s channels, want %s", got, want)
	}
	if st := g.ns.Stats(); st.Sockets != n {
		t.Fatalf("%d sockets", st.Sockets)
	}
}
