package shard

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
)

// model is the reference: a plain map of sets with the same semantics,
// the socket's own room included implicitly.
type model struct {
	sockets map[string][]Room        // socket → explicit rooms in join order
	rooms   map[Room]map[string]bool // explicit members
}

func newModel() *model {
	return &model{sockets: map[string][]Room{}, rooms: map[Room]map[string]bool{}}
}

func (m *model) exists(r Room) bool {
	_, sock := m.sockets[r.Name]
	return (!r.Numeric && sock) || len(m.rooms[r]) > 0
}

func (m *model) allRooms() []Room {
	var out []Room
	for sid := range m.sockets {
		out = append(out, StringRoom(sid))
	}
	for r, set := range m.rooms {
		if len(set) > 0 {
			if _, sock := m.sockets[r.Name]; r.Numeric || !sock {
				out = append(out, r)
			}
		}
	}
	return out
}

func (m *model) members(r Room) []string {
	var out []string
	if _, ok := m.sockets[r.Name]; ok && !r.Numeric {
		out = append(out, r.Name)
	}
	for sid := range m.rooms[r] {
		out = append(out, sid)
	}
	sort.Strings(out)
	return out
}

func (m *model) join(sid string, rooms ...Room) {
	if sid == "" {
		return
	}
	if _, ok := m.sockets[sid]; !ok {
		m.sockets[sid] = nil
	}
	for _, r := range rooms {
		if (!r.Numeric && r.Name == sid) || slices.Contains(m.sockets[sid], r) {
			continue
		}
		m.sockets[sid] = append(m.sockets[sid], r)
		if m.rooms[r] == nil {
			m.rooms[r] = map[string]bool{}
		}
		m.rooms[r][sid] = true
	}
}

func (m *model) leave(sid string, r Room) {
	rs, ok := m.sockets[sid]
	if !ok {
		return
	}
	if i := slices.Index(rs, r); i >= 0 {
		m.sockets[sid] = slices.Delete(rs, i, i+1)
		delete(m.rooms[r], sid)
	}
}

func (m *model) disconnect(sid string) {
	for _, r := range m.sockets[sid] {
		delete(m.rooms[r], sid)
	}
	delete(m.sockets, sid)
}

func (m *model) recipients(rooms, except []Room) []string {
	ex := map[string]bool{}
	for _, r := range except {
		for _, s := range m.members(r) {
			ex[s] = true
		}
	}
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if !ex[s] && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	if len(rooms) == 0 {
		for s := range m.sockets {
			add(s)
		}
	}
	for _, r := range rooms {
		for _, s := range m.members(r) {
			add(s)
		}
	}
	sort.Strings(out)
	return out
}

func TestModel(t *testing.T) {
	seeds := uint64(40)
	if raceEnabled || testing.Short() {
		seeds = 10
	}
	for seed := uint64(0); seed < seeds; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runModel(t, seed, 3000) })
	}
}

func runModel(t *testing.T, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, 99))
	nSockets := 2 + rng.IntN(10)
	var universe []Room
	for i := 0; i < 6; i++ {
		universe = append(universe, StringRoom(fmt.Sprint("r", i)), num(fmt.Sprint(i)))
	}
	for i := 0; i < nSockets; i++ {
		universe = append(universe, StringRoom(fmt.Sprint("s", i))) // rooms named like sockets
	}
	universe = append(universe, StringRoom("0"), num("r0"), StringRoom(""))
	sid := func() string { return fmt.Sprint("s", rng.IntN(nSockets)) }
	room := func() Room { return universe[rng.IntN(len(universe))] }
	someRooms := func(max int) []Room {
		rs := make([]Room, rng.IntN(max+1))
		for i := range rs {
			rs[i] = room()
		}
		return rs
	}

	var ev events
	ix := New(ev.opts())
	m := newModel()
	for step := 0; step < steps; step++ {
		before := map[Room]bool{}
		for _, r := range universe {
			before[r] = m.exists(r)
		}
		var op string
		switch k := rng.IntN(10); {
		case k < 5:
			s, rs := sid(), someRooms(3)
			op = fmt.Sprintf("Join(%s, %v)", s, rs)
			ix.Join(s, rs...)
			m.join(s, rs...)
		case k < 8:
			s, r := sid(), room()
			op = fmt.Sprintf("Leave(%s, %v)", s, r)
			ix.Leave(s, r)
			m.leave(s, r)
		default:
			s := sid()
			op = fmt.Sprintf("Disconnect(%s)", s)
			ix.Disconnect(s)
			m.disconnect(s)
		}
		// Events: exactly the rooms whose existence changed.
		var want []string
		for _, r := range universe {
			if now := m.exists(r); now != before[r] {
				if now {
					want = append(want, "+"+roomString(r))
				} else {
					want = append(want, "-"+roomString(r))
				}
			}
		}
		sort.Strings(want)
		if got := ev.take(); !slices.Equal(got, want) {
			t.Fatalf("step %d %s: events %v, want %v", step, op, got, want)
		}
		check(t, ix, m, universe, rng, fmt.Sprintf("step %d %s", step, op))
	}
}

func check(t *testing.T, ix *Index, m *model, universe []Room, rng *rand.Rand, where string) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf(where+": "+format, args...)
	}
	if ix.SocketCount() != len(m.sockets) {
		fail("SocketCount %d, want %d", ix.SocketCount(), len(m.sockets))
	}
	if all := m.allRooms(); ix.RoomCount() != len(all) || !slices.Equal(roomsSorted(ix.AllRooms(nil)), roomsSorted(all)) {
		fail("AllRooms %v (count %d), want %v", ix.AllRooms(nil), ix.RoomCount(), all)
	}
	for _, r := range universe {
		want := m.members(r)
		if got := sorted(ix.Members(r, nil), strings.Compare); !slices.Equal(got, want) {
			fail("Members(%v) = %v, want %v", r, got, want)
		}
		if ix.MemberCount(r) != len(want) || ix.HasRoom(r) != m.exists(r) {
			fail("MemberCount/HasRoom(%v)", r)
		}
	}
	for i := 0; i < 12; i++ {
		s := fmt.Sprint("s", i)
		rs, ok := m.sockets[s]
		var want []Room
		if ok {
			want = append([]Room{StringRoom(s)}, rs...)
		}
		if got := ix.Rooms(s, nil); !slices.Equal(got, want) {
			fail("Rooms(%s) = %v, want %v", s, got, want)
		}
		if ix.HasSocket(s) != ok {
			fail("HasSocket(%s)", s)
		}
	}
	for i := 0; i < 4; i++ {
		rooms := make([]Room, rng.IntN(4))
		for j := range rooms {
			rooms[j] = universe[rng.IntN(len(universe))]
		}
		except := make([]Room, rng.IntN(3))
		for j := range except {
			except[j] = universe[rng.IntN(len(universe))]
		}
		got, want := recipients(ix, rooms, except), m.recipients(rooms, except)
		if !slices.Equal(got, want) {
			fail("recipients(%v except %v) = %v, want %v", rooms, except, got, want)
		}
	}
}
