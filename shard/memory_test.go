package shard

import (
	"math/rand/v2"
	"os"
	"runtime"
	"testing"
)

// TestMemoryPerMembership measures the heap the Index holds for 1 000 000
// sockets (20-character ids) in 3 distinct rooms each out of 1 000 rooms
// (about 3 000 members per room), joined one room per Join call as
// Socket.IO does. It is skipped unless SHARD_MEMORY=1:
//
//	SHARD_MEMORY=1 go test -run TestMemoryPerMembership -v -count=1 ./shard
//
// Everything the Index keeps is counted, including its own copies of the
// socket ids. The ids and Room values handed to it are allocated before
// the first measurement.
func TestMemoryPerMembership(t *testing.T) {
	if os.Getenv("SHARD_MEMORY") != "1" {
		t.Skip("set SHARD_MEMORY=1 to measure (needs ~1 GiB, ~20 s)")
	}
	const nSockets, nRooms, perSocket = 1_000_000, 1_000, 3
	sids := socketIDs(nSockets, 9)
	rooms := make([]Room, nRooms)
	for i := range rooms {
		rooms[i] = StringRoom(roomName(i))
	}
	rng := rand.New(rand.NewPCG(9, 9))
	picks := make([][perSocket]uint16, nSockets)
	for i := range picks {
		for j := 0; j < perSocket; j++ {
		again:
			r := uint16(rng.IntN(nRooms))
			for k := 0; k < j; k++ {
				if picks[i][k] == r {
					goto again
				}
			}
			picks[i][j] = r
		}
	}

	measure := func(build func() any) (heapAlloc, heapInuse float64) {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&before)
		keep := build()
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(keep)
		return float64(after.HeapAlloc) - float64(before.HeapAlloc), float64(after.HeapInuse) - float64(before.HeapInuse)
	}

	sockAlloc, sockInuse := measure(func() any {
		ix := New(Options{})
		for _, sid := range sids {
			ix.Join(sid)
		}
		return ix
	})
	totAlloc, totInuse := measure(func() any {
		ix := New(Options{})
		for i, sid := range sids {
			ix.Join(sid)
			for _, r := range picks[i] {
				ix.Join(sid, rooms[r])
			}
		}
		if ix.SocketCount() != nSockets || ix.RoomCount() != nSockets+nRooms {
			t.Fatalf("counts %d %d", ix.SocketCount(), ix.RoomCount())
		}
		return ix
	})
	const memberships = nSockets * perSocket
	t.Logf("sockets only:       %6.1f B/socket (HeapAlloc), %6.1f B/socket (HeapInuse)", sockAlloc/nSockets, sockInuse/nSockets)
	t.Logf("3 rooms per socket: %6.1f B/membership (HeapAlloc), %6.1f B/membership (HeapInuse)", totAlloc/memberships, totInuse/memberships)
	t.Logf("  of which rooms:   %6.1f B/membership beyond the socket itself", (totAlloc-sockAlloc)/memberships)
	if b := totInuse / memberships; b > 120 {
		t.Errorf("%.1f bytes per membership, goal is ≤ 120", b)
	}

	if os.Getenv("SHARD_MEMORY_BASELINE") == "1" {
		baseAlloc, baseInuse := measure(func() any {
			m := newMutexMap()
			for i, sid := range sids {
				m.Join(sid, sid)
				for _, r := range picks[i] {
					m.Join(sid, rooms[r].Name)
				}
			}
			return m
		})
		t.Logf("baseline mutexmap:  %6.1f B/membership (HeapAlloc), %6.1f B/membership (HeapInuse)", baseAlloc/memberships, baseInuse/memberships)
	}
}
