package shard

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// roomStates checks, from inside the callbacks, that events strictly
// alternate per room, and remembers which rooms are announced.
type roomStates struct {
	mu     sync.Mutex
	live   map[Room]bool
	errs   []string
	events atomic.Int64
}

func (s *roomStates) opts() Options {
	s.live = map[Room]bool{}
	return Options{
		OnRoomCreate: func(r Room) { s.flip(r, true) },
		OnRoomDelete: func(r Room) { s.flip(r, false) },
	}
}

func (s *roomStates) flip(r Room, create bool) {
	s.events.Add(1)
	s.mu.Lock()
	if s.live[r] == create {
		s.errs = append(s.errs, fmt.Sprintf("%v: create=%v twice in a row", r, create))
	}
	s.live[r] = create
	s.mu.Unlock()
}

// TestStress runs joiners, leavers, disconnecters and broadcasters at
// once, then checks the final state against the union of the writers'
// own models (each writer owns its sockets, rooms are shared) and the
// events against the final state. During the run, broadcasters check
// that stable sockets (present for the whole test) are delivered to
// exactly once and that no socket is delivered to twice.
func TestStress(t *testing.T) {
	writers, broadcasters, socketsPerWriter := 8, 4, 24
	dur := 2 * time.Second
	if testing.Short() {
		dur = 300 * time.Millisecond
	}
	var st roomStates
	ix := New(st.opts())

	var shared []Room
	for i := 0; i < 12; i++ {
		shared = append(shared, StringRoom(fmt.Sprint("room", i)))
	}
	shared = append(shared, num("1"), num("2"), StringRoom("1"))
	// Rooms named like writer sockets, so explicit and implicit members mix.
	for i := 0; i < 4; i++ {
		shared = append(shared, StringRoom(fmt.Sprintf("w%d-%d", i, i)))
	}
	except := StringRoom("except")

	// Stable sockets: joined before the run, never touched by writers.
	stableIn := map[Room][]string{} // target room → stable members
	stableEx := map[string]bool{}   // stable sockets in the except room
	for i := 0; i < 40; i++ {
		sid := fmt.Sprint("stable", i)
		a, b := shared[i%len(shared)], shared[(i*7+3)%len(shared)]
		ix.Join(sid, a, b)
		stableIn[a] = append(stableIn[a], sid)
		if b != a {
			stableIn[b] = append(stableIn[b], sid)
		}
		if i%5 == 0 {
			ix.Join(sid, except)
			stableEx[sid] = true
		}
	}
	for i := 0; i < 40; i++ {
		sid := fmt.Sprint("stable", i)
		stableIn[StringRoom(sid)] = []string{sid} // own room
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	models := make([]*model, writers)
	var ops, broadcasts atomic.Int64
	for w := 0; w < writers; w++ {
		m := newModel()
		models[w] = m
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			rooms := append(slices.Clone(shared), except)
			for n := 0; ; n++ {
				if n%64 == 0 {
					select {
					case <-stop:
						ops.Add(int64(n))
						return
					default:
					}
				}
				sid := fmt.Sprintf("w%d-%d", w, rng.IntN(socketsPerWriter))
				switch k := rng.IntN(20); {
				case k < 10:
					rs := []Room{rooms[rng.IntN(len(rooms))], rooms[rng.IntN(len(rooms))]}
					ix.Join(sid, rs...)
					m.join(sid, rs...)
				case k < 19:
					r := rooms[rng.IntN(len(rooms))]
					ix.Leave(sid, r)
					m.leave(sid, r)
				default:
					ix.Disconnect(sid)
					m.disconnect(sid)
				}
			}
		}()
	}
	errc := make(chan string, broadcasters)
	for b := 0; b < broadcasters; b++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(b), 2))
			seen := map[string]int{}
			for n := 0; ; n++ {
				select {
				case <-stop:
					broadcasts.Add(int64(n))
					return
				default:
				}
				var targets, ex []Room
				for i, k := 0, rng.IntN(4); i < k; i++ {
					if rng.IntN(4) == 0 {
						targets = append(targets, StringRoom(fmt.Sprint("stable", rng.IntN(40))))
					} else {
						targets = append(targets, shared[rng.IntN(len(shared))])
					}
				}
				if rng.IntN(2) == 0 {
					ex = []Room{except}
				}
				clear(seen)
				ix.ForEachRecipient(targets, ex, func(sid string) bool {
					seen[sid]++
					return true
				})
				msg := ""
				for sid, c := range seen {
					if c != 1 {
						msg = fmt.Sprintf("%s delivered %d times", sid, c)
					}
					if ex != nil && stableEx[sid] {
						msg = fmt.Sprintf("%s delivered despite except", sid)
					}
				}
				var want []string
				if len(targets) == 0 {
					for i := 0; i < 40; i++ {
						want = append(want, fmt.Sprint("stable", i))
					}
				}
				for _, r := range targets {
					want = append(want, stableIn[r]...)
				}
				for _, sid := range want {
					if seen[sid] != 1 && !(ex != nil && stableEx[sid]) {
						msg = fmt.Sprintf("stable %s missed by %v except %v", sid, targets, ex)
					}
				}
				if msg != "" {
					errc <- msg
					return
				}
			}
		}()
	}
	time.Sleep(dur)
	close(stop)
	wg.Wait()
	close(errc)
	for msg := range errc {
		t.Error(msg)
	}
	for _, e := range st.errs {
		t.Error(e)
	}
	t.Logf("%d writes, %d broadcasts, %d room events", ops.Load(), broadcasts.Load(), st.events.Load())

	// Final state = union of the writers' models plus the stable sockets.
	want := newModel()
	for i := 0; i < 40; i++ {
		sid := fmt.Sprint("stable", i)
		rs := ix.Rooms(sid, nil)
		want.join(sid, rs[1:]...)
	}
	for _, m := range models {
		for sid, rs := range m.sockets {
			want.join(sid, rs...)
		}
	}
	universe := append(slices.Clone(shared), except)
	for sid := range want.sockets {
		universe = append(universe, StringRoom(sid))
	}
	for w := 0; w < writers; w++ {
		for i := 0; i < socketsPerWriter; i++ {
			universe = append(universe, StringRoom(fmt.Sprintf("w%d-%d", w, i)))
		}
	}
	for _, r := range universe {
		if got, w := sorted(ix.Members(r, nil), strings.Compare), want.members(r); !slices.Equal(got, w) {
			t.Errorf("Members(%v) = %v, want %v", r, got, w)
		}
	}
	for _, m := range models {
		for sid, rs := range m.sockets {
			if got := ix.Rooms(sid, nil); !slices.Equal(roomsSorted(got[1:]), roomsSorted(rs)) {
				t.Errorf("Rooms(%s) = %v, want %v", sid, got, rs)
			}
		}
	}
	all := want.allRooms()
	if got := roomsSorted(ix.AllRooms(nil)); !slices.Equal(got, roomsSorted(all)) {
		t.Errorf("AllRooms = %v, want %v", got, roomsSorted(all))
	}
	var announced []Room
	for r, live := range st.live {
		if live {
			announced = append(announced, r)
		}
	}
	if !slices.Equal(roomsSorted(announced), roomsSorted(all)) {
		t.Errorf("rooms announced by events = %v, want %v", roomsSorted(announced), roomsSorted(all))
	}
	if ix.RoomCount() != len(all) || ix.SocketCount() != len(want.sockets) {
		t.Errorf("RoomCount %d SocketCount %d, want %d %d", ix.RoomCount(), ix.SocketCount(), len(all), len(want.sockets))
	}
	sort.Slice(all, func(i, j int) bool { return roomString(all[i]) < roomString(all[j]) })
}

