package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/puzpuzpuz/xsync/v3"
	"github.com/redis/rueidis"
	"github.com/sioredis/sioredis/internal/slot"
)

// This file is the subscription layer: every channel and pattern the engine
// listens to, for every namespace and every protocol, goes through one
// subscriber.
//
//	protocol plan ──want/unwant──▶ subscriber (reference counts, routes)
//	                                   │ desired set, kicked
//	                                   ▼
//	                              link goroutine ──SUBSCRIBE/UNSUBSCRIBE batches──▶ Redis
//	                                   ▲  (diff of desired − confirmed, pipelined)
//	Redis ──message──▶ rueidis reader ─┴─▶ route (lock-free lookup) ──▶ namespace worker
//
// A protocol says what a namespace needs (static channels and patterns, and
// a channel per room for the modes that follow rooms); the shard index's
// room events add and drop the room channels. Names are reference counted,
// so a channel shared by several rooms (the number 7 and the string "7" both
// map to key#nsp#7#) is kept while any of them exists.
//
// One goroutine per link owns its connection and is the only one that sends
// (P)SUBSCRIBE/(P)UNSUBSCRIBE: it sends the difference between what is
// wanted and what Redis confirmed, many names per command, all commands of a
// round pipelined. Changes that cancel out before the next round (a join and
// a leave of the same room) cost nothing, and nothing a caller asks during a
// reconnect is lost or reordered: after any loss the link subscribes the
// whole desired set again, from local truth, before it counts as up.
//
// Reconnection probes quickly: a connection that fails at the network level
// (refused, reset) is retried every few milliseconds, so the first delivery
// after Redis is back comes within tens of milliseconds; only errors that
// Redis itself answers (NOPERM, NOAUTH…) back off exponentially, since
// hammering them helps nobody. A connection that stays open but stops
// answering is caught by rueidis, which PINGs idle connections and drops one
// that does not answer within ClientOption.ConnWriteTimeout (default 10 s).
//
// Messages are handed to the router from rueidis's reader goroutine, which
// must not block: it only looks the name up and queues the message for the
// namespace's worker.

// subKind is how a name is subscribed.
type subKind uint8

const (
	subChannel subKind = iota // SUBSCRIBE
	subPattern                // PSUBSCRIBE
	subShard                  // SSUBSCRIBE (Redis 7 sharded pub/sub)
	numSubKinds
)

var subVerbs = [numSubKinds][2]string{{"SUBSCRIBE", "UNSUBSCRIBE"}, {"PSUBSCRIBE", "PUNSUBSCRIBE"}, {"SSUBSCRIBE", "SUNSUBSCRIBE"}}

// subKey names one subscription.
type subKey struct {
	kind subKind
	name string
}

// route is what a subscribed name leads to.
type route struct {
	ns *Namespace
	// broadcast: messages on it may be our own broadcasts echoed back.
	broadcast bool
	refs      int   // under subscriber.mu
	link      *link // the link that carries it, under subscriber.mu
}

// subscriber reference-counts the names every namespace wants, routes
// incoming messages, and keeps links subscribed to them: one link for
// SUBSCRIBE and PSUBSCRIBE (and, on a standalone server, SSUBSCRIBE), and on
// a Redis Cluster one link per master for the shard channels of the slots
// it owns, never one per room. Shard channels follow their slot: a MOVED
// answer or a sunsubscribe pushed by Redis (the slot migrated) makes the
// subscriber read the slot map again and move them to the new owner's link.
type subscriber struct {
	stats     *counters
	log       *slog.Logger
	onMessage func(rueidis.PubSubMessage)
	onState   func()
	topo      topology // nil on a standalone server

	// routes are read lock-free by the reader goroutine, written under mu.
	routes [numSubKinds]*xsync.MapOf[string, *route]

	mu     sync.Mutex
	main   *link
	shards map[string]*link // by node address (cluster only)
	owners []string         // slot → master address; nil until read
	closed bool
	rehome chan struct{} // capacity 1: the slot map must be read again
	done   chan struct{}
}

// topology is what a cluster subscriber needs of the deployment.
type topology interface {
	// slotOwners returns the address of the master of every slot.
	slotOwners(ctx context.Context) ([]string, error)
	// dialNode dials a dedicated connection to the node at addr.
	dialNode(addr string) dialFunc
}

