package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/puzpuzpuz/xsync/v3"
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
)

// String returns the protocol's name.
func (p Protocol) String() string {
	switch p {
	case Classic:
		return "classic"
	}
	return fmt.Sprintf("Protocol(%d)", int(p))
}

// Options configure an Engine. The zero value of every field is a working
// default, the one of the Node adapter where there is one.
type Options struct {
	// Client is the Redis client to use: standalone, sentinel or cluster.
	// The engine does not close it. If nil, ClientOption is used to create
	// one, which Close closes.
	Client rueidis.Client
	// ClientOption creates the client when Client is nil. Its zero value
	// is rejected (no address).
	ClientOption rueidis.ClientOption

	// Protocol is the wire protocol; zero is Classic.
	Protocol Protocol
	// Key is the channel prefix (the Node adapter's `key`). Default "socket.io".
	Key string
	// RequestTimeout bounds cluster-wide requests (fetchSockets, allRooms,
	// serverSideEmit with acks…) that have no timeout of their own. Default
	// 5s, as the Node adapter's requestsTimeout.
	RequestTimeout time.Duration
	// PublishOnSpecificResponseChannel sends answers to the requester's own
	// response channel (key-response#nsp#uid#) instead of the shared one. It
	// must match the cluster's setting; default false, as in Node.
	PublishOnSpecificResponseChannel bool
	// MaxPendingRequests bounds the requests of one namespace waiting for
	// answers; more fail with ErrTooManyRequests. Default 10 000.
	MaxPendingRequests int

	// PublishQueue is how many publishes may wait for the publisher; a
	// broadcast blocks (up to its context) while it is full. Default 65 536.
	PublishQueue int
	// PublishBatch is the most commands sent in one pipelined round trip.
	// Default 256.
	PublishBatch int
	// PublishFlushDelay, when positive, lets the publisher wait up to this
	// long for a fuller batch. Default 0: send what is queued at once;
	// batches still grow under load while the previous one is in flight.
	PublishFlushDelay time.Duration

	// Workers is the number of goroutines that decode incoming messages and
	// deliver them locally. The messages of one namespace are always handled
	// by the same worker, in arrival order. Default GOMAXPROCS.
	Workers int
	// ReceiveQueue is the number of messages each worker may have waiting.
	// When a worker's queue is full new messages for it are dropped and
	// counted (Stats.Dropped["queue_full"]) rather than stalling the Redis
	// connection, which Redis would disconnect once its output buffer limit
	// is hit. Default 16 384.
	ReceiveQueue int

	// Logger receives warnings (lost connections, dropped malformed
	// messages). Default: discard.
	Logger *slog.Logger
}

