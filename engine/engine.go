package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/rueidis"
)

// Protocol selects the Redis wire protocol of the cluster. Every server of a
// cluster must use the same one.
type Protocol int

const (
	// Classic is the protocol of @socket.io/redis-adapter 7.x/8.x
	// createAdapter (PUBLISH, PSUBSCRIBE, msgpack broadcasts, JSON requests):
	// the default.
	Classic Protocol = iota
	// SocketIORedis4 is socket.io-redis 4.0.x (Socket.IO 1.x): msgpack-lite
	// broadcasts, a SUBSCRIBE per locally hosted room, JSON requests with a
	// lowercase requestid (clients, clientRooms, allRooms, remoteJoin,
	// remoteLeave, customRequest, remoteDisconnect). Default
	// RequestTimeout 1s. See protocol_legacy.go.
	SocketIORedis4
	// SocketIORedis5 is socket.io-redis 5.x (Socket.IO 2.x): the requests of
	// 4.0, notepack.io 2 broadcasts, one PSUBSCRIBE per namespace.
	SocketIORedis5
	// SocketIORedis6 is socket.io-redis 6.x (Socket.IO 3.x/4.0): camelCase
	// requestId, SOCKETS / ALL_ROOMS / REMOTE_JOIN / REMOTE_LEAVE /
	// REMOTE_DISCONNECT (single-socket and bulk forms) and REMOTE_FETCH;
	// no serverSideEmit, no acknowledged broadcasts.
	SocketIORedis6
	// Sharded is the protocol of @socket.io/redis-adapter 8.3
	// createShardedAdapter (socket.io-adapter's ClusterAdapter over Redis 7
	// sharded pub/sub: SPUBLISH, SSUBSCRIBE, the {type, data, uid, nsp}
	// envelope, JSON unless the data carries binary). It needs Redis ≥ 7.0,
	// standalone or cluster. Options.ShardedMode chooses its subscription
	// mode; Options.Subscriptions does not apply. See protocol_sharded.go.
	Sharded
)

// String returns the protocol's name.
func (p Protocol) String() string {
	switch p {
	case Classic:
		return "classic"
	case SocketIORedis4:
		return "socket.io-redis 4.0"
	case SocketIORedis5:
		return "socket.io-redis 5.x"
	case SocketIORedis6:
		return "socket.io-redis 6.x"
	case Sharded:
		return "sharded"
	}
	return fmt.Sprintf("Protocol(%d)", int(p))
}

// SubscriptionMode says how a server listens to the broadcasts of a
// namespace.
type SubscriptionMode int

const (
	// PatternSubscriptions: one PSUBSCRIBE key#nsp#* per namespace, so the
	// server hears every broadcast of the namespace, including single-room
	// broadcasts for rooms it does not host (and drops those). This is what
	// the Node classic adapter does: the default.
	PatternSubscriptions SubscriptionMode = iota
	// RoomSubscriptions: SUBSCRIBE key#nsp# plus key#nsp#room# for each room
	// this server hosts (socket-id rooms included), following joins and
	// leaves. Redis then sends a server only the single-room broadcasts of
	// its own rooms: with private rooms spread over N servers, Redis egress
	// per broadcast drops from N messages to about one. It is wire-identical
	// for the other servers (Node 8.x classic servers and the emitter
	// publish single-room broadcasts on the room channel), so servers of
	// both modes can share a cluster.
	//
	// What a join costs: a room that is new on this server costs one
	// channel in a SUBSCRIBE command (batched with the other new rooms of
	// the moment, up to 512 per command, pipelined), and Join returns once
	// Redis has acknowledged it: a broadcast published after Join returned
	// reaches the socket. Joining a room the server already hosts costs
	// nothing. While the subscription connection is down Join does not
	// wait (the room is subscribed with everything else on reconnect, and
	// the window is counted in NamespaceStats.Gaps).
	RoomSubscriptions
)

// String returns the mode's name.
func (m SubscriptionMode) String() string {
	switch m {
	case PatternSubscriptions:
		return "pattern"
	case RoomSubscriptions:
		return "rooms"
	}
	return fmt.Sprintf("SubscriptionMode(%d)", int(m))
}

