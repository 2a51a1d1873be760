package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/redis/rueidis"
	"github.com/sioredis/sioredis/engine"
)

// The wire generations the harness runs (-protocol), each with the Node
// peer of the same generation for -compare.

// Protocol names of -protocol.
const (
	protoClassic = "classic"
	protoRedis4  = "redis4"
	protoRedis5  = "redis5"
	protoRedis6  = "redis6"
	protoSharded = "sharded"
)

// parseProtocol parses -protocol.
func parseProtocol(s string) (engine.Protocol, error) {
	switch s {
	case "", protoClassic:
		return engine.Classic, nil
	case protoRedis4:
		return engine.SocketIORedis4, nil
	case protoRedis5:
		return engine.SocketIORedis5, nil
	case protoRedis6:
		return engine.SocketIORedis6, nil
	case protoSharded:
		return engine.Sharded, nil
	}
	return 0, fmt.Errorf("-protocol %q: want classic, redis4, redis5, redis6 or sharded", s)
}

// parseShardedMode parses -sharded-mode (Node's spelling).
func parseShardedMode(s string) (engine.ShardedMode, error) {
	switch s {
	case "", "dynamic":
		return engine.ShardedDynamic, nil
	case "static":
		return engine.ShardedStatic, nil
	case "dynamic-private":
		return engine.ShardedDynamicPrivate, nil
	}
	return 0, fmt.Errorf("-sharded-mode %q: want static, dynamic or dynamic-private", s)
}

func (c *Config) protocol() engine.Protocol {
	p, _ := parseProtocol(c.Protocol) // validated by parseFlags
	return p
}

func (c *Config) shardedMode() engine.ShardedMode {
	m, _ := parseShardedMode(c.ShardedMode)
	return m
}

func (c *Config) sharded() bool { return c.protocol() == engine.Sharded }

// protocolName describes the run's protocol for the table.
func (c *Config) protocolName() string {
	p := c.protocol()
	switch p {
	case engine.Sharded:
		return "sharded (" + c.shardedMode().String() + ")"
	case engine.SocketIORedis4:
		return p.String() // always per room
	}
	mode, _ := parseMode(c.Subscriptions)
	return p.String() + ", " + mode.String() + " subscriptions"
}

// nodePeer is the Node peer of a generation: the fixture folder holding its
// packages, the adapter argument of bench/node/emitter-bench.js, and how
// the table names it.
type nodePeer struct {
	fixture string // under internal/nodepeer
	adapter string
	probe   string // a package path under node_modules that must exist
	label   string
}

func (c *Config) nodePeer() nodePeer {
	switch c.protocol() {
	case engine.SocketIORedis4:
		return nodePeer{"testdata-redis40", "redis4", "socket.io-redis", "socket.io 1.7.4 + socket.io-redis 4.0.0"}
	case engine.SocketIORedis5:
		return nodePeer{"testdata-redis5", "redis5", "socket.io-redis", "socket.io 2.4.1 + socket.io-redis 5.4.0"}
	case engine.SocketIORedis6:
		return nodePeer{"testdata-redis6", "redis6", "socket.io-redis", "socket.io 4.0.2 + socket.io-redis 6.1.1"}
	case engine.Sharded:
		return nodePeer{"testdata", "sharded", filepath.Join("@socket.io", "redis-adapter"),
			"socket.io 4.8 + @socket.io/redis-adapter 8.3 createShardedAdapter (" + c.shardedMode().String() + ")"}
	}
	return nodePeer{"testdata", "classic", filepath.Join("@socket.io", "redis-adapter"), "socket.io 4.8 + @socket.io/redis-adapter 8.3"}
}

// broadcastChannels returns the channels the run's broadcasts are
// published on: one per room for single-room broadcasts where the protocol
// uses room channels, else the namespace's channel.
func (c *Config) broadcastChannels() []string {
	main := c.Key + "#/#"
	roomChannels := c.Target == targetRooms
	if c.sharded() {
		roomChannels = roomChannels && c.shardedMode() != engine.ShardedStatic
	}
	if !roomChannels {
		return []string{main}
	}
	out := make([]string, c.Rooms)
	for k := range out {
		out[k] = main + roomName(k) + "#"
	}
	return out
}

// redisAddrs returns the addresses of a -redis URL (host:port, then the
// ?addr= seeds).
func redisAddrs(raw string) ([]string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	out := []string{u.Host}
	out = append(out, u.Query()["addr"]...)
	return out, nil
}