func newSubscriber(dial dialFunc, topo topology, stats *counters, log *slog.Logger, onMessage func(rueidis.PubSubMessage), onState func()) *subscriber {
	s := &subscriber{stats: stats, log: log, onMessage: onMessage, onState: onState, topo: topo,
		shards: map[string]*link{}, rehome: make(chan struct{}, 1), done: make(chan struct{})}
	for i := range s.routes {
		s.routes[i] = xsync.NewMapOf[string, *route]()
	}
	s.main = newLink(s, "", dial)
	if topo != nil {
		go s.rehomeLoop()
	} else {
		close(s.done)
	}
	return s
}

// lookup returns the route of a message (reader goroutine, lock-free).
func (s *subscriber) lookup(m *rueidis.PubSubMessage) (*route, bool) {
	if m.Pattern != "" {
		return s.routes[subPattern].Load(m.Pattern)
	}
	if r, ok := s.routes[subChannel].Load(m.Channel); ok {
		return r, true
	}
	return s.routes[subShard].Load(m.Channel)
}

// linkFor returns the link that must carry k (under mu). ok is false when
// the owner of a shard channel's slot is not known yet (the rehome loop
// places it once the slot map is read).
func (s *subscriber) linkFor(k subKey) (*link, bool) {
	if k.kind != subShard || s.topo == nil {
		return s.main, true
	}
	if s.owners == nil {
		s.askRehome()
		return nil, false
	}
	addr := s.owners[slot.Of(k.name)]
	if addr == "" {
		s.askRehome()
		return nil, false
	}
	l, ok := s.shards[addr]
	if !ok {
		l = newLink(s, addr, s.topo.dialNode(addr))
		s.shards[addr] = l
	}
	return l, true
}

func (s *subscriber) askRehome() {
	select {
	case s.rehome <- struct{}{}:
	default:
	}
}

// want adds one reference to each key for ns. It does not wait. Nothing is
// added for a closed namespace (checked under the lock dropOwner takes, so
// a room event racing Close cannot leave a subscription behind).
func (s *subscriber) want(ns *Namespace, broadcast bool, keys ...subKey) {
	s.mu.Lock()
	if ns.closed.Load() || s.closed {
		s.mu.Unlock()
		return
	}
	var kicks []*link
	for _, k := range keys {
		r, ok := s.routes[k.kind].Load(k.name)
		if ok {
			r.refs++
			continue
		}
		r = &route{ns: ns, broadcast: broadcast, refs: 1}
		s.routes[k.kind].Store(k.name, r)
		if l, ok := s.linkFor(k); ok {
			r.link = l
			l.set(k, true)
			kicks = appendLink(kicks, l)
		}
	}
	s.mu.Unlock()
	for _, l := range kicks {
		l.kick()
	}
}

func appendLink(ls []*link, l *link) []*link {
	for _, x := range ls {
		if x == l {
			return ls
		}
	}
	return append(ls, l)
}

// unwant drops one reference to each key; names nobody wants any more are
// unsubscribed (and no longer routed).
func (s *subscriber) unwant(keys ...subKey) {
	s.mu.Lock()
	var kicks []*link
	for _, k := range keys {
		r, ok := s.routes[k.kind].Load(k.name)
		if !ok {
			continue
		}
		if r.refs--; r.refs > 0 {
			continue
		}
		s.routes[k.kind].Delete(k.name)
		if r.link != nil {
			r.link.set(k, false)
			kicks = appendLink(kicks, r.link)
		}
	}
	s.mu.Unlock()
	for _, l := range kicks {
		l.kick()
	}
}

