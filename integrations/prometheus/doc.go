// Package prometheus exports the figures of a sioredis engine
// (engine.Engine.Stats) as Prometheus metrics.
//
// It is its own Go module (github.com/sioredis/sioredis/integrations/prometheus),
// so that the engine does not depend on github.com/prometheus/client_golang.
//
//	eng, _ := engine.New(engine.Options{ClientOption: rueidis.ClientOption{InitAddress: []string{"127.0.0.1:6379"}}})
//	prometheus.MustRegister(sioprom.New(eng, sioprom.Options{}))
//	http.Handle("/metrics", promhttp.Handler())
//
// A Collector reads Stats once per scrape; it keeps no state of its own, so
// every value is the engine's own counter since the engine was created.
// Counters are exported as counters, levels as gauges, the request latency
// as a histogram.
//
// # Metrics
//
// The names below use the default prefix "sioredis" (Options.Namespace).
//
// Engine-wide (every namespace, plus what belongs to none):
//
//	sioredis_published_total               counter  messages Redis accepted (broadcasts, requests, responses)
//	sioredis_publish_batches_total         counter  round trips the publisher used for them
//	sioredis_publish_errors_total          counter  messages Redis or the connection rejected
//	sioredis_received_total                counter  messages read from the subscription connections
//	sioredis_broadcasts_received_total     counter  remote broadcasts delivered locally (to zero or more sockets)
//	sioredis_delivered_total               counter  frames handed to Host.Deliver (one per recipient)
//	sioredis_dropped_total{reason}         counter  incoming messages not processed, by reason
//	sioredis_request_timeouts_total        counter  requests that ended before every expected server answered
//	sioredis_redis_errors_total            counter  errors of the Redis connections (failed commands, lost connections)
//	sioredis_resubscribes_total            counter  times the subscriptions were re-established
//	sioredis_subscribe_errors_total        counter  channels or patterns Redis refused to subscribe
//	sioredis_publish_queue_full_total      counter  publishes that found the publish queue full and waited
//
// Per namespace, with a namespace label ("/", "/chat"…), for each open
// namespace:
//
//	sioredis_namespace_sockets{namespace}                       gauge      local sockets
//	sioredis_namespace_rooms{namespace}                         gauge      local rooms (own-id rooms included)
//	sioredis_namespace_live{namespace}                          gauge      1 when every subscription is confirmed on a working connection, else 0
//	sioredis_namespace_published_total{namespace}               counter    messages handed to the publisher
//	sioredis_namespace_received_total{namespace}                counter    messages that reached the namespace's worker
//	sioredis_namespace_delivered_total{namespace}               counter    frames handed to Host.Deliver
//	sioredis_namespace_dropped_total{namespace,reason}          counter    incoming messages not processed, by reason
//	sioredis_namespace_gaps_total{namespace}                    counter    windows in which the namespace was not subscribed
//	sioredis_namespace_gap_seconds_total{namespace}             counter    their total length, the open one included
//	sioredis_namespace_gap_open{namespace}                      gauge      1 while the namespace is not subscribed, else 0
//	sioredis_namespace_short_publishes_total{namespace}         counter    publishes that reached fewer servers than the namespace had
//	sioredis_namespace_request_timeouts_total{namespace}        counter    cluster-wide requests that timed out
//	sioredis_namespace_request_duration_seconds{namespace}      histogram  durations of cluster-wide requests (complete, timed out or failed), 1 ms to 10 s
//
// The reason label takes the values of engine.DropReason.String: malformed,
// foreign, own, other_namespace, no_room, queue_full, unknown_response,
// closed, too_large. Every reason is exported, zero included, for the
// engine and for each namespace. A drop of "own" is normal (a server's own
// message echoed back by Redis), not an error.
package prometheus
