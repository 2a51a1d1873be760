package shard

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
)

// Dense socket ids.
//
// Every live socket gets a small integer id, unique among live sockets of
// the Index and reused after Disconnect. Room member lists key their hash
// index by these ids (4-byte slots), and a broadcast de-duplicates
// recipients with a bitset indexed by them instead of a hash set of
// strings.
//
// The sidTable maps ids back to socket id strings, for broadcasts to
// every socket, and records when each socket was added. It is a directory
// of fixed-size chunks; chunks never move, and a grown directory is
// published behind an atomic pointer. Ids are handed out by stripes, each
// with its own lock, free list and current chunk, so that unrelated
// connects and disconnects rarely meet on a lock.
//
// Reading an entry: under the chunk's read lock, or, for an id found in a
// room's member list, under that room's lock with no chunk lock at all.
// The latter is sound because an entry is written before the socket is
// added to any room and cleared only after it has left every room, so
// the room lock orders the accesses.

const (
	chunkBits = 8
	chunkSize = 1 << chunkBits
	chunkMask = chunkSize - 1
)

type sidChunk struct {
	mu    sync.RWMutex
	owner uint32            // stripe that hands out this chunk's ids
	sids  [chunkSize]string // "" if the id is free
	// epochs holds, per id, the low 32 bits of Index.detaches when the
	// socket was added. A broadcast that spans several snapshots skips
	// sockets added after it started, so that a socket disconnected and
	// added again under the same id string during the broadcast (which
	// gets a new dense id) is not delivered twice. This holds because
	// Disconnect counts itself in detaches only after the socket is gone
	// from its rooms and from this table: a broadcast that saw the old
	// socket loaded its epoch before that count, and the new socket's
	// epoch is read after it.
	epochs [chunkSize]uint32
}

type sidDir []*sidChunk

// addedAfter reports whether the socket with dense id was added after
// the detach count was epoch. See the locking rules above.
func (d sidDir) addedAfter(id uint32, epoch uint64) bool {
	return int32(d[id>>chunkBits].epochs[id&chunkMask]-uint32(epoch)) > 0
}

type idStripe struct {
	mu        sync.Mutex
	free      []uint32
	next, end uint32 // unused ids [next, end) of the stripe's newest chunk
	_         [64 - 8 - 24 - 8]byte
}

type sidTable struct {
	dir     atomic.Pointer[sidDir]
	growMu  sync.Mutex
	stripes []idStripe
}

func (t *sidTable) init() {
	n := 4
	for n < 4*runtime.GOMAXPROCS(0) && n < 64 {
		n *= 2
	}
	t.stripes = make([]idStripe, n)
	t.dir.Store(&sidDir{})
}

// load returns the current directory. Any id allocated before the call
// is covered by it.
func (t *sidTable) load() sidDir { return *t.dir.Load() }

// alloc returns a fresh id (never 0) and records sid and epoch for it.
func (t *sidTable) alloc(sid string, epoch uint64) uint32 {
	si := rand.Uint32() & uint32(len(t.stripes)-1)
	st := &t.stripes[si]
	st.mu.Lock()
	var id uint32
	if n := len(st.free); n > 0 {
		id = st.free[n-1]
		st.free = st.free[:n-1]
	} else {
		if st.next == st.end {
			st.next, st.end = t.grow(si)
		}
		id = st.next
		st.next++
	}
	st.mu.Unlock()
	c := t.load()[id>>chunkBits]
	c.mu.Lock()
	c.sids[id&chunkMask] = sid
	c.epochs[id&chunkMask] = uint32(epoch)
	c.mu.Unlock()
	return id
}

// grow appends a chunk owned by stripe si and returns its usable ids.
func (t *sidTable) grow(si uint32) (next, end uint32) {
	t.growMu.Lock()
	defer t.growMu.Unlock()
	d := t.load()
	base := uint32(len(d)) << chunkBits
	// Appending may write into spare capacity of the published array;
	// readers only index below their own len, so that is not shared.
	nd := append(d, &sidChunk{owner: si})
	t.dir.Store(&nd)
	if base == 0 {
		return 1, chunkSize // id 0 means "empty slot" in idSet
	}
	return base, base + chunkSize
}

// free forgets id and makes it available again. The socket must already
// have left every room.
func (t *sidTable) free(id uint32) {
	c := t.load()[id>>chunkBits]
	c.mu.Lock()
	c.sids[id&chunkMask] = ""
	c.mu.Unlock()
	st := &t.stripes[c.owner]
	st.mu.Lock()
	st.free = append(st.free, id)
	st.mu.Unlock()
}
