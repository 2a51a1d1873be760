package codec

import (
	"fmt"
	"math"
)

// FlagSet records which broadcast flags are present on the wire.
type FlagSet uint8

// Known broadcast flags.
const (
	FlagVolatile             FlagSet = 1 << iota // volatile: true
	FlagCompress                                 // compress: bool
	FlagLocal                                    // local: true (never published by Node)
	FlagBroadcast                                // broadcast: true (Socket.IO 1.x/2.x)
	FlagBinary                                   // binary: bool (Socket.IO 2.x)
	FlagTimeout                                  // timeout: ms
	FlagExpectSingleResponse                     // expectSingleResponse: true
)

// flag ids in the packed order (1…7 known flags, 8 = next Extra entry).
const (
	fidVolatile = 1 + iota
	fidCompress
	fidLocal
	fidBroadcast
	fidBinary
	fidTimeout
	fidExpect
	fidExtra
)

var flagNames = [...]string{
	fidVolatile:  "volatile",
	fidCompress:  "compress",
	fidLocal:     "local",
	fidBroadcast: "broadcast",
	fidBinary:    "binary",
	fidTimeout:   "timeout",
	fidExpect:    "expectSingleResponse",
}

// RawKV is a flag this package does not know, kept as raw msgpack.
type RawKV struct {
	Key   string
	Value Raw
}

// Flags is the `flags` object of a broadcast. Has says which flags are on
// the wire; the value fields are meaningful only when their bit is set.
// Use the Set methods to build flags in Go. Decoding remembers the key
// order so that re-encoding reproduces the input bytes; flags set in Go
// are written in declaration order after the remembered ones.
type Flags struct {
	Has                  FlagSet
	Volatile             bool
	Compress             bool
	Local                bool
	Broadcast            bool
	Binary               bool
	ExpectSingleResponse bool
	Timeout              float64 // milliseconds
	// Extra holds unknown flags (and known ones with unexpected value
	// types) in wire order, values as raw msgpack.
	Extra []RawKV
	// order is the wire order: up to 16 4-bit flag ids.
	order uint64
}

// SetVolatile sets volatile.
func (f *Flags) SetVolatile(v bool) { f.Volatile = v; f.Has |= FlagVolatile }

// SetCompress sets compress.
func (f *Flags) SetCompress(v bool) { f.Compress = v; f.Has |= FlagCompress }

// SetLocal sets local.
func (f *Flags) SetLocal(v bool) { f.Local = v; f.Has |= FlagLocal }

// SetBroadcast sets broadcast (Socket.IO 1.x/2.x socket.broadcast).
func (f *Flags) SetBroadcast(v bool) { f.Broadcast = v; f.Has |= FlagBroadcast }

// SetBinary sets binary (Socket.IO 2.x).
func (f *Flags) SetBinary(v bool) { f.Binary = v; f.Has |= FlagBinary }

// SetTimeout sets timeout in milliseconds.
func (f *Flags) SetTimeout(ms float64) { f.Timeout = ms; f.Has |= FlagTimeout }

// SetExpectSingleResponse sets expectSingleResponse.
func (f *Flags) SetExpectSingleResponse(v bool) {
	f.ExpectSingleResponse = v
	f.Has |= FlagExpectSingleResponse
}

// IsVolatile reports whether volatile is set and true.
func (f *Flags) IsVolatile() bool { return f.Has&FlagVolatile != 0 && f.Volatile }

// CompressOr returns compress if present, def otherwise (Socket.IO
// compresses by default).
func (f *Flags) CompressOr(def bool) bool {
	if f.Has&FlagCompress != 0 {
		return f.Compress
	}
	return def
}

// Reset clears the flags, keeping Extra's capacity.
func (f *Flags) Reset() { *f = Flags{Extra: f.Extra[:0]} }

// IsZero reports whether no flag is present.
func (f *Flags) IsZero() bool { return f.Has == 0 && len(f.Extra) == 0 }

func (f *Flags) count() int {
	n := len(f.Extra)
	for h := f.Has; h != 0; h &= h - 1 {
		n++
	}
	return n
}

func (f *Flags) appendFlag(b []byte, id int) []byte {
	b = AppendString(b, flagNames[id])
	switch id {
	case fidVolatile:
		return appendBool(b, f.Volatile)
	case fidCompress:
		return appendBool(b, f.Compress)
	case fidLocal:
		return appendBool(b, f.Local)
	case fidBroadcast:
		return appendBool(b, f.Broadcast)
	case fidBinary:
		return appendBool(b, f.Binary)
	case fidTimeout:
		return appendNumber(b, f.Timeout, Notepack3)
	case fidExpect:
		return appendBool(b, f.ExpectSingleResponse)
	}
	return b
}

