package nodepeer

import (
	"encoding/json"
	"testing"
	"time"
)

// Target selects the sockets of an operation: a namespace (empty means "/"),
// rooms (empty means every socket), rooms to exclude, and broadcast flags.
// Rooms may be strings or numbers (int, float64): the JSON type is kept, so
// 42 is the numeric room 42 and "42" the string room.
type Target struct {
	// Nsp is the namespace; empty means "/".
	Nsp string
	// Rooms are the rooms to target (.to(rooms)); empty means every socket.
	Rooms []any
	// Except are the rooms whose members are excluded (.except(rooms)).
	Except []any
	// Local sets the .local flag (never published; adapter operations only).
	Local bool
	// Volatile sets the .volatile flag.
	Volatile bool
	// Compress, when non-nil, applies .compress(*Compress).
	Compress *bool
	// Binary, when non-nil, applies Socket.IO 2.x's .binary(*Binary)
	// (the legacy peer only).
	Binary *bool
}

func (t Target) args() map[string]any {
	a := map[string]any{"nsp": nsOr(t.Nsp)}
	if len(t.Rooms) > 0 {
		a["rooms"] = t.Rooms
	}
	if len(t.Except) > 0 {
		a["except"] = t.Except
	}
	if t.Local {
		a["local"] = true
	}
	if t.Volatile {
		a["volatile"] = true
	}
	if t.Binary != nil {
		a["binary"] = *t.Binary
	}
	if t.Compress != nil {
		a["compress"] = *t.Compress
	}
	return a
}

func nsOr(nsp string) string {
	if nsp == "" {
		return "/"
	}
	return nsp
}

// Event is one event recorded by the peer: received by a client, or a
// server-side event received by a namespace. Args are decoded with
// encoding/json and [FromWire] (numbers are float64, binary is []byte); a
// trailing acknowledgement callback is not included.
type Event struct {
	// Event is the event name.
	Event string `json:"event"`
	// Args are the event arguments.
	Args []any `json:"args"`
}

// RemoteSocket is one element of a fetchSockets result.
type RemoteSocket struct {
	// ID is the socket id.
	ID string `json:"id"`
	// Handshake is the socket's handshake (headers, time, address, query, auth, ...).
	Handshake map[string]any `json:"handshake"`
	// Rooms are the socket's rooms, its own id first.
	Rooms []any `json:"rooms"`
	// Data is socket.data.
	Data any `json:"data"`
}

// AckResult is the outcome of an operation with acknowledgements: Err is the
// error message given to the callback ("" when none) and Res the responses
// collected (possibly partial when Err is set).
type AckResult struct {
	// Err is the callback's error message, "" when there was none.
	Err string `json:"err"`
	// Res are the acknowledgements received, decoded with [FromWire].
	Res []any `json:"res"`
}

// ConnectOptions are the optional settings of [Peer.Connect].
type ConnectOptions struct {
	// Auth is the client's auth payload.
	Auth map[string]any
	// Query is the client's query parameters.
	Query map[string]string
	// AckReply is what the client answers to events that expect an
	// acknowledgement; nil means "ack-from-<client>".
	AckReply any
	// NoAck makes the client never answer acknowledgements.
	NoAck bool
}

// ProcessError is an error recorded inside the Node process: an uncaught
// exception, an unhandled rejection, or a Redis client error.
type ProcessError struct {
	// Kind says where it came from.
	Kind string `json:"kind"`
	// Error is the error message.
	Error string `json:"error"`
}

// must runs a command and fails the test on error.
func (p *Peer) must(cmd string, args map[string]any) json.RawMessage {
	p.tb.Helper()
	res, err := p.Call(cmd, args)
	if err != nil {
		p.tb.Fatalf("%v", err)
	}
	return res
}

// mustDecode runs a command and decodes its result into out.
func (p *Peer) mustDecode(out any, cmd string, args map[string]any) {
	p.tb.Helper()
	res := p.must(cmd, args)
	if err := json.Unmarshal(res, out); err != nil {
		p.tb.Fatalf("nodepeer: %s: decode result %s: %v", cmd, res, err)
	}
}

func decodeEvents(evs []Event) []Event {
	for i := range evs {
		for j := range evs[i].Args {
			evs[i].Args[j] = FromWire(evs[i].Args[j])
		}
		if evs[i].Args == nil {
			evs[i].Args = []any{}
		}
	}
	return evs
}

func decodeAck(r AckResult) AckResult {
	for i := range r.Res {
		r.Res[i] = FromWire(r.Res[i])
	}
	if r.Res == nil {
		r.Res = []any{}
	}
	return r
}

