package shard

// Room names a Socket.IO room.
//
// Socket.IO rooms are arbitrary JavaScript values that the adapters
// compare with ===, which in practice means strings and numbers. Name is
// the string form of the room (for a number, what JavaScript's String(n)
// gives, e.g. "42") and Numeric reports whether the room is a JS number,
// so that the number 42 and the string "42" stay two different rooms.
//
// The field set and order are part of the contract with the codec
// package, which declares an identical struct: the two convert into each
// other by a plain struct conversion. Do not add, remove or reorder
// fields.
type Room struct {
	Name    string
	Numeric bool
}

// StringRoom returns the string room named s, the kind of room every
// socket implicitly belongs to under its own id.
func StringRoom(s string) Room { return Room{Name: s} }