func (o *Options) setDefaults() {
	if o.Key == "" {
		o.Key = "socket.io"
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 5 * time.Second
	}
	if o.MaxPendingRequests <= 0 {
		o.MaxPendingRequests = 10000
	}
	if o.PublishQueue <= 0 {
		o.PublishQueue = 1 << 16
	}
	if o.PublishBatch <= 0 {
		o.PublishBatch = 256
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.ReceiveQueue <= 0 {
		o.ReceiveQueue = 1 << 14
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

// Engine is one process's connection to the cluster: one subscription
// connection for every namespace, one batching publisher, and the worker
// goroutines that process incoming messages. Create it with New, get
// namespaces with Namespace, and Close it when done. Its methods are safe for
// concurrent use.
type Engine struct {
	opts       Options
	client     rueidis.Client
	ownsClient bool
	proto      protocol
	stats      counters

	pub     *publisher
	sub     *subscriber
	workers []*worker
	quit    chan struct{}
	wg      sync.WaitGroup

	// routes maps a subscribed channel or pattern to its namespace, so the
	// reader goroutine routes a message without parsing its channel.
	routes *xsync.MapOf[string, *Namespace]

	mu         sync.Mutex
	namespaces map[string]*Namespace
	nextWorker int
	closed     bool
}

// inboundMsg is a message handed from the reader to a worker.
type inboundMsg struct {
	ns  *Namespace
	msg rueidis.PubSubMessage
}

// New starts an engine: it connects the subscription connection and starts
// the publisher and the workers.
func New(opts Options) (*Engine, error) {
	opts.setDefaults()
	e := &Engine{opts: opts, quit: make(chan struct{}), routes: xsync.NewMapOf[string, *Namespace](), namespaces: map[string]*Namespace{}}
	switch opts.Protocol {
	case Classic:
		e.proto = classicProtocol{}
	default:
		return nil, fmt.Errorf("sioredis: unknown protocol %v", opts.Protocol)
	}
	e.client = opts.Client
	if e.client == nil {
		if len(opts.ClientOption.InitAddress) == 0 {
			return nil, errors.New("sioredis: Options needs a Client or a ClientOption with InitAddress")
		}
		c, err := rueidis.NewClient(opts.ClientOption)
		if err != nil {
			return nil, fmt.Errorf("sioredis: connect to Redis: %w", err)
		}
		e.client, e.ownsClient = c, true
	}
	e.pub = newPublisher(e.client, opts.PublishQueue, opts.PublishBatch, opts.PublishFlushDelay, &e.stats, func(err error) {
		opts.Logger.Warn("sioredis: publish failed", "err", err)
	})
	e.workers = make([]*worker, opts.Workers)
	for i := range e.workers {
		w := newWorker(opts.ReceiveQueue)
		e.workers[i] = w
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			w.run(e.quit, &e.stats)
		}()
	}
	e.sub = newSubscriber(e.client, &e.stats, opts.Logger, e.route)
	return e, nil
}

// route runs on rueidis's reader goroutine: it must not block.
func (e *Engine) route(m rueidis.PubSubMessage) {
	e.stats.received.Add(1)
	key := m.Channel
	if m.Pattern != "" {
		key = m.Pattern
	}
	ns, ok := e.routes.Load(key)
	if !ok {
		e.stats.drop(DropClosed) // a namespace that was just closed
		return
	}
	if e.proto.ownEcho(ns, m.Pattern, m.Message) {
		// Our own broadcast, back from Redis: dropping it here keeps it out
		// of the worker queue (at full speed the echoes alone can fill it).
		e.stats.drop(DropOwn)
		return
	}
	if !ns.worker.offer(inboundMsg{ns: ns, msg: m}) {
		e.stats.drop(DropQueueFull)
	}
}

// Stats returns a snapshot of the engine's counters.
func (e *Engine) Stats() Stats { return e.stats.snapshot() }

// Namespace returns the adapter of namespace name (e.g. "/" or "/chat"),
// creating it on first use with host as its Host. It returns once the
// namespace's channels are subscribed, so that other servers count it.
// Calling it again for an existing namespace returns that namespace (host is
// then ignored).
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
	ns := newNamespace(e, name, host, e.workers[e.nextWorker%len(e.workers)])
	e.nextWorker++
	e.namespaces[name] = ns
	e.mu.Unlock()

	channels, patterns := e.proto.subscriptions(ns)
	for _, c := range channels {
		e.routes.Store(c, ns)
	}
	for _, p := range patterns {
		e.routes.Store(p, ns)
	}
	err := e.sub.subscribe(ctx, channels, patterns)
	ns.setReady(err)
	if err != nil {
		// Forget it, so that a later call can try again.
		ns.closeOnce.Do(func() {
			ns.closed.Store(true)
			e.removeNamespace(ns)
		})
		return nil, fmt.Errorf("sioredis: namespace %s: %w", name, err)
	}
	return ns, nil
}

// removeNamespace is called by Namespace.Close.
func (e *Engine) removeNamespace(ns *Namespace) {
	channels, patterns := e.proto.subscriptions(ns)
	ctx, cancel := context.WithTimeout(context.Background(), e.opts.RequestTimeout)
	defer cancel()
	if err := e.sub.unsubscribe(ctx, channels, patterns); err != nil && !errors.Is(err, ErrClosed) {
		e.stats.redisErrors.Add(1)
		e.opts.Logger.Warn("sioredis: unsubscribe", "namespace", ns.name, "err", err)
	}
	for _, c := range channels {
		e.routes.Delete(c)
	}
	for _, p := range patterns {
		e.routes.Delete(p)
	}
	e.mu.Lock()
	if e.namespaces[ns.name] == ns {
		delete(e.namespaces, ns.name)
	}
	e.mu.Unlock()
}

// Close closes every namespace (unsubscribing their channels and failing
// their pending requests), sends what is queued for publishing, closes the
// subscription connection, stops every goroutine the engine started and, if
// the engine created the Redis client, closes it.
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
	for _, ns := range nss {
		ns.Close()
	}
	e.sub.close()
	e.pub.close()
	close(e.quit)
	e.wg.Wait()
	if e.ownsClient {
		e.client.Close()
	}
	return nil
}
