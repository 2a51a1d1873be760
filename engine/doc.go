// Package engine is the sioredis adapter engine: it makes the Socket.IO
// namespaces of this process part of a cluster that shares one Redis with
// other Go or Node.js servers (@socket.io/redis-adapter 8.x, classic
// protocol; or socket.io-redis 4.0, 5.x, 6.x with Options.Protocol) and
// with emitters (@socket.io/redis-emitter 5.x).
//
// How it fits together:
//
//	host server ──AddSocket/Join/Leave──▶ Namespace ──▶ shard.Index (who is in which room)
//	host server ──To(...).Emit(...)─────▶ Namespace ──encode once──▶ publisher ──DoMulti──▶ Redis
//	                                          └──frame once──▶ Host.Deliver (each local recipient)
//	Redis ──one subscription connection──▶ route ──▶ worker of the namespace ──decode once──▶
//	      shard.Index (recipients) ──frame once──▶ Host.Deliver
//
// An Engine owns the Redis side: one subscription connection for every
// namespace (supervised: it reconnects and subscribes again when lost), one
// publisher that coalesces concurrent publishes into pipelined batches, and
// worker goroutines that decode incoming messages. A Namespace is the
// adapter of one Socket.IO namespace; the embedding server implements the
// small Host interface (deliver a pre-encoded frame, disconnect, describe a
// socket, receive server-side events) and tells the namespace about its
// sockets.
//
// Cluster-wide operations mirror Socket.IO's: broadcasts through an
// Operator (To, Except, Local, Volatile, Compress, Timeout, Emit,
// EmitWithAck), FetchSockets, SocketsJoin, SocketsLeave, DisconnectSockets,
// AllRooms, ServerCount, ServerSideEmit(WithAck), and the single-socket
// RemoteJoin/RemoteLeave/RemoteDisconnect. Requests are bounded by a timeout;
// an incomplete one returns what arrived with an *IncompleteError that says
// how many servers answered out of how many were expected.
//
// The Emitter publishes broadcasts and bulk operations from a process with
// no sockets, byte for byte as the Node emitter does.
//
// Nothing is lost silently: Engine.Stats counts publishes (and their round
// trips), received and delivered messages, drops by reason (malformed,
// foreign, own, other namespace, room not hosted, full queue, unknown
// response, closed), request timeouts and Redis errors.
//
// Differences from the Node classic adapter, on purpose:
//   - socketsJoin, socketsLeave and disconnectSockets take effect on this
//     server's sockets before the call returns (Node applies them when its
//     own publish comes back from Redis), so a following local emit sees
//     them; the echo of our own message is then ignored.
//   - every request, not only serverSideEmit, is ignored when it comes back
//     from ourselves (by uid), so a request that already timed out is not
//     answered by its own sender.
//   - request ids are 12 characters instead of 6, to make collisions between
//     the pending requests of a large cluster negligible.
//   - a socket's own-id room cannot be left; it goes away with the socket.
//   - socket.io-redis 6.1 drops a single-room broadcast to the number 42
//     on a node without a string room "42"; Go delivers it to its numeric
//     room 42. Rooms reported by 1.x/2.x nodes (allRooms, clients) are
//     returned as the peer sent them.
//   - with socket.io-redis 4.0/5.x a Go requester answers itself locally
//     (a Node requester answers its own request through Redis); operations
//     a protocol lacks fail with ErrUnsupported instead of hanging.
//
// The wire protocol is a pluggable part of the engine (Options.Protocol):
// each protocol is one file (protocol_classic.go, protocol_legacy.go for
// socket.io-redis 4.0/5.x/6.x) that owns its channel
// names, decode scratch, echo test, server count and subscription plan;
// the subscription layer (subscriber.go) follows that plan, room by room
// where the protocol's mode asks for it (Options.Subscriptions).
//
// # Trust model
//
// Whoever may publish on the adapter's channels is a member of the cluster:
// they can make every server broadcast to its sockets, join and leave rooms,
// disconnect sockets, and answer (or fake answers to) requests. That is the
// protocol, in Node as in Go, and the engine cannot tell an authorised peer's
// intent from an attacker's. Contain it in Redis: a user per application
// that may touch only its Key's channels and run only the pub/sub commands
// and PING (the README's recipes, tested in security_test.go), TLS, no
// default user. Different Keys on one Redis never see each other.
//
// What the engine does validate, so that a confused or hostile publisher
// cannot crash a server or make it allocate without bound: every incoming
// message is size-checked (Options.MaxMessageSize) before any decoding;
// decoding checks every length prefix against the bytes present, every type
// and every field it uses, and drops (counted by reason, logged) what does
// not fit; requests are bounded (Options.MaxPendingRequests) and time out;
// answers for requests this server did not make are dropped.
package engine
