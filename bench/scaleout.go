package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/redis/rueidis"
	"github.com/sioredis/sioredis/engine"
)

// The scale-out scenario (-scaleout): what the subscription mode costs when
// private rooms are spread over N servers.
//
// For each subscription mode and each N it starts one publishing node (an
// engine with namespace "/" and no sockets) and N receiving nodes. There are
// R = rooms-per-node × N rooms; room k is hosted by receiving node k mod N
// only, with one socket. The publisher emits to one room at a time, round
// robin over every room (one shared sequence, so each receiving node hosts
// exactly 1/N of the broadcasts), from G goroutines, at full speed or -rate.
//
// Over the measured window it reads, per broadcast published: Redis's
// output bytes (INFO stats total_net_output_bytes), the same in pushed
// messages (bytes ÷ the size of one push as Redis sends it, computed from a
// broadcast captured off the wire), the messages each receiving node read
// from Redis (engine Stats.Received), the deliveries, and CPU: the
// receiving processes' own (with -procs, where each receiving node is a
// child process) or the whole harness process (in-process).
//
// Then, per mode, the subscription cost: the time and the SUBSCRIBE
// commands (INFO commandstats) to connect -scaleout-sockets sockets
// (AddSocket + Join of one private room each) to one receiving node from
// -scaleout-connectors goroutines.

// scaleoutKeyFormat names the channel prefix of row i: every row gets a
// fresh prefix of the same length, so pushes have the same size in every
// row (the capture uses scaleoutCaptureSuffix, of that length too).
const (
	scaleoutKeyFormat     = "%s-so%02d"
	scaleoutCaptureSuffix = "-socp"
	scaleoutSubsFormat    = "%s-ss%02d"
)

// scaleoutRoom is room k's name: fixed width, so that every room channel
// has the same length.
func scaleoutRoom(k int) string { return fmt.Sprintf("room-%06d", k) }

// scaleoutEpochLead puts the run's epoch this far before now, so that every
// timestamp in a frame is above 2³² ns and msgpack encodes it in the same
// 9 bytes: every broadcast of a run has the same size.
const scaleoutEpochLead = 10 * time.Second

// ScaleoutResult is the whole -scaleout run.
type ScaleoutResult struct {
	Receivers    string  `json:"receivers"` // in-process or separate-process
	CPUScope     string  `json:"cpu_scope"`
	RoomsPerNode int     `json:"rooms_per_node"`
	Payload      int     `json:"payload"`
	Goroutines   int     `json:"goroutines"`
	Rate         float64 `json:"rate"` // publisher broadcasts/s; 0 = full speed
	Seconds      float64 `json:"seconds"`
	// PushBytes is one pushed message as Redis writes it to a subscriber,
	// by mode: a "message" push (rooms) or a "pmessage" push (pattern).
	PushBytes map[string]int     `json:"push_bytes"`
	Rows      []ScaleoutRow      `json:"rows"`
	Subscribe []SubscriptionCost `json:"subscribe"`
	Goals     []Goal             `json:"goals,omitempty"`
}

// ScaleoutRow is one mode × N.
type ScaleoutRow struct {
	Mode            string  `json:"mode"`
	Receivers       int     `json:"receivers"`
	Rooms           int     `json:"rooms"`
	Published       uint64  `json:"published"` // in the window
	PublishedPerSec float64 `json:"published_per_sec"`
	// Per broadcast published in the window.
	EgressBytesPerBC float64 `json:"redis_egress_bytes_per_broadcast"`
	EgressMsgsPerBC  float64 `json:"redis_egress_messages_per_broadcast"`
	// RecvPerNodePerBC is, per receiving node, the messages it read from
	// Redis per broadcast published (1/N is the ideal, 1 is hearing all).
	RecvPerNodePerBC []float64 `json:"received_per_node_per_broadcast"`
	RecvMeanPerBC    float64   `json:"received_per_node_per_broadcast_mean"`
	RecvMaxPerBC     float64   `json:"received_per_node_per_broadcast_max"`
	DeliveriesPerBC  float64   `json:"deliveries_per_broadcast"`
	CPUPerBCUS       float64   `json:"cpu_us_per_broadcast"` // see ScaleoutResult.CPUScope
	RedisCPUPerBCUS  float64   `json:"redis_cpu_us_per_broadcast"`
	// Whole run (setup excluded), after the drain: exact counts.
	Totals ScaleoutTotals `json:"totals"`
	// Drops that lose work (queue_full…), summed over the receivers.
	Drops       map[string]uint64 `json:"drops"`
	Lost        uint64            `json:"lost"` // deliveries that never arrived
	Drained     bool              `json:"drained"`
	EmitErrors  uint64            `json:"emit_errors"`
	RedisErrors uint64            `json:"redis_errors"`
	LastError   string            `json:"last_error,omitempty"`
}

// ScaleoutTotals are the exact counts of a row, over the whole run.
type ScaleoutTotals struct {
	Published uint64 `json:"published"`
	// Per receiving node: broadcasts published to the rooms it hosts, the
	// messages it read from Redis, and its deliveries.
	PublishedTo []uint64 `json:"published_to"`
	Received    []uint64 `json:"received"`
	Delivered   []uint64 `json:"delivered"`
}