// MarshalMsg appends the flags object.
func (f Flags) MarshalMsg(b []byte) ([]byte, error) {
	b = appendMapHeader(b, uint32(f.count()))
	var done FlagSet
	extra := 0
	for o := f.order; o != 0; o >>= 4 {
		id := int(o & 0xf)
		if id == fidExtra {
			if extra < len(f.Extra) {
				b = AppendString(b, f.Extra[extra].Key)
				b, _ = f.Extra[extra].Value.MarshalMsg(b)
				extra++
			}
			continue
		}
		bit := FlagSet(1) << (id - 1)
		if f.Has&bit != 0 && done&bit == 0 {
			b = f.appendFlag(b, id)
			done |= bit
		}
	}
	for id := fidVolatile; id <= fidExpect; id++ {
		bit := FlagSet(1) << (id - 1)
		if f.Has&bit != 0 && done&bit == 0 {
			b = f.appendFlag(b, id)
		}
	}
	for ; extra < len(f.Extra); extra++ {
		b = AppendString(b, f.Extra[extra].Key)
		b, _ = f.Extra[extra].Value.MarshalMsg(b)
	}
	return b, nil
}

// UnmarshalMsg reads a flags object; nil reads as no flags.
func (f *Flags) UnmarshalMsg(b []byte) ([]byte, error) {
	f.Reset()
	n, rest, err := readMapHeader(b, "flags")
	if err != nil {
		return b, err
	}
	shift := uint(0)
	push := func(id int) {
		if shift < 64 {
			f.order |= uint64(id) << shift
			shift += 4
		}
	}
	for i := 0; i < n; i++ {
		var key Str
		if rest, err = key.UnmarshalMsg(rest); err != nil {
			return b, fmt.Errorf("flags key: %w", err)
		}
		id := 0
		switch key {
		case "volatile":
			id = fidVolatile
		case "compress":
			id = fidCompress
		case "local":
			id = fidLocal
		case "broadcast":
			id = fidBroadcast
		case "binary":
			id = fidBinary
		case "timeout":
			id = fidTimeout
		case "expectSingleResponse":
			id = fidExpect
		}
		bit := FlagSet(0)
		if id != 0 {
			bit = FlagSet(1) << (id - 1)
		}
		if id != 0 && f.Has&bit == 0 && len(rest) > 0 {
			switch {
			case id == fidTimeout:
				if v, r2, err := readFloat(rest); err == nil && !math.IsNaN(v) {
					f.Timeout, f.Has, rest = v, f.Has|bit, r2
					push(id)
					continue
				}
			case rest[0] == 0xc2 || rest[0] == 0xc3:
				v := rest[0] == 0xc3
				switch id {
				case fidVolatile:
					f.Volatile = v
				case fidCompress:
					f.Compress = v
				case fidLocal:
					f.Local = v
				case fidBroadcast:
					f.Broadcast = v
				case fidBinary:
					f.Binary = v
				case fidExpect:
					f.ExpectSingleResponse = v
				}
				f.Has |= bit
				rest = rest[1:]
				push(id)
				continue
			}
		}
		var val Raw
		if rest, err = val.UnmarshalMsg(rest); err != nil {
			return b, fmt.Errorf("flags[%s]: %w", key, err)
		}
		f.Extra = append(f.Extra, RawKV{Key: string(key), Value: val})
		push(fidExtra)
	}
	return rest, nil
}

// Msgsize returns an upper bound of the encoded size.
func (f Flags) Msgsize() int {
	n := 5 + 7*32
	for _, e := range f.Extra {
		n += 5 + len(e.Key) + e.Value.Msgsize()
	}
	return n
}

// OptsOrder is the key order of a broadcast options object.
type OptsOrder uint8

const (
	// OrderAdapter is {rooms, except, flags}: socket.io-redis 6.x and
	// @socket.io/redis-adapter 7.x/8.x, and the sharded ClusterAdapter.
	OrderAdapter OptsOrder = iota
	// OrderEmitter is {rooms, flags, except}: @socket.io/redis-emitter.
	OrderEmitter
	// OrderRoomsExcept is {rooms, except}: the opts of classic
	// fetchSockets / socketsJoin / socketsLeave / disconnectSockets
	// requests.
	OrderRoomsExcept
	// OrderLegacy is socket.io-redis 4.x/5.x: {except, rooms, flags} with
	// except only when non-empty. (4.0's nil rooms/flags are decoded but
	// encoded as [] and {}.)
	OrderLegacy
)

