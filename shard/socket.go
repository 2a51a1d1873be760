package shard

// Socket half of the index: Join, Leave, Disconnect and Rooms. See node
// for the locking rules.

// Join adds the socket sid to rooms, adding the socket itself first if it
// is not in the index yet (a socket is in the index from its first Join
// until Disconnect, and is always a member of its own room StringRoom(sid),
// which Join therefore skips). Joining a room twice is a no-op. An empty
// sid is ignored.
//
// Join may run OnRoomCreate, for the socket's own room when the socket is
// new and for every room that gets its first member.
func (ix *Index) Join(sid string, rooms ...Room) {
	if sid == "" {
		return
	}
	s := ix.lockSocket(sid)
	ix.joinLocked(s, rooms)
	s.smu.Unlock()
}

// JoinExisting is Join for a socket that must already be in the index:
// if sid is unknown (or empty) it does nothing and reports false. Use it
// for requests that name a socket rather than add one, such as a join
// requested by another server, so that a socket disconnected meanwhile
// is not brought back.
func (ix *Index) JoinExisting(sid string, rooms ...Room) bool {
	if sid == "" {
		return false
	}
	s := ix.load(StringRoom(sid))
	if s == nil {
		return false
	}
	s.smu.Lock()
	ok := s.sock.Load()
	if ok {
		ix.joinLocked(s, rooms)
	}
	s.smu.Unlock()
	return ok
}

// joinLocked adds socket s (smu held) to rooms.
func (ix *Index) joinLocked(s *node, rooms []Room) {
	for _, r := range rooms {
		if !r.Numeric && r.Name == s.name || s.roomIndex(r) >= 0 {
			continue
		}
		ix.addMember(s, r)
	}
}

// lockSocket returns the node of socket sid with smu held, attaching a new
// socket to it if needed.
func (ix *Index) lockSocket(sid string) *node {
	self := StringRoom(sid)
	for {
		n := ix.loadOrCreate(self)
		n.smu.Lock()
		if n.sock.Load() {
			return n
		}
		n.mu.Lock()
		if n.dead {
			n.mu.Unlock()
			n.smu.Unlock()
			continue
		}
		n.sid = ix.ids.alloc(n.name, ix.detaches.Load())
		n.sock.Store(true)
		ix.socketCount.Inc()
		ix.settle(n)
		n.mu.Unlock()
		return n
	}
}

// addMember adds socket s (smu held) to room r as an explicit member.
func (ix *Index) addMember(s *node, r Room) {
	for {
		n := ix.loadOrCreate(r)
		n.mu.Lock()
		if n.dead {
			n.mu.Unlock()
			continue
		}
		if n.members == nil {
			n.members = new(memberList)
		}
		n.members.add(s.sid, s.name)
		ix.settle(n)
		n.mu.Unlock()
		if len(s.rooms) == cap(s.rooms) {
			// Grow exactly while small: most sockets are in a few rooms.
			c := len(s.rooms) + 1
			if c > 4 {
				c = 2 * len(s.rooms)
			}
			s.rooms = append(make([]*node, 0, c), s.rooms...)
		}
		s.rooms = append(s.rooms, n)
		return
	}
}

// removeMember removes dense id from room n (a live node).
func (ix *Index) removeMember(n *node, id uint32) {
	n.mu.Lock()
	if m := n.members; m != nil && m.remove(id) && m.len() == 0 {
		n.members = nil
	}
	ix.settle(n)
	n.mu.Unlock()
}

// roomIndex returns the position of r in s.rooms or -1. smu must be held.
func (s *node) roomIndex(r Room) int {
	for i, n := range s.rooms {
		if n.name == r.Name && n.numeric == r.Numeric {
			return i
		}
	}
	return -1
}

// Leave removes the socket sid from room. It is a no-op if the socket is
// not in the room, if sid is unknown or empty, and for the socket's own
// room, which it leaves only by Disconnect. It may run OnRoomDelete.
func (ix *Index) Leave(sid string, room Room) {
	if sid == "" {
		return
	}
	s := ix.load(StringRoom(sid))
	if s == nil {
		return
	}
	s.smu.Lock()
	if s.sock.Load() {
		if i := s.roomIndex(room); i >= 0 {
			n := s.rooms[i]
			copy(s.rooms[i:], s.rooms[i+1:])
			s.rooms[len(s.rooms)-1] = nil
			s.rooms = s.rooms[:len(s.rooms)-1]
			ix.removeMember(n, s.sid)
		}
	}
	s.smu.Unlock()
}

// Disconnect removes the socket sid from all its rooms, its own room
// included, and forgets it. Unknown or empty ids are ignored. It may run
// OnRoomDelete for every room that loses its last member.
func (ix *Index) Disconnect(sid string) {
	if sid == "" {
		return
	}
	s := ix.load(StringRoom(sid))
	if s == nil {
		return
	}
	s.smu.Lock()
	if !s.sock.Load() {
		s.smu.Unlock()
		return
	}
	id := s.sid
	for i, n := range s.rooms {
		ix.removeMember(n, id)
		s.rooms[i] = nil
	}
	s.rooms = nil
	s.mu.Lock()
	s.sock.Store(false)
	s.sid = 0
	ix.socketCount.Dec()
	ix.settle(s)
	s.mu.Unlock()
	// Only now that id is in no member set and not in s.sid can it go.
	ix.ids.free(id)
	// Counted only once the socket is gone from every place a broadcast
	// reads (member lists, s.sock, the id table): a broadcast that saw it
	// anywhere then started before this count, and the socket added again
	// under this id gets a later epoch (see sidChunk.epochs). Counting
	// before the id table entry was cleared let a broadcast to every
	// socket find the old entry and the new socket both.
	ix.detaches.Add(1)
	s.smu.Unlock()
}

// Rooms appends to dst the rooms of socket sid and returns the extended
// slice: its own room StringRoom(sid) first, then the others in the order
// it joined them. An unknown sid appends nothing.
func (ix *Index) Rooms(sid string, dst []Room) []Room {
	if sid == "" {
		return dst
	}
	s := ix.load(StringRoom(sid))
	if s == nil {
		return dst
	}
	s.smu.Lock()
	if s.sock.Load() {
		dst = append(dst, s.key())
		for _, n := range s.rooms {
			dst = append(dst, n.key())
		}
	}
	s.smu.Unlock()
	return dst
}

// HasSocket reports whether socket sid is in the index. It takes no lock
// and may be called from room event callbacks.
func (ix *Index) HasSocket(sid string) bool {
	if sid == "" {
		return false
	}
	s := ix.load(StringRoom(sid))
	return s != nil && s.sock.Load()
}

// SocketCount returns the number of sockets in the index. It takes no
// lock and may be called from room event callbacks; under concurrent
// change it is approximate.
func (ix *Index) SocketCount() int { return int(ix.socketCount.Value()) }