// SubscriptionCost is connecting many sockets to one receiving node.
type SubscriptionCost struct {
	Mode       string  `json:"mode"`
	Sockets    int     `json:"sockets"`
	Goroutines int     `json:"goroutines"`
	Seconds    float64 `json:"seconds"`
	// SubscribeCalls is INFO commandstats cmdstat_subscribe calls, and
	// Channels the pubsub_channels Redis gained.
	SubscribeCalls uint64  `json:"subscribe_calls"`
	SubscribeUsec  uint64  `json:"subscribe_usec"` // Redis's own time in them
	Channels       int64   `json:"channels"`
	CloseSeconds   float64 `json:"close_seconds"`
	Errors         uint64  `json:"errors"`
	LastError      string  `json:"last_error,omitempty"`
}

// parseScaleoutNodes parses -scaleout-nodes.
func parseScaleoutNodes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-scaleout-nodes %q: want a comma-separated list of positive numbers", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// scaleMode is a mode of the scale-out scenario: a subscription mode of
// the classic protocol (pattern, rooms) or a mode of the sharded protocol
// (sharded-static, sharded-dynamic, sharded-dynamic-private).
type scaleMode struct {
	name    string
	subs    engine.SubscriptionMode
	sharded bool
	shard   engine.ShardedMode
}

func (m scaleMode) String() string { return m.name }

// hearsAll reports whether every receiving node hears every broadcast
// (pattern mode, sharded static: everything on the namespace's channel).
func (m scaleMode) hearsAll() bool {
	if m.sharded {
		return m.shard == engine.ShardedStatic
	}
	return m.subs == engine.PatternSubscriptions
}

// perRoom reports whether the mode subscribes per room (the modes whose
// egress and CPU should not grow with N).
func (m scaleMode) perRoom() bool { return !m.hearsAll() }

func (m scaleMode) options(opt rueidis.ClientOption, key string) engine.Options {
	o := engine.Options{ClientOption: opt, Key: key, Subscriptions: m.subs}
	if m.sharded {
		o.Protocol, o.ShardedMode = engine.Sharded, m.shard
	}
	return o
}

// subscribeCommand is the INFO commandstats entry of the mode's
// subscriptions, and the INFO stats count of channels.
func (m scaleMode) subscribeCommand() (cmdstat, channels string) {
	if m.sharded {
		return "cmdstat_ssubscribe", "pubsubshard_channels"
	}
	return "cmdstat_subscribe", "pubsub_channels"
}

func parseScaleMode(s string) (scaleMode, error) {
	switch s {
	case "sharded-static":
		return scaleMode{name: s, sharded: true, shard: engine.ShardedStatic}, nil
	case "sharded-dynamic":
		return scaleMode{name: s, sharded: true, shard: engine.ShardedDynamic}, nil
	case "sharded-dynamic-private":
		return scaleMode{name: s, sharded: true, shard: engine.ShardedDynamicPrivate}, nil
	}
	m, err := parseMode(s)
	if err != nil {
		return scaleMode{}, fmt.Errorf("mode %q: want pattern, rooms, sharded-static, sharded-dynamic or sharded-dynamic-private", s)
	}
	return scaleMode{name: m.String(), subs: m}, nil
}

// parseModes parses -scaleout-modes.
func parseModes(s string) ([]scaleMode, error) {
	var out []scaleMode
	for _, f := range strings.Split(s, ",") {
		m, err := parseScaleMode(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("-scaleout-modes: %w", err)
		}
		out = append(out, m)
	}
	return out, nil
}

func parseMode(s string) (engine.SubscriptionMode, error) {
	switch s {
	case "", "pattern":
		return engine.PatternSubscriptions, nil
	case "rooms":
		return engine.RoomSubscriptions, nil
	}
	return 0, fmt.Errorf("subscription mode %q: want pattern or rooms", s)
}

// ---- receiving nodes ---------------------------------------------------------

// scaleSpec is what a receiving node needs; it travels as JSON to the
// child processes of -procs.
type scaleSpec struct {
	RedisURL string   `json:"redis_url"`
	Key      string   `json:"key"`
	Mode     string   `json:"mode"`
	Index    int      `json:"index"` // receiving node i is origin i+1 (the publisher is 0)
	Epoch    int64    `json:"epoch"`
	Rooms    []string `json:"rooms"`
	// ReceiveQueue is the engine's Options.ReceiveQueue (0: default).
	ReceiveQueue int `json:"receive_queue"`
}

// scaleSnap is a receiving node's counters.
type scaleSnap struct {
	Received    uint64            `json:"received"`
	Delivered   uint64            `json:"delivered"`
	Dropped     map[string]uint64 `json:"dropped"`
	RedisErrors uint64            `json:"redis_errors"`
	CPU         time.Duration     `json:"cpu"` // its process, separate processes only
}

type scaleReceiver interface {
	snap() (scaleSnap, error)
	close()
}

// localReceiver is a receiving node in this process.
type localReceiver struct {
	eng  *engine.Engine
	ns   *engine.Namespace
	host *countingHost
	cpu  bool // report the process's CPU (a child process)
}

