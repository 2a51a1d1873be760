package engine

import "github.com/sioredis/sioredis/codec"

// This file converts values between the host's types and the engine's:
// Options.EncodeHook on the way in (what the host emits, acknowledges or
// describes), Options.PlainValues on the way out (what the host receives).

// in applies Options.EncodeHook to v and, recursively, to the elements of
// the containers codec encodes ([]any, map[string]any, codec.Map).
func (n *Namespace) in(v any) any { return encodeHooked(n.e.opts.EncodeHook, v) }

func (n *Namespace) inArgs(args []any) []any {
	if n.e.opts.EncodeHook == nil {
		return args
	}
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = n.in(a)
	}
	return out
}

func encodeHooked(hook func(any) (any, bool), v any) any {
	if hook == nil || v == nil {
		return v
	}
	if r, ok := hook(v); ok {
		return r
	}
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = encodeHooked(hook, e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = encodeHooked(hook, e)
		}
		return out
	case codec.Map:
		out := make(codec.Map, len(x))
		for i, kv := range x {
			out[i] = codec.KV{Key: kv.Key, Value: encodeHooked(hook, kv.Value)}
		}
		return out
	}
	return v
}

// out gives a decoded value to the host: plain Go values with
// Options.PlainValues (see codec.Plain), else as decoded.
func (n *Namespace) out(v any) any {
	if n.e.opts.PlainValues {
		return codec.Plain(v)
	}
	return v
}
