package engine

import (
	"sync/atomic"
	"time"
)

// DropReason says why an incoming message was not delivered.
type DropReason int

const (
	// DropMalformed: the payload could not be decoded.
	DropMalformed DropReason = iota
	// DropForeign: decoded, but of an unknown type or shape (unknown request
	// type, missing fields, a legacy generation on a classic channel).
	DropForeign
	// DropOwn: our own message echoed back by Redis (normal, not an error).
	DropOwn
	// DropOtherNamespace: the packet names another namespace.
	DropOtherNamespace
	// DropNoRoom: a room-channel broadcast for a room this node does not host.
	DropNoRoom
	// DropQueueFull: the hand-off queue from the Redis reader to the workers
	// was full; the message was discarded to keep the reader from stalling.
	DropQueueFull
	// DropUnknownResponse: a response for a request this node no longer
	// waits for (answered, timed out, or another node's).
	DropUnknownResponse
	// DropClosed: arrived while the namespace or engine was closing, or on
	// a channel no longer subscribed (a room just left).
	DropClosed
	// DropTooLarge: larger than Options.MaxMessageSize; dropped before any
	// decoding.
	DropTooLarge
	numDropReasons
)

var dropReasonNames = [numDropReasons]string{"malformed", "foreign", "own", "other_namespace", "no_room", "queue_full", "unknown_response", "closed", "too_large"}

// String returns the reason's name as used in Stats.Dropped.
func (r DropReason) String() string {
	if r < 0 || r >= numDropReasons {
		return "unknown"
	}
	return dropReasonNames[r]
}

// Stats is a snapshot of an engine's counters since it was created. Every
// message that is dropped, every request that times out and every Redis error
// is counted here: nothing is lost silently.
type Stats struct {
	// Published is the number of messages handed to Redis (broadcasts,
	// requests and responses) that Redis accepted.
	Published uint64
	// PublishBatches is the number of round trips the publisher used for
	// them: Published/PublishBatches is the mean batch size.
	PublishBatches uint64
	// PublishErrors counts messages Redis (or the connection) rejected.
	PublishErrors uint64
	// Received counts messages read from the subscription connection.
	Received uint64
	// BroadcastsReceived counts remote broadcasts that were delivered locally
	// (to zero or more sockets).
	BroadcastsReceived uint64
	// Delivered counts frames handed to Host.Deliver (one per recipient).
	Delivered uint64
	// Dropped counts incoming messages not processed, by reason
	// (see DropReason.String for the keys).
	Dropped map[string]uint64
	// RequestTimeouts counts requests that ended before every expected server
	// answered.
	RequestTimeouts uint64
	// RedisErrors counts errors of the Redis connections: failed commands
	// other than publishes, lost subscription connections, reconnects.
	RedisErrors uint64
	// Resubscribes counts how many times the subscription connection was
	// re-established and every channel subscribed again.
	Resubscribes uint64
	// SubscribeErrors counts channels or patterns Redis refused to
	// subscribe (NOPERM: the user's ACL does not allow them).
	SubscribeErrors uint64
	// PublishQueueFull counts publishes that found the publish queue full
	// and had to wait (Options.PublishQueue): Redis or the network is not
	// keeping up.
	PublishQueueFull uint64
	// Namespaces has the figures of each open namespace, by name.
	Namespaces map[string]NamespaceStats
}

// NamespaceStats are the figures of one namespace on this server.
type NamespaceStats struct {
	// Sockets and Rooms are the local sockets and rooms (own-id rooms
	// included).
	Sockets, Rooms int
	// Live reports that every subscription of the namespace is confirmed
	// on a working connection.
	Live bool
	// Gaps are the windows in which the namespace was not subscribed.
	Gaps GapStats
	// ShortPublishes are this server's publishes that reached fewer
	// servers than the namespace had.
	ShortPublishes ShortPublishStats
	// Dropped counts the namespace's incoming messages not processed, by
	// reason (as Stats.Dropped).
	Dropped map[string]uint64
	// Published counts the namespace's messages handed to the publisher
	// (broadcasts, requests, answers); Received the messages that reached
	// its worker; Delivered the frames handed to Host.Deliver.
	Published, Received, Delivered uint64
	// RequestTimeouts counts its cluster-wide requests that timed out.
	RequestTimeouts uint64
	// RequestLatency is the distribution of its cluster-wide requests'
	// durations (complete, timed out or failed).
	RequestLatency LatencyHistogram
}

// LatencyHistogram is a histogram with fixed bounds (not cumulative):
// Counts[i] is the number of observations ≤ Bounds[i] and > Bounds[i-1];
// Counts[len(Bounds)] counts those above the last bound.
type LatencyHistogram struct {
	Bounds []time.Duration
	Counts []uint64
	Sum    time.Duration
	Count  uint64
}

// latencyBounds are the histogram's upper bounds, from 1 ms to 10 s.
var latencyBounds = []time.Duration{time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond,
	250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2500 * time.Millisecond,
	5 * time.Second, 10 * time.Second}

// latencyHistogram is the live form of LatencyHistogram.
type latencyHistogram struct {
	counts [14]atomic.Uint64 // len(latencyBounds)+1
	sum    atomic.Int64
	count  atomic.Uint64
}

func (h *latencyHistogram) observe(d time.Duration) {
	i := 0
	for i < len(latencyBounds) && d > latencyBounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sum.Add(int64(d))
	h.count.Add(1)
}

func (h *latencyHistogram) snapshot() LatencyHistogram {
	out := LatencyHistogram{Bounds: latencyBounds, Counts: make([]uint64, len(h.counts)),
		Sum: time.Duration(h.sum.Load()), Count: h.count.Load()}
	for i := range h.counts {
		out.Counts[i] = h.counts[i].Load()
	}
	return out
}

// counters is the live, lock-free form of Stats.
type counters struct {
	published        atomic.Uint64
	publishBatches   atomic.Uint64
	publishErrors    atomic.Uint64
	received         atomic.Uint64
	broadcastsRecv   atomic.Uint64
	delivered        atomic.Uint64
	dropped          [numDropReasons]atomic.Uint64
	requestTimeouts  atomic.Uint64
	redisErrors      atomic.Uint64
	resubscribes     atomic.Uint64
	subscribeErrors  atomic.Uint64
	publishQueueFull atomic.Uint64
}

func (c *counters) drop(r DropReason) { c.dropped[r].Add(1) }

func (c *counters) snapshot() Stats {
	s := Stats{
		Published:          c.published.Load(),
		PublishBatches:     c.publishBatches.Load(),
		PublishErrors:      c.publishErrors.Load(),
		Received:           c.received.Load(),
		BroadcastsReceived: c.broadcastsRecv.Load(),
		Delivered:          c.delivered.Load(),
		Dropped:            make(map[string]uint64, numDropReasons),
		RequestTimeouts:    c.requestTimeouts.Load(),
		RedisErrors:        c.redisErrors.Load(),
		Resubscribes:       c.resubscribes.Load(),
		SubscribeErrors:    c.subscribeErrors.Load(),
		PublishQueueFull:   c.publishQueueFull.Load(),
	}
	for i := range c.dropped {
		s.Dropped[DropReason(i).String()] = c.dropped[i].Load()
	}
	return s
}

// dropCounters count a namespace's drops by reason.
type dropCounters [numDropReasons]atomic.Uint64

func (d *dropCounters) snapshot() map[string]uint64 {
	m := make(map[string]uint64, numDropReasons)
	for i := range d {
		if v := d[i].Load(); v > 0 {
			m[DropReason(i).String()] = v
		}
	}
	return m
}
