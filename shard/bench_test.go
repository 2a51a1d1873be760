package shard

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// Benchmarks of the Index (impl=sioredis) against the baseline
// (impl=mutexmap, see baseline_test.go), always in the same run:
//
//	go test -run '^$' -bench . -benchmem -count 10 ./shard > bench.txt
//	benchstat -col /impl bench.txt
//
// BENCHMARKS.md has the interleaved procedure used for the recorded
// numbers, which copes better with a noisy machine.
//
// "Parallelism p" means p goroutines sharing b.N operations, whatever
// GOMAXPROCS is; an operation is described by each benchmark.

// benchIndex adapts both implementations to the benchmarks. Rooms are
// addressed by number; set prebuilds target or except room lists so that
// broadcasts build nothing per operation.
type benchIndex interface {
	connect(sid string)
	disconnect(sid string)
	join(sid string, room int)
	leave(sid string, room int)
	set(rooms ...int) any
	broadcast(rooms, except any, fn func(sid string) bool)
}

func roomName(i int) string { return fmt.Sprint("room-", i) }

type sioredisBench struct {
	ix    *Index
	rooms []Room
}

func newSioredisBench(nRooms int) benchIndex {
	x := &sioredisBench{ix: New(Options{})}
	for i := 0; i < nRooms; i++ {
		x.rooms = append(x.rooms, StringRoom(roomName(i)))
	}
	return x
}

func (x *sioredisBench) connect(sid string)         { x.ix.Join(sid) }
func (x *sioredisBench) disconnect(sid string)      { x.ix.Disconnect(sid) }
func (x *sioredisBench) join(sid string, room int)  { x.ix.Join(sid, x.rooms[room]) }
func (x *sioredisBench) leave(sid string, room int) { x.ix.Leave(sid, x.rooms[room]) }
func (x *sioredisBench) set(rooms ...int) any {
	var s []Room
	for _, r := range rooms {
		s = append(s, x.rooms[r])
	}
	return s
}
func (x *sioredisBench) broadcast(rooms, except any, fn func(string) bool) {
	x.ix.ForEachRecipient(rooms.([]Room), except.([]Room), fn)
}

type mutexMapBench struct {
	m     *mutexMap
	rooms []string
}

func newMutexMapBench(nRooms int) benchIndex {
	x := &mutexMapBench{m: newMutexMap()}
	for i := 0; i < nRooms; i++ {
		x.rooms = append(x.rooms, roomName(i))
	}
	return x
}

func (x *mutexMapBench) connect(sid string)         { x.m.Join(sid, sid) }
func (x *mutexMapBench) disconnect(sid string)      { x.m.Disconnect(sid) }
func (x *mutexMapBench) join(sid string, room int)  { x.m.Join(sid, x.rooms[room]) }
func (x *mutexMapBench) leave(sid string, room int) { x.m.Leave(sid, x.rooms[room]) }
func (x *mutexMapBench) set(rooms ...int) any {
	var s []string
	for _, r := range rooms {
		s = append(s, x.rooms[r])
	}
	return s
}
func (x *mutexMapBench) broadcast(rooms, except any, fn func(string) bool) {
	x.m.ForEachRecipient(rooms.([]string), except.([]string), fn)
}

// impls names the sub-benchmarks impl=mutexmap (the baseline, first, so
// that benchstat -col /impl uses it as the base) and impl=sioredis.
var impls = []struct {
	name string
	new  func(nRooms int) benchIndex
}{
	{"impl=mutexmap", newMutexMapBench},
	{"impl=sioredis", newSioredisBench},
}

// socketIDs returns n distinct 20-character ids shaped like Socket.IO's.
func socketIDs(n int, seed uint64) []string {
	rng := rand.New(rand.NewPCG(seed, 7))
	ids := make([]string, n)
	var raw [15]byte
	for i := range ids {
		for j := 0; j < len(raw); j += 8 {
			v := rng.Uint64()
			for k := j; k < len(raw) && k < j+8; k++ {
				raw[k] = byte(v >> (8 * (k - j)))
			}
		}
		ids[i] = base64.RawURLEncoding.EncodeToString(raw[:])
	}
	return ids
}

// Standard population: sockets each in 3 distinct rooms of nRooms.
const (
	popSockets = 10_000
	popRooms   = 100
)

func baseRooms(i int) [3]int {
	a := i % popRooms
	b := (i/popRooms + a + 1) % popRooms
	c := (i/(popRooms*popRooms) + b + 1 + i%7) % popRooms
	if c == a {
		c = (c + 1) % popRooms
	}
	if c == b {
		c = (c + 1) % popRooms
	}
	if c == a {
		c = (c + 1) % popRooms
	}
	return [3]int{a, b, c}
}

func populate(x benchIndex, sids []string) {
	for i, sid := range sids {
		x.connect(sid)
		for _, r := range baseRooms(i) {
			x.join(sid, r)
		}
	}
}

// pickChurn returns a socket and a room it is not a base member of, so
// that joining and then leaving it really inserts and removes.
func pickChurn(rng *rand.Rand) (int, int) {
	s := rng.IntN(popSockets)
	base := baseRooms(s)
	for {
		r := rng.IntN(popRooms)
		if r != base[0] && r != base[1] && r != base[2] {
			return s, r
		}
	}
}

