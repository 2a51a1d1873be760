package engine

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/sioredis/sioredis/codec"
)

// This file holds the operations of socket.io-redis 4.x/5.x (the seed's
// API: clients, clientRooms, customRequest and its hook), both sides, and
// the check that makes an operation a protocol lacks a clear error.

// unsupported returns the error of op when the protocol lacks kind.
func (n *Namespace) unsupported(op string, kind msgKind) error {
	if n.proto.has(kind) {
		return nil
	}
	return fmt.Errorf("sioredis: %s %s: %w: %v", op, n.name, ErrUnsupported, n.e.opts.Protocol)
}

// CustomHook answers a customRequest (socket.io-redis 4.x/5.x): it gets the
// request's data, decoded as codec.DecodeValue does after a JSON round trip
// (objects are codec.Map, numbers int64 or float64, a Node Buffer is
// {"type":"Buffer","data":[…]}), and returns the reply, which must be a
// value codec can encode (nil is JSON null). It runs on the namespace's
// worker goroutine, so it must not block for long, and may be called
// concurrently with the requester's own CustomRequest.
type CustomHook func(data any) (reply any)

// hookSlot holds a namespace's custom hook.
type hookSlot struct{ p atomic.Pointer[CustomHook] }

func (s *hookSlot) get() CustomHook {
	if h := s.p.Load(); h != nil {
		return *h
	}
	return nil
}

// SetCustomHook sets the function that answers customRequests in this
// namespace on this server (socket.io-redis 4.x/5.x adapter.customHook).
// nil restores the default, which answers null as socket.io-redis 4.0
// does. It fails with ErrUnsupported on protocols without customRequest.
func (n *Namespace) SetCustomHook(h CustomHook) error {
	lp, ok := n.proto.(*legacyProtocol)
	if !ok {
		return n.unsupported("customHook", msgCustomRequest)
	}
	if h == nil {
		lp.hooks.p.Store(nil)
	} else {
		lp.hooks.p.Store(&h)
	}
	return nil
}

func (n *Namespace) customHook() CustomHook {
	if lp, ok := n.proto.(*legacyProtocol); ok {
		return lp.hooks.get()
	}
	return nil
}

// CustomRequest sends data to every server of the namespace, this one
// included, and returns the reply of each one's custom hook (see
// SetCustomHook; a server without a hook replies nil): this server's first,
// then the others' in arrival order. It waits for as many replies as PUBSUB
// NUMSUB counts servers, up to Options.RequestTimeout; after that it
// returns the replies that arrived with an *IncompleteError. Replies have
// the Go types of codec.DecodeValue (they crossed Redis as JSON).
// socket.io-redis 4.x/5.x only (ErrUnsupported otherwise).
func (n *Namespace) CustomRequest(ctx context.Context, data any) ([]any, error) {
	if err := n.unsupported("customRequest", msgCustomRequest); err != nil {
		return nil, err
	}
	if n.closed.Load() {
		return nil, ErrClosed
	}
	raw, err := codec.AppendValue(nil, data)
	if err != nil {
		return nil, fmt.Errorf("sioredis: customRequest %s: %w", n.name, err)
	}
	replies := []any{n.runCustomHook(raw)}
	others, err := n.others(ctx, "customRequest")
	if err != nil || others <= 0 {
		return replies, err
	}
	m := message{kind: msgCustomRequest, data: raw}
	err = n.ask(ctx, "customRequest", &m, others, n.e.opts.RequestTimeout, func(r *message, answered *int) bool {
		*answered++
		v, err := r.data.Value()
		if err != nil {
			n.e.stats.drop(DropMalformed)
		}
		replies = append(replies, v)
		return *answered >= others
	})
	return replies, err
}

// runCustomHook answers raw (msgpack) data with this server's hook, both
// seen as they would be after crossing Redis (JSON).
func (n *Namespace) runCustomHook(raw codec.Raw) any {
	out := n.customReply(raw)
	if out == nil {
		return nil
	}
	return viaJSON(out)
}

// customReply runs the custom hook on a request's data (as a peer would
// see it through JSON) and returns its encoded reply: nil (sent as null)
// without a hook or when the reply cannot be encoded.
func (n *Namespace) customReply(data codec.Raw) codec.Raw {
	h := n.customHook()
	if h == nil {
		return nil
	}
	out, err := codec.AppendValue(nil, h(viaJSON(data)))
	if err != nil {
		n.e.opts.Logger.Warn("sioredis: customHook reply cannot be encoded, sent as null", "err", err)
		return nil
	}
	return out
}