func startLocalReceiver(ctx context.Context, sp scaleSpec) (*localReceiver, error) {
	mode, err := parseScaleMode(sp.Mode)
	if err != nil {
		return nil, err
	}
	opt, err := clientOption(sp.RedisURL)
	if err != nil {
		return nil, err
	}
	o := mode.options(opt, sp.Key)
	o.ReceiveQueue = sp.ReceiveQueue
	eng, err := engine.New(o)
	if err != nil {
		return nil, fmt.Errorf("receiver %d: %w", sp.Index, err)
	}
	r := &localReceiver{eng: eng, host: newCountingHost(sp.Index+1, sp.Epoch)}
	if r.ns, err = eng.Namespace(ctx, "/", r.host); err != nil {
		eng.Close()
		return nil, fmt.Errorf("receiver %d: %w", sp.Index, err)
	}
	res := connectSockets(r.ns, len(sp.Rooms), 16, func(j int) (string, string) {
		return "r" + strconv.Itoa(sp.Index) + "-" + strconv.Itoa(j), sp.Rooms[j]
	})
	if res.errors > 0 {
		eng.Close()
		return nil, fmt.Errorf("receiver %d: join: %s", sp.Index, res.lastErr)
	}
	return r, nil
}

func (r *localReceiver) snap() (scaleSnap, error) {
	st := r.eng.Stats()
	s := scaleSnap{Received: st.Received, Delivered: r.host.remote.Load(), Dropped: st.Dropped, RedisErrors: st.RedisErrors}
	if r.cpu {
		s.CPU = readUsage().CPU
	}
	return s, nil
}

func (r *localReceiver) close() { r.eng.Close() }

// connectResult is what connectSockets did.
type connectResult struct {
	errors  uint64
	lastErr string
}

// connectSockets connects n sockets as a server accepting connections
// does: from g goroutines, each socket AddSocket then Join of its room.
// name returns socket j's id and room.
func connectSockets(ns *engine.Namespace, n, g int, name func(j int) (sid, room string)) connectResult {
	var next atomic.Int64
	var errs atomic.Uint64
	var last atomic.Value
	var wg sync.WaitGroup
	for range g {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				j := int(next.Add(1) - 1)
				if j >= n {
					return
				}
				sid, room := name(j)
				err := ns.AddSocket(sid)
				if err == nil {
					err = ns.Join(sid, engine.StringRoom(room))
				}
				if err != nil {
					errs.Add(1)
					last.Store(err.Error())
				}
			}
		}()
	}
	wg.Wait()
	r := connectResult{errors: errs.Load()}
	if s, ok := last.Load().(string); ok {
		r.lastErr = s
	}
	return r
}

// ---- the publisher -------------------------------------------------------------

type scalePub struct {
	eng     *engine.Engine
	ns      *engine.Namespace
	ops     []engine.Operator // one per room
	nodes   int
	payload string

	published   padded
	publishedTo []padded // per receiving node
	emitErrs    padded
	lastErr     atomic.Value
}

func startScalePub(ctx context.Context, redisURL, key string, mode scaleMode, rooms, nodes, payload int, epoch int64) (*scalePub, error) {
	opt, err := clientOption(redisURL)
	if err != nil {
		return nil, err
	}
	eng, err := engine.New(mode.options(opt, key))
	if err != nil {
		return nil, fmt.Errorf("publisher: %w", err)
	}
	p := &scalePub{eng: eng, nodes: nodes, payload: strings.Repeat("x", payload), publishedTo: make([]padded, nodes)}
	if p.ns, err = eng.Namespace(ctx, "/", newCountingHost(0, epoch)); err != nil {
		eng.Close()
		return nil, fmt.Errorf("publisher: %w", err)
	}
	for k := range rooms {
		p.ops = append(p.ops, p.ns.To(engine.StringRoom(scaleoutRoom(k))))
	}
	return p, nil
}

// publish emits from g goroutines between s.Start and s.End, round robin
// over the rooms through one shared sequence; rate is broadcasts/s (0: full
// speed).
func (p *scalePub) publish(s schedule, g int, rate float64) {
	ctx := context.Background()
	var seq atomic.Uint64
	var wg sync.WaitGroup
	for range g {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sleepUntil(s.Start)
			for {
				j := seq.Add(1) - 1
				var sent int64
				if rate > 0 {
					sent = s.Start + int64(float64(j)*float64(time.Second)/rate)
					if sent >= s.End {
						return
					}
					sleepUntil(sent)
				} else if sent = time.Now().UnixNano(); sent >= s.End {
					return
				}
				k := int(j % uint64(len(p.ops)))
				if err := p.ops[k].Emit(ctx, "n0", sent-s.Epoch, p.payload); err != nil {
					p.emitErrs.Add(1)
					p.lastErr.Store(err.Error())
					continue
				}
				p.published.Add(1)
				p.publishedTo[k%p.nodes].Add(1)
			}
		}()
	}
	wg.Wait()
}

func (p *scalePub) close() { p.eng.Close() }

// ---- Redis figures -----------------------------------------------------------