// dropOwner unsubscribes everything ns holds, whatever its references (the
// namespace is closed: its room events no longer count), and waits until
// Redis confirmed it or ctx ends (so that, once a namespace is closed, the
// other servers no longer count it).
func (s *subscriber) dropOwner(ctx context.Context, ns *Namespace) error {
	s.mu.Lock()
	byLink := map[*link][]subKey{}
	for kind := range s.routes {
		s.routes[kind].Range(func(name string, r *route) bool {
			if r.ns == ns {
				k := subKey{subKind(kind), name}
				s.routes[kind].Delete(name)
				if r.link != nil {
					r.link.set(k, false)
					byLink[r.link] = append(byLink[r.link], k)
				}
			}
			return true
		})
	}
	s.mu.Unlock()
	var errs []error
	for l, keys := range byLink {
		l.kick()
		if err := l.wait(ctx, &subWaiter{keys: keys, gone: true}); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// await waits until Redis confirmed every key that is still wanted. With
// strict it waits through reconnects (until ctx ends) and fails with the
// error Redis gave for a key; without, it returns nil at once while the
// link is down (the gap is counted), and a Redis error for a key is
// returned as well. A shard channel whose slot owner is not known yet is
// waited for until it is placed (lenient: for at most a second).
func (s *subscriber) await(ctx context.Context, strict bool, keys ...subKey) error {
	placeBy := time.Now().Add(time.Second)
	for {
		s.mu.Lock()
		byLink := map[*link][]subKey{}
		placed := true
		for _, k := range keys {
			r, ok := s.routes[k.kind].Load(k.name)
			if !ok {
				continue // no longer wanted
			}
			if r.link == nil {
				placed = false
				continue
			}
			byLink[r.link] = append(byLink[r.link], k)
		}
		s.mu.Unlock()
		for l, ks := range byLink {
			if err := l.await(ctx, strict, ks); err != nil {
				return err
			}
		}
		if placed || (!strict && time.Now().After(placeBy)) {
			// (lenient: an unplaced channel is waited for a moment, the
			// time the slot map takes to read, so that a Join returns
			// subscribed; not while the cluster cannot answer)
			return nil
		}
		select { // a slot owner is being looked up
		case <-time.After(probeInterval):
		case <-ctx.Done():
			return fmt.Errorf("subscribe: %w", ctx.Err())
		case <-s.done:
			return ErrClosed
		}
	}
}

// deafOwners returns the namespaces with a subscription on a link that is
// down (or not placed on one yet).
func (s *subscriber) deafOwners() map[*Namespace]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	down := map[*link]bool{}
	for _, l := range s.allLinks() {
		if !l.isUp() && l.hasWants() {
			down[l] = true
		}
	}
	deaf := map[*Namespace]bool{}
	if len(down) == 0 {
		return deaf
	}
	for kind := range s.routes {
		s.routes[kind].Range(func(_ string, r *route) bool {
			if r.link == nil || down[r.link] {
				deaf[r.ns] = true
			}
			return true
		})
	}
	return deaf
}

// allLinks lists every link (under mu).
func (s *subscriber) allLinks() []*link {
	ls := []*link{s.main}
	for _, l := range s.shards {
		ls = append(ls, l)
	}
	return ls
}

// moved is called by a link when Redis said a shard channel is not its
// node's any more (MOVED, or a sunsubscribe it did not ask for).
func (s *subscriber) moved(l *link, k subKey) {
	s.log.Info("sioredis: shard channel moved, resubscribing on its new owner", "channel", k.name, "from", l.addr)
	s.askRehome()
}

// rehomeLoop reads the slot map when asked and moves every shard channel
// to the link of its slot's owner.
func (s *subscriber) rehomeLoop() {
	defer close(s.done)
	var last time.Time
	for {
		select {
		case <-s.rehome:
		case <-s.main.ctx.Done():
			return
		}
		// At most one slot map read per rehomeInterval, however many
		// links ask (a dead node's link asks on every retry).
		if wait := rehomeInterval - time.Since(last); wait > 0 {
			select {
			case <-time.After(wait):
			case <-s.main.ctx.Done():
				return
			}
		}
		last = time.Now()
		for attempt := 0; ; attempt++ {
			ctx, cancel := context.WithTimeout(s.main.ctx, subscribeTimeout)
			owners, err := s.topo.slotOwners(ctx)
			cancel()
			if err == nil {
				s.place(owners)
				break
			}
			if s.main.ctx.Err() != nil {
				return
			}
			s.stats.redisErrors.Add(1)
			s.log.Warn("sioredis: reading the cluster's slot map", "err", err)
			select {
			case <-time.After(min(probeMax<<min(attempt, 6), backoffMax)):
			case <-s.main.ctx.Done():
				return
			}
		}
	}
}

// rehomeInterval is the shortest time between two reads of the slot map.
const rehomeInterval = 100 * time.Millisecond

// place records the slot map and moves shard channels to their owners.
func (s *subscriber) place(owners []string) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.owners = owners
	var kicks []*link
	s.routes[subShard].Range(func(name string, r *route) bool {
		k := subKey{subShard, name}
		l, ok := s.linkFor(k)
		if !ok {
			return true
		}
		if l == r.link {
			// Still this link's, but maybe not subscribed there: Redis
			// pushed a sunsubscribe or answered MOVED while the map read
			// here was not yet the new one. Send it again; if the node
			// answers MOVED once more, the map is read again.
			if l.resend(k) {
				kicks = appendLink(kicks, l)
			}
			return true
		}
		if r.link != nil {
			r.link.set(k, false)
			kicks = appendLink(kicks, r.link)
		}
		r.link = l
		l.set(k, true)
		kicks = appendLink(kicks, l)
		return true
	})
	s.mu.Unlock()
	for _, l := range kicks {
		l.kick()
	}
	s.onState()
}