// Ping checks that the peer answers.
func (p *Peer) Ping() {
	p.tb.Helper()
	p.must("ping", nil)
}

// Namespace creates namespace nsp on this node if needed (subscribing its
// adapter to Redis, confirmed before returning) and returns its adapter uid.
func (p *Peer) Namespace(nsp string) string {
	p.tb.Helper()
	var r struct {
		UID string `json:"uid"`
	}
	p.mustDecode(&r, "namespace", map[string]any{"nsp": nsOr(nsp)})
	return r.UID
}

// SetServerSideReply sets what this node answers to server-side events that
// expect an acknowledgement (default "pong-from-<name>"); noAck makes it
// never answer.
func (p *Peer) SetServerSideReply(reply any, noAck bool) {
	p.tb.Helper()
	p.must("configure", map[string]any{"sseReply": reply, "sseNoAck": noAck})
}

// Errors returns the errors recorded inside the Node process (uncaught
// exceptions, unhandled rejections, Redis client errors).
func (p *Peer) Errors() []ProcessError {
	p.tb.Helper()
	var out []ProcessError
	p.mustDecode(&out, "errors", nil)
	return out
}

// Connect connects a new socket.io-client named client (websocket transport,
// forceNew, no reconnection) to namespace nsp of this node and returns the
// socket id. opts may be nil.
func (p *Peer) Connect(client, nsp string, opts *ConnectOptions) string {
	p.tb.Helper()
	a := map[string]any{"client": client, "nsp": nsOr(nsp)}
	if opts != nil {
		if opts.Auth != nil {
			a["auth"] = opts.Auth
		}
		if opts.Query != nil {
			a["query"] = opts.Query
		}
		if opts.AckReply != nil {
			a["ackReply"] = opts.AckReply
		}
		if opts.NoAck {
			a["noAck"] = true
		}
	}
	var id string
	p.mustDecode(&id, "connect", a)
	return id
}

// Disconnect disconnects client from its side.
func (p *Peer) Disconnect(client string) {
	p.tb.Helper()
	p.must("disconnect", map[string]any{"client": client})
}

// SetAckReply changes what client answers to acknowledgements; noAck makes
// it stop answering.
func (p *Peer) SetAckReply(client string, reply any, noAck bool) {
	p.tb.Helper()
	p.must("setAckReply", map[string]any{"client": client, "ackReply": reply, "noAck": noAck})
}

// Join makes the server socket of client in nsp join rooms and returns its
// rooms afterwards.
func (p *Peer) Join(client, nsp string, rooms ...any) []any {
	p.tb.Helper()
	var out []any
	p.mustDecode(&out, "join", map[string]any{"client": client, "nsp": nsOr(nsp), "rooms": rooms})
	return out
}

// Leave makes the server socket of client in nsp leave room and returns its
// rooms afterwards.
func (p *Peer) Leave(client, nsp string, room any) []any {
	p.tb.Helper()
	var out []any
	p.mustDecode(&out, "leave", map[string]any{"client": client, "nsp": nsOr(nsp), "room": room})
	return out
}

// SetData sets socket.data of the server socket of client in nsp.
func (p *Peer) SetData(client, nsp string, data any) {
	p.tb.Helper()
	p.must("setData", map[string]any{"client": client, "nsp": nsOr(nsp), "data": data})
}

// ClientRooms returns the rooms of the server socket of client in nsp.
func (p *Peer) ClientRooms(client, nsp string) []any {
	p.tb.Helper()
	var out []any
	p.mustDecode(&out, "clientRooms", map[string]any{"client": client, "nsp": nsOr(nsp)})
	return out
}

// SocketEmit broadcasts from the server socket of client:
// socket.broadcast (or socket.to(t.Rooms)) with t.Except/Volatile/Compress,
// then .emit(event, args...). t.Nsp is the client's namespace.
func (p *Peer) SocketEmit(client string, t Target, event string, args ...any) {
	p.tb.Helper()
	a := t.args()
	a["client"] = client
	a["event"] = event
	a["args"] = argList(args)
	p.must("socketEmit", a)
}

// Emit broadcasts io.of(t.Nsp).to(..).except(..)[.local][.volatile][.compress(..)].emit(event, args...).
func (p *Peer) Emit(t Target, event string, args ...any) {
	p.tb.Helper()
	a := t.args()
	a["event"] = event
	a["args"] = argList(args)
	p.must("emit", a)
}

