package codec

// DecodeBroadcast decodes a broadcast message (the msgpack array
// [uid, packet, opts]) into b, reusing b's slices.
//
// Zero copy: msg must be immutable (a Go string is); b's strings, room
// names and Packet.Data alias it, so keep msg alive as long as b is used.
// Decoding into a reused b allocates nothing.
func DecodeBroadcast(msg string, b *Broadcast) error {
	b.Reset()
	rest, err := b.UnmarshalMsg(bytesOf(msg))
	if err != nil {
		return normalizeErr(err, "codec: decode broadcast")
	}
	if len(rest) != 0 {
		return errWrap(ErrTrailing, "codec: decode broadcast")
	}
	return nil
}

// DecodePacket decodes a packet object {type, data, nsp} (for instance the
// Packet of a sharded BROADCAST envelope, or of a classic BROADCAST
// request) into p. The result aliases raw.
func DecodePacket(raw Raw, p *Packet) error {
	p.Reset()
	rest, err := p.UnmarshalMsg(raw)
	if err != nil {
		return normalizeErr(err, "codec: decode packet")
	}
	if len(rest) != 0 {
		return errWrap(ErrTrailing, "codec: decode packet")
	}
	return nil
}

// AppendBroadcast appends the broadcast message [uid, packet, opts] with
// the options keys in the given order (OrderAdapter for a node,
// OrderEmitter to look like @socket.io/redis-emitter). b is not modified.
// It allocates nothing when dst has room. The only error is a numeric
// room whose Name is not a number.
func AppendBroadcast(dst []byte, b *Broadcast, order OptsOrder) ([]byte, error) {
	start := len(dst)
	dst = append(dst, 0x93)
	dst = AppendString(dst, string(b.UID))
	dst, _ = b.Packet.MarshalMsg(dst)
	dst, err := b.Opts.appendOrder(dst, order)
	if err != nil {
		return dst[:start], errWrap(err, "codec: encode broadcast")
	}
	return dst, nil
}

// Reset clears p.
func (p *Packet) Reset() { *p = Packet{} }

// Reset clears b, keeping the capacity of its room lists and extra flags
// so that decoding into it again allocates nothing. Generated UnmarshalMsg
// methods leave fields that are absent from the input untouched, so the
// Decode functions reset first.
func (b *Broadcast) Reset() {
	b.UID = ""
	b.Packet = Packet{}
	b.Opts.reset()
}

func (o *BroadcastOpts) reset() {
	o.Rooms = o.Rooms[:0]
	o.Except = o.Except[:0]
	o.Flags.Reset()
	o.Order = OrderAdapter
}