func (s *subscriber) close() {
	s.mu.Lock()
	s.closed = true
	links := s.allLinks()
	s.mu.Unlock()
	for _, l := range links {
		l.close()
	}
	<-s.done
}

// ---- link ------------------------------------------------------------------

// dialFunc returns a dedicated connection for subscriptions (closed, never
// released, when the session ends). It may pick the Redis node (on a
// cluster, a master).
type dialFunc func(ctx context.Context) (rueidis.DedicatedClient, error)

// subscribeBatch bounds the names of one (P)SUBSCRIBE command.
const subscribeBatch = 512

// Reconnection delays: network failures are probed quickly, errors Redis
// answered back off.
const (
	probeInterval = 5 * time.Millisecond
	probeMax      = 25 * time.Millisecond
	backoffMin    = 50 * time.Millisecond
	backoffMax    = 2 * time.Second
	// subscribeTimeout bounds one round of subscription commands; a
	// round that takes longer counts as a lost connection.
	subscribeTimeout = 10 * time.Second
)

// link is one subscription connection and the goroutine that owns it.
type link struct {
	s      *subscriber
	addr   string // the node of a shard link; "" for the main link
	dial   dialFunc
	stats  *counters
	log    *slog.Logger
	everUp bool // only the link goroutine touches it

	mu      sync.Mutex
	want    map[subKey]struct{}
	have    map[subKey]struct{}     // confirmed on the current connection
	failed  map[subKey]error        // Redis refused these (NOPERM…); retried after a reconnect or when wanted again
	dirty   map[subKey]struct{}     // changed since the last round: a round looks at these only
	waiters map[*subWaiter]struct{} // callers of await
	upNow   bool                    // connected and every wanted name was sent at least once
	lost    bool                    // was up once and went down since (lenient waiters then do not wait)
	wake    chan struct{}           // capacity 1
	ctx     context.Context         // canceled by close
	cancel  context.CancelFunc
	done    chan struct{}
	once    sync.Once
}

type subWaiter struct {
	keys   []subKey
	strict bool
	gone   bool       // wait for the keys to be unsubscribed instead
	ch     chan error // buffered 1
}

func newLink(s *subscriber, addr string, dial dialFunc) *link {
	l := &link{s: s, addr: addr, dial: dial, stats: s.stats, log: s.log,
		want: map[subKey]struct{}{}, have: map[subKey]struct{}{}, failed: map[subKey]error{}, dirty: map[subKey]struct{}{},
		waiters: map[*subWaiter]struct{}{}, wake: make(chan struct{}, 1), done: make(chan struct{})}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	go l.run()
	return l
}

// set marks k wanted or not (the caller kicks).
func (l *link) set(k subKey, wanted bool) {
	l.mu.Lock()
	l.dirty[k] = struct{}{}
	if wanted {
		l.want[k] = struct{}{}
		delete(l.failed, k) // wanted again: try again
	} else {
		delete(l.want, k)
		delete(l.failed, k)
	}
	l.mu.Unlock()
}

// resend marks k to be sent again in the next round if it is wanted but
// not subscribed (and not refused by Redis); it reports whether it did.
func (l *link) resend(k subKey) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, wanted := l.want[k]
	_, has := l.have[k]
	_, bad := l.failed[k]
	if !wanted || has || bad {
		return false
	}
	l.dirty[k] = struct{}{}
	return true
}