// EmitWithAck broadcasts with .timeout(timeout) and waits for the callback.
func (p *Peer) EmitWithAck(t Target, timeout time.Duration, event string, args ...any) AckResult {
	p.tb.Helper()
	a := t.args()
	a["event"] = event
	a["args"] = argList(args)
	a["timeout"] = timeout.Milliseconds()
	var r AckResult
	p.mustDecode(&r, "emitWithAck", a)
	return decodeAck(r)
}

// FetchSockets returns io.of(t.Nsp).to(..).except(..).fetchSockets(), local and remote.
func (p *Peer) FetchSockets(t Target) []RemoteSocket {
	p.tb.Helper()
	var out []RemoteSocket
	p.mustDecode(&out, "fetchSockets", t.args())
	for i := range out {
		out[i].Data = FromWire(out[i].Data)
	}
	return out
}

// AllRooms returns the rooms of every node of the cluster for nsp.
func (p *Peer) AllRooms(nsp string) []any {
	p.tb.Helper()
	var out []any
	p.mustDecode(&out, "allRooms", map[string]any{"nsp": nsOr(nsp)})
	return out
}

// ServerCount returns the adapter's serverCount() for nsp (PUBSUB NUMSUB of
// the request channel).
func (p *Peer) ServerCount(nsp string) int {
	p.tb.Helper()
	var n int
	p.mustDecode(&n, "serverCount", map[string]any{"nsp": nsOr(nsp)})
	return n
}

// SocketsJoin makes the targeted sockets of the cluster join rooms.
func (p *Peer) SocketsJoin(t Target, rooms ...any) {
	p.tb.Helper()
	a := t.args()
	a["join"] = rooms
	p.must("socketsJoin", a)
}

// SocketsLeave makes the targeted sockets of the cluster leave rooms.
func (p *Peer) SocketsLeave(t Target, rooms ...any) {
	p.tb.Helper()
	a := t.args()
	a["leave"] = rooms
	p.must("socketsLeave", a)
}

// DisconnectSockets disconnects the targeted sockets of the cluster.
func (p *Peer) DisconnectSockets(t Target, close bool) {
	p.tb.Helper()
	a := t.args()
	a["close"] = close
	p.must("disconnectSockets", a)
}

// ServerSideEmit sends io.of(nsp).serverSideEmit(event, args...) without ack.
func (p *Peer) ServerSideEmit(nsp, event string, args ...any) {
	p.tb.Helper()
	p.must("serverSideEmit", map[string]any{"nsp": nsOr(nsp), "event": event, "args": argList(args)})
}

// ServerSideEmitWithAck sends serverSideEmit with an acknowledgement
// callback and waits for it (bounded by the adapter's requestsTimeout).
func (p *Peer) ServerSideEmitWithAck(nsp, event string, args ...any) AckResult {
	p.tb.Helper()
	var r AckResult
	p.mustDecode(&r, "serverSideEmit", map[string]any{"nsp": nsOr(nsp), "event": event, "args": argList(args), "ack": true})
	return decodeAck(r)
}

// ListenServerEvent makes sure server-side events named event are recorded
// in nsp (peer.js records every server-side event already; this matters only
// if its catch-all is unavailable).
func (p *Peer) ListenServerEvent(nsp, event string) {
	p.tb.Helper()
	p.must("listenServerEvent", map[string]any{"nsp": nsOr(nsp), "event": event})
}

// ServerEvents returns the server-side events received by nsp on this node.
func (p *Peer) ServerEvents(nsp string) []Event {
	p.tb.Helper()
	var out []Event
	p.mustDecode(&out, "serverEvents", map[string]any{"nsp": nsOr(nsp)})
	return decodeEvents(out)
}

// WaitServerEvents waits until nsp has received at least count server-side
// events and returns them; it fails the test after timeout.
func (p *Peer) WaitServerEvents(nsp string, count int, timeout time.Duration) []Event {
	p.tb.Helper()
	var out []Event
	p.mustDecode(&out, "waitServerEvents", map[string]any{"nsp": nsOr(nsp), "count": count, "timeoutMs": timeout.Milliseconds()})
	return decodeEvents(out)
}

// ClearServerEvents forgets the server-side events recorded for nsp.
func (p *Peer) ClearServerEvents(nsp string) {
	p.tb.Helper()
	p.must("clearServerEvents", map[string]any{"nsp": nsOr(nsp)})
}

// Received returns the events client has received so far, in order.
func (p *Peer) Received(client string) []Event {
	p.tb.Helper()
	var out []Event
	p.mustDecode(&out, "received", map[string]any{"client": client})
	return decodeEvents(out)
}

