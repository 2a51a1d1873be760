package shard

import "sync"

// Recipient iteration for broadcasts.
//
// A broadcast snapshots one room at a time: under the room's read lock it
// copies the socket ids of the members into pooled scratch, releases the
// lock, and only then calls fn for them. fn therefore never runs under a
// lock of the Index (it may call any method, including Join and Leave),
// concurrent broadcasts to one room proceed in parallel, and a Join to a
// room being broadcast to waits at most for a copy, never for delivery.
//
// A room's members are stored densely (see memberList), so the snapshot
// of one room is a single copy of string headers.
//
// With several target rooms or any except room, recipients are
// de-duplicated with a bitset over dense socket ids, also pooled: except
// rooms are marked first, then each target member is delivered only if
// its bit was clear, and its bit is set. Bits set are remembered and
// cleared afterwards, so the cost is proportional to the recipients, not
// to the number of sockets. One target room and no except room needs no
// bitset, and a socket's own room with nobody joined into it needs no
// scratch at all.
//
// Broadcasting to every socket (no target rooms) walks the dense id
// table a chunk at a time, so the scratch holds at most one chunk.
//
// A broadcast made of several snapshots (several rooms, or the chunks of
// the id table) skips sockets added after it started. Otherwise a socket
// disconnected and added again under the same id while the broadcast runs
// (a new dense id, so a clear bit) could be delivered twice; with the
// rule it is delivered at most once, as the consistency rule promises.
// The check costs nothing unless some socket was disconnected since the
// broadcast started.

// scratch is the pooled per-broadcast working memory.
type scratch struct {
	sids    []string // snapshot of the room being delivered
	bits    []uint64 // except ∪ already delivered, by dense id
	touched []uint32 // ids whose bits are set, for cheap clearing
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// maxPooledSids bounds the snapshot capacity kept in the pool (4 MiB of
// string headers); a larger one is left to the garbage collector.
const maxPooledSids = 1 << 18

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

func putScratch(sc *scratch) {
	for _, id := range sc.touched {
		sc.bits[id>>6] = 0
	}
	sc.touched = sc.touched[:0]
	clear(sc.sids)
	sc.sids = sc.sids[:0]
	if cap(sc.sids) > maxPooledSids {
		sc.sids = nil
	}
	scratchPool.Put(sc)
}

// mark sets the bit of id and reports whether it was clear.
func (sc *scratch) mark(id uint32) bool {
	w := int(id >> 6)
	if w >= len(sc.bits) {
		sc.growBits(w)
	}
	b := uint64(1) << (id & 63)
	if sc.bits[w]&b != 0 {
		return false
	}
	sc.bits[w] |= b
	sc.touched = append(sc.touched, id)
	return true
}

// marked reports whether the bit of id is set.
func (sc *scratch) marked(id uint32) bool {
	w := int(id >> 6)
	return w < len(sc.bits) && sc.bits[w]&(uint64(1)<<(id&63)) != 0
}

func (sc *scratch) growBits(w int) {
	n := max(2*len(sc.bits), w+1, chunkSize/64)
	nb := make([]uint64, n)
	copy(nb, sc.bits)
	sc.bits = nb
}

// deliver calls fn for the snapshot and empties it; it reports false if
// fn asked to stop.
func (sc *scratch) deliver(fn func(sid string) bool) bool {
	ok := true
	for _, sid := range sc.sids {
		if !fn(sid) {
			ok = false
			break
		}
	}
	clear(sc.sids)
	sc.sids = sc.sids[:0]
	return ok
}

// ForEachRecipient calls fn with the socket id of every recipient of a
// broadcast to rooms (none means every socket of the index) except the
// sockets that are in any of the except rooms. Each recipient is visited
// once even if it is in several target rooms. fn returns false to stop
// early.
//
// Consistency under concurrent change: a socket that is in a target room
// and in no except room for the whole call is passed to fn exactly once;
// a socket that joins or leaves a target or except room, connects or
// disconnects during the call is passed at most once.
//
// fn runs without any lock of the Index held and may call its methods.
// The call allocates nothing per recipient, and in steady state nothing
// at all (working memory is pooled).
func (ix *Index) ForEachRecipient(rooms, except []Room, fn func(sid string) bool) {
	if fn == nil {
		return
	}
	if len(rooms) == 1 && len(except) == 0 {
		ix.forRoom(rooms[0], fn)
		return
	}
	// Several snapshots: sockets added after this point are skipped (see
	// sidChunk.epochs).
	epoch := ix.detaches.Load()
	sc := getScratch()
	for _, r := range except {
		n := ix.load(r)
		if n == nil {
			continue
		}
		n.mu.RLock()
		if n.sock.Load() {
			sc.mark(n.sid)
		}
		if m := n.members; m != nil {
			for _, id := range m.ids {
				sc.mark(id)
			}
		}
		n.mu.RUnlock()
	}
	if len(rooms) == 0 {
		ix.forAll(sc, epoch, fn)
	} else {
		for _, r := range rooms {
			n := ix.load(r)
			if n == nil {
				continue
			}
			n.mu.RLock()
			// Nobody disconnected since the start: nobody can have been
			// added again under an id already delivered.
			var d sidDir
			if ix.detaches.Load() != epoch {
				d = ix.ids.load()
			}
			if n.sock.Load() && (d == nil || !d.addedAfter(n.sid, epoch)) && sc.mark(n.sid) {
				sc.sids = append(sc.sids, n.name)
			}
			if m := n.members; m != nil {
				for i, id := range m.ids {
					if (d == nil || !d.addedAfter(id, epoch)) && sc.mark(id) {
						sc.sids = append(sc.sids, m.sids[i])
					}
				}
			}
			n.mu.RUnlock()
			if !sc.deliver(fn) {
				break
			}
		}
	}
	putScratch(sc)
}

// forRoom is the fast path for a single target room and no except room:
// the snapshot is one copy, there is nothing to de-duplicate (a member
// list has no duplicates and never holds the room's own socket).
func (ix *Index) forRoom(r Room, fn func(sid string) bool) {
	n := ix.load(r)
	if n == nil {
		return
	}
	n.mu.RLock()
	m := n.members
	if m == nil {
		// A socket's own room: at most one recipient, no scratch.
		sock := n.sock.Load()
		n.mu.RUnlock()
		if sock {
			fn(n.name)
		}
		return
	}
	sc := getScratch()
	if n.sock.Load() {
		sc.sids = append(sc.sids, n.name)
	}
	sc.sids = append(sc.sids, m.sids...)
	n.mu.RUnlock()
	sc.deliver(fn)
	putScratch(sc)
}

// forAll delivers to every socket, except those marked in sc and those
// added after epoch, one id chunk at a time.
func (ix *Index) forAll(sc *scratch, epoch uint64, fn func(sid string) bool) {
	d := ix.ids.load()
	for ci, c := range d {
		base := uint32(ci) << chunkBits
		c.mu.RLock()
		check := ix.detaches.Load() != epoch
		for i, sid := range c.sids {
			id := base + uint32(i)
			if sid != "" && !sc.marked(id) && (!check || !d.addedAfter(id, epoch)) {
				sc.sids = append(sc.sids, sid)
			}
		}
		c.mu.RUnlock()
		if !sc.deliver(fn) {
			return
		}
	}
}