func (l *link) kick() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *link) isUp() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.upNow
}

// settled reports whether w can return, and with what (under mu).
func (l *link) settled(w *subWaiter) (bool, error) {
	if w.gone { // (have is empty while the link is down)
		for _, k := range w.keys {
			if _, ok := l.have[k]; ok {
				return false, nil
			}
		}
		return true, nil
	}
	for _, k := range w.keys {
		if err, ok := l.failed[k]; ok {
			return true, err
		}
	}
	if !l.upNow && !w.strict && l.lost {
		return true, nil // a gap, counted: do not wait for the reconnect
	}
	for _, k := range w.keys {
		if _, wanted := l.want[k]; !wanted {
			continue
		}
		if _, ok := l.have[k]; !ok {
			return false, nil
		}
	}
	return true, nil
}

func (l *link) await(ctx context.Context, strict bool, keys []subKey) error {
	return l.wait(ctx, &subWaiter{keys: keys, strict: strict})
}

func (l *link) wait(ctx context.Context, w *subWaiter) error {
	l.mu.Lock()
	if ok, err := l.settled(w); ok {
		l.mu.Unlock()
		return err
	}
	if l.ctx.Err() != nil {
		l.mu.Unlock()
		return ErrClosed
	}
	w.ch = make(chan error, 1)
	l.waiters[w] = struct{}{}
	l.mu.Unlock()
	l.kick()
	select {
	case err := <-w.ch:
		return err
	case <-ctx.Done():
		l.mu.Lock()
		delete(l.waiters, w)
		l.mu.Unlock()
		return fmt.Errorf("subscribe: %w", ctx.Err())
	case <-l.ctx.Done():
		return ErrClosed
	}
}

// fail releases every waiter with err.
func (l *link) fail(err error) {
	l.mu.Lock()
	for w := range l.waiters {
		w.ch <- err
		delete(l.waiters, w)
	}
	l.mu.Unlock()
}

// notify releases the waiters that can return (under mu).
func (l *link) notify() {
	for w := range l.waiters {
		if ok, err := l.settled(w); ok {
			w.ch <- err
			delete(l.waiters, w)
		}
	}
}

func (l *link) close() {
	l.once.Do(l.cancel)
	<-l.done
}

func (l *link) run() {
	defer close(l.done)
	defer l.fail(ErrClosed)
	delay := time.Duration(0)
	wasUp := false
	for {
		// Connect only when something is wanted.
		for !l.hasWants() {
			select {
			case <-l.wake:
			case <-l.ctx.Done():
				return
			}
		}
		err := l.session(&wasUp)
		if l.ctx.Err() != nil {
			return
		}
		l.stats.redisErrors.Add(1)
		var redisErr *rueidis.RedisError
		if errors.As(err, &redisErr) && !transient(redisErr) {
			// Redis answered, and said no: tell the callers waiting for
			// their subscriptions now rather than at their deadline, and
			// do not hammer it.
			l.fail(err)
			delay = min(max(2*delay, backoffMin), backoffMax)
		} else {
			delay = min(max(2*delay, probeInterval), probeMax)
		}
		l.log.Warn("sioredis: subscription connection lost, reconnecting", "node", l.addr, "err", err, "retry_in", delay)
		if l.addr != "" {
			// A shard link's node may be gone for good (failed over):
			// the slot map says where its channels live now.
			l.s.askRehome()
		}
		select {
		case <-time.After(delay):
		case <-l.ctx.Done():
			return
		}
		if wasUp {
			delay = 0 // the first retry after a working connection is immediate
			wasUp = false
		}
	}
}

func (l *link) hasWants() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.want) > 0
}

// transient reports Redis errors that mean "not now" rather than "no".
func transient(e *rueidis.RedisError) bool {
	if e.IsLoading() || e.IsTryAgain() || e.IsClusterDown() {
		return true
	}
	return redisErrPrefix(e) == "MASTERDOWN"
}

// redisErrPrefix is the error code Redis put first (NOPERM, WRONGPASS…).
func redisErrPrefix(e *rueidis.RedisError) string {
	prefix, _, _ := strings.Cut(e.Error(), " ")
	return prefix
}

