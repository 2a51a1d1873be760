package codec

import "strconv"

// NoAckID is the ackID to pass to BuildFrame for a packet without an
// acknowledgement id.
const NoAckID = -1

// Frame is what one Socket.IO v4 client (Engine.IO 4) receives for a
// packet: Text is the engine.io text message ("4" + the socket.io-parser
// string encoding), Attachments are the binary frames that follow it, in
// order. A Frame is reusable: BuildFrame overwrites it, keeping its
// memory, so building allocates nothing in steady state.
//
// Attachments alias the data passed to BuildFrame (no copy).
type Frame struct {
	Text        []byte
	Attachments [][]byte
	scratch     []byte
}

// BuildFrame builds into f what socket.io-parser (v4) encodes for the
// packet {type, nsp, id, data}, with data given as raw msgpack (typically
// Packet.Data of a received broadcast), transcoded straight to JSON
// (AppendJSON rules; no intermediate value tree):
//
//	4 + type + [nsp + ","] + [ackID] + JSON(data)
//
// nsp is omitted when it is "/" (or empty). For EVENT (2) and ACK (3)
// packets whose data contains binary (bin, ArrayBuffer ext, or another
// extension, read by notepack.io 3 as [type, Buffer]) every binary is
// replaced, depth-first, by {"_placeholder":true,"num":n}, the type
// becomes BINARY_EVENT (5) / BINARY_ACK (6) followed by "<count>-", and
// the binaries are returned in f.Attachments. Types 5 and 6 given as input
// (Socket.IO 2.x senders) are treated as 2 and 3. Empty or nil data is
// omitted, as socket.io-parser does for null data.
func BuildFrame(f *Frame, typ int, nsp string, ackID int64, data Raw) error {
	return buildFrame(f, typ, nsp, ackID, data, true)
}

// BuildFrameTyped is BuildFrame for senders whose packet type says whether
// the packet carries attachments (Socket.IO 1.x/2.x: BINARY_EVENT when it
// does, EVENT after .binary(false)): an EVENT or ACK packet is written
// without attachments, its binaries as JSON.stringify writes a Node Buffer
// ({"type":"Buffer","data":[…]}), as a Socket.IO 2.x server sends it;
// BINARY_EVENT and BINARY_ACK are built as BuildFrame builds them.
func BuildFrameTyped(f *Frame, typ int, nsp string, ackID int64, data Raw) error {
	return buildFrame(f, typ, nsp, ackID, data, typ == PacketBinaryEvent || typ == PacketBinaryAck)
}

func buildFrame(f *Frame, typ int, nsp string, ackID int64, data Raw, detect bool) error {
	f.Text = f.Text[:0]
	f.Attachments = f.Attachments[:0]
	switch typ {
	case PacketBinaryEvent:
		typ = PacketEvent
	case PacketBinaryAck:
		typ = PacketAck
	}
	hasData := !data.IsNil() && !isUndefinedItem(data)
	// One pass: EVENT and ACK data are written in placeholder mode, which
	// gives the same JSON as the plain mode when there is no binary (only
	// binaries are written differently), and the attachments it collected
	// tell whether the packet is a BINARY_EVENT / BINARY_ACK.
	binaryCapable := (typ == PacketEvent || typ == PacketAck) && detect
	var err error
	if hasData {
		w := jsonWriter{placeholders: binaryCapable, attachments: f.Attachments}
		var rest []byte
		f.scratch, rest, err = w.value(f.scratch[:0], data, 0, ctxTop)
		if err == nil && len(rest) != 0 {
			err = ErrTrailing
		}
		if err != nil {
			return errWrap(err, "codec: build frame")
		}
		f.Attachments = w.attachments
	}
	binary := len(f.Attachments) > 0
	t := append(f.Text, '4')
	if binary {
		t = append(t, byte('0'+typ+3))
		t = strconv.AppendInt(t, int64(len(f.Attachments)), 10)
		t = append(t, '-')
	} else {
		t = strconv.AppendInt(t, int64(typ), 10)
	}
	if nsp != "" && nsp != "/" {
		t = append(t, nsp...)
		t = append(t, ',')
	}
	if ackID >= 0 {
		t = strconv.AppendInt(t, ackID, 10)
	}
	if hasData {
		t = append(t, f.scratch...)
	}
	f.Text = t
	return nil
}
