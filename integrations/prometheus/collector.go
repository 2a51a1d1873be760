package prometheus

import (
	"sort"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sioredis/sioredis/engine"
)

// DefaultNamespace is the prefix of every metric name when
// Options.Namespace is empty.
const DefaultNamespace = "sioredis"

// Options configure a Collector.
type Options struct {
	// Namespace is the first part of every metric name ("sioredis" when
	// empty): sioredis_published_total, sioredis_namespace_sockets…
	// It is Prometheus's namespace, not a Socket.IO namespace.
	Namespace string
	// ConstLabels are added to every metric, for example to tell apart two
	// engines registered in one process.
	ConstLabels prometheus.Labels
}

// Collector is a prometheus.Collector over an engine's Stats: each Collect
// takes one snapshot and reports it. It is safe for concurrent use.
type Collector struct {
	e *engine.Engine

	// engine-wide counters, in the order of engineValues
	counters []*prometheus.Desc
	dropped  *prometheus.Desc

	// per namespace
	nsSockets, nsRooms, nsLive                 *prometheus.Desc
	nsPublished, nsReceived, nsDelivered       *prometheus.Desc
	nsDropped                                  *prometheus.Desc
	nsGaps, nsGapSeconds, nsGapOpen            *prometheus.Desc
	nsShortPublishes, nsTimeouts, nsReqLatency *prometheus.Desc
}

var _ prometheus.Collector = (*Collector)(nil)

// engineCounters names the engine-wide counters and says where each is in
// Stats.
var engineCounters = []struct {
	name, help string
	value      func(*engine.Stats) uint64
}{
	{"published_total", "Messages handed to Redis (broadcasts, requests and responses) that Redis accepted.", func(s *engine.Stats) uint64 { return s.Published }},
	{"publish_batches_total", "Round trips the publisher used for the published messages.", func(s *engine.Stats) uint64 { return s.PublishBatches }},
	{"publish_errors_total", "Messages Redis or the connection rejected.", func(s *engine.Stats) uint64 { return s.PublishErrors }},
	{"received_total", "Messages read from the subscription connections.", func(s *engine.Stats) uint64 { return s.Received }},
	{"broadcasts_received_total", "Remote broadcasts delivered locally (to zero or more sockets).", func(s *engine.Stats) uint64 { return s.BroadcastsReceived }},
	{"delivered_total", "Frames handed to Host.Deliver (one per recipient).", func(s *engine.Stats) uint64 { return s.Delivered }},
	{"request_timeouts_total", "Requests that ended before every expected server answered.", func(s *engine.Stats) uint64 { return s.RequestTimeouts }},
	{"redis_errors_total", "Errors of the Redis connections: failed commands other than publishes, lost subscription connections, reconnects.", func(s *engine.Stats) uint64 { return s.RedisErrors }},
	{"resubscribes_total", "Times the subscription connection was re-established and every channel subscribed again.", func(s *engine.Stats) uint64 { return s.Resubscribes }},
	{"subscribe_errors_total", "Channels or patterns Redis refused to subscribe (NOPERM).", func(s *engine.Stats) uint64 { return s.SubscribeErrors }},
	{"publish_queue_full_total", "Publishes that found the publish queue full and had to wait.", func(s *engine.Stats) uint64 { return s.PublishQueueFull }},
}

