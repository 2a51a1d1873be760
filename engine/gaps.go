package engine

import (
	"log/slog"
	"sync"
	"time"
)

// This file makes the holes of at-most-once pub/sub visible. Redis pub/sub
// keeps nothing for a subscriber that is not connected: whatever is
// published while a server is not subscribed is gone. What the engine owes
// its users is that every such hole shows:
//
//   - on the receiving side, every window in which a namespace was not
//     subscribed (its connection lost, until everything was subscribed
//     again) is counted, timed and logged: GapStats;
//   - on the publishing side, PUBLISH returns how many subscribers received
//     the message; for a channel every server subscribes, fewer receivers
//     than servers means some server was deaf: ShortPublishes.

// GapStats describes the windows in which a namespace was not subscribed on
// this server, so that broadcasts published meanwhile could not reach it.
type GapStats struct {
	// Count is the number of windows (lost connections) since the
	// namespace was created.
	Count uint64
	// Total is their total length, the open one included.
	Total time.Duration
	// LastBegan and LastEnded bound the latest window; LastEnded is zero
	// while it is open.
	LastBegan, LastEnded time.Time
	// Open reports that the namespace is not subscribed right now.
	Open bool
}

// gapTracker is the live form of GapStats.
type gapTracker struct {
	mu       sync.Mutex
	stats    GapStats
	lastRead time.Time // a snapshot's clock: the total never goes back
}

func (g *gapTracker) begin(at time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stats.Open {
		return
	}
	g.stats.Open = true
	g.stats.Count++
	g.stats.LastBegan, g.stats.LastEnded = at, time.Time{}
}

// end closes the open window, returning its length (0, false if none).
func (g *gapTracker) end(at time.Time) (time.Duration, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.stats.Open {
		return 0, false
	}
	if at.Before(g.lastRead) {
		at = g.lastRead // a snapshot already counted the window up to then
	}
	d := at.Sub(g.stats.LastBegan)
	g.stats.Open = false
	g.stats.Total += d
	g.stats.LastEnded = at
	return d, true
}

func (g *gapTracker) snapshot() GapStats {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.stats
	if s.Open {
		now := time.Now()
		if now.After(g.lastRead) {
			g.lastRead = now
		}
		s.Total += g.lastRead.Sub(s.LastBegan)
	}
	return s
}

// ShortPublishStats counts publishes that reached fewer servers than the
// namespace had.
type ShortPublishStats struct {
	// Count is the number of publishes (broadcasts to every socket or to
	// several rooms, and requests: the messages every server subscribes
	// to) whose receiver count, as PUBLISH returned it, was below the
	// most servers seen (see ServerWindow): some server was not
	// subscribed, or had just left. Always zero on a Redis Cluster, where
	// PUBLISH counts one node's subscribers only.
	Count uint64
	// Last is when the latest one was published, with its receiver count
	// and the number of servers expected.
	Last                time.Time
	Receivers, Expected int
}

// ServerWindow is how long a namespace's publishes may go on reaching
// fewer servers than the most seen before the lower count is taken as the
// cluster's size: until then each is a short publish (some server is not
// subscribed); after it, the server is taken to have left for good. Time in
// which nothing could be published (Redis down) does not count.
const ServerWindow = 10 * time.Second

// serverWatch compares receiver counts with the most servers seen.
type serverWatch struct {
	mu       sync.Mutex
	high     int       // most receivers seen
	lowSince time.Time // first publish below high, in the current run of them
	short    ShortPublishStats
}

func (w *serverWatch) observe(n int, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if n >= w.high {
		w.high, w.lowSince = n, time.Time{}
		return
	}
	if w.lowSince.IsZero() {
		w.lowSince = now
	} else if now.Sub(w.lowSince) > ServerWindow {
		w.high, w.lowSince = n, time.Time{} // they left
		return
	}
	// This server's own subscription counts like any other: when it is the
	// one missing, the publish is counted short although nothing was lost
	// for the others. Discounting it would race its reconnect (a publish
	// that missed another server while this one was already back but not
	// yet marked live went uncounted): a false alarm is better than a
	// silent loss.
	w.short.Count++
	w.short.Last, w.short.Receivers, w.short.Expected = now, n, w.high
}

func (w *serverWatch) snapshot() ShortPublishStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.short
}

// logGap logs the end of a window.
func logGap(log *slog.Logger, nsp string, began time.Time, d time.Duration) {
	log.Warn("sioredis: namespace was not subscribed; broadcasts published meanwhile did not reach this server",
		"namespace", nsp, "from", began, "for", d)
}