// BroadcastOpts is the options object {rooms, except, flags} of a
// broadcast (and the opts of requests). Missing or nil members decode as
// empty. Order is the key order used by MarshalMsg; decoding sets it from
// the wire.
type BroadcastOpts struct {
	Rooms  Rooms
	Except Rooms
	Flags  Flags
	Order  OptsOrder
}

// MarshalMsg appends the options in o.Order.
func (o BroadcastOpts) MarshalMsg(b []byte) ([]byte, error) {
	return o.appendOrder(b, o.Order)
}

func (o *BroadcastOpts) appendOrder(b []byte, order OptsOrder) ([]byte, error) {
	var err error
	switch order {
	case OrderEmitter:
		b = append(b, 0x83)
		b = append(b, "\xa5rooms"...)
		if b, err = o.Rooms.MarshalMsg(b); err != nil {
			return b, err
		}
		b = append(b, "\xa5flags"...)
		b, _ = o.Flags.MarshalMsg(b)
		b = append(b, "\xa6except"...)
		return o.Except.MarshalMsg(b)
	case OrderRoomsExcept:
		b = append(b, 0x82)
		b = append(b, "\xa5rooms"...)
		if b, err = o.Rooms.MarshalMsg(b); err != nil {
			return b, err
		}
		b = append(b, "\xa6except"...)
		return o.Except.MarshalMsg(b)
	case OrderLegacy:
		if len(o.Except) > 0 {
			b = append(b, 0x83)
			b = append(b, "\xa6except"...)
			if b, err = o.Except.MarshalMsg(b); err != nil {
				return b, err
			}
		} else {
			b = append(b, 0x82)
		}
		b = append(b, "\xa5rooms"...)
		if b, err = o.Rooms.MarshalMsg(b); err != nil {
			return b, err
		}
		b = append(b, "\xa5flags"...)
		return o.Flags.MarshalMsg(b)
	}
	b = append(b, 0x83)
	b = append(b, "\xa5rooms"...)
	if b, err = o.Rooms.MarshalMsg(b); err != nil {
		return b, err
	}
	b = append(b, "\xa6except"...)
	if b, err = o.Except.MarshalMsg(b); err != nil {
		return b, err
	}
	b = append(b, "\xa5flags"...)
	return o.Flags.MarshalMsg(b)
}

// UnmarshalMsg reads an options object (nil reads as empty), detecting the
// key order.
func (o *BroadcastOpts) UnmarshalMsg(b []byte) ([]byte, error) {
	o.Rooms = o.Rooms[:0]
	o.Except = o.Except[:0]
	o.Flags.Reset()
	o.Order = OrderAdapter
	n, rest, err := readMapHeader(b, "opts")
	if err != nil {
		return b, err
	}
	// seq records the key sequence: r=1, e=2, f=3 in 2-bit slots.
	seq, nk := 0, 0
	for i := 0; i < n; i++ {
		var key Str
		if rest, err = key.UnmarshalMsg(rest); err != nil {
			return b, fmt.Errorf("opts key: %w", err)
		}
		k := 0
		switch key {
		case "rooms":
			k = 1
			rest, err = o.Rooms.UnmarshalMsg(rest)
		case "except":
			k = 2
			rest, err = o.Except.UnmarshalMsg(rest)
		case "flags":
			k = 3
			rest, err = o.Flags.UnmarshalMsg(rest)
		default:
			rest, err = skipValue(rest)
		}
		if err != nil {
			return b, fmt.Errorf("opts.%s: %w", key, err)
		}
		if k != 0 && nk < 3 {
			seq = seq<<2 | k
			nk++
		}
	}
	switch seq {
	case 1<<4 | 3<<2 | 2: // rooms, flags, except
		o.Order = OrderEmitter
	case 1<<2 | 2: // rooms, except
		o.Order = OrderRoomsExcept
	case 2<<4 | 1<<2 | 3, 1<<2 | 3: // except, rooms, flags / rooms, flags
		o.Order = OrderLegacy
	}
	return rest, nil
}

// Msgsize returns an upper bound of the encoded size.
func (o BroadcastOpts) Msgsize() int {
	return 20 + o.Rooms.Msgsize() + o.Except.Msgsize() + o.Flags.Msgsize()
}

// IsZero reports whether the options are empty.
func (o BroadcastOpts) IsZero() bool {
	return len(o.Rooms) == 0 && len(o.Except) == 0 && o.Flags.IsZero()
}