// runP runs body in p goroutines that share b.N operations.
func runP(b *testing.B, p int, body func(rng *rand.Rand, n int)) {
	var wg sync.WaitGroup
	b.ResetTimer()
	for w := 0; w < p; w++ {
		n := b.N / p
		if w < b.N%p {
			n++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			body(rand.New(rand.NewPCG(uint64(w), 42)), n)
		}()
	}
	wg.Wait()
}

// One op: a socket joins a room (of ~300 members) and leaves it again.
func benchJoinLeave(b *testing.B, p int) {
	sids := socketIDs(popSockets, 1)
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) {
			x := im.new(popRooms)
			populate(x, sids)
			b.ReportAllocs()
			runP(b, p, func(rng *rand.Rand, n int) {
				for i := 0; i < n; i++ {
					s, r := pickChurn(rng)
					x.join(sids[s], r)
					x.leave(sids[s], r)
				}
			})
		})
	}
}

func BenchmarkJoinLeave_P1(b *testing.B) { benchJoinLeave(b, 1) }
func BenchmarkJoinLeave_P2(b *testing.B) { benchJoinLeave(b, 2) }
func BenchmarkJoinLeave_P8(b *testing.B) { benchJoinLeave(b, 8) }

// One op: visiting every member of a 10 000-member room.
func BenchmarkBroadcast_Room10k(b *testing.B) {
	sids := socketIDs(10_000, 2)
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) {
			x := im.new(1)
			for _, sid := range sids {
				x.connect(sid)
				x.join(sid, 0)
			}
			target, none := x.set(0), x.set()
			n := 0
			fn := func(string) bool { n++; return true }
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				x.broadcast(target, none, fn)
			}
			if n != b.N*len(sids) {
				b.Fatalf("%d recipients, want %d", n, b.N*len(sids))
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/recipient")
		})
	}
}

// One op: to(A, B, C).except(E) with 10 000 sockets, each in each of A, B
// and C with probability 1/5 and in E with probability 1/10 (about 4 400
// recipients).
func BenchmarkBroadcast_Union3Except(b *testing.B) {
	sids := socketIDs(10_000, 3)
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) {
			x := im.new(4)
			rng := rand.New(rand.NewPCG(3, 3))
			for _, sid := range sids {
				x.connect(sid)
				for r := 0; r < 3; r++ {
					if rng.IntN(5) == 0 {
						x.join(sid, r)
					}
				}
				if rng.IntN(10) == 0 {
					x.join(sid, 3)
				}
			}
			targets, except := x.set(0, 1, 2), x.set(3)
			n := 0
			fn := func(string) bool { n++; return true }
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				x.broadcast(targets, except, fn)
			}
			b.ReportMetric(float64(n)/float64(b.N), "recipients/op")
		})
	}
}

// One op: 90% a broadcast to one random room of ~300 members, 10% a join
// or a leave (each goroutine alternates joining a random socket into a
// random room it is not in and leaving it again), over 10 000 sockets in
// 3 of 100 rooms each.
func benchMixed(b *testing.B, p int) {
	sids := socketIDs(popSockets, 4)
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) {
			x := im.new(popRooms)
			populate(x, sids)
			targets := make([]any, popRooms)
			for r := range targets {
				targets[r] = x.set(r)
			}
			none := x.set()
			b.ReportAllocs()
			runP(b, p, func(rng *rand.Rand, n int) {
				count := 0
				fn := func(string) bool { count++; return true }
				joined, js, jr := false, 0, 0
				for i := 0; i < n; i++ {
					if rng.IntN(10) != 0 {
						x.broadcast(targets[rng.IntN(popRooms)], none, fn)
						continue
					}
					if joined {
						x.leave(sids[js], jr)
					} else {
						js, jr = pickChurn(rng)
						x.join(sids[js], jr)
					}
					joined = !joined
				}
				if joined {
					x.leave(sids[js], jr)
				}
			})
		})
	}
}

func BenchmarkMixed_P1(b *testing.B) { benchMixed(b, 1) }
func BenchmarkMixed_P8(b *testing.B) { benchMixed(b, 8) }

// One op: io.emit to every socket of the standard population (10 000
// sockets), except one room of ~300 members.
func BenchmarkBroadcast_AllExcept(b *testing.B) {
	sids := socketIDs(popSockets, 5)
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) {
			x := im.new(popRooms)
			populate(x, sids)
			all, except := x.set(), x.set(0)
			n := 0
			fn := func(string) bool { n++; return true }
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				x.broadcast(all, except, fn)
			}
			b.ReportMetric(float64(n)/float64(b.N), "recipients/op")
		})
	}
}

// One op: a new socket connects, joins 3 rooms of ~300 members and
// disconnects.
func BenchmarkConnectDisconnect_P1(b *testing.B) {
	sids := socketIDs(popSockets, 6)
	fresh := socketIDs(1<<14, 7)
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) {
			x := im.new(popRooms)
			populate(x, sids)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				sid := fresh[i&(len(fresh)-1)]
				x.connect(sid)
				for _, r := range baseRooms(i) {
					x.join(sid, r)
				}
				x.disconnect(sid)
			}
		})
	}
}
