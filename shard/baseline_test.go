package shard

import (
	"slices"
	"sort"
	"sync"
	"testing"
)

// mutexMap is the baseline the benchmarks compare against: what the other
// Go Socket.IO adapter does, a port of the JavaScript in-memory adapter.
// Two maps of sets, rooms → socket ids and socket ids → rooms (the own
// room of a socket stored like any other), under one sync.RWMutex; a
// broadcast holds the read lock while it iterates and calls fn, and
// builds hash sets for except rooms and de-duplication.
type mutexMap struct {
	mu    sync.RWMutex
	rooms map[string]map[string]struct{}
	sids  map[string]map[string]struct{}
}

func newMutexMap() *mutexMap {
	return &mutexMap{rooms: map[string]map[string]struct{}{}, sids: map[string]map[string]struct{}{}}
}

func (m *mutexMap) Join(sid string, rooms ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rs, ok := m.sids[sid]
	if !ok {
		rs = map[string]struct{}{}
		m.sids[sid] = rs
	}
	for _, r := range rooms {
		rs[r] = struct{}{}
		set, ok := m.rooms[r]
		if !ok {
			set = map[string]struct{}{}
			m.rooms[r] = set
		}
		set[sid] = struct{}{}
	}
}

func (m *mutexMap) Leave(sid, room string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if rs, ok := m.sids[sid]; ok {
		delete(rs, room)
	}
	if set, ok := m.rooms[room]; ok {
		delete(set, sid)
		if len(set) == 0 {
			delete(m.rooms, room)
		}
	}
}

func (m *mutexMap) Disconnect(sid string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for r := range m.sids[sid] {
		if set, ok := m.rooms[r]; ok {
			delete(set, sid)
			if len(set) == 0 {
				delete(m.rooms, r)
			}
		}
	}
	delete(m.sids, sid)
}

func (m *mutexMap) ForEachRecipient(rooms, except []string, fn func(sid string) bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var ex map[string]struct{}
	if len(except) > 0 {
		ex = map[string]struct{}{}
		for _, r := range except {
			for sid := range m.rooms[r] {
				ex[sid] = struct{}{}
			}
		}
	}
	if len(rooms) == 0 {
		for sid := range m.sids {
			if _, x := ex[sid]; !x && !fn(sid) {
				return
			}
		}
		return
	}
	if len(rooms) == 1 && ex == nil {
		for sid := range m.rooms[rooms[0]] {
			if !fn(sid) {
				return
			}
		}
		return
	}
	seen := map[string]struct{}{}
	for _, r := range rooms {
		for sid := range m.rooms[r] {
			if _, ok := seen[sid]; ok {
				continue
			}
			if _, x := ex[sid]; x {
				continue
			}
			seen[sid] = struct{}{}
			if !fn(sid) {
				return
			}
		}
	}
}

// The baseline is only a fair yardstick if it is right.
func TestBaselineAgreesWithIndex(t *testing.T) {
	ix, mm := New(Options{}), newMutexMap()
	names := []string{"a", "b", "c", "d"}
	for i := 0; i < 200; i++ {
		sid := "s" + string(rune('A'+i%26)) + string(rune('a'+i/26))
		ix.Join(sid)
		mm.Join(sid, sid)
		for j, r := range names {
			if (i+j)%(j+2) == 0 {
				ix.Join(sid, StringRoom(r))
				mm.Join(sid, r)
			}
		}
		if i%7 == 0 {
			ix.Leave(sid, StringRoom("a"))
			mm.Leave(sid, "a")
		}
		if i%11 == 0 {
			ix.Disconnect(sid)
			mm.Disconnect(sid)
		}
	}
	for _, tc := range []struct{ rooms, except []string }{
		{nil, nil}, {[]string{"a"}, nil}, {[]string{"a", "b", "c"}, []string{"d"}}, {nil, []string{"b"}}, {[]string{"b", "b"}, []string{"sAa"}},
	} {
		var rooms, except []Room
		for _, r := range tc.rooms {
			rooms = append(rooms, StringRoom(r))
		}
		for _, r := range tc.except {
			except = append(except, StringRoom(r))
		}
		var got []string
		mm.ForEachRecipient(tc.rooms, tc.except, func(sid string) bool { got = append(got, sid); return true })
		sort.Strings(got)
		if want := recipients(ix, rooms, except); !slices.Equal(got, want) {
			t.Fatalf("%v except %v: baseline %v, index %v", tc.rooms, tc.except, got, want)
		}
	}
}
