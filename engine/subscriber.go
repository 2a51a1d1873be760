package engine

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/rueidis"
)

// subscriber owns the one Redis connection that carries every subscription of
// the engine (all namespaces). A supervising goroutine keeps it alive: when
// the connection is lost it dials again and subscribes every channel and
// pattern again from the engine's own record of them, so a Redis restart or
// failover does not silently end delivery (the Node adapter's #446). A
// connection that stays open but stops answering is caught by rueidis
// itself, which PINGs idle connections and drops one that does not answer
// within ClientOption.ConnWriteTimeout (default 10 s); the supervisor then
// restores it like any lost connection.
//
// Messages are handed to onMessage from rueidis's reader goroutine; onMessage
// must not block (a blocking pub/sub hook stalls the connection), so the
// engine only routes the message to a worker queue there.
type subscriber struct {
	client    rueidis.Client
	stats     *counters
	log       *slog.Logger
	onMessage func(rueidis.PubSubMessage)

	mu       sync.Mutex
	channels map[string]int // SUBSCRIBE channels, reference counted
	patterns map[string]int // PSUBSCRIBE patterns, reference counted
	conn     rueidis.DedicatedClient
	ready    chan struct{} // closed when conn is up and every recorded subscription was sent

	closing chan struct{}
	done    chan struct{}
	once    sync.Once
}

func newSubscriber(client rueidis.Client, stats *counters, log *slog.Logger, onMessage func(rueidis.PubSubMessage)) *subscriber {
	s := &subscriber{
		client:    client,
		stats:     stats,
		log:       log,
		onMessage: onMessage,
		channels:  map[string]int{},
		patterns:  map[string]int{},
		ready:     make(chan struct{}),
		closing:   make(chan struct{}),
		done:      make(chan struct{}),
	}
	go s.supervise()
	return s
}

// subscribeBatch bounds the channels of one SUBSCRIBE command when
// re-subscribing many at once.
const subscribeBatch = 512

func (s *subscriber) supervise() {
	defer close(s.done)
	backoff := 50 * time.Millisecond
	for attempt := 0; ; attempt++ {
		conn, release := s.client.Dedicate()
		lost := conn.SetPubSubHooks(rueidis.PubSubHooks{OnMessage: s.onMessage})

		s.mu.Lock()
		s.conn = conn
		channels := keys(s.channels)
		patterns := keys(s.patterns)
		ready := s.ready
		s.mu.Unlock()

		err := s.send(context.Background(), conn, "SUBSCRIBE", channels)
		if err == nil {
			err = s.send(context.Background(), conn, "PSUBSCRIBE", patterns)
		}
		if err == nil {
			if attempt > 0 {
				s.stats.resubscribes.Add(1)
				s.log.Info("sioredis: subscription connection restored", "channels", len(channels), "patterns", len(patterns))
			}
			backoff = 50 * time.Millisecond
			close(ready)
			select {
			case err = <-lost:
			case <-s.closing:
			}
		}

		s.mu.Lock()
		s.conn = nil
		if err == nil || isClosed(s.closing) {
			s.mu.Unlock()
			release()
			return
		}
		select {
		case <-ready:
			s.ready = make(chan struct{})
		default:
		}
		s.mu.Unlock()
		release()
		s.stats.redisErrors.Add(1)
		s.log.Warn("sioredis: subscription connection lost, reconnecting", "err", err, "backoff", backoff)
		select {
		case <-time.After(backoff):
		case <-s.closing:
			return
		}
		backoff = min(backoff*2, 2*time.Second)
	}
}

// send issues one (P)SUBSCRIBE/(P)UNSUBSCRIBE command per batch of names.
func (s *subscriber) send(ctx context.Context, conn rueidis.DedicatedClient, verb string, names []string) error {
	for len(names) > 0 {
		n := min(len(names), subscribeBatch)
		var cmd rueidis.Completed
		switch verb {
		case "SUBSCRIBE":
			cmd = conn.B().Subscribe().Channel(names[:n]...).Build()
		case "PSUBSCRIBE":
			cmd = conn.B().Psubscribe().Pattern(names[:n]...).Build()
		case "UNSUBSCRIBE":
			cmd = conn.B().Unsubscribe().Channel(names[:n]...).Build()
		case "PUNSUBSCRIBE":
			cmd = conn.B().Punsubscribe().Pattern(names[:n]...).Build()
		}
		if err := conn.Do(ctx, cmd).Error(); err != nil {
			return fmt.Errorf("%s: %w", verb, err)
		}
		names = names[n:]
	}
	return nil
}

// subscribe records channels and patterns and subscribes them, returning when
// Redis confirmed them (or ctx ends). While the connection is being restored
// the supervisor subscribes them; subscribe then waits for that.
func (s *subscriber) subscribe(ctx context.Context, channels, patterns []string) error {
	s.mu.Lock()
	if isClosed(s.closing) {
		s.mu.Unlock()
		return ErrClosed
	}
	newCh := addRefs(s.channels, channels)
	newPat := addRefs(s.patterns, patterns)
	conn, ready := s.conn, s.ready
	s.mu.Unlock()
	select {
	case <-ready:
	case <-ctx.Done():
		return fmt.Errorf("subscribe: waiting for the Redis connection: %w", ctx.Err())
	case <-s.closing:
		return ErrClosed
	}
	if conn == nil {
		return nil // the supervisor subscribed everything when it connected
	}
	if err := s.send(ctx, conn, "SUBSCRIBE", newCh); err != nil {
		return err // the connection is failing: the supervisor will subscribe again
	}
	return s.send(ctx, conn, "PSUBSCRIBE", newPat)
}

// unsubscribe drops one reference to each channel and pattern, unsubscribing
// those nobody uses any more.
func (s *subscriber) unsubscribe(ctx context.Context, channels, patterns []string) error {
	s.mu.Lock()
	goneCh := dropRefs(s.channels, channels)
	gonePat := dropRefs(s.patterns, patterns)
	conn := s.conn
	s.mu.Unlock()
	if conn == nil {
		return nil
	}
	if err := s.send(ctx, conn, "UNSUBSCRIBE", goneCh); err != nil {
		return err
	}
	return s.send(ctx, conn, "PUNSUBSCRIBE", gonePat)
}

func (s *subscriber) close() {
	s.once.Do(func() { close(s.closing) })
	<-s.done
}

func addRefs(m map[string]int, names []string) (added []string) {
	for _, n := range names {
		if m[n]++; m[n] == 1 {
			added = append(added, n)
		}
	}
	return added
}

func dropRefs(m map[string]int, names []string) (gone []string) {
	for _, n := range names {
		if c, ok := m[n]; ok {
			if c <= 1 {
				delete(m, n)
				gone = append(gone, n)
			} else {
				m[n] = c - 1
			}
		}
	}
	return gone
}

func keys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