// session runs one connection until it is lost or the link closes.
func (l *link) session(wasUp *bool) error {
	ctx, cancel := context.WithTimeout(l.ctx, subscribeTimeout)
	conn, err := l.dial(ctx)
	cancel()
	if err != nil {
		return fmt.Errorf("subscription connection: %w", err)
	}
	// Close, not release: a released wire is cleaned with UNSUBSCRIBE
	// commands sent without a deadline, which a frozen Redis never
	// answers; this connection is never reused anyway.
	defer conn.Close()
	lost := conn.SetPubSubHooks(rueidis.PubSubHooks{OnMessage: l.s.onMessage, OnSubscription: l.onSubscription})
	l.mu.Lock()
	clear(l.have)
	l.mu.Unlock()
	first := true
	for {
		if err := l.sync(conn, first); err != nil {
			l.down()
			return err
		}
		if first {
			first = false
			*wasUp = true
			l.mu.Lock()
			l.upNow = true
			l.notify()
			l.mu.Unlock()
			if l.everUp {
				l.stats.resubscribes.Add(1)
				l.log.Info("sioredis: subscription connection restored", "node", l.addr)
			}
			l.everUp = true
			l.s.onState()
		}
		select {
		case <-l.wake:
		case err := <-lost:
			l.down()
			if err == nil {
				err = errors.New("subscription connection closed")
			}
			return err
		case <-l.ctx.Done():
			l.down()
			return nil
		}
	}
}

// down marks the link down and tells the namespaces, once per loss.
func (l *link) down() {
	l.mu.Lock()
	wasUp := l.upNow
	l.upNow = false
	if wasUp {
		l.lost = true
	}
	clear(l.have)
	l.notify() // lenient waiters return: the gap is counted
	l.mu.Unlock()
	if wasUp {
		l.s.onState()
	}
}

// sync sends the difference between what is wanted and what is confirmed.
// A network error ends the session; a Redis error on a batch (NOPERM on one
// channel rejects the whole command) is narrowed down name by name, and the
// names Redis refuses are marked failed, counted and logged, and not
// retried until the next connection or until wanted again.
func (l *link) sync(conn rueidis.DedicatedClient, first bool) error {
	l.mu.Lock()
	var add, drop [numSubKinds][]string
	// After a (re)connect everything wanted is sent; later rounds send
	// what changed since the previous one, so a round costs what changed,
	// not what is subscribed.
	changed := l.dirty
	if first {
		changed = l.want
	}
	for k := range changed {
		_, wanted := l.want[k]
		_, has := l.have[k]
		switch {
		case wanted && !has:
			if _, bad := l.failed[k]; bad && !first {
				continue
			}
			add[k.kind] = append(add[k.kind], k.name)
		case !wanted && has:
			drop[k.kind] = append(drop[k.kind], k.name)
		}
	}
	if first {
		clear(l.failed)
	}
	clear(l.dirty) // (changed, when it is l.dirty, was read in full above)
	l.mu.Unlock()

	type batch struct {
		kind  subKind
		unsub bool
		names []string
	}
	var batches []batch
	var cmds []rueidis.Completed
	for kind := range numSubKinds {
		for _, unsub := range []bool{true, false} {
			names := add[kind]
			if unsub {
				names = drop[kind]
			}
			if kind == subShard && l.addr != "" {
				// On a cluster SSUBSCRIBE takes the channels of one slot
				// only (a standalone Redis takes any).
				for _, group := range bySlot(names) {
					batches = append(batches, batch{kind, unsub, group})
					cmds = append(cmds, subCommand(conn, kind, unsub, group))
				}
				continue
			}
			for len(names) > 0 {
				n := min(len(names), subscribeBatch)
				batches = append(batches, batch{kind, unsub, names[:n]})
				cmds = append(cmds, subCommand(conn, kind, unsub, names[:n]))
				names = names[n:]
			}
		}
	}
	if len(cmds) == 0 {
		l.mu.Lock()
		l.notify()
		l.mu.Unlock()
		return nil
	}
	ctx, cancel := context.WithTimeout(l.ctx, subscribeTimeout)
	defer cancel()
	resps := conn.DoMulti(ctx, cmds...)
	for i, b := range batches {
		err := resps[i].Error()
		if err == nil {
			l.confirm(b.kind, b.unsub, b.names, nil)
			continue
		}
		if re, isRedis := rueidis.IsRedisErr(err); isRedis && b.kind == subShard {
			if _, moved := re.IsMoved(); moved || redisErrPrefix(re) == "CLUSTERDOWN" || re.IsTryAgain() {
				// The slot is not this node's (any more): the subscriber
				// reads the slot map again and moves the channels.
				for _, name := range b.names {
					l.s.moved(l, subKey{b.kind, name})
				}
				continue
			}
		}
		if re, isRedis := rueidis.IsRedisErr(err); !isRedis || redisErrPrefix(re) != "NOPERM" {
			// The connection failed, or Redis refuses the connection
			// itself (NOAUTH, WRONGPASS, LOADING…): the session ends.
			return fmt.Errorf("%s: %w", subVerbs[b.kind][boolIndex(b.unsub)], err)
		}
		// Redis refused a channel (ACL): find the names it refuses.
		for _, name := range b.names {
			err := conn.Do(ctx, subCommand(conn, b.kind, b.unsub, []string{name})).Error()
			if err != nil {
				if _, isRedis := rueidis.IsRedisErr(err); !isRedis {
					return fmt.Errorf("%s: %w", subVerbs[b.kind][boolIndex(b.unsub)], err)
				}
				l.stats.subscribeErrors.Add(1)
				l.log.Error("sioredis: Redis refused a subscription", "command", subVerbs[b.kind][boolIndex(b.unsub)], "name", name, "err", err)
				l.confirm(b.kind, b.unsub, []string{name}, fmt.Errorf("%s %s: %w", subVerbs[b.kind][boolIndex(b.unsub)], name, err))
				continue
			}
			l.confirm(b.kind, b.unsub, []string{name}, nil)
		}
	}
	l.mu.Lock()
	l.notify()
	l.mu.Unlock()
	return nil
}

