// Command bench is the sioredis load harness: it starts a cluster of engine
// nodes that broadcast to each other through Redis and reports what they
// carried.
//
// With no flags it starts its own redis-server on a free loopback port
// (redis-server must be installed: make installs it), runs two in-process
// nodes — node 0 publishes, node 1 receives — for a few seconds at full
// speed, and prints a table:
//
//	go run ./bench
//
// Each node is its own engine.Engine with its own rueidis client (its own
// connections) on the same Redis, serving namespace "/" for a counting host
// that stands in for S local sockets spread over R rooms. Publishing nodes
// emit from G goroutines each, to one room at a time (round robin) or to
// everyone, with an event whose arguments are a send timestamp and a payload
// of P bytes:
//
//	42["n<node>",<sent, ns since the run's epoch>,"xxxx…"]
//
// The host counts every Deliver and, on each receiving node, parses the
// timestamp once per broadcast (at its first local recipient) into an HDR
// histogram: the publish-to-delivery latency. In fixed-rate mode the
// timestamp is the send time the schedule intended, so a publisher that
// falls behind shows up as latency (no coordinated omission).
//
// What it prints: published broadcasts/s per node, broadcasts/s received
// from other nodes, recipient deliveries/s, the publisher's mean batch
// size, latency percentiles (p50, p99, p99.9, max), CPU and allocations per
// broadcast (the Go process or processes, and redis-server), Redis errors
// and drops by reason. -json writes the same as JSON.
//
// -procs runs every node as a separate OS process (the command re-executes
// itself with a hidden -child flag; children report JSON on stdout), so
// that CPU, allocations and profiles are per node.
//
// -compare adds, in the same run: the ceiling (raw rueidis PUBLISH →
// SUBSCRIBE of the very bytes the engine publishes, in DoMulti batches of
// 100 from 4 goroutines), the Node peer (two node processes with socket.io
// 4.8 and @socket.io/redis-adapter 8.3 from internal/nodepeer/testdata, one
// emitting in setImmediate batches, the other counting), and a second
// engine run at half of the measured maximum rate for the latency goal; it
// prints the ratios.
//
// -protocol chooses the wire generation of the engines: classic (the
// default), redis4 (socket.io-redis 4.0), redis5 (5.x), redis6 (6.x) or
// sharded (createShardedAdapter, -sharded-mode static | dynamic |
// dynamic-private). With -compare the Node peer is of the same generation,
// from that generation's fixture folder (bench/node/emitter-bench.js
// --adapter): socket.io 1.7.4 + socket.io-redis 4.0.0
// (internal/nodepeer/testdata-redis40), 2.4.1 + 5.4.0 (testdata-redis5),
// 4.0.2 + 6.1.1 (testdata-redis6), socket.io 4.8 + @socket.io/redis-adapter
// 8.3 createShardedAdapter in the same mode (testdata); and the ceiling
// rows are those of the protocol's topology: PSUBSCRIBE (classic, 5.x,
// 6.x), a SUBSCRIBE per room (4.0, -subscriptions rooms), and for the
// sharded protocol SPUBLISH → SSUBSCRIBE, plain and with the publisher
// reading its echoes, over the channels the run's broadcasts use (a room
// channel per room in the dynamic modes):
//
//	go run ./bench -protocol redis4 -compare
//	go run ./bench -protocol sharded -sharded-mode static -compare
//
// -cluster starts a 3-master Redis Cluster (redis-server processes on free
// loopback ports joined with redis-cli --cluster create, no replicas)
// instead of the standalone server, for -protocol sharded and -scaleout;
// the Node peer then uses node-redis createCluster. Wherever Redis has more
// than one node, -compare prints each master's INFO commandstats calls of
// SPUBLISH and PUBLISH over each measured window (engine, ceilings, Node),
// so the spread of the sharded traffic over the masters is visible:
//
//	go run ./bench -protocol sharded -cluster -compare
//
// -scaleout-modes also takes sharded-static, sharded-dynamic and
// sharded-dynamic-private (the sharded protocol; SSUBSCRIBE commands and
// pubsubshard_channels in the subscription cost), on standalone Redis 7 or
// with -cluster (egress summed over the masters):
//
//	go run ./bench -scaleout -cluster -scaleout-modes sharded-static,sharded-dynamic,sharded-dynamic-private
//
// -cpuprofile, -memprofile, -mutexprofile and -blockprofile write pprof
// profiles of the measured window; -profile-dir DIR writes all four
// (per node with -procs). make profile runs the standard scenario into
// profiles/.
//
// -subscriptions rooms runs the engines in per-room subscription mode
// (engine.RoomSubscriptions) instead of one PSUBSCRIBE per namespace.
//
// -scaleout runs the scale-out scenario instead (scaleout.go): for each
// subscription mode (-scaleout-modes, default pattern,rooms) and each
// number N of receiving nodes (-scaleout-nodes, default 1,2,4,8), one
// publishing node that hosts no sockets and N receiving nodes, with
// -scaleout-rooms (100) private rooms per receiving node, each room hosted
// by exactly one node (one socket). The publisher emits to one room at a
// time, round robin, for -duration at full speed or -rate (broadcasts/s).
// Per broadcast it reports Redis egress (INFO stats total_net_output_bytes)
// in bytes and in pushed messages (÷ the size of one push, computed from a
// broadcast captured off the wire), the messages each receiving node read
// (Stats.Received), deliveries, and CPU: the receiving processes' own with
// -procs (each receiving node a child process), else the whole harness
// process. Then the subscription cost: the time and SUBSCRIBE commands
// (INFO commandstats) to connect -scaleout-sockets (100 000) sockets,
// AddSocket + Join of one private room each, to one node from
// -scaleout-connectors (256) goroutines, in each mode. It prints the goals
// beside the figures; -json writes it all:
//
//	go run ./bench -scaleout -procs -rate 20000
//	go run ./bench -scaleout -scaleout-nodes 1,2 -duration 1s -scaleout-sockets 2000
//
// -curves DIR runs three sweeps of the -compare scenario, the engine and
// the Node peer in each, and writes DIR/curves.json (the Curves type of
// internal/curvedata: charts of named series of x, y points with their
// units, the command, git commit and date, the machine): broadcasts/s
// received at full speed for each -curves-payloads size; p50 and p99 publish →
// delivery latency at fixed rates of -curves-rates percent of each side's
// own maximum (the Node emitter paced by emitter-bench.js --rate); and
// broadcasts/s received summed over N receiving servers (engine nodes,
// or Node counting processes) for each -curves-servers N, one publisher.
// Each point is measured for -curves-duration (4 s; about 3 minutes in
// all on 2 cores). make curves runs it into bench/curves and draws the
// SVG charts with integrations/benchcharts:
//
//	go run ./bench -curves bench/curves
//	go run ./bench -curves /tmp/c -curves-duration 500ms -curves-payloads 100,1024 -curves-rates 50 -curves-servers 1,2
//
// The package's Go benchmarks (engine_bench_test.go) measure the engine's
// hot paths — publish, and receive → decode → fan-out — with allocations.
package main
