package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/puzpuzpuz/xsync/v3"
	"github.com/redis/rueidis"
	"github.com/sioredis/sioredis/codec"
)

// EmitterOptions configure an Emitter. The zero value is the default of
// @socket.io/redis-emitter.
type EmitterOptions struct {
	// Key is the channel prefix. Default "socket.io".
	Key string
}

// Emitter sends broadcasts and bulk operations to a Socket.IO cluster from a
// process that has no sockets, byte for byte as @socket.io/redis-emitter 5.x
// does: the servers (Go or Node) cannot tell it from the Node emitter. It
// only publishes: it subscribes to nothing, is not counted as a server, and
// cannot make requests that need answers (fetchSockets, acknowledgements).
// It is safe for concurrent use and holds no goroutine: there is nothing to
// close (close the rueidis client when done).
type Emitter struct {
	client rueidis.Client
	key    string
	nsps   *xsync.MapOf[string, *EmitterNamespace]
	// countsReceivers: PUBLISH's reply counts every subscriber (not on a
	// Redis Cluster).
	countsReceivers bool
}

// NewEmitter returns an emitter publishing through client.
func NewEmitter(client rueidis.Client, opts EmitterOptions) *Emitter {
	if opts.Key == "" {
		opts.Key = "socket.io"
	}
	return &Emitter{client: client, key: opts.Key, nsps: xsync.NewMapOf[string, *EmitterNamespace](),
		countsReceivers: client.Mode() != rueidis.ClientModeCluster}
}

// Of returns the emitter of namespace nsp (a leading "/" is added when
// missing, as the Node emitter does). The same nsp gives the same
// EmitterNamespace.
func (e *Emitter) Of(nsp string) *EmitterNamespace {
	if !strings.HasPrefix(nsp, "/") {
		nsp = "/" + nsp
	}
	en, _ := e.nsps.LoadOrCompute(nsp, func() *EmitterNamespace {
		return &EmitterNamespace{e: e, s: sender{client: e.client, nsp: nsp, uid: "emitter", emitter: true},
			proto: newClassicProtocol(e.client, e.key, nsp, "emitter", false)}
	})
	return en
}

// EmitterNamespace is the emitter of one namespace.
type EmitterNamespace struct {
	e     *Emitter
	s     sender
	proto protocol
	// watch compares the receivers of each publish to every server with
	// the servers seen recently: ShortPublishes.
	watch serverWatch
}

// ShortPublishes reports the emitter's publishes to every server of the
// namespace that reached fewer servers than it had seen in the preceding
// ServerWindow (a server was not subscribed, or had just left). Always
// zero on a Redis Cluster, where PUBLISH counts one node's subscribers.
func (en *EmitterNamespace) ShortPublishes() ShortPublishStats { return en.watch.snapshot() }

// Operator returns an operator on every socket of the namespace.
func (en *EmitterNamespace) Operator() Operator { return Operator{t: en} }

// To returns an operator on the sockets of rooms.
func (en *EmitterNamespace) To(rooms ...Room) Operator { return en.Operator().To(rooms...) }

// In is To.
func (en *EmitterNamespace) In(rooms ...Room) Operator { return en.Operator().To(rooms...) }

// Except returns an operator on every socket but those of rooms.
func (en *EmitterNamespace) Except(rooms ...Room) Operator {
	return en.Operator().Except(rooms...)
}

// Emit broadcasts to every socket of the namespace.
func (en *EmitterNamespace) Emit(ctx context.Context, event string, args ...any) error {
	return en.Operator().Emit(ctx, event, args...)
}

// ServerSideEmit sends event to every server of the namespace (no
// acknowledgements: the emitter cannot receive answers).
func (en *EmitterNamespace) ServerSideEmit(ctx context.Context, event string, args ...any) error {
	data, err := encodeArgs(event, args)
	if err != nil {
		return fmt.Errorf("sioredis: emitter serverSideEmit %s: %w", en.s.nsp, err)
	}
	return en.publish(ctx, "serverSideEmit", &message{kind: msgServerSideEmit, data: data})
}

// ErrEmitterCannotRequest is returned by the emitter for operations that
// need answers from the servers.
var ErrEmitterCannotRequest = errors.New("sioredis: the emitter cannot make requests that need answers")

func (en *EmitterNamespace) publish(ctx context.Context, op string, m *message) error {
	bp := codec.GetBuffer()
	defer codec.PutBuffer(bp)
	cmd, out, fanout, err := encodeWith(en.proto, &en.s, m, (*bp)[:0])
	*bp = out
	if err == nil {
		resp := en.e.client.Do(ctx, cmd)
		err = resp.Error()
		if err == nil && fanout && en.e.countsReceivers {
			if n, e := resp.AsInt64(); e == nil {
				en.watch.observe(int(n), time.Now())
			}
		}
	}
	if err != nil {
		return fmt.Errorf("sioredis: emitter %s %s: %w", op, en.s.nsp, err)
	}
	return nil
}

func (en *EmitterNamespace) emit(ctx context.Context, o Operator, event string, args []any) error {
	data, err := encodeArgs(event, args)
	if err != nil {
		return fmt.Errorf("sioredis: emitter emit %s: %w", en.s.nsp, err)
	}
	if o.flags.Local {
		return nil // nothing is local to an emitter
	}
	return en.publish(ctx, "emit", &message{kind: msgBroadcast, packetType: codec.PacketEvent, data: data,
		rooms: o.rooms, except: o.except, flags: wireFlags(&o.flags, false)})
}

func (en *EmitterNamespace) emitWithAck(context.Context, Operator, string, []any) ([]any, error) {
	return nil, ErrEmitterCannotRequest
}

func (en *EmitterNamespace) fetchSockets(context.Context, *Operator) ([]SocketInfo, error) {
	return nil, ErrEmitterCannotRequest
}

func (en *EmitterNamespace) socketsJoin(ctx context.Context, o *Operator, rooms []Room) error {
	return en.publish(ctx, "socketsJoin", &message{kind: msgSocketsJoin, rooms: o.rooms, except: o.except, targetRooms: rooms})
}

func (en *EmitterNamespace) socketsLeave(ctx context.Context, o *Operator, rooms []Room) error {
	return en.publish(ctx, "socketsLeave", &message{kind: msgSocketsLeave, rooms: o.rooms, except: o.except, targetRooms: rooms})
}

func (en *EmitterNamespace) disconnectSockets(ctx context.Context, o *Operator, close bool) error {
	return en.publish(ctx, "disconnectSockets", &message{kind: msgDisconnectSockets, rooms: o.rooms, except: o.except, close: close})
}

func (en *EmitterNamespace) broadcast(ctx context.Context, o Operator, p OutPacket) error {
	event, args, err := p.eventArgs()
	if err != nil {
		return fmt.Errorf("sioredis: emitter broadcast %s: %w", en.s.nsp, err)
	}
	return en.emit(ctx, o, event, args)
}

func (en *EmitterNamespace) broadcastWithAck(context.Context, Operator, OutPacket, AckHandlers) error {
	return ErrEmitterCannotRequest
}
