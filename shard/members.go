package shard

import "math/bits"

// memberList holds the explicit members of one room, densely, so that a
// broadcast snapshot is a single memmove of string headers and a
// de-duplicating broadcast reads ids and names sequentially:
//
//	sids:  [ "Xq3…", "a9Z…", "k0P…" ]   socket ids, in no order
//	ids:   [   17,     4,     230  ]   their dense ids (see sidTable)
//	slots: [ 0, 3, 0, 1, 0, 2, 0, 0 ]  hash of id → position+1
//
// This is the sparse/dense set of Briggs and Torczon (1993) with an
// open-addressing hash table as the sparse side: linear probing,
// Fibonacci hashing, and backward-shift deletion (Knuth, TAOCP vol. 3,
// 6.4, algorithm R), so no tombstones. A slot stores only a position;
// the key it stands for is read back from ids, so the index costs 4
// bytes a slot at a load factor kept in (1/8, 3/4].
//
// Removal swaps the last member into the hole and repoints its slot, so
// the arrays never have holes and never need compaction.
//
// memberList is not safe for concurrent use; the owning node's mu guards
// it. The zero value is an empty list.
type memberList struct {
	sids  []string
	ids   []uint32
	slots []uint32 // 0 = empty, else position+1; len is 0 or a power of two
}

const minSlots = 4

func (m *memberList) len() int { return len(m.ids) }

// home returns the preferred slot of id for a table with the given shift.
func home(id uint32, shift uint) uint32 { return (id * 0x9e3779b1) >> shift }

func (m *memberList) shift() uint {
	return 32 - uint(bits.TrailingZeros(uint(len(m.slots))))
}

// find returns the slot of id, or -1.
func (m *memberList) find(id uint32) int {
	if len(m.slots) == 0 {
		return -1
	}
	mask := uint32(len(m.slots) - 1)
	for i := home(id, m.shift()); ; i = (i + 1) & mask {
		s := m.slots[i]
		if s == 0 {
			return -1
		}
		if m.ids[s-1] == id {
			return int(i)
		}
	}
}

// add inserts the socket with dense id and name sid; it reports whether
// it was not a member yet.
func (m *memberList) add(id uint32, sid string) bool {
	if (len(m.ids)+1)*4 > len(m.slots)*3 {
		if m.find(id) >= 0 {
			return false
		}
		m.rehash(max(minSlots, 2*len(m.slots)))
	}
	mask := uint32(len(m.slots) - 1)
	for i := home(id, m.shift()); ; i = (i + 1) & mask {
		s := m.slots[i]
		if s == 0 {
			m.ids = append(m.ids, id)
			m.sids = append(m.sids, sid)
			m.slots[i] = uint32(len(m.ids))
			return true
		}
		if m.ids[s-1] == id {
			return false
		}
	}
}

// remove deletes the socket with dense id; it reports whether it was a
// member.
func (m *memberList) remove(id uint32) bool {
	f := m.find(id)
	if f < 0 {
		return false
	}
	i := uint32(f)
	p := m.slots[i] - 1
	mask := uint32(len(m.slots) - 1)
	shift := m.shift()
	// Backward shift: pull later entries of the probe run into the hole
	// unless their home lies cyclically in (hole, j].
	for j := (i + 1) & mask; m.slots[j] != 0; j = (j + 1) & mask {
		k := home(m.ids[m.slots[j]-1], shift)
		if (j-k)&mask < (j-i)&mask {
			continue
		}
		m.slots[i] = m.slots[j]
		i = j
	}
	m.slots[i] = 0
	// Swap the last member into position p.
	last := uint32(len(m.ids) - 1)
	if p != last {
		moved := m.ids[last]
		m.ids[p], m.sids[p] = moved, m.sids[last]
		m.slots[m.find(moved)] = p + 1 // finds the slot holding last+1
	}
	m.sids[last] = ""
	m.sids, m.ids = m.sids[:last], m.ids[:last]
	switch n := int(last); {
	case n == 0:
		*m = memberList{}
	case len(m.slots) > minSlots && n*8 < len(m.slots):
		if c := cap(m.ids); c > 32 && n < c/4 {
			m.sids = append(make([]string, 0, 2*n), m.sids...)
			m.ids = append(make([]uint32, 0, 2*n), m.ids...)
		}
		m.rehash(len(m.slots) / 2)
	}
	return true
}

// rehash rebuilds the index with n slots (a power of two).
func (m *memberList) rehash(n int) {
	m.slots = make([]uint32, n)
	mask := uint32(n - 1)
	shift := m.shift()
	for p, id := range m.ids {
		i := home(id, shift)
		for m.slots[i] != 0 {
			i = (i + 1) & mask
		}
		m.slots[i] = uint32(p + 1)
	}
}
