package shard

import (
	"math/rand/v2"
	"testing"
)

func TestIDSetAgainstMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 50; round++ {
		var s idSet
		ref := map[uint32]bool{}
		universe := uint32(1 + rng.IntN(2000))
		for op := 0; op < 5000; op++ {
			id := 1 + rng.Uint32N(universe)
			if rng.IntN(3) == 0 {
				if got, want := s.remove(id), ref[id]; got != want {
					t.Fatalf("remove(%d) = %v, want %v", id, got, want)
				}
				delete(ref, id)
			} else {
				if got, want := s.add(id), !ref[id]; got != want {
					t.Fatalf("add(%d) = %v, want %v", id, got, want)
				}
				ref[id] = true
			}
			if s.len() != len(ref) {
				t.Fatalf("len = %d, want %d", s.len(), len(ref))
			}
			if op%97 == 0 {
				seen := map[uint32]bool{}
				for _, v := range s.slots {
					if v == 0 {
						continue
					}
					if seen[v] || !ref[v] {
						t.Fatalf("slot %d duplicated or stale", v)
					}
					seen[v] = true
				}
				if len(seen) != len(ref) {
					t.Fatalf("scan found %d members, want %d", len(seen), len(ref))
				}
				for v := range ref {
					if !s.has(v) {
						t.Fatalf("has(%d) = false", v)
					}
				}
				if n := len(s.slots); n > 0 && (s.n*4 > uint32(n)*3 || (n > minSetSlots && s.n*8 < uint32(n))) {
					t.Fatalf("load %d/%d out of bounds", s.n, n)
				}
			}
		}
	}
}
