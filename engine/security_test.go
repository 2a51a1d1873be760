package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/sioredis/sioredis/internal/redistest"
)

// The least-privilege recipes of the README, exactly as written there.
// Each user may touch only the adapter's channels and run only the pub/sub
// commands and PING.
var aclRecipes = []struct {
	name  string
	mode  SubscriptionMode
	rules []string
}{
	// Pattern mode: the channels, plus the literal PSUBSCRIBE pattern of
	// each namespace (Redis 7 matches PSUBSCRIBE patterns literally).
	{"pattern", PatternSubscriptions, []string{"on", ">secret", "resetchannels", "&socket.io*", "&socket.io#/#*", "-@all", "+@pubsub", "+ping"}},
	// Per-room mode: SUBSCRIBE only, so the channel glob is enough.
	{"rooms", RoomSubscriptions, []string{"on", ">secret", "resetchannels", "&socket.io*", "-@all", "+@pubsub", "+ping"}},
}

// TestACLRecipes runs a broadcast and a request round trip between two
// servers whose Redis user has exactly the README's recipe.
func TestACLRecipes(t *testing.T) {
	srv := redistest.NewStandalone(t)
	for _, r := range aclRecipes {
		t.Run(r.name, func(t *testing.T) {
			user := "sio-" + r.name
			_, err := srv.Command(append([]string{"ACL", "SETUSER", user}, r.rules...)...)
			must(t, err)
			opts := Options{Subscriptions: r.mode, ClientOption: rueidis.ClientOption{InitAddress: []string{srv.Addr}, Username: user, Password: "secret"}}
			a, b := newNode(t, "", opts), newNode(t, "", opts)
			sb := b.socket(t, "room1")
			must(t, a.ns.To(StringRoom("room1")).Emit(ctx(t), "hello", "acl"))
			b.host.waitReceived(t, sb, 1)
			assertEvents(t, b.host, sb, ev("hello", "acl"))
			n, err := a.ns.ServerCount(ctx(t))
			if err != nil || n != 2 {
				t.Fatalf("ServerCount = %d, %v", n, err)
			}
			socks, err := a.ns.Operator().FetchSockets(ctx(t))
			must(t, err)
			if len(socks) != 1 || socks[0].ID != sb {
				t.Fatalf("FetchSockets = %+v", socks)
			}
			for _, nd := range []*node{a, b} {
				if st := nd.e.Stats(); st.RedisErrors != 0 || st.SubscribeErrors != 0 || st.PublishErrors != 0 {
					t.Errorf("errors under the recipe: %+v", st)
				}
			}
		})
	}
	t.Run("emitter", func(t *testing.T) {
		// The emitter publishes only.
		_, err := srv.Command("ACL", "SETUSER", "sio-emitter", "on", ">secret", "resetchannels", "&socket.io*", "-@all", "+publish", "+ping")
		must(t, err)
		b := newNode(t, srv.Addr, Options{})
		sb := b.socket(t, "room1")
		client, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{srv.Addr}, Username: "sio-emitter", Password: "secret", DisableCache: true})
		must(t, err)
		defer client.Close()
		must(t, NewEmitter(client, EmitterOptions{}).Of("/").To(StringRoom("room1")).Emit(ctx(t), "from-emitter"))
		b.host.waitReceived(t, sb, 1)
		assertEvents(t, b.host, sb, ev("from-emitter"))
	})
	t.Run("missing-pattern", func(t *testing.T) {
		// Pattern mode without the literal pattern: Redis's own error, at once.
		_, err := srv.Command("ACL", "SETUSER", "sio-nopattern", "on", ">secret", "resetchannels", "&socket.io*", "-@all", "+@pubsub", "+ping")
		must(t, err)
		e, err := New(Options{ClientOption: rueidis.ClientOption{InitAddress: []string{srv.Addr}, Username: "sio-nopattern", Password: "secret"}})
		must(t, err)
		defer e.Close()
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		_, err = e.Namespace(c, "/", newTestHost())
		if err == nil || !strings.Contains(err.Error(), "NOPERM") || !strings.Contains(err.Error(), "PSUBSCRIBE socket.io#/#*") {
			t.Fatalf("Namespace = %v; want PSUBSCRIBE socket.io#/#*: NOPERM", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("took %v", d)
		}
	})
	t.Run("wrong-password", func(t *testing.T) {
		_, err := New(Options{ClientOption: rueidis.ClientOption{InitAddress: []string{srv.Addr}, Username: "sio-rooms", Password: "nope"}})
		if err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
			t.Fatalf("New with a wrong password = %v, want WRONGPASS", err)
		}
	})
}