// confirm records the outcome of a command for names.
func (l *link) confirm(kind subKind, unsub bool, names []string, err error) {
	l.mu.Lock()
	for _, name := range names {
		k := subKey{kind, name}
		switch {
		case err != nil && !unsub:
			if _, wanted := l.want[k]; wanted {
				l.failed[k] = err
			}
		case unsub:
			delete(l.have, k)
		default:
			l.have[k] = struct{}{}
		}
	}
	l.mu.Unlock()
}

// bySlot groups shard channel names by hash slot, at most subscribeBatch a
// group.
func bySlot(names []string) [][]string {
	groups := map[int][]string{}
	var order []int
	for _, n := range names {
		sl := slot.Of(n)
		if _, ok := groups[sl]; !ok {
			order = append(order, sl)
		}
		groups[sl] = append(groups[sl], n)
	}
	var out [][]string
	for _, sl := range order {
		g := groups[sl]
		for len(g) > 0 {
			n := min(len(g), subscribeBatch)
			out = append(out, g[:n])
			g = g[n:]
		}
	}
	return out
}

// onSubscription sees Redis's subscription events: a sunsubscribe this link
// did not ask for means the channel's slot migrated to another node.
func (l *link) onSubscription(ev rueidis.PubSubSubscription) {
	if ev.Kind != "sunsubscribe" {
		return
	}
	k := subKey{subShard, ev.Channel}
	l.mu.Lock()
	_, wanted := l.want[k]
	_, had := l.have[k]
	if wanted && had {
		delete(l.have, k)
	}
	l.mu.Unlock()
	if wanted && had {
		l.s.moved(l, k)
	}
}

func subCommand(conn rueidis.DedicatedClient, kind subKind, unsub bool, names []string) rueidis.Completed {
	switch {
	case kind == subShard && !unsub:
		return conn.B().Ssubscribe().Channel(names...).Build()
	case kind == subShard:
		return conn.B().Sunsubscribe().Channel(names...).Build()
	case kind == subChannel && !unsub:
		return conn.B().Subscribe().Channel(names...).Build()
	case kind == subChannel:
		return conn.B().Unsubscribe().Channel(names...).Build()
	case !unsub:
		return conn.B().Psubscribe().Pattern(names...).Build()
	default:
		return conn.B().Punsubscribe().Pattern(names...).Build()
	}
}

func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}
