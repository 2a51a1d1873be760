package shard

import "math/bits"

// idSet is the member set of one room: an open-addressing hash set of
// dense socket ids (see sidTable) with linear probing, Fibonacci hashing
// and backward-shift deletion (Knuth, TAOCP vol. 3, 6.4, algorithm R), so
// there are no tombstones and a scan of slots sees every member exactly
// once.
//
// Slots are 4 bytes and hold no pointers, so a set of n members costs
// about 4n/load bytes and nothing for the garbage collector to scan. The
// load factor is kept in (1/8, 3/4]; an emptied set drops its slots.
//
// idSet is not safe for concurrent use; the owning node's mu guards it.
// The zero value is an empty set.
type idSet struct {
	slots []uint32 // 0 = empty; len is 0 or a power of two ≥ minSetSlots
	n     uint32   // members
}

const minSetSlots = 4

// home returns the preferred slot of id in a table of 1<<shiftBits slots.
func home(id uint32, shift uint) uint32 {
	return (id * 0x9e3779b1) >> shift
}

// shift returns the right shift that maps a 32-bit product to a slot.
func (s *idSet) shift() uint {
	return 32 - uint(bits.TrailingZeros(uint(len(s.slots))))
}

// len returns the number of members.
func (s *idSet) len() int { return int(s.n) }

// has reports whether id is a member.
func (s *idSet) has(id uint32) bool {
	if s.n == 0 {
		return false
	}
	mask := uint32(len(s.slots) - 1)
	for i := home(id, s.shift()); ; i = (i + 1) & mask {
		switch s.slots[i] {
		case id:
			return true
		case 0:
			return false
		}
	}
}

// add inserts id (which must not be 0) and reports whether it was new.
func (s *idSet) add(id uint32) bool {
	if (s.n+1)*4 > uint32(len(s.slots))*3 {
		if s.has(id) {
			return false
		}
		s.resize(max(minSetSlots, 2*len(s.slots)))
	}
	mask := uint32(len(s.slots) - 1)
	for i := home(id, s.shift()); ; i = (i + 1) & mask {
		switch s.slots[i] {
		case id:
			return false
		case 0:
			s.slots[i] = id
			s.n++
			return true
		}
	}
}

// remove deletes id and reports whether it was a member.
func (s *idSet) remove(id uint32) bool {
	if s.n == 0 {
		return false
	}
	mask := uint32(len(s.slots) - 1)
	shift := s.shift()
	i := home(id, shift)
	for s.slots[i] != id {
		if s.slots[i] == 0 {
			return false
		}
		i = (i + 1) & mask
	}
	// Backward shift: pull later members of the probe run into the hole
	// unless their home lies cyclically in (hole, j].
	for j := (i + 1) & mask; s.slots[j] != 0; j = (j + 1) & mask {
		k := home(s.slots[j], shift)
		if (j-k)&mask < (j-i)&mask {
			continue // k in (i, j]: the member may not move before its home
		}
		s.slots[i] = s.slots[j]
		i = j
	}
	s.slots[i] = 0
	s.n--
	switch {
	case s.n == 0:
		s.slots = nil
	case len(s.slots) > minSetSlots && s.n*8 < uint32(len(s.slots)):
		s.resize(len(s.slots) / 2)
	}
	return true
}

// resize rehashes the set into n slots (a power of two).
func (s *idSet) resize(n int) {
	old := s.slots
	s.slots = make([]uint32, n)
	mask := uint32(n - 1)
	shift := s.shift()
	for _, id := range old {
		if id == 0 {
			continue
		}
		i := home(id, shift)
		for s.slots[i] != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = id
	}
}