// Options configure an Engine. The zero value of every field is a working
// default, the one of the Node adapter where there is one.
type Options struct {
	// Client is the Redis client to use: standalone, sentinel or cluster.
	// The engine does not close it, and keeps its settings as they are
	// (on a cluster, set ClusterOption.ShardsRefreshInterval so that the
	// client learns the new master after a failover: the engine's own
	// client refreshes every second).
	// If nil, ClientOption is used to create one, which Close closes.
	Client rueidis.Client
	// ClientOption creates the client when Client is nil. Its zero value
	// is rejected (no address). The engine turns client-side caching off
	// (DisableCache): it never reads keys, and CLIENT TRACKING would need
	// a permission that a least-privilege user does not have. The client
	// it builds sends HELLO (with AUTH when a password is set), PING on
	// idle connections, (P)SUBSCRIBE/(P)UNSUBSCRIBE, PUBLISH and, for
	// requests and ServerCount, PUBSUB NUMSUB (and CLUSTER NODES on a
	// cluster); nothing else.
	ClientOption rueidis.ClientOption

	// Protocol is the wire protocol; zero is Classic.
	Protocol Protocol
	// NoChannelMultiplexing is socket.io-redis 4.0's
	// `withChannelMultiplexing: false` (SocketIORedis4 only; it must match
	// the cluster): every broadcast goes to key#nsp#, and no room channel
	// is subscribed. Default false: single-room broadcasts go to
	// key#nsp#room#, and each locally hosted room costs a SUBSCRIBE.
	NoChannelMultiplexing bool
	// Subscriptions is how broadcasts are listened to; zero is
	// PatternSubscriptions, as the Node adapter. SocketIORedis4 ignores it:
	// it always subscribes per room, as socket.io-redis 4.0 does; Sharded
	// has its own modes (ShardedMode).
	Subscriptions SubscriptionMode
	// ShardedMode is the subscriptionMode of the Sharded protocol; zero is
	// ShardedDynamic, as the Node sharded adapter. It must be the same on
	// every server of the cluster (a static server never hears the
	// single-room broadcasts that dynamic publishers send on room
	// channels).
	ShardedMode ShardedMode
	// Key is the channel prefix (the Node adapter's `key`). Default "socket.io".
	Key string
	// RequestTimeout bounds cluster-wide requests (fetchSockets, allRooms,
	// serverSideEmit with acks…) that have no timeout of their own. Default
	// 5s, as the Node adapter's requestsTimeout (1s with SocketIORedis4, as
	// socket.io-redis 4.0).
	RequestTimeout time.Duration
	// PublishOnSpecificResponseChannel sends answers to the requester's own
	// response channel (key-response#nsp#uid#) instead of the shared one. It
	// must match the cluster's setting; default false, as in Node.
	PublishOnSpecificResponseChannel bool
	// MaxPendingRequests bounds the requests of one namespace waiting for
	// answers; more fail with ErrTooManyRequests. Default 10 000.
	MaxPendingRequests int

	// PublishQueue is how many publishes may wait for the publisher; a
	// broadcast blocks (up to its context) while it is full, and each such
	// wait is counted in Stats.PublishQueueFull. It bounds the latency a
	// publisher that outruns Redis builds up: at full speed on a 2-core
	// machine, p50 publish → delivery was 160–180 ms with 65 536 and 12 ms
	// with 4 096, for the same throughput within noise (bench/BENCHMARKS.md).
	// Default 4 096.
	PublishQueue int
	// PublishBatch is the most commands sent in one pipelined round trip.
	// Default 256.
	PublishBatch int
	// PublishFlushDelay, when positive, lets the publisher wait up to this
	// long for a fuller batch. Default 0: send what is queued at once;
	// batches still grow under load while the previous one is in flight.
	PublishFlushDelay time.Duration

	// ReceiveQueue is the number of incoming messages each namespace may
	// have waiting for its worker (every namespace has its own goroutine,
	// so a slow Host stalls only its own namespace). When the queue is
	// full new messages for it are dropped and counted
	// (Stats.Dropped["queue_full"], and the namespace's own Dropped)
	// rather than stalling the Redis connection, which Redis would
	// disconnect once its output buffer limit is hit. Default 16 384.
	ReceiveQueue int
	// MaxMessageSize is the largest incoming message accepted, in bytes;
	// larger ones are dropped and counted (Stats.Dropped["too_large"])
	// before any decoding, so an oversized publish cannot make every
	// server allocate it again per recipient. Default 16 MiB.
	MaxMessageSize int

	// CloseTimeout bounds how long Close waits for Redis to take what is
	// queued for publishing; what is left then fails with ErrClosed (and
	// is counted in Stats.PublishErrors). Default 5s.
	CloseTimeout time.Duration

	// EncodeHook, when set, is offered every value the host hands the
	// engine to encode (emit arguments, acknowledgements, fetchSockets
	// handshakes and data), and every element of the slices and maps among
	// them: when it returns ok, its result is encoded instead. Use it for
	// the host's own types, e.g. a server's byte-buffer type → []byte so it
	// travels as binary. Default nil: values are encoded as they are
	// (see codec.AppendValue; unknown types go through encoding/json).
	EncodeHook func(v any) (encodable any, ok bool)
	// PlainValues makes decoded values reach the host as plain Go values
	// (map[string]any instead of codec.Map, nil for undefined, []byte for
	// ArrayBuffers; see codec.Plain): ServerEvent.Args, fetchSockets
	// handshakes and data, acknowledgements. Default false: codec's
	// order-keeping types.
	PlainValues bool

	// Logger receives warnings (lost connections, subscription gaps,
	// dropped malformed messages, refused subscriptions). Default: discard.
	Logger *slog.Logger
}