// redisInfo returns INFO section as key → value, summed over every node
// the client knows where the values are numbers (a cluster), else the
// first node's.
func redisInfo(ctx context.Context, client rueidis.Client, section string) (map[string]string, error) {
	out := map[string]string{}
	for addr, node := range client.Nodes() {
		info, err := node.Do(ctx, node.B().Info().Section(section).Build()).ToString()
		if err != nil {
			return nil, fmt.Errorf("INFO %s on %s: %w", section, addr, err)
		}
		for _, line := range strings.Split(info, "\n") {
			k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
			if !ok || strings.HasPrefix(k, "#") {
				continue
			}
			if old, seen := out[k]; seen {
				a, err1 := strconv.ParseInt(old, 10, 64)
				b, err2 := strconv.ParseInt(v, 10, 64)
				if err1 == nil && err2 == nil {
					v = strconv.FormatInt(a+b, 10)
				} else if c1, u1, ok1 := commandStat(old); ok1 {
					if c2, u2, ok2 := commandStat(v); ok2 {
						v = fmt.Sprintf("calls=%d,usec=%d", c1+c2, u1+u2)
					}
				}
			}
			out[k] = v
		}
	}
	return out, nil
}

// commandStat parses an INFO commandstats value: calls=…,usec=…,….
func commandStat(v string) (calls, usec uint64, ok bool) {
	for _, f := range strings.Split(v, ",") {
		k, val, _ := strings.Cut(f, "=")
		switch k {
		case "calls":
			calls, _ = strconv.ParseUint(val, 10, 64)
			ok = true
		case "usec":
			usec, _ = strconv.ParseUint(val, 10, 64)
		}
	}
	return calls, usec, ok
}

func infoInt(m map[string]string, k string) int64 {
	v, _ := strconv.ParseInt(m[k], 10, 64)
	return v
}

// redisOutputBytes is INFO stats total_net_output_bytes.
func redisOutputBytes(ctx context.Context, client rueidis.Client) (int64, error) {
	m, err := redisInfo(ctx, client, "stats")
	if err != nil {
		return 0, err
	}
	return infoInt(m, "total_net_output_bytes"), nil
}

// subscribeStats is INFO commandstats cmdstat_subscribe (cmdstat_ssubscribe
// for a sharded mode), and the number of channels (shard channels) Redis
// holds subscribers for, summed over the nodes.
func subscribeStats(ctx context.Context, client rueidis.Client, mode scaleMode) (calls, usec uint64, channels int64, err error) {
	cmd, chans := mode.subscribeCommand()
	m, err := redisInfo(ctx, client, "commandstats")
	if err != nil {
		return 0, 0, 0, err
	}
	calls, usec, _ = commandStat(m[cmd])
	st, err := redisInfo(ctx, client, "stats")
	if err != nil {
		return 0, 0, 0, err
	}
	return calls, usec, infoInt(st, chans), nil
}

// bulkLen is the size of a RESP bulk string of n bytes.
func bulkLen(n int) int { return 1 + len(strconv.Itoa(n)) + 2 + n + 2 }

// pushSizes returns the size of the push Redis writes to a subscriber for
// one message on channel (SUBSCRIBE: >3 message channel payload) and for
// one through pattern (PSUBSCRIBE: >4 pmessage pattern channel payload).
// RESP2 (*3/*4) has the same size.
func pushSizes(pattern, channel string, msgLen int) (message, pmessage int) {
	message = len(">3\r\n") + bulkLen(len("message")) + bulkLen(len(channel)) + bulkLen(msgLen)
	pmessage = len(">4\r\n") + bulkLen(len("pmessage")) + bulkLen(len(pattern)) + bulkLen(len(channel)) + bulkLen(msgLen)
	return message, pmessage
}

