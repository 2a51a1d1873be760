package shard

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestMemberListAgainstMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 50; round++ {
		var m memberList
		ref := map[uint32]bool{}
		universe := uint32(1 + rng.IntN(2000))
		for op := 0; op < 5000; op++ {
			id := 1 + rng.Uint32N(universe)
			if rng.IntN(3) == 0 {
				if got, want := m.remove(id), ref[id]; got != want {
					t.Fatalf("remove(%d) = %v, want %v", id, got, want)
				}
				delete(ref, id)
			} else {
				if got, want := m.add(id, fmt.Sprint(id)), !ref[id]; got != want {
					t.Fatalf("add(%d) = %v, want %v", id, got, want)
				}
				ref[id] = true
			}
			if m.len() != len(ref) || len(m.sids) != len(ref) {
				t.Fatalf("len = %d/%d, want %d", m.len(), len(m.sids), len(ref))
			}
			if op%97 == 0 {
				seen := map[uint32]bool{}
				for p, id := range m.ids {
					if seen[id] || !ref[id] || m.sids[p] != fmt.Sprint(id) {
						t.Fatalf("position %d: id %d duplicated, stale or misnamed", p, id)
					}
					if f := m.find(id); f < 0 || m.slots[f] != uint32(p+1) {
						t.Fatalf("index of %d wrong", id)
					}
					seen[id] = true
				}
				used := 0
				for _, s := range m.slots {
					if s != 0 {
						used++
					}
				}
				if used != len(ref) {
					t.Fatalf("%d slots used, want %d", used, len(ref))
				}
				if n := len(m.slots); n > 0 && (len(ref)*4 > n*3 || (n > minSlots && len(ref)*8 < n)) {
					t.Fatalf("load %d/%d out of bounds", len(ref), n)
				}
			}
		}
	}
}
