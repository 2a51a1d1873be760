package zishang520

import (
	"io"
	"math"
	"strings"
	"time"

	"github.com/sioredis/sioredis/codec"
	"github.com/sioredis/sioredis/engine"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// toEngine converts a value of the server's application for the engine's
// encoder: zishang520's buffers and readers become []byte (binary on the
// wire, as zishang520's own parser treats them), its string buffers
// strings; containers are walked. Other values pass as they are.
func toEngine(v any) any {
	switch x := v.(type) {
	case nil, string, bool, float64, int, int64, []byte:
		return v
	case *types.StringBuffer:
		return x.String()
	case *strings.Reader:
		b, _ := io.ReadAll(x)
		return string(b)
	case types.BufferInterface:
		return x.Bytes()
	case io.Reader:
		b, _ := io.ReadAll(x)
		return b
	case []any:
		return toEngineSlice(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = toEngine(e)
		}
		return out
	case *socket.Handshake:
		return handshakeValue(x)
	}
	return v
}

// toEngineSlice is toEngine for each element, in a new slice.
func toEngineSlice(xs []any) []any {
	out := make([]any, len(xs))
	for i, e := range xs {
		out[i] = toEngine(e)
	}
	return out
}

// fromEngine converts a value decoded by the engine for the application,
// into what zishang520's own JSON decoding produces: map[string]any,
// []any, float64 for numbers (int64 kept beyond 2^53), strings, bools,
// nil, and types.BufferInterface for binary (as zishang520 hands its
// clients' binary to the application).
func fromEngine(v any) any {
	switch x := v.(type) {
	case codec.Map:
		out := make(map[string]any, len(x))
		for _, kv := range x {
			out[kv.Key] = fromEngine(kv.Value)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = fromEngine(e)
		}
		return out
	case []any:
		return fromEngineSlice(x)
	case []byte:
		return types.NewBytesBuffer(append([]byte(nil), x...)) // decoded values may alias Redis memory
	case int64:
		if x >= -1<<53 && x <= 1<<53 {
			return float64(x)
		}
		return x
	case uint64:
		if x <= 1<<53 {
			return float64(x)
		}
		return x
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil // what JSON makes of them
		}
		return x
	case codec.Undefined:
		return nil
	case codec.Ext:
		if x.IsArrayBuffer() {
			return types.NewBytesBuffer(append([]byte(nil), x.Data...))
		}
		return nil
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.000Z") // a JS Date crosses JSON as its ISO string
	}
	return v
}

// fromEngineSlice is fromEngine for each element, in a new (non-nil) slice.
func fromEngineSlice(xs []any) []any {
	out := make([]any, len(xs))
	for i, e := range xs {
		out[i] = fromEngine(e)
	}
	return out
}

// handshakeValue is the handshake as Socket.IO describes it in
// fetchSockets answers.
func handshakeValue(h *socket.Handshake) map[string]any {
	if h == nil {
		return nil
	}
	out := map[string]any{
		"headers": plainMap(h.Headers),
		"time":    h.Time,
		"address": h.Address,
		"xdomain": h.Xdomain,
		"secure":  h.Secure,
		"issued":  h.Issued,
		"url":     h.Url,
		"query":   plainMap(h.Query),
		"auth":    toEngine(h.Auth),
	}
	if h.Auth == nil {
		out["auth"] = map[string]any{}
	}
	return out
}

// plainMap copies headers or a query (values string or []string) into
// map[string]any of string / []any.
func plainMap[M ~map[string]any](m M) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if ss, ok := v.([]string); ok {
			vs := make([]any, len(ss))
			for i, s := range ss {
				vs[i] = s
			}
			out[k] = vs
			continue
		}
		out[k] = toEngine(v)
	}
	return out
}

// remoteDetails is a socket of another server, from a fetchSockets answer.
type remoteDetails struct {
	id        socket.SocketId
	handshake *socket.Handshake
	rooms     *types.Set[socket.Room]
	data      any
}

func newRemoteDetails(info *engine.SocketInfo) *remoteDetails {
	d := &remoteDetails{id: socket.SocketId(info.ID), rooms: types.NewSet[socket.Room](), data: fromEngine(info.Data)}
	for _, r := range info.Rooms {
		d.rooms.Add(socket.Room(r.Name))
	}
	d.handshake = handshakeFrom(fromEngine(info.Handshake))
	return d
}

func (d *remoteDetails) Id() socket.SocketId            { return d.id }
func (d *remoteDetails) Handshake() *socket.Handshake   { return d.handshake }
func (d *remoteDetails) Rooms() *types.Set[socket.Room] { return d.rooms }
func (d *remoteDetails) Data() any                      { return d.data }

// handshakeFrom rebuilds a handshake from its plain form (Node's or ours).
func handshakeFrom(v any) *socket.Handshake {
	m, _ := v.(map[string]any)
	h := &socket.Handshake{Headers: types.IncomingHttpHeaders{}, Query: types.ParsedUrlQuery{}, Auth: map[string]any{}}
	if m == nil {
		return h
	}
	if x, ok := m["headers"].(map[string]any); ok {
		h.Headers = types.IncomingHttpHeaders(x)
	}
	if x, ok := m["query"].(map[string]any); ok {
		h.Query = types.ParsedUrlQuery(x)
	}
	if x, ok := m["auth"].(map[string]any); ok {
		h.Auth = x
	}
	h.Time, _ = m["time"].(string)
	h.Address, _ = m["address"].(string)
	h.Url, _ = m["url"].(string)
	h.Xdomain, _ = m["xdomain"].(bool)
	h.Secure, _ = m["secure"].(bool)
	switch n := m["issued"].(type) {
	case float64:
		h.Issued = int64(n)
	case int64:
		h.Issued = n
	}
	return h
}