// shardSubscription is SSUBSCRIBE of a set of channels spread over the
// masters of a cluster (or one standalone server): one dedicated
// connection per node, each channel subscribed on the node that owns its
// slot (the node that does not answer MOVED).
type shardSubscription struct {
	releases []func()
	byNode   map[string][]string
}

// shardSubscribe subscribes channels through client, calling onMsg for
// every message. It returns once every channel's subscription is
// confirmed.
func shardSubscribe(ctx context.Context, client rueidis.Client, channels []string, onMsg func(rueidis.PubSubMessage)) (*shardSubscription, error) {
	s := &shardSubscription{byNode: map[string][]string{}}
	nodes := client.Nodes()
	addrs := make([]string, 0, len(nodes))
	for a := range nodes {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs)
	dcs := map[string]rueidis.DedicatedClient{}
	dedicated := func(addr string) rueidis.DedicatedClient {
		if dc, ok := dcs[addr]; ok {
			return dc
		}
		dc, release := nodes[addr].Dedicate()
		dc.SetPubSubHooks(rueidis.PubSubHooks{OnMessage: onMsg})
		dcs[addr] = dc
		s.releases = append(s.releases, release)
		return dc
	}
	for _, ch := range channels {
		var lastErr error
		ok := false
		for _, addr := range addrs {
			dc := dedicated(addr)
			err := dc.Do(ctx, dc.B().Ssubscribe().Channel(ch).Build()).Error()
			if err == nil {
				s.byNode[addr] = append(s.byNode[addr], ch)
				ok = true
				break
			}
			lastErr = err
			if !redirected(err) {
				break
			}
		}
		if !ok {
			s.close()
			return nil, fmt.Errorf("SSUBSCRIBE %s: %w", ch, lastErr)
		}
	}
	return s, nil
}

// redirected reports whether err is a MOVED or ASK redirection.
func redirected(err error) bool {
	ret, ok := rueidis.IsRedisErr(err)
	if !ok {
		return false
	}
	_, moved := ret.IsMoved()
	_, ask := ret.IsAsk()
	return moved || ask
}

func (s *shardSubscription) close() {
	for _, r := range s.releases {
		r()
	}
}

// ---- per-master command counts ---------------------------------------------

// MasterCounts is what one Redis node executed over a window.
type MasterCounts struct {
	Addr        string `json:"addr"`
	Publish     uint64 `json:"publish_calls"`
	SPublish    uint64 `json:"spublish_calls"`
	OutputBytes int64  `json:"net_output_bytes"`
}

// masterSnap is INFO commandstats and stats of every node the client
// knows, by address.
type masterSnap map[string]MasterCounts

func takeMasterSnap(ctx context.Context, client rueidis.Client) (masterSnap, error) {
	out := masterSnap{}
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for addr, node := range client.Nodes() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mc := MasterCounts{Addr: addr}
			info, err := node.Do(ctx, node.B().Info().Section("commandstats").Build()).ToString()
			if err == nil {
				m := parseInfoText(info)
				mc.Publish, _, _ = commandStat(m["cmdstat_publish"])
				mc.SPublish, _, _ = commandStat(m["cmdstat_spublish"])
				info, err = node.Do(ctx, node.B().Info().Section("stats").Build()).ToString()
				mc.OutputBytes = infoInt(parseInfoText(info), "total_net_output_bytes")
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("INFO on %s: %w", addr, err))
				return
			}
			out[addr] = mc
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// sub returns the counts of the window between o and s, sorted by address.
func (s masterSnap) sub(o masterSnap) []MasterCounts {
	out := make([]MasterCounts, 0, len(s))
	for addr, c := range s {
		b := o[addr]
		out = append(out, MasterCounts{Addr: addr, Publish: c.Publish - b.Publish, SPublish: c.SPublish - b.SPublish,
			OutputBytes: c.OutputBytes - b.OutputBytes})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Addr < out[j].Addr })
	return out
}

func parseInfoText(info string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && !strings.HasPrefix(k, "#") {
			m[k] = v
		}
	}
	return m
}

// masterWindow measures the per-master counts between two calls.
type masterWindow struct {
	ctx    context.Context
	client rueidis.Client
	before masterSnap
	err    error
}

func startMasterWindow(ctx context.Context, client rueidis.Client) *masterWindow {
	w := &masterWindow{ctx: ctx, client: client}
	w.before, w.err = takeMasterSnap(ctx, client)
	return w
}

func (w *masterWindow) end() []MasterCounts {
	if w.err != nil {
		return nil
	}
	after, err := takeMasterSnap(w.ctx, w.client)
	if err != nil {
		return nil
	}
	return after.sub(w.before)
}
