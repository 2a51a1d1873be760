package codec

// Plain returns v with every Map turned into a map[string]any (the last of
// duplicate keys wins, as in JavaScript), recursively through []any and
// maps, Undefined into nil, and an ArrayBuffer extension into its []byte:
// the form most Go code expects (encoding/json, templates, map lookups).
// Key order is lost; other values are returned as they are.
func Plain(v any) any {
	switch x := v.(type) {
	case Map:
		out := make(map[string]any, len(x))
		for _, kv := range x {
			out[kv.Key] = Plain(kv.Value)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Plain(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = Plain(e)
		}
		return out
	case Undefined:
		return nil
	case Ext:
		if x.IsArrayBuffer() {
			return x.Data
		}
	}
	return v
}
