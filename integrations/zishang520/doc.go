// Package zishang520 plugs the sioredis engine into a
// github.com/zishang520/socket.io v3 server as its socket.Adapter, so that
// the server shares one cluster through Redis with other Go servers and with
// Node.js servers running @socket.io/redis-adapter:
//
//	eng, _ := engine.New(engine.Options{ClientOption: rueidis.ClientOption{InitAddress: []string{"127.0.0.1:6379"}}})
//	opts := socket.DefaultServerOptions()
//	opts.SetAdapter(zishang520.NewAdapterBuilder(eng))
//	io := socket.NewServer(nil, opts)
//
// # How it works
//
//	zishang520 server ──AddAll/Del/Broadcast…──▶ Adapter ──▶ engine.Namespace ──▶ Redis
//	Redis ──▶ engine (decode once, frame once) ──▶ host.Deliver ──▶ Client.WriteToEngine
//
// The engine owns the rooms: the adapter's Rooms() and Sids() maps (the
// base adapter's) are a mirror kept by the engine's membership events, so
// they and the create-room, join-room, leave-room and delete-room events
// stay true when another server makes a local socket join or leave a room
// (socketsJoin, socketsLeave, disconnectSockets). Packets received from
// Redis reach the sockets as the engine encoded them, once per packet:
// the adapter hands the engine's frame to Client.WriteToEngine and, when
// the packet has no binary attachment, sets it as the websocket
// pre-encoded frame, so the server re-encodes nothing. Acknowledgement ids
// come from the namespace's own counter (Namespace.Ids), so a cluster
// broadcast with ack and a socket's own EmitWithAck never share an id.
//
// # Supported
//
// Broadcast (rooms, except, socket.broadcast, local, volatile, compress),
// BroadcastWithAck (each server's client count and each ack reported as
// they arrive, so the server's operator completes as soon as the last ack
// is in), Sockets and FetchSockets with Local (local lookups),
// FetchSockets across the cluster (remote sockets as socket.RemoteSocket,
// with handshake and data as plain Go values), AddSockets, DelSockets,
// DisconnectSockets, ServerSideEmit with and without acks, ServerCount,
// binary values (types.BufferInterface, types.BytesBuffer, []byte) in both
// directions. Binary values decoded from other servers (acks, broadcast
// packets) are handed to the application as types.BufferInterface, as
// zishang520 does for its clients' binary. The classic protocol's requests
// and answers (fetchSockets, serverSideEmit) are JSON: binary in
// socket.data or in serverSideEmit arguments crosses as a Node Buffer's
// JSON form {"type":"Buffer","data":[…]}, as between Node servers.
//
// # Not supported
//
//   - Connection-state recovery (PersistSession / RestoreSession): the
//     classic @socket.io/redis-adapter protocol has no shared session
//     store and no packet log, so a session cannot be restored on another
//     server, and restoring it on this one would replay only the packets
//     emitted here. RestoreSession returns no session: a reconnecting
//     client gets a fresh one (socket.Recovered() is false), which is
//     what Node's redis adapter does.
//   - Numeric rooms: zishang520's Room is a string. A Node server's
//     socketsJoin(42) on a Go socket shows in Rooms()/Sids() as "42", and
//     this server cannot address the numeric room 42 (io.to("42") is the
//     string room "42", a different room in Socket.IO).
//   - OnAnyOutgoing listeners are not called for packets received from
//     other servers: the adapter has the encoded frame, not the values.
//
// # Errors
//
// socket.Adapter has no error returns except ServerSideEmit's: every
// failure (the engine namespace could not be created, a publish failed, a
// request timed out) is logged to AdapterBuilder.Logger and passed to
// AdapterBuilder.OnError.
package zishang520