// New returns a Collector over e's Stats. Register it with a
// prometheus.Registerer; it may be registered once per registry (or more
// often with different Options.ConstLabels).
func New(e *engine.Engine, opts Options) *Collector {
	ns := opts.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	desc := func(subsystem, name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(ns, subsystem, name), help, labels, opts.ConstLabels)
	}
	c := &Collector{e: e}
	for _, m := range engineCounters {
		c.counters = append(c.counters, desc("", m.name, m.help))
	}
	c.dropped = desc("", "dropped_total", "Incoming messages not processed, by reason.", "reason")

	const sub = "namespace"
	c.nsSockets = desc(sub, "sockets", "Local sockets of the namespace.", "namespace")
	c.nsRooms = desc(sub, "rooms", "Local rooms of the namespace (own-id rooms included).", "namespace")
	c.nsLive = desc(sub, "live", "1 when every subscription of the namespace is confirmed on a working connection, else 0.", "namespace")
	c.nsPublished = desc(sub, "published_total", "Messages of the namespace handed to the publisher (broadcasts, requests, answers).", "namespace")
	c.nsReceived = desc(sub, "received_total", "Messages that reached the namespace's worker.", "namespace")
	c.nsDelivered = desc(sub, "delivered_total", "Frames of the namespace handed to Host.Deliver.", "namespace")
	c.nsDropped = desc(sub, "dropped_total", "Incoming messages of the namespace not processed, by reason.", "namespace", "reason")
	c.nsGaps = desc(sub, "gaps_total", "Windows in which the namespace was not subscribed (lost connections).", "namespace")
	c.nsGapSeconds = desc(sub, "gap_seconds_total", "Total length of the windows in which the namespace was not subscribed, the open one included.", "namespace")
	c.nsGapOpen = desc(sub, "gap_open", "1 while the namespace is not subscribed, else 0.", "namespace")
	c.nsShortPublishes = desc(sub, "short_publishes_total", "Publishes of the namespace that reached fewer servers than it had.", "namespace")
	c.nsTimeouts = desc(sub, "request_timeouts_total", "Cluster-wide requests of the namespace that timed out.", "namespace")
	c.nsReqLatency = desc(sub, "request_duration_seconds", "Durations of the namespace's cluster-wide requests (complete, timed out or failed).", "namespace")
	return c
}

// Describe sends the descriptors of every metric the Collector reports.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.counters {
		ch <- d
	}
	for _, d := range []*prometheus.Desc{c.dropped,
		c.nsSockets, c.nsRooms, c.nsLive, c.nsPublished, c.nsReceived, c.nsDelivered, c.nsDropped,
		c.nsGaps, c.nsGapSeconds, c.nsGapOpen, c.nsShortPublishes, c.nsTimeouts, c.nsReqLatency} {
		ch <- d
	}
}

// Collect takes one snapshot of the engine's Stats and sends its metrics.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	s := c.e.Stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}

	for i, m := range engineCounters {
		counter(c.counters[i], m.value(&s))
	}
	// Stats.Dropped has every reason; a namespace's map only those seen.
	reasons := make([]string, 0, len(s.Dropped))
	for r := range s.Dropped {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		counter(c.dropped, s.Dropped[r], r)
	}

	for name, n := range s.Namespaces {
		gauge(c.nsSockets, float64(n.Sockets), name)
		gauge(c.nsRooms, float64(n.Rooms), name)
		gauge(c.nsLive, boolValue(n.Live), name)
		counter(c.nsPublished, n.Published, name)
		counter(c.nsReceived, n.Received, name)
		counter(c.nsDelivered, n.Delivered, name)
		for _, r := range reasons {
			counter(c.nsDropped, n.Dropped[r], name, r)
		}
		for r, v := range n.Dropped {
			if _, ok := s.Dropped[r]; !ok { // a reason the engine-wide map lacks
				counter(c.nsDropped, v, name, r)
			}
		}
		counter(c.nsGaps, n.Gaps.Count, name)
		gauge(c.nsGapOpen, boolValue(n.Gaps.Open), name)
		ch <- prometheus.MustNewConstMetric(c.nsGapSeconds, prometheus.CounterValue, n.Gaps.Total.Seconds(), name)
		counter(c.nsShortPublishes, n.ShortPublishes.Count, name)
		counter(c.nsTimeouts, n.RequestTimeouts, name)
		ch <- histogram(c.nsReqLatency, n.RequestLatency, name)
	}
}

// histogram turns the engine's non-cumulative histogram into a Prometheus
// one: bucket le=Bounds[i] counts every observation ≤ Bounds[i]. The count
// is the sum of the buckets (the +Inf bucket), so that the histogram is
// consistent even when the snapshot raced with an observation.
func histogram(d *prometheus.Desc, h engine.LatencyHistogram, labels ...string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(h.Bounds))
	var cum uint64
	for i, b := range h.Bounds {
		if i < len(h.Counts) {
			cum += h.Counts[i]
		}
		buckets[b.Seconds()] = cum
	}
	for i := len(h.Bounds); i < len(h.Counts); i++ {
		cum += h.Counts[i]
	}
	return prometheus.MustNewConstHistogram(d, cum, h.Sum.Seconds(), buckets, labels...)
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