// capturePush publishes one broadcast as the rows do (same key length,
// room name length, event, timestamp size and payload) and returns what
// Redis pushes for it in each mode.
func (r *runner) capturePush(ctx context.Context) (map[string]int, error) {
	cfg := r.cfg
	key := cfg.Key + scaleoutCaptureSuffix
	if len(key) != len(fmt.Sprintf(scaleoutKeyFormat, cfg.Key, 0)) {
		return nil, errors.New("scaleout: capture key length differs from the rows'") // (a programming error)
	}
	opt, err := clientOption(cfg.RedisURL)
	if err != nil {
		return nil, err
	}
	spy, err := rueidis.NewClient(opt)
	if err != nil {
		return nil, err
	}
	defer spy.Close()
	dc, release := spy.Dedicate()
	defer release()
	got := make(chan rueidis.PubSubMessage, 1)
	dc.SetPubSubHooks(rueidis.PubSubHooks{OnMessage: func(m rueidis.PubSubMessage) {
		select {
		case got <- m:
		default:
		}
	}})
	pattern := key + "#/#*"
	if err := dc.Do(ctx, dc.B().Psubscribe().Pattern(pattern).Build()).Error(); err != nil {
		return nil, err
	}
	epoch := time.Now().Add(-scaleoutEpochLead).UnixNano()
	p, err := startScalePub(ctx, cfg.RedisURL, key, scaleMode{name: "rooms", subs: engine.RoomSubscriptions}, 1, 1, cfg.Payload, epoch)
	if err != nil {
		return nil, err
	}
	defer p.close()
	if err := p.ops[0].Emit(ctx, "n0", int64(scaleoutEpochLead), p.payload); err != nil {
		return nil, err
	}
	select {
	case m := <-got:
		msg, pmsg := pushSizes(pattern, m.Channel, len(m.Message))
		out := map[string]int{"rooms": msg, "pattern": pmsg}
		if strings.Contains(cfg.ScaleoutModes, "sharded") {
			if err := r.captureShardPush(ctx, key, epoch, out); err != nil {
				return nil, err
			}
		}
		return out, nil
	case <-time.After(5 * time.Second):
		return nil, errors.New("scaleout: the captured broadcast did not arrive")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// captureShardPush adds to out the size of the smessage push Redis writes
// for one sharded broadcast: on the room channel (the dynamic modes) and on
// the namespace's channel (static).
func (r *runner) captureShardPush(ctx context.Context, key string, epoch int64, out map[string]int) error {
	cfg := r.cfg
	opt, err := clientOption(cfg.RedisURL)
	if err != nil {
		return err
	}
	spy, err := rueidis.NewClient(opt)
	if err != nil {
		return err
	}
	defer spy.Close()
	got := make(chan rueidis.PubSubMessage, 1)
	room := key + "#/#" + scaleoutRoom(0) + "#"
	sub, err := shardSubscribe(ctx, spy, []string{room}, func(m rueidis.PubSubMessage) {
		select {
		case got <- m:
		default:
		}
	})
	if err != nil {
		return err
	}
	defer sub.close()
	p, err := startScalePub(ctx, cfg.RedisURL, key, scaleMode{name: "sharded-dynamic", sharded: true}, 1, 1, cfg.Payload, epoch)
	if err != nil {
		return err
	}
	defer p.close()
	if err := p.ops[0].Emit(ctx, "n0", int64(scaleoutEpochLead), p.payload); err != nil {
		return err
	}
	select {
	case m := <-got:
		size := func(channel string) int {
			return len(">3\r\n") + bulkLen(len("smessage")) + bulkLen(len(channel)) + bulkLen(len(m.Message))
		}
		out["sharded-dynamic"] = size(m.Channel)
		out["sharded-dynamic-private"] = size(m.Channel)
		out["sharded-static"] = size(key + "#/#")
		return nil
	case <-time.After(5 * time.Second):
		return errors.New("scaleout: the captured sharded broadcast did not arrive")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ---- the scenario --------------------------------------------------------------

// runScaleout runs every row and the subscription cost.
func (r *runner) runScaleout(ctx context.Context, say func(string, ...any)) (*ScaleoutResult, error) {
	cfg := r.cfg
	nodes, err := parseScaleoutNodes(cfg.ScaleoutNodes)
	if err != nil {
		return nil, err
	}
	modes, err := parseModes(cfg.ScaleoutModes)
	if err != nil {
		return nil, err
	}
	res := &ScaleoutResult{Receivers: "in-process", CPUScope: "whole harness process (publisher + receivers)",
		RoomsPerNode: cfg.ScaleoutRooms, Payload: cfg.Payload, Goroutines: cfg.Goroutines, Rate: cfg.Rate,
		Seconds: cfg.Duration.Seconds()}
	if cfg.Procs {
		res.Receivers, res.CPUScope = "separate-process", "receiving processes only"
	}
	if res.PushBytes, err = r.capturePush(ctx); err != nil {
		return nil, err
	}
	row := 0
	for _, m := range modes {
		for _, n := range nodes {
			say("scale-out: %s mode, %d receiving node(s), %d rooms, %s", m, n, n*cfg.ScaleoutRooms, cfg.Duration)
			rr, err := r.scaleoutRow(ctx, fmt.Sprintf(scaleoutKeyFormat, cfg.Key, row), m, n, res.PushBytes[m.String()])
			if err != nil {
				return nil, fmt.Errorf("scale-out %s N=%d: %w", m, n, err)
			}
			res.Rows = append(res.Rows, *rr)
			row++
		}
	}
	if cfg.ScaleoutSockets > 0 {
		for i, m := range modes {
			say("subscription cost: %d sockets on one %s-mode node from %d goroutines", cfg.ScaleoutSockets, m, cfg.ScaleoutConnectors)
			sc, err := r.subscriptionCost(ctx, fmt.Sprintf(scaleoutSubsFormat, cfg.Key, i), m)
			if err != nil {
				return nil, fmt.Errorf("subscription cost %s: %w", m, err)
			}
			res.Subscribe = append(res.Subscribe, *sc)
		}
	}
	res.checkGoals()
	return res, nil
}

// startReceivers starts the n receiving nodes of a row, in this process or
// as child processes.
func (r *runner) startReceivers(ctx context.Context, key string, mode scaleMode, n int, epoch int64) ([]scaleReceiver, error) {
	recv := make([]scaleReceiver, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		sp := scaleSpec{RedisURL: r.cfg.RedisURL, Key: key, Mode: mode.String(), Index: i, Epoch: epoch, ReceiveQueue: r.cfg.ReceiveQueue}
		for k := i; k < n*r.cfg.ScaleoutRooms; k += n {
			sp.Rooms = append(sp.Rooms, scaleoutRoom(k))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r.cfg.Procs {
				recv[i], errs[i] = startChildReceiver(sp)
			} else {
				var lr *localReceiver
				lr, errs[i] = startLocalReceiver(ctx, sp)
				if lr != nil {
					recv[i] = lr
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, rc := range recv {
			if rc != nil {
				rc.close()
			}
		}
		return nil, err
	}
	return recv, nil
}

func snapAll(recv []scaleReceiver) ([]scaleSnap, error) {
	out := make([]scaleSnap, len(recv))
	for i, rc := range recv {
		s, err := rc.snap()
		if err != nil {
			return nil, fmt.Errorf("receiver %d: %w", i, err)
		}
		out[i] = s
	}
	return out, nil
}

// scaleoutRow runs one mode × N.
func (r *runner) scaleoutRow(ctx context.Context, key string, mode scaleMode, n, push int) (*ScaleoutRow, error) {
	cfg := r.cfg
	rooms := n * cfg.ScaleoutRooms
	epoch := time.Now().Add(-scaleoutEpochLead).UnixNano()
	pub, err := startScalePub(ctx, cfg.RedisURL, key, mode, rooms, n, cfg.Payload, epoch)
	if err != nil {
		return nil, err
	}
	defer pub.close()
	recv, err := r.startReceivers(ctx, key, mode, n, epoch)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, rc := range recv {
			rc.close()
		}
	}()
	runtime.GC() // the setup's garbage is not the window's
	base, err := snapAll(recv)
	if err != nil {
		return nil, err
	}
	s := newSchedule(cfg, 100*time.Millisecond)
	s.Epoch = epoch
	done := make(chan struct{})
	go func() { pub.publish(s, cfg.Goroutines, cfg.Rate); close(done) }()

	type mark struct {
		snaps     []scaleSnap
		published uint64
		bytes     int64
		redisCPU  time.Duration
		usage     procUsage
	}
	take := func() (mark, error) {
		var m mark
		var err error
		m.published = pub.published.Load()
		if m.snaps, err = snapAll(recv); err != nil {
			return m, err
		}
		if m.bytes, err = redisOutputBytes(ctx, r.redis); err != nil {
			return m, err
		}
		if m.redisCPU, err = redisCPU(ctx, r.redis); err != nil {
			return m, err
		}
		m.usage = readUsage()
		return m, nil
	}
	sleepUntil(s.Measure)
	m0, err := take()
	if err != nil {
		return nil, err
	}
	sleepUntil(s.End)
	m1, err := take()
	if err != nil {
		return nil, err
	}
	<-done

	// Drain: every receiving node has read (and delivered) what was
	// published to it.
	publishedTo := make([]uint64, n)
	for i := range publishedTo {
		publishedTo[i] = pub.publishedTo[i].Load()
	}
	total := pub.published.Load()
	var final []scaleSnap
	deadline := time.Now().Add(15 * time.Second)
	lastMove, lastSum := time.Now(), uint64(0)
	drained := false
	for {
		if final, err = snapAll(recv); err != nil {
			return nil, err
		}
		drained = true
		var sum uint64
		for i, f := range final {
			sum += f.Received + f.Delivered
			want := publishedTo[i]
			if mode.hearsAll() {
				want = total
			}
			if f.Received-base[i].Received < want || f.Delivered-base[i].Delivered < publishedTo[i] {
				drained = false
			}
		}
		if drained {
			break
		}
		if sum != lastSum {
			lastSum, lastMove = sum, time.Now()
		}
		if time.Since(lastMove) > 2*time.Second || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}

	row := &ScaleoutRow{Mode: mode.String(), Receivers: n, Rooms: rooms, Drained: drained, Drops: map[string]uint64{},
		EmitErrors: pub.emitErrs.Load(), Totals: ScaleoutTotals{Published: total, PublishedTo: publishedTo}}
	if e, ok := pub.lastErr.Load().(string); ok {
		row.LastError = e
	}
	pubd := m1.published - m0.published
	row.Published = pubd
	row.PublishedPerSec = float64(pubd) / cfg.Duration.Seconds()
	var cpu time.Duration
	var delivered uint64
	for i := range n {
		a, b, f := m0.snaps[i], m1.snaps[i], final[i]
		row.Totals.Received = append(row.Totals.Received, f.Received-base[i].Received)
		row.Totals.Delivered = append(row.Totals.Delivered, f.Delivered-base[i].Delivered)
		if d := f.Delivered - base[i].Delivered; d < publishedTo[i] {
			row.Lost += publishedTo[i] - d
		}
		cpu += b.CPU - a.CPU
		delivered += b.Delivered - a.Delivered
		row.RedisErrors += f.RedisErrors
		for k, v := range f.Dropped {
			if v -= base[i].Dropped[k]; v > 0 && k != "own" && k != "no_room" {
				row.Drops[k] += v
			}
		}
		if pubd > 0 {
			row.RecvPerNodePerBC = append(row.RecvPerNodePerBC, float64(b.Received-a.Received)/float64(pubd))
		}
	}
	if !cfg.Procs {
		cpu = m1.usage.sub(m0.usage).CPU
	}
	if pubd > 0 {
		p := float64(pubd)
		row.EgressBytesPerBC = float64(m1.bytes-m0.bytes) / p
		if push > 0 {
			row.EgressMsgsPerBC = row.EgressBytesPerBC / float64(push)
		}
		row.DeliveriesPerBC = float64(delivered) / p
		row.CPUPerBCUS = float64(cpu.Nanoseconds()) / 1000 / p
		row.RedisCPUPerBCUS = float64((m1.redisCPU - m0.redisCPU).Nanoseconds()) / 1000 / p
		for _, v := range row.RecvPerNodePerBC {
			row.RecvMeanPerBC += v / float64(n)
			row.RecvMaxPerBC = max(row.RecvMaxPerBC, v)
		}
	}
	return row, nil
}

// subscriptionCost connects cfg.ScaleoutSockets sockets to one receiving
// node, each AddSocket then Join of its own private room, from
// cfg.ScaleoutConnectors goroutines.
func (r *runner) subscriptionCost(ctx context.Context, key string, mode scaleMode) (*SubscriptionCost, error) {
	cfg := r.cfg
	opt, err := clientOption(cfg.RedisURL)
	if err != nil {
		return nil, err
	}
	eng, err := engine.New(mode.options(opt, key))
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	ns, err := eng.Namespace(ctx, "/", newCountingHost(1, 0))
	if err != nil {
		return nil, err
	}
	c0, u0, ch0, err := subscribeStats(ctx, r.redis, mode)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	cr := connectSockets(ns, cfg.ScaleoutSockets, cfg.ScaleoutConnectors, func(j int) (string, string) {
		s := strconv.Itoa(j)
		return "sock-" + s, "private-" + s
	})
	took := time.Since(t0)
	c1, u1, ch1, err := subscribeStats(ctx, r.redis, mode)
	if err != nil {
		return nil, err
	}
	sc := &SubscriptionCost{Mode: mode.String(), Sockets: cfg.ScaleoutSockets, Goroutines: cfg.ScaleoutConnectors,
		Seconds: took.Seconds(), SubscribeCalls: c1 - c0, SubscribeUsec: u1 - u0, Channels: ch1 - ch0,
		Errors: cr.errors, LastError: cr.lastErr}
	t1 := time.Now()
	eng.Close()
	sc.CloseSeconds = time.Since(t1).Seconds()
	return sc, nil
}

// ---- goals and the table ----------------------------------------------------

// Goal thresholds of the scale-out scenario.
const (
	goalRoomsEgressMsgs = 1.2 // messages of Redis egress per broadcast, rooms mode, at the largest N
	goalCPUFlat         = 1.5 // receivers' CPU per broadcast at the largest N ÷ at the smallest, rooms mode
	goalSubscribeSecs   = 2.0 // seconds to connect 100 000 sockets, rooms mode
)

func (res *ScaleoutResult) row(mode string, n int) *ScaleoutRow {
	for i := range res.Rows {
		if res.Rows[i].Mode == mode && res.Rows[i].Receivers == n {
			return &res.Rows[i]
		}
	}
	return nil
}

func (res *ScaleoutResult) checkGoals() {
	minN, maxN := 0, 0
	for _, r := range res.Rows {
		if minN == 0 || r.Receivers < minN {
			minN = r.Receivers
		}
		maxN = max(maxN, r.Receivers)
	}
	// Each per-room mode, beside the mode of the same protocol that hears
	// everything.
	for _, pair := range [][2]string{{"rooms", "pattern"}, {"sharded-dynamic", "sharded-static"}, {"sharded-dynamic-private", "sharded-static"}} {
		mode, all := pair[0], pair[1]
		if r := res.row(mode, maxN); r != nil && r.Published > 0 {
			want := fmt.Sprintf("≤ %.1f", goalRoomsEgressMsgs)
			if p := res.row(all, maxN); p != nil {
				want += fmt.Sprintf("; %s mode: %.2f", all, p.EgressMsgsPerBC)
			} else if all == "pattern" {
				want += fmt.Sprintf("; pattern mode: %d + 1 (the publisher's own echo)", maxN)
			}
			res.Goals = append(res.Goals, Goal{Name: fmt.Sprintf("%s mode: Redis egress messages per broadcast at N = %d", mode, maxN),
				Measured: r.EgressMsgsPerBC, Want: want, Met: r.EgressMsgsPerBC <= goalRoomsEgressMsgs})
		}
		if a, b := res.row(mode, minN), res.row(mode, maxN); a != nil && b != nil && maxN > minN && a.CPUPerBCUS > 0 {
			ratio := b.CPUPerBCUS / a.CPUPerBCUS
			want := fmt.Sprintf("≤ %.1f (flat in N)", goalCPUFlat)
			if p, q := res.row(all, minN), res.row(all, maxN); p != nil && q != nil && p.CPUPerBCUS > 0 {
				want += fmt.Sprintf("; %s mode: %.2f", all, q.CPUPerBCUS/p.CPUPerBCUS)
			}
			res.Goals = append(res.Goals, Goal{Name: fmt.Sprintf("%s mode: CPU per broadcast, N = %d ÷ N = %d (%s)", mode, maxN, minN, res.CPUScope),
				Measured: ratio, Want: want, Met: ratio <= goalCPUFlat})
		}
	}
	for _, s := range res.Subscribe {
		if s.Mode == "pattern" || s.Mode == "sharded-static" {
			continue
		}
		// Scaled to 100 000 sockets when another count was asked for.
		secs := s.Seconds * 100000 / float64(s.Sockets)
		name := s.Mode + " mode: seconds to connect 100 000 sockets"
		if s.Sockets != 100000 {
			name += fmt.Sprintf(" (scaled from %d)", s.Sockets)
		}
		res.Goals = append(res.Goals, Goal{Name: name, Measured: secs, Want: fmt.Sprintf("≤ %.0f", goalSubscribeSecs),
			Met: secs <= goalSubscribeSecs && s.Errors == 0})
	}
}

func (res *ScaleoutResult) print(w io.Writer, redis string) {
	rate := "full speed"
	if res.Rate > 0 {
		rate = si(res.Rate) + " broadcasts/s"
	}
	fmt.Fprintf(w, "sioredis scale-out: 1 publishing node (no sockets) → N receiving nodes (%s), %d private rooms per receiving node\n", res.Receivers, res.RoomsPerNode)
	fmt.Fprintf(w, "(one socket each, each room on exactly one node), one room per broadcast round robin, payload %d B, %d goroutines, %s, %.3gs measured\n",
		res.Payload, res.Goroutines, rate, res.Seconds)
	fmt.Fprintf(w, "redis: %s; one pushed message as Redis sends it: %d B (message, rooms mode), %d B (pmessage, pattern mode)",
		redis, res.PushBytes["rooms"], res.PushBytes["pattern"])
	if b, ok := res.PushBytes["sharded-dynamic"]; ok {
		fmt.Fprintf(w, ", %d B (smessage on a room channel, sharded dynamic modes), %d B (smessage on the namespace's channel, sharded static)",
			b, res.PushBytes["sharded-static"])
	}
	fmt.Fprint(w, "\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "mode\tN\trooms\tpublished/s\tegress B/bc\tegress msgs/bc\trecv/bc/node mean\tmax\tdeliveries/bc\tCPU µs/bc\tredis CPU µs/bc\tdrops\tlost\t\n")
	for _, r := range res.Rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%.1f\t%.2f\t%.3f\t%.3f\t%.3f\t%.2f\t%.2f\t%d\t%d\t\n", r.Mode, r.Receivers, r.Rooms, si(r.PublishedPerSec),
			r.EgressBytesPerBC, r.EgressMsgsPerBC, r.RecvMeanPerBC, r.RecvMaxPerBC, r.DeliveriesPerBC, r.CPUPerBCUS, r.RedisCPUPerBCUS, mapSum(r.Drops), r.Lost)
	}
	tw.Flush()
	fmt.Fprintln(w, "egress = INFO stats total_net_output_bytes over the window ÷ broadcasts published (PUBLISH replies included); msgs = egress ÷ one push")
	fmt.Fprintf(w, "CPU = %s, per broadcast published\n", res.CPUScope)
	fmt.Fprintln(w, "recv/bc/node = engine Stats.Received per broadcast on each receiving node (ideal 1/N; pattern mode hears everything)")
	for _, r := range res.Rows {
		if r.EmitErrors > 0 || r.RedisErrors > 0 || !r.Drained || r.LastError != "" {
			fmt.Fprintf(w, "%s N=%d: emit errors %d, redis errors %d, drained %v, drops %s %s\n", r.Mode, r.Receivers, r.EmitErrors, r.RedisErrors, r.Drained, dropsText(r.Drops), r.LastError)
		}
	}
	if len(res.Subscribe) > 0 {
		fmt.Fprintf(w, "\nsubscription cost: sockets connected to one receiving node (AddSocket + Join of one private room each), from %d goroutines\n", res.Subscribe[0].Goroutines)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "mode\tsockets\tseconds\tsockets/s\t(S)SUBSCRIBE cmds\tchannels\tchannels/cmd\tredis ms in (S)SUBSCRIBE\tClose s\terrors\t")
		for _, s := range res.Subscribe {
			per := "-"
			if s.SubscribeCalls > 0 {
				per = fmt.Sprintf("%.0f", float64(s.Channels)/float64(s.SubscribeCalls))
			}
			fmt.Fprintf(tw, "%s\t%d\t%.3f\t%s\t%d\t%d\t%s\t%.0f\t%.3f\t%d\t\n", s.Mode, s.Sockets, s.Seconds, si(float64(s.Sockets)/s.Seconds),
				s.SubscribeCalls, s.Channels, per, float64(s.SubscribeUsec)/1000, s.CloseSeconds, s.Errors)
		}
		tw.Flush()
		for _, s := range res.Subscribe {
			if s.LastError != "" {
				fmt.Fprintf(w, "%s: last error: %s\n", s.Mode, s.LastError)
			}
		}
	}
	if len(res.Goals) > 0 {
		fmt.Fprintln(w, "\ngoals:")
		for _, g := range res.Goals {
			mark := "NOT MET"
			if g.Met {
				mark = "met"
			}
			fmt.Fprintf(w, "  %s: %.3g (want %s) %s\n", g.Name, g.Measured, g.Want, mark)
		}
	}
}