// viaJSON decodes raw msgpack as a peer receiving it through JSON would
// see it (Buffers become {"type":"Buffer",…}, Dates ISO strings).
func viaJSON(raw codec.Raw) any {
	js, err := codec.AppendJSON(nil, raw)
	if err != nil {
		return nil
	}
	mp, err := codec.JSONToMsgpack(nil, js)
	if err != nil {
		return nil
	}
	v, err := codec.Raw(mp).Value()
	if err != nil {
		return nil
	}
	return v
}

// onCustomRequest answers a customRequest with the hook's reply.
func (n *Namespace) onCustomRequest(m *message) {
	n.answer(m, message{kind: msgCustomResponse, data: n.customReply(m.data)})
}

// onClientRooms answers clientRooms when the socket is ours (the owner
// answers, the others stay silent).
func (n *Namespace) onClientRooms(m *message) {
	if !n.index.HasSocket(m.sid) {
		return
	}
	n.answer(m, message{kind: msgRoomsResponse, targetRooms: n.index.Rooms(m.sid, nil)})
}

// Clients returns the ids of the sockets in any of rooms (every socket when
// none) on every server of the namespace: socket.io-redis 4.x/5.x
// clients(rooms), the SOCKETS request of 6.x and the classic protocol.
// Each id appears once; this server's first. On a timeout it returns the
// ids that arrived with an *IncompleteError.
func (n *Namespace) Clients(ctx context.Context, rooms ...Room) ([]string, error) {
	return n.clients(ctx, "clients", rooms)
}

func (n *Namespace) clients(ctx context.Context, op string, rooms []Room) ([]string, error) {
	if err := n.unsupported(op, msgSockets); err != nil {
		return nil, err
	}
	if n.closed.Load() {
		return nil, ErrClosed
	}
	target := make([]Room, 0, len(rooms))
	for _, r := range rooms {
		target = appendRoom(target, r)
	}
	ids := n.matching(target, nil)
	others, err := n.others(ctx, op)
	if err != nil || others <= 0 {
		return ids, err
	}
	seen := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		seen[id] = struct{}{}
	}
	add := func(id string) {
		if _, ok := seen[id]; !ok {
			id = string([]byte(id)) // it aliases the payload
			seen[id] = struct{}{}
			ids = append(ids, id)
		}
	}
	m := message{kind: msgSockets, targetRooms: target}
	err = n.ask(ctx, op, &m, others, n.e.opts.RequestTimeout, func(r *message, answered *int) bool {
		*answered++
		for _, id := range r.sids {
			add(id)
		}
		if len(r.sockets) > 0 {
			if v, err := r.sockets.Value(); err == nil {
				list, _ := v.([]any)
				for _, x := range list {
					if s, ok := x.(string); ok {
						add(s)
					}
				}
			}
		}
		return *answered >= others
	})
	return ids, err
}

// ClientRooms returns the rooms of the socket sid, wherever it is (its own
// id first): at once for a local socket, else from its owner
// (socket.io-redis 4.x/5.x clientRooms; ErrUnsupported on other
// protocols). An unknown sid times out with an *IncompleteError.
func (n *Namespace) ClientRooms(ctx context.Context, sid string) ([]Room, error) {
	if err := n.unsupported("clientRooms", msgClientRooms); err != nil {
		return nil, err
	}
	if sid == "" {
		return nil, errors.New("sioredis: clientRooms: empty socket id")
	}
	if n.closed.Load() {
		return nil, ErrClosed
	}
	if n.index.HasSocket(sid) {
		return n.index.Rooms(sid, nil), nil
	}
	var rooms []Room
	m := message{kind: msgClientRooms, sid: sid}
	err := n.ask(ctx, "clientRooms", &m, 1, n.e.opts.RequestTimeout, func(r *message, answered *int) bool {
		*answered++
		for _, room := range r.targetRooms {
			rooms = append(rooms, Room{Name: string([]byte(room.Name)), Numeric: room.Numeric})
		}
		return true
	})
	return rooms, err
}
