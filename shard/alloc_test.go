package shard

import (
	"fmt"
	"testing"
)

// allocIndex returns an index with 1000 sockets: everyone in "all", every
// third in "three", every fifth in "five".
func allocIndex() *Index {
	ix := New(Options{})
	for i := 0; i < 1000; i++ {
		sid := fmt.Sprint("s", i)
		ix.Join(sid, StringRoom("all"))
		if i%3 == 0 {
			ix.Join(sid, StringRoom("three"))
		}
		if i%5 == 0 {
			ix.Join(sid, num("5"))
		}
	}
	return ix
}

// The "no allocation" promises: broadcasts allocate nothing in steady
// state, neither per recipient nor per call, and neither do joins and
// leaves of known sockets and rooms.
func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under -race")
	}
	ix := allocIndex()
	all, three, five := []Room{StringRoom("all")}, []Room{StringRoom("three"), num("5")}, []Room{num("5")}
	self := []Room{StringRoom("s7")}
	n := 0
	count := func(string) bool { n++; return true }
	cases := []struct {
		name string
		f    func()
		want int // recipients per run
	}{
		{"one room", func() { ix.ForEachRecipient(all, nil, count) }, 1000},
		{"own room", func() { ix.ForEachRecipient(self, nil, count) }, 1},
		{"union with except", func() { ix.ForEachRecipient(three, []Room{StringRoom("s0"), StringRoom("s3")}, count) }, 465},
		{"everyone except", func() { ix.ForEachRecipient(nil, five, count) }, 800},
		{"closure capturing locals", func() {
			local := 0
			ix.ForEachRecipient(all, five, func(sid string) bool { local++; return len(sid) > 0 })
			n += local
		}, 800},
	}
	for _, c := range cases {
		c.f() // warm the pool
		n = 0
		allocs := testing.AllocsPerRun(100, c.f)
		if allocs != 0 {
			t.Errorf("%s: %v allocs per broadcast", c.name, allocs)
		}
		if got := n / 101; got != c.want {
			t.Errorf("%s: %d recipients per run, want %d", c.name, got, c.want)
		}
	}

	r := StringRoom("churn")
	ix.Join("s1", r) // grow s1's room list once
	ix.Leave("s1", r)
	ix.Join("s2", r) // keep the room alive
	if allocs := testing.AllocsPerRun(100, func() {
		ix.Join("s1", r)
		ix.Leave("s1", r)
	}); allocs != 0 {
		t.Errorf("join+leave: %v allocs", allocs)
	}
	if allocs := testing.AllocsPerRun(100, func() {
		_ = ix.HasRoom(r) && ix.HasSocket("s1") && ix.MemberCount(r) > 0
	}); allocs != 0 {
		t.Errorf("queries: %v allocs", allocs)
	}
}
