package shard

import "hash/maphash"

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

// roomSeed keys the hash of room names. It is random per process, which
// together with the per-table seed mixed in by xsync keeps the buckets of
// the index unpredictable to clients choosing room names.
var roomSeed = maphash.MakeSeed()

// numericSalt separates the hashes of Room{"42", true} and Room{"42",
// false}.
const numericSalt = 0x9e3779b97f4a7c15

// hashRoom is the xsync hasher for Room keys. It is a direct memhash of
// the name, cheaper than the reflective runtime.typehash xsync falls back
// to for struct keys.
func hashRoom(r Room, seed uint64) uint64 {
	h := maphash.String(roomSeed, r.Name) ^ seed
	if r.Numeric {
		h ^= numericSalt
		h *= 0xbf58476d1ce4e5b9
	}
	return h
}