// TestJoinRacesLastLeave hammers the transition the sharded pub/sub mode
// depends on: a join racing the last leave of a room must never lose the
// member nor announce a delete for a room that still has one.
func TestJoinRacesLastLeave(t *testing.T) {
	var st roomStates
	ix := New(st.opts())
	r := StringRoom("hot")
	const iters = 20000
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sid := fmt.Sprint("s", g)
			for i := 0; i < iters; i++ {
				ix.Join(sid, r)
				if !ix.HasRoom(r) {
					t.Error("member joined but room does not exist")
					return
				}
				ix.Leave(sid, r)
				if i%100 == 0 {
					ix.Disconnect(sid)
				}
			}
			ix.Join(sid, r)
		}()
	}
	wg.Wait()
	for _, e := range st.errs {
		t.Fatal(e)
	}
	if got := sorted(ix.Members(r, nil), strings.Compare); !slices.Equal(got, []string{"s0", "s1", "s2", "s3"}) {
		t.Fatalf("members %v", got)
	}
	if !st.live[r] {
		t.Fatal("room has members but its last event was a delete")
	}
	for g := 0; g < 4; g++ {
		ix.Disconnect(fmt.Sprint("s", g))
	}
	if st.live[r] || ix.RoomCount() != 0 || (ix.strings.Size()+ix.numbers.Size()) != 0 {
		t.Fatal("room not deleted")
	}
}