// WaitReceived waits until client has received at least count events and
// returns all of them; it fails the test (listing what arrived) after timeout.
func (p *Peer) WaitReceived(client string, count int, timeout time.Duration) []Event {
	p.tb.Helper()
	var out []Event
	p.mustDecode(&out, "waitReceived", map[string]any{"client": client, "count": count, "timeoutMs": timeout.Milliseconds()})
	return decodeEvents(out)
}

// ClearReceived forgets the events client has received.
func (p *Peer) ClearReceived(client string) {
	p.tb.Helper()
	p.must("clearReceived", map[string]any{"client": client})
}

// Connected reports whether client is connected.
func (p *Peer) Connected(client string) bool {
	p.tb.Helper()
	var ok bool
	p.mustDecode(&ok, "connected", map[string]any{"client": client})
	return ok
}

// WaitDisconnected waits until client is disconnected and returns the
// disconnect reason ("io server disconnect", "transport close", ...); it
// fails the test after timeout.
func (p *Peer) WaitDisconnected(client string, timeout time.Duration) string {
	p.tb.Helper()
	var reason string
	p.mustDecode(&reason, "waitDisconnected", map[string]any{"client": client, "timeoutMs": timeout.Milliseconds()})
	return reason
}

// EmitterEmit publishes through @socket.io/redis-emitter:
// new Emitter(client, {key}).of(t.Nsp).to(..).except(..)[.volatile][.compress(..)].emit(event, args...).
// t.Local is ignored.
func (p *Peer) EmitterEmit(t Target, event string, args ...any) {
	p.tb.Helper()
	a := t.args()
	delete(a, "local")
	a["event"] = event
	a["args"] = argList(args)
	p.must("emitter", a)
}

// EmitterServerSideEmit publishes emitter.of(nsp).serverSideEmit(event, args...).
func (p *Peer) EmitterServerSideEmit(nsp, event string, args ...any) {
	p.tb.Helper()
	p.must("emitterServerSideEmit", map[string]any{"nsp": nsOr(nsp), "event": event, "args": argList(args)})
}

// EmitterSocketsJoin publishes emitter socketsJoin(rooms) for the target.
func (p *Peer) EmitterSocketsJoin(t Target, rooms ...any) {
	p.tb.Helper()
	a := t.args()
	a["join"] = rooms
	p.must("emitterSocketsJoin", a)
}

// EmitterSocketsLeave publishes emitter socketsLeave(rooms) for the target.
func (p *Peer) EmitterSocketsLeave(t Target, rooms ...any) {
	p.tb.Helper()
	a := t.args()
	a["leave"] = rooms
	p.must("emitterSocketsLeave", a)
}

// EmitterDisconnectSockets publishes emitter disconnectSockets(close) for the target.
func (p *Peer) EmitterDisconnectSockets(t Target, close bool) {
	p.tb.Helper()
	a := t.args()
	a["close"] = close
	p.must("emitterDisconnectSockets", a)
}

func argList(args []any) []any {
	if args == nil {
		return []any{}
	}
	return args
}

// Eventually polls cond every 10 ms until it returns true, failing the test
// with what's message after timeout. It is for conditions peer.js cannot wait
// for itself (for example rooms changed by a socketsJoin from another node).
func Eventually(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("nodepeer: timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ---------------------------------------------------------------- legacy generations

// Result is what the legacy peer's adapter requests answer: the callback's
// error message (empty when none) and its result, decoded with FromWire.
type Result struct {
	Err string `json:"err"`
	Res any    `json:"res"`
}

// Request runs one adapter request of the legacy peer (testdata-legacy/
// peer.js): "clients" (rooms), "remoteClientRooms" (sid), "allRooms",
// "remoteJoin" / "remoteLeave" (sid, room), "remoteDisconnect" (sid,
// close), "customRequest" (data), with nsp and the other arguments in args.
// An error of the request itself is in Result.Err, not a test failure.
func (p *Peer) Request(cmd string, args map[string]any) Result {
	p.tb.Helper()
	var r Result
	p.mustDecode(&r, cmd, args)
	r.Res = FromWire(r.Res)
	return r
}

// SetCustomHook makes the legacy peer's adapter in nsp answer customRequest
// with {answer: reply, got: data}.
func (p *Peer) SetCustomHook(nsp string, reply any) {
	p.tb.Helper()
	p.must("setCustomHook", map[string]any{"nsp": nsOr(nsp), "reply": reply})
}