func (o *Options) setDefaults() {
	if o.Key == "" {
		o.Key = "socket.io"
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 5 * time.Second
		if o.Protocol == SocketIORedis4 {
			o.RequestTimeout = time.Second
		}
	}
	if o.MaxPendingRequests <= 0 {
		o.MaxPendingRequests = 10000
	}
	if o.PublishQueue <= 0 {
		o.PublishQueue = 1 << 12
	}
	if o.PublishBatch <= 0 {
		o.PublishBatch = 256
	}
	if o.ReceiveQueue <= 0 {
		o.ReceiveQueue = 1 << 14
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = 16 << 20
	}
	if o.CloseTimeout <= 0 {
		o.CloseTimeout = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

// Engine is one process's connection to the cluster: one subscription
// connection for every namespace, one batching publisher, and a worker
// goroutine per namespace that processes its incoming messages. Create it
// with New, get namespaces with Namespace, and Close it when done. Its
// methods are safe for concurrent use.
type Engine struct {
	opts       Options
	client     rueidis.Client
	ownsClient bool
	stats      counters

	// countsReceivers: PUBLISH's reply counts every subscriber (not on a
	// Redis Cluster, where it counts one node's).
	countsReceivers bool

	pub   *publisher
	sub   *subscriber
	nodes *nodeClients // nil unless the engine built a cluster client
	wg    sync.WaitGroup

	mu         sync.Mutex
	namespaces map[string]*Namespace
	closed     bool

	stateMu sync.Mutex // serializes linkState
}

// inboundMsg is a message handed from the reader to a worker.
type inboundMsg struct {
	ns  *Namespace
	msg rueidis.PubSubMessage
}

// New starts an engine: it creates the Redis client if needed and starts
// the publisher and the subscription link (which connects when the first
// namespace needs it).
func New(opts Options) (*Engine, error) {
	opts.setDefaults()
	switch opts.Protocol {
	case Classic, SocketIORedis4, SocketIORedis5, SocketIORedis6, Sharded:
	default:
		return nil, fmt.Errorf("sioredis: unknown protocol %v", opts.Protocol)
	}
	switch opts.Subscriptions {
	case PatternSubscriptions, RoomSubscriptions:
	default:
		return nil, fmt.Errorf("sioredis: unknown subscription mode %v", opts.Subscriptions)
	}
	switch opts.ShardedMode {
	case ShardedDynamic, ShardedStatic, ShardedDynamicPrivate:
	default:
		return nil, fmt.Errorf("sioredis: unknown sharded subscription mode %v", opts.ShardedMode)
	}
	e := &Engine{opts: opts, namespaces: map[string]*Namespace{}}
	e.client = opts.Client
	if e.client == nil {
		if len(opts.ClientOption.InitAddress) == 0 {
			return nil, errors.New("sioredis: Options needs a Client or a ClientOption with InitAddress")
		}
		co := opts.ClientOption
		co.DisableCache = true
		if co.ClusterOption.ShardsRefreshInterval == 0 {
			// Learn a failover's new master even when no command of
			// ours hits a MOVED (NUMSUB asks every master).
			co.ClusterOption.ShardsRefreshInterval = time.Second
		}
		c, err := rueidis.NewClient(co)
		if err != nil {
			return nil, fmt.Errorf("sioredis: connect to Redis: %w", err)
		}
		e.client, e.ownsClient = c, true
		if c.Mode() == rueidis.ClientModeCluster {
			e.nodes = newNodeClients(co)
		}
	}
	e.pub = newPublisher(e.client, opts.PublishQueue, opts.PublishBatch, opts.PublishFlushDelay, opts.CloseTimeout, &e.stats, func(err error) {
		opts.Logger.Warn("sioredis: publish failed", "err", err)
	})
	e.countsReceivers = e.client.Mode() != rueidis.ClientModeCluster
	var topo topology
	if !e.countsReceivers {
		topo = clusterTopology{client: e.client, extra: e.nodes}
	}
	e.sub = newSubscriber(subscriptionDialer(e.client), topo, &e.stats, opts.Logger, e.route, e.linkState)
	return e, nil
}

// newProtocol binds the engine's protocol to a namespace.
func (e *Engine) newProtocol(nsp, uid string) protocol {
	if e.opts.Protocol == Sharded {
		return newShardedProtocol(e, nsp, uid)
	}
	perRoom := e.opts.Subscriptions == RoomSubscriptions
	switch e.opts.Protocol {
	case SocketIORedis4:
		p := newLegacyProtocol(e.client, e.opts.Key, nsp, uid, legacy4, !e.opts.NoChannelMultiplexing)
		p.nodes = e.nodes
		return p
	case SocketIORedis5:
		p := newLegacyProtocol(e.client, e.opts.Key, nsp, uid, legacy5, perRoom)
		p.nodes = e.nodes
		return p
	case SocketIORedis6:
		p := newRedis6Protocol(e.client, e.opts.Key, nsp, uid, perRoom)
		p.nodes = e.nodes
		return p
	}
	p := newClassicProtocol(e.client, e.opts.Key, nsp, uid, perRoom)
	p.nodes = e.nodes
	return p
}

// nodeUID returns a new uid for a namespace of this server, shaped as the
// protocol's Node peers make theirs.
func (e *Engine) nodeUID() string {
	if e.opts.Protocol == Sharded {
		return newHexUID()
	}
	return newUID(6)
}

// route runs on rueidis's reader goroutine: it must not block.
func (e *Engine) route(m rueidis.PubSubMessage) {
	e.stats.received.Add(1)
	r, ok := e.sub.lookup(&m)
	if !ok {
		e.stats.drop(DropClosed) // a namespace just closed, a room just left
		return
	}
	ns := r.ns
	if len(m.Message) > e.opts.MaxMessageSize {
		ns.drop(DropTooLarge)
		e.opts.Logger.Warn("sioredis: dropped a message above MaxMessageSize", "channel", m.Channel, "bytes", len(m.Message))
		return
	}
	if r.broadcast && ns.proto.ownEcho(m.Message) {
		// Our own broadcast, back from Redis: dropping it here keeps it out
		// of the worker queue (at full speed the echoes alone can fill it).
		ns.drop(DropOwn)
		return
	}
	if !ns.worker.offer(inboundMsg{ns: ns, msg: m}) {
		ns.drop(DropQueueFull)
	}
}

// linkState is told when a subscription link goes down or is up again with
// every subscription restored: it opens and closes the namespaces' gap
// windows (a namespace is deaf while any link carrying its subscriptions
// is down).
func (e *Engine) linkState() {
	// Serialized: each link calls this after its own change, so the last
	// call sees the final state of every link.
	e.stateMu.Lock()
	defer e.stateMu.Unlock()
	at := time.Now()
	e.mu.Lock()
	nss := make([]*Namespace, 0, len(e.namespaces))
	for _, ns := range e.namespaces {
		nss = append(nss, ns)
	}
	e.mu.Unlock()
	deaf := e.sub.deafOwners()
	for _, ns := range nss {
		if !ns.isReady() {
			continue // not subscribed yet: Namespace is still waiting
		}
		if deaf[ns] {
			ns.gaps.begin(at)
		} else {
			if d, ok := ns.gaps.end(at); ok {
				logGap(e.opts.Logger, ns.name, at.Add(-d), d)
			}
		}
	}
}

// Stats returns a snapshot of the engine's counters.
func (e *Engine) Stats() Stats {
	s := e.stats.snapshot()
	e.mu.Lock()
	nss := make([]*Namespace, 0, len(e.namespaces))
	for _, ns := range e.namespaces {
		nss = append(nss, ns)
	}
	e.mu.Unlock()
	s.Namespaces = make(map[string]NamespaceStats, len(nss))
	for _, ns := range nss {
		s.Namespaces[ns.name] = ns.Stats()
	}
	return s
}

// Namespace returns the adapter of namespace name (e.g. "/" or "/chat"),
// creating it on first use with host as its Host. It returns once Redis
// confirmed the namespace's subscriptions, so that other servers count it;
// if Redis refuses them (an ACL without the channels, a wrong password) it
// returns Redis's own error at once. Calling it again for an existing
// namespace returns that namespace (host is then ignored).
func (e *Engine) Namespace(ctx context.Context, name string, host Host) (*Namespace, error) {
	if name == "" || name[0] != '/' {
		return nil, fmt.Errorf("sioredis: namespace %q must start with /", name)
	}
	if host == nil {
		return nil, fmt.Errorf("sioredis: namespace %s: nil Host", name)
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, ErrClosed
	}
	if ns, ok := e.namespaces[name]; ok {
		e.mu.Unlock()
		return ns, ns.waitReady(ctx)
	}
	ns := newNamespace(e, name, host)
	e.namespaces[name] = ns
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		ns.worker.run(ns.quit, ns)
	}()
	e.mu.Unlock()

	plan := ns.proto.plan()
	keys := make([]subKey, len(plan))
	for i, p := range plan {
		keys[i] = p.key
		e.sub.want(ns, p.broadcast, p.key)
	}
	err := e.sub.await(ctx, true, keys...)
	ns.setReady(err)
	if err != nil {
		// Forget it, so that a later call can try again.
		ns.closeOnce.Do(func() { ns.shutdown(ctx) })
		return nil, fmt.Errorf("sioredis: namespace %s: %w", name, err)
	}
	return ns, nil
}

// removeNamespace is called by Namespace.Close.
func (e *Engine) removeNamespace(ctx context.Context, ns *Namespace) {
	if err := e.sub.dropOwner(ctx, ns); err != nil && !errors.Is(err, ErrClosed) {
		e.stats.redisErrors.Add(1)
		e.opts.Logger.Warn("sioredis: unsubscribe", "namespace", ns.name, "err", err)
	}
	e.mu.Lock()
	if e.namespaces[ns.name] == ns {
		delete(e.namespaces, ns.name)
	}
	e.mu.Unlock()
}

// Close closes every namespace (unsubscribing their channels and failing
// their pending requests), sends what is queued for publishing (waiting at
// most Options.CloseTimeout for Redis), closes the subscription connection,
// stops every goroutine the engine started and, if the engine created the
// Redis client, closes it. It returns within a bounded time whatever Redis
// does: at most about twice Options.CloseTimeout.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	nss := make([]*Namespace, 0, len(e.namespaces))
	for _, ns := range e.namespaces {
		nss = append(nss, ns)
	}
	e.mu.Unlock()
	// The subscription connection closes below, which ends every
	// subscription at once: the namespaces need not wait for UNSUBSCRIBE.
	closing, cancel := context.WithCancel(context.Background())
	cancel()
	for _, ns := range nss {
		ns.closeOnce.Do(func() { ns.shutdown(closing) })
	}
	e.pub.close()
	e.sub.close()
	e.wg.Wait()
	e.nodes.close()
	if e.ownsClient {
		closeBounded(e.client, e.opts.CloseTimeout)
	}
	return nil
}

// closeBounded closes client, giving up waiting after d (rueidis waits for
// in-flight commands, which a frozen Redis never answers; its own
// goroutines end when the connections time out).
func closeBounded(client rueidis.Client, d time.Duration) {
	done := make(chan struct{})
	go func() {
		client.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(d):
	}
}
