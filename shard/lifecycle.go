package shard

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/puzpuzpuz/xsync/v3"
)

// node is the state behind one key of the index: an explicit room, the
// implicit room of the socket whose id is the key, or both at once (when
// sockets are joined into a room named like a socket id).
//
// Sockets are nodes too: a socket with id x lives in the node of
// StringRoom(x), so a socket costs one map entry and one 96-byte object,
// and its own room needs no member list at all (see sock). The two halves
// use different locks:
//
//   - mu guards the room half: members, dead, and the transitions of
//     live, sock and sid. Room events for the key fire with mu held.
//   - smu guards the socket half: rooms. It is the per-socket lock that
//     serialises Join, Leave and Disconnect of one socket.
//
// Lock order: at most one smu, then at most one mu at a time (smu → mu).
// sock and sid change only with both locks of their node held, so
// either lock is enough to read them; sock and live are also atomics so
// that HasSocket and HasRoom take no lock at all.
type node struct {
	name string // immutable; the Index's own copy

	mu      sync.RWMutex
	members *memberList // explicit members; nil when none
	sid     uint32      // dense id of the socket named name, if sock
	sock    atomic.Bool // a socket with id name exists: an implicit member
	live    atomic.Bool // the room exists (sock || members), as announced
	numeric bool        // immutable; the key is Room{name, true}
	dead    bool        // unlinked from the index: retry on a fresh node

	smu   sync.Mutex
	rooms []*node // explicit rooms of the socket, in join order
}

func (n *node) key() Room { return Room{Name: n.name, Numeric: n.numeric} }

// nmembers returns the number of explicit members. mu must be held.
func (n *node) nmembers() int {
	if n.members == nil {
		return 0
	}
	return n.members.len()
}

// exists reports whether the room has any member. mu must be held.
func (n *node) exists() bool { return n.sock.Load() || n.members != nil }

// table returns the map holding the nodes of r.
func (ix *Index) table(numeric bool) *xsync.MapOf[string, *node] {
	if numeric {
		return ix.numbers
	}
	return ix.strings
}

// load returns the node for r, or nil.
func (ix *Index) load(r Room) *node {
	n, _ := ix.table(r.Numeric).Load(r.Name)
	return n
}

// loadOrCreate returns the node for r, inserting an empty one if there is
// none. The result may turn out to be dead once locked: callers retry.
func (ix *Index) loadOrCreate(r Room) *node {
	t := ix.table(r.Numeric)
	if n, ok := t.Load(r.Name); ok {
		return n
	}
	name := strings.Clone(r.Name)
	n, _ := t.LoadOrCompute(name, func() *node { return &node{name: name, numeric: r.Numeric} })
	return n
}

// settle announces a change of existence of n after its members or sock
// changed; n.mu must be held.
//
// This is what makes room events exact. Existence is a function of state
// guarded by n.mu only, every change of that state is followed by settle
// under the same lock hold, and events fire inside it, so per node they
// strictly alternate create, delete, create... A node whose room stops
// existing is marked dead and unlinked from the map before mu is
// released; a joiner that raced with the last leave and already held a
// pointer to it sees dead once it gets the lock and retries on a fresh
// node, whose create event therefore comes after this node's delete
// event. No member is lost and no delete is sent for a room that has
// members.
func (ix *Index) settle(n *node) {
	exists := n.exists()
	if exists == n.live.Load() {
		if !exists && !n.dead {
			// Never announced and already empty: just unlink it.
			n.dead = true
			ix.table(n.numeric).Delete(n.name)
		}
		return
	}
	if exists {
		n.live.Store(true)
		ix.roomCount.Inc()
		if ix.onCreate != nil {
			ix.onCreate(n.key())
		}
		return
	}
	n.live.Store(false)
	n.dead = true
	ix.roomCount.Dec()
	if ix.onDelete != nil {
		ix.onDelete(n.key())
	}
	// Only n itself unlinks n and no other node is inserted for its key
	// while n is linked, so a plain Delete removes exactly n.
	ix.table(n.numeric).Delete(n.name)
}
