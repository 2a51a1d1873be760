// Package shard is the room membership index of sioredis: for one
// Socket.IO namespace, which sockets are in which rooms, safe for many
// goroutines at once.
//
// Room membership is the hottest shared state of a realtime server:
// every connect, join, leave, disconnect and broadcast touches it. The
// Index is arranged so that operations on unrelated rooms and sockets do
// not contend, broadcasts never block on each other and never hold a
// lock while delivering, and room create/delete events are exact even
// when a join races the last leave, which the sharded pub/sub mode of the
// engine needs to subscribe and unsubscribe Redis channels.
//
// # How it works
//
//	strings: xsync.MapOf[string]*node ──┐   numbers: xsync.MapOf[string]*node
//	                                    │          (numeric rooms)
//	      ┌─────────────────────────────┴──────────────┐
//	      ▼                                            ▼
//	node "Xq3…" (a socket)                      node "lobby" (a room)
//	  socket half, smu:                           room half, mu:
//	    rooms: [→lobby, →#42]                       members: sids [Xq3…, a9Z…]
//	    sid: 17 (dense id)                                   ids  [17, 4]
//	  room half, mu:                                         slots (id → pos)
//	    sock: true (its own room)                 live, dead
//	    members: nil
//
//	sidTable: dense id → socket id, in 256-entry chunks, for
//	          broadcasts to every socket.
//
// Every key, be it a room or a socket id, has one node in a lock-free-read
// xsync map. A socket is the node of its own id: its own room, of which
// it is always the only implicit member, costs no member list at all.
// Each node has two locks, one for its socket half (the rooms the socket
// is in, serialising that socket's joins and leaves) and one for its room
// half (the room's members and existence). An operation takes the lock
// of one socket and then, one at a time, the locks of the rooms it
// touches, so only operations on the same socket or room wait for each
// other.
//
// Sockets get small dense integer ids. A room stores its members as a
// dense array of socket ids plus their dense ids, indexed by a small
// open-addressing hash table (a sparse/dense set); a broadcast copies the
// array under the room's read lock and delivers after releasing it.
// Unions and except rooms are de-duplicated with a pooled bitset over the
// dense ids, so a broadcast allocates nothing, per recipient or per call.
//
// Room events fire under the room's lock at the moment its existence
// changes; a room that loses its last member is marked dead and unlinked
// before the lock is released, so a racing joiner retries on a fresh
// node whose create event necessarily follows the delete. See
// Options.OnRoomCreate for the exact conditions.
//
// # Consistency
//
// Join, Leave and Disconnect of one socket are serialised, and every
// change to one room is atomic; a Join of several rooms or a Disconnect
// is a sequence of such changes, so a concurrent reader may see part of
// it. A broadcast (ForEachRecipient) is not a snapshot of the whole
// index, but it keeps this rule: a socket that is a member of a target
// room and of no except room for the whole broadcast is delivered to
// exactly once; a socket that joins or leaves a target or except room,
// connects or disconnects while the broadcast runs is delivered to at
// most once. Members and Rooms are snapshots of one room or socket;
// AllRooms lists a room that exists for the whole call exactly once.
//
// # Memory
//
// About 106 bytes of heap per membership with 1 000 000 sockets in 3 of
// 1 000 rooms each: 199 bytes per socket (its node, its own copy of its
// id, its map entry and dense id), plus 37 per membership. See
// BENCHMARKS.md for the measurement.
//
// # What it does not do
//
// It knows nothing of Redis, packets, or other servers: the engine maps
// its adapter calls onto an Index per namespace and turns recipient ids
// into deliveries. It does not keep socket objects, only ids, and does
// not order broadcasts with respect to each other.
package shard
