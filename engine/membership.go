package engine

import "sync"

// This file is where the namespace changes room membership: every join,
// leave and disconnect, whether the host asked for it or another server did
// (socketsJoin, remoteLeave, disconnectSockets…), goes through here, so that
// a Host that keeps its own view of the rooms (a Socket.IO server's
// Rooms()/Sids() maps and its room events) is told of every change.

// MembershipObserver is an optional extension of Host: a Host that
// implements it is told of every change of the namespace's local room
// membership, local or requested by another server. Calls come outside the
// engine's locks, one at a time per namespace, in the order the changes
// happened: for a join RoomCreated (when the room is new) then
// SocketJoined; for a leave SocketLeft then RoomDeleted (when the room is
// now empty). A socket's own room counts like any other (AddSocket gives
// RoomCreated(sid) and SocketJoined(sid, sid)). The observer may call the
// Namespace (its changes are reported after the current call returns).
type MembershipObserver interface {
	RoomCreated(room Room)
	RoomDeleted(room Room)
	SocketJoined(sid string, room Room)
	SocketLeft(sid string, room Room)
}

// AckIDs is an optional extension of Host: a Host that implements it gives
// the ids of packets that expect an acknowledgement (a Socket.IO server's
// per-namespace counter), so that the engine's acks and the server's own
// never share an id on one socket. Without it the engine counts its own.
type AckIDs interface {
	NextAckID() uint64
}

type memberEventKind uint8

const (
	evRoomCreated memberEventKind = iota
	evRoomDeleted
	evJoined
	evLeft
)

type memberEvent struct {
	kind memberEventKind
	sid  string
	room Room
}

// membership queues the events of one namespace and hands them to the
// observer outside every lock, in order.
type membership struct {
	obs      MembershipObserver // nil: nothing is recorded
	mu       sync.Mutex
	queue    []memberEvent
	draining bool
}

func (m *membership) add(e memberEvent) {
	m.mu.Lock()
	m.queue = append(m.queue, e)
	m.mu.Unlock()
}

// flush delivers what is queued. A flush called while another runs (from
// another goroutine, or from the observer itself) leaves its events to
// that one, which loops until the queue is empty.
func (m *membership) flush() {
	m.mu.Lock()
	if m.draining {
		m.mu.Unlock()
		return
	}
	m.draining = true
	for len(m.queue) > 0 {
		batch := m.queue
		m.queue = nil
		m.mu.Unlock()
		for _, e := range batch {
			switch e.kind {
			case evRoomCreated:
				m.obs.RoomCreated(e.room)
			case evRoomDeleted:
				m.obs.RoomDeleted(e.room)
			case evJoined:
				m.obs.SocketJoined(e.sid, e.room)
			case evLeft:
				m.obs.SocketLeft(e.sid, e.room)
			}
		}
		m.mu.Lock()
	}
	m.draining = false
	m.mu.Unlock()
}

// roomEvent records a room created or deleted (from the index's hooks).
func (n *Namespace) roomEvent(kind memberEventKind, r Room) {
	if n.members.obs != nil {
		n.members.add(memberEvent{kind: kind, room: r})
	}
}

// join adds sid to rooms (its own room included). With existing, only a
// socket that is already known joins (a remote request may race its
// disconnect). It reports whether the socket was joined.
func (n *Namespace) join(sid string, rooms []Room, existing bool) bool {
	if n.members.obs == nil {
		if existing {
			return n.index.JoinExisting(sid, rooms...)
		}
		n.index.Join(sid, rooms...)
		return true
	}
	had := n.index.HasSocket(sid)
	before := n.index.Rooms(sid, nil)
	if existing {
		if !n.index.JoinExisting(sid, rooms...) {
			return false
		}
	} else {
		n.index.Join(sid, rooms...)
	}
	in := make(map[Room]bool, len(before))
	for _, r := range before {
		in[r] = true
	}
	if !had && !in[StringRoom(sid)] {
		in[StringRoom(sid)] = true
		n.members.add(memberEvent{kind: evJoined, sid: sid, room: StringRoom(sid)})
	}
	for _, r := range rooms {
		if !in[r] {
			in[r] = true
			n.members.add(memberEvent{kind: evJoined, sid: sid, room: r})
		}
	}
	n.members.flush()
	return true
}

// leave removes sid from room.
func (n *Namespace) leave(sid string, r Room) {
	if n.members.obs == nil {
		n.index.Leave(sid, r)
		return
	}
	member := false
	for _, x := range n.index.Rooms(sid, nil) {
		if x == r {
			member = true
			break
		}
	}
	if member {
		n.members.add(memberEvent{kind: evLeft, sid: sid, room: r})
	}
	n.index.Leave(sid, r)
	n.members.flush()
}

// disconnect removes sid from every room.
func (n *Namespace) disconnect(sid string) {
	if n.members.obs == nil {
		n.index.Disconnect(sid)
		return
	}
	for _, r := range n.index.Rooms(sid, nil) {
		n.members.add(memberEvent{kind: evLeft, sid: sid, room: r})
	}
	n.index.Disconnect(sid)
	n.members.flush()
}

// LocalSockets returns the ids of this server's sockets selected by rooms
// (none: every socket) and except, without asking the cluster.
func (n *Namespace) LocalSockets(rooms, except []Room) []string { return n.matching(rooms, except) }
