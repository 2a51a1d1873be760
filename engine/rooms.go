package engine

import (
	"unsafe"

	"github.com/sioredis/sioredis/codec"
	"github.com/sioredis/sioredis/shard"
)

// codec.Room and shard.Room are the same struct declared twice so that
// neither package imports the other. This conversion fails to compile if
// they ever differ, which is what makes the slice casts below sound.
var _ = shard.Room(codec.Room{})

// toCodecRooms views rooms as codec rooms without copying.
func toCodecRooms(rs []Room) codec.Rooms {
	return *(*codec.Rooms)(unsafe.Pointer(&rs))
}

// fromCodecRooms views codec rooms as rooms without copying.
func fromCodecRooms(rs codec.Rooms) []Room {
	return *(*[]Room)(unsafe.Pointer(&rs))
}

// looksNumeric reports whether a channel's room part could be the string
// form of a numeric room (the Node adapter 7.0.1+ matches both).
func looksNumeric(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && c != '.' && c != '-' && c != 'e' && c != '+' {
			return false
		}
	}
	return true
}
