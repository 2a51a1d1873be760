package shard

import (
	"sync/atomic"

	"github.com/puzpuzpuz/xsync/v3"
)

// Options configures an Index. The zero value is ready to use: no
// callbacks, default sizing.
type Options struct {
	// OnRoomCreate, if not nil, is called when a room gets its first
	// member, including the own room of a socket when the socket is added
	// (HasSocket(room.Name) is then already true).
	OnRoomCreate func(Room)

	// OnRoomDelete, if not nil, is called when a room loses its last
	// member, including the own room of a socket on Disconnect (unless
	// sockets were explicitly joined into a room with that name).
	//
	// Both callbacks run synchronously inside the Join, Leave or
	// Disconnect call that caused the change, while the room's lock (and
	// the lock of the socket being changed) is held. Consequently, per
	// room, calls strictly alternate create, delete, create, ... and
	// never overlap; callbacks for different rooms may run concurrently.
	// A callback must not panic and must not call methods of the Index
	// other than HasSocket, HasRoom, SocketCount and RoomCount, which take
	// no lock; anything else may deadlock. A slow callback delays only
	// operations on that room and that socket.
	OnRoomDelete func(Room)

	// SizeHint is the expected number of sockets plus rooms, used to
	// presize the index. Zero or negative means start small and grow.
	SizeHint int
}

// Index is the room membership of one namespace: which sockets are in
// which rooms. All methods are safe for concurrent use; see the package
// documentation for the design and the consistency rule of broadcasts.
//
// Its lineage: the key space is a pair of xsync.MapOf, a CLHT-style
// concurrent hash table (David, Guerraoui, Trigonakis, ASPLOS 2015) with
// lock-free reads; each key owns a node with its own locks, so operations
// on unrelated rooms and sockets meet only where they happen to share a
// hash bucket (whose lock is taken to insert or delete a key) or a stripe
// of the socket id allocator (on connect and disconnect), and
// disconnects increment one shared counter. Sockets get dense integer ids (a slot
// allocator with free lists, as in entity-component systems); a room's
// members are a dense array indexed by a linear-probing table with
// backward-shift deletion (the sparse/dense set of Briggs and Torczon,
// 1993, with a hash table as the sparse side), and broadcasts
// de-duplicate with a bitset over the dense ids.
//
// An Index must not be copied after first use. The zero Index is not
// usable; call New.
type Index struct {
	strings     *xsync.MapOf[string, *node] // string rooms, sockets included
	numbers     *xsync.MapOf[string, *node] // numeric rooms
	ids         sidTable
	socketCount *xsync.Counter
	roomCount   *xsync.Counter
	onCreate    func(Room)
	onDelete    func(Room)

	_ [64]byte
	// detaches counts Disconnects; see sidChunk.epochs. It is written
	// once per Disconnect and read once per connect and per multi-room
	// broadcast, so it sits on its own cache line.
	detaches atomic.Uint64
	_        [56]byte
}

// New returns an empty Index configured by o.
func New(o Options) *Index {
	var opts []func(*xsync.MapConfig)
	if o.SizeHint > 0 {
		opts = append(opts, xsync.WithPresize(o.SizeHint))
	}
	ix := &Index{
		strings:     xsync.NewMapOf[string, *node](opts...),
		numbers:     xsync.NewMapOf[string, *node](),
		socketCount: xsync.NewCounter(),
		roomCount:   xsync.NewCounter(),
		onCreate:    o.OnRoomCreate,
		onDelete:    o.OnRoomDelete,
	}
	ix.ids.init()
	return ix
}

// HasRoom reports whether room has at least one member; a socket's own
// room exists as long as the socket does. It takes no lock and may be
// called from room event callbacks.
func (ix *Index) HasRoom(room Room) bool {
	n := ix.load(room)
	return n != nil && n.live.Load()
}

// RoomCount returns the number of rooms with at least one member,
// counting the own room of every socket. It takes no lock and may be
// called from room event callbacks; under concurrent change it is
// approximate.
func (ix *Index) RoomCount() int { return int(ix.roomCount.Value()) }

// MemberCount returns the number of sockets in room.
func (ix *Index) MemberCount(room Room) int {
	n := ix.load(room)
	if n == nil {
		return 0
	}
	n.mu.RLock()
	c := n.nmembers()
	if n.sock.Load() {
		c++
	}
	n.mu.RUnlock()
	return c
}

// Members appends the socket ids of the members of room to dst, in no
// particular order, and returns the extended slice. A room named like a
// socket id contains that socket (first) and whoever was joined into it.
func (ix *Index) Members(room Room, dst []string) []string {
	n := ix.load(room)
	if n == nil {
		return dst
	}
	n.mu.RLock()
	if n.sock.Load() {
		dst = append(dst, n.name)
	}
	if n.members != nil {
		dst = append(dst, n.members.sids...)
	}
	n.mu.RUnlock()
	return dst
}

// AllRooms appends every room with at least one member to dst, sockets'
// own rooms included, in no particular order, and returns the extended
// slice. Under concurrent change, a room that exists for the whole call
// is appended exactly once, others at most once.
func (ix *Index) AllRooms(dst []Room) []Room {
	add := func(_ string, n *node) bool {
		if n.live.Load() {
			dst = append(dst, n.key())
		}
		return true
	}
	ix.strings.Range(add)
	ix.numbers.Range(add)
	return dst
}