// TestMaxMessageSize: a message above the cap is dropped and counted before
// decoding; one at the cap is delivered.
func TestMaxMessageSize(t *testing.T) {
	srv := redistest.Standalone(t)
	const limit = 4096
	b := newNode(t, srv.Addr, Options{Key: "cap-test", MaxMessageSize: limit})
	sb := b.socket(t)
	pub, err := newRueidis(srv.Addr)
	must(t, err)
	defer pub.Close()
	em := NewEmitter(pub, EmitterOptions{Key: "cap-test"}).Of("/")
	// Find the payload size whose encoded broadcast is exactly limit bytes.
	fits := "x"
	for i := 0; i < 4; i++ { // string headers grow with the length
		fits = strings.Repeat("a", len(fits)+limit-encodedSize(t, pub, fits))
	}
	if got := encodedSize(t, pub, fits); got != limit {
		t.Fatalf("sizing: %d bytes, want %d", got, limit)
	}
	must(t, em.Emit(ctx(t), "huge", fits+"b")) // limit+1 bytes: dropped
	must(t, em.Emit(ctx(t), "fits", fits))     // limit bytes: delivered
	got := b.host.waitReceived(t, sb, 1)
	if got[0].Event != "fits" {
		t.Fatalf("received %q first, want fits", got[0].Event)
	}
	if st := b.e.Stats(); st.Dropped["too_large"] != 1 || st.Namespaces["/"].Dropped["too_large"] != 1 || st.Dropped["malformed"] != 0 {
		t.Fatalf("drops %v / %v; want one too_large", st.Dropped, st.Namespaces["/"].Dropped)
	}
}

// encodedSize is the size of the emitter's broadcast of event "huge"/"fits"
// (same length names) with one string argument.
func encodedSize(t *testing.T, client rueidis.Client, arg string) int {
	t.Helper()
	p := newClassicProtocol(client, "cap-test", "/", "emitter", false)
	data, err := encodeArgs("fits", []any{arg})
	must(t, err)
	m := message{kind: msgBroadcast, packetType: 2, data: data}
	s := sender{client: client, nsp: "/", uid: "emitter", emitter: true}
	_, buf, _, err := p.encode(&s, &m, nil)
	must(t, err)
	return len(buf)
}

// TestKeysIsolateApplications: two applications with different keys on one
// Redis never see each other's broadcasts, nor count or answer each other.
func TestKeysIsolateApplications(t *testing.T) {
	srv := redistest.Standalone(t)
	for _, mode := range []SubscriptionMode{PatternSubscriptions, RoomSubscriptions} {
		t.Run(mode.String(), func(t *testing.T) {
			// Keys that prefix each other: "app" must not hear "app1".
			a0 := newNode(t, srv.Addr, Options{Key: "app", Subscriptions: mode})
			s0 := a0.socket(t, "room")
			a1 := newNode(t, srv.Addr, Options{Key: "app1", Subscriptions: mode})
			a2 := newNode(t, srv.Addr, Options{Key: "app1", Subscriptions: mode})
			b1 := newNode(t, srv.Addr, Options{Key: "app2", Subscriptions: mode})
			s2 := a2.socket(t, "room")
			sb := b1.socket(t, "room")
			must(t, a1.ns.Emit(ctx(t), "to-all-app1"))
			must(t, a1.ns.To(StringRoom("room")).Emit(ctx(t), "to-room-app1"))
			must(t, b1.ns.To(StringRoom("room")).Emit(ctx(t), "to-room-app2"))
			sentinel(t, a1, a2)
			assertEvents(t, a2.host, s2, ev("to-all-app1"), ev("to-room-app1"))
			sentinel(t, b1, b1)
			assertEvents(t, b1.host, sb, ev("to-room-app2")) // its own, nothing of app1
			if got := a0.host.receivedBy(s0); len(got) != 0 {
				t.Fatalf("app's socket received app1's traffic: %+v", got)
			}
			for _, nd := range []*node{a1, b1} {
				n, err := nd.ns.ServerCount(ctx(t))
				want := map[*node]int{a1: 2, b1: 1}[nd]
				if err != nil || n != want {
					t.Fatalf("ServerCount = %d, %v; want %d", n, err, want)
				}
			}
			socks, err := b1.ns.Operator().FetchSockets(ctx(t))
			must(t, err)
			if len(socks) != 1 || socks[0].ID != sb {
				t.Fatalf("app2 FetchSockets = %+v", socks)
			}
		})
	}
}

// TestTLS: engines connect to a redis-server's TLS port through
// ClientOption.TLSConfig, with and without client certificates, and a
// broadcast and a request cross between them.
func TestTLS(t *testing.T) {
	for _, auth := range []bool{false, true} {
		t.Run(map[bool]string{false: "server-cert", true: "client-cert"}[auth], func(t *testing.T) {
			ts := redistest.NewTLSStandalone(t, redistest.TLSOptions{AuthClients: auth})
			opts := Options{ClientOption: rueidis.ClientOption{InitAddress: []string{ts.TLSAddr}, TLSConfig: ts.ClientTLS(auth)}}
			a, b := newNode(t, "", opts), newNode(t, "", opts)
			sb := b.socket(t, "room1")
			must(t, a.ns.To(StringRoom("room1")).Emit(ctx(t), "over-tls"))
			b.host.waitReceived(t, sb, 1)
			assertEvents(t, b.host, sb, ev("over-tls"))
			socks, err := a.ns.Operator().FetchSockets(ctx(t))
			must(t, err)
			if len(socks) != 1 || socks[0].ID != sb {
				t.Fatalf("FetchSockets over TLS = %+v", socks)
			}
			if auth {
				// Without its certificate the client is refused.
				_, err := New(Options{ClientOption: rueidis.ClientOption{InitAddress: []string{ts.TLSAddr}, TLSConfig: ts.ClientTLS(false)}})
				if err == nil {
					t.Fatal("connected without a client certificate")
				}
				t.Logf("without a client certificate: %v", err)
			}
		})
	}
}
