package shard

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
)

// events records room events in order.
type events struct {
	mu  sync.Mutex
	log []string
}

func (e *events) opts() Options {
	return Options{
		OnRoomCreate: func(r Room) { e.add("+", r) },
		OnRoomDelete: func(r Room) { e.add("-", r) },
	}
}

func (e *events) add(sign string, r Room) {
	e.mu.Lock()
	e.log = append(e.log, sign+roomString(r))
	e.mu.Unlock()
}

// take returns and clears the events, sorted.
func (e *events) take() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	l := e.log
	e.log = nil
	sort.Strings(l)
	return l
}

func roomString(r Room) string {
	if r.Numeric {
		return "#" + r.Name
	}
	return r.Name
}

func num(s string) Room { return Room{Name: s, Numeric: true} }

func recipients(ix *Index, rooms, except []Room) []string {
	var got []string
	ix.ForEachRecipient(rooms, except, func(sid string) bool {
		got = append(got, sid)
		return true
	})
	sort.Strings(got)
	return got
}

func sorted[T any](s []T, less func(a, b T) int) []T {
	slices.SortFunc(s, less)
	return s
}

func roomsSorted(rs []Room) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = roomString(r)
	}
	sort.Strings(out)
	return out
}

func eq[T comparable](t *testing.T, what string, got, want []T) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

func TestJoinLeaveDisconnect(t *testing.T) {
	var ev events
	ix := New(ev.opts())

	ix.Join("a")
	eq(t, "events", ev.take(), []string{"+a"})
	ix.Join("a", StringRoom("r"), num("42"), StringRoom("42"), StringRoom("a"), StringRoom("r"))
	eq(t, "events", ev.take(), []string{"+#42", "+42", "+r"})
	eq(t, "Rooms(a)", roomsOf(ix, "a"), []string{"a", "r", "#42", "42"})
	ix.Join("b", StringRoom("r"))
	eq(t, "events", ev.take(), []string{"+b"})

	if !ix.HasSocket("a") || ix.HasSocket("r") || ix.HasSocket("") {
		t.Fatal("HasSocket")
	}
	if !ix.HasRoom(num("42")) || !ix.HasRoom(StringRoom("a")) || ix.HasRoom(num("a")) || ix.HasRoom(StringRoom("x")) {
		t.Fatal("HasRoom")
	}
	if n := ix.SocketCount(); n != 2 {
		t.Fatalf("SocketCount = %d", n)
	}
	if n := ix.RoomCount(); n != 5 {
		t.Fatalf("RoomCount = %d", n)
	}
	eq(t, "AllRooms", roomsSorted(ix.AllRooms(nil)), []string{"#42", "42", "a", "b", "r"})
	eq(t, "Members(r)", sorted(ix.Members(StringRoom("r"), nil), strings.Compare), []string{"a", "b"})
	eq(t, "Members(a)", ix.Members(StringRoom("a"), nil), []string{"a"})
	if ix.MemberCount(StringRoom("r")) != 2 || ix.MemberCount(num("42")) != 1 || ix.MemberCount(StringRoom("zz")) != 0 {
		t.Fatal("MemberCount")
	}

	ix.Leave("a", StringRoom("42"))
	eq(t, "events", ev.take(), []string{"-42"})
	ix.Leave("a", StringRoom("a")) // own room: no-op
	ix.Leave("a", StringRoom("nope"))
	ix.Leave("nobody", StringRoom("r"))
	eq(t, "events", ev.take(), nil)
	eq(t, "Rooms(a)", roomsOf(ix, "a"), []string{"a", "r", "#42"})

	ix.Disconnect("a")
	eq(t, "events", ev.take(), []string{"-#42", "-a"})
	eq(t, "Rooms(a)", roomsOf(ix, "a"), nil)
	eq(t, "Members(r)", ix.Members(StringRoom("r"), nil), []string{"b"})
	ix.Disconnect("a")
	ix.Disconnect("")
	ix.Disconnect("b")
	eq(t, "events", ev.take(), []string{"-b", "-r"})
	if ix.SocketCount() != 0 || ix.RoomCount() != 0 || len(ix.AllRooms(nil)) != 0 {
		t.Fatal("not empty")
	}
	if (ix.strings.Size() + ix.numbers.Size()) != 0 {
		t.Fatalf("%d nodes left", (ix.strings.Size() + ix.numbers.Size()))
	}
}

func roomsOf(ix *Index, sid string) []string {
	var out []string
	for _, r := range ix.Rooms(sid, nil) {
		out = append(out, roomString(r))
	}
	return out
}

func TestJoinExisting(t *testing.T) {
	var ev events
	ix := New(ev.opts())
	if ix.JoinExisting("a", StringRoom("r")) || ix.JoinExisting("") || ix.HasSocket("a") || ix.HasRoom(StringRoom("r")) {
		t.Fatal("JoinExisting added an unknown socket")
	}
	ix.Join("a")
	if !ix.JoinExisting("a", StringRoom("r"), StringRoom("a")) {
		t.Fatal("JoinExisting refused a known socket")
	}
	eq(t, "Rooms(a)", roomsOf(ix, "a"), []string{"a", "r"})
	ix.Disconnect("a")
	if ix.JoinExisting("a", StringRoom("r")) || ix.HasSocket("a") {
		t.Fatal("JoinExisting brought a disconnected socket back")
	}
	eq(t, "events", ev.take(), []string{"+a", "+r", "-a", "-r"})
}

func TestEmptyArguments(t *testing.T) {
	ix := New(Options{SizeHint: 1000})
	ix.Join("")
	ix.Join("", StringRoom("r"))
	ix.Leave("", StringRoom("r"))
	ix.Disconnect("")
	if ix.SocketCount() != 0 || ix.RoomCount() != 0 || ix.Rooms("", nil) != nil {
		t.Fatal("empty sid changed the index")
	}
	ix.ForEachRecipient(nil, nil, nil)
	// The empty room name is an ordinary room.
	ix.Join("a", StringRoom(""))
	eq(t, "Members(\"\")", ix.Members(StringRoom(""), nil), []string{"a"})
}

// A room named like a socket id contains that socket and whoever was
// joined into it explicitly; it exists while either does.
func TestRoomNamedLikeSocket(t *testing.T) {
	var ev events
	ix := New(ev.opts())
	ix.Join("b", StringRoom("a")) // "a" is not a socket yet
	eq(t, "events", ev.take(), []string{"+a", "+b"})
	ix.Join("a") // socket a joins: its room already exists
	eq(t, "events", ev.take(), nil)
	eq(t, "Members(a)", ix.Members(StringRoom("a"), nil), []string{"a", "b"})
	if ix.MemberCount(StringRoom("a")) != 2 || ix.RoomCount() != 2 {
		t.Fatal("counts")
	}
	eq(t, "to(a)", recipients(ix, []Room{StringRoom("a")}, nil), []string{"a", "b"})
	eq(t, "except(a)", recipients(ix, nil, []Room{StringRoom("a")}), nil)
	ix.Disconnect("a") // b keeps the room alive
	eq(t, "events", ev.take(), nil)
	eq(t, "Members(a)", ix.Members(StringRoom("a"), nil), []string{"b"})
	ix.Join("a")
	ix.Join("c", StringRoom("a"))
	eq(t, "events", ev.take(), []string{"+c"})
	ix.Leave("b", StringRoom("a"))
	ix.Leave("c", StringRoom("a"))
	eq(t, "events", ev.take(), nil)
	ix.Disconnect("a")
	eq(t, "events", ev.take(), []string{"-a"})
	// Numeric 7 is not the room of socket "7".
	ix.Join("7", num("7"))
	eq(t, "events", ev.take(), []string{"+#7", "+7"})
	eq(t, "Rooms(7)", roomsOf(ix, "7"), []string{"7", "#7"})
}

func TestRecipients(t *testing.T) {
	ix := New(Options{})
	for i := 0; i < 10; i++ {
		sid := fmt.Sprint("s", i)
		ix.Join(sid)
		if i%2 == 0 {
			ix.Join(sid, StringRoom("even"))
		}
		if i%3 == 0 {
			ix.Join(sid, StringRoom("three"))
		}
		if i < 3 {
			ix.Join(sid, num("1"))
		}
	}
	even, three, one := StringRoom("even"), StringRoom("three"), num("1")
	eq(t, "even", recipients(ix, []Room{even}, nil), []string{"s0", "s2", "s4", "s6", "s8"})
	eq(t, "even∪three", recipients(ix, []Room{even, three, even}, nil), []string{"s0", "s2", "s3", "s4", "s6", "s8", "s9"})
	eq(t, "even∪three−#1", recipients(ix, []Room{even, three}, []Room{one}), []string{"s3", "s4", "s6", "s8", "s9"})
	eq(t, "even−three", recipients(ix, []Room{even}, []Room{three}), []string{"s2", "s4", "s8"})
	eq(t, "all−even", recipients(ix, nil, []Room{even}), []string{"s1", "s3", "s5", "s7", "s9"})
	eq(t, "all", recipients(ix, nil, nil), []string{"s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9"})
	eq(t, "self", recipients(ix, []Room{StringRoom("s5")}, nil), []string{"s5"})
	eq(t, "self∪even−s0", recipients(ix, []Room{StringRoom("s5"), even}, []Room{StringRoom("s0"), StringRoom("nope")}), []string{"s2", "s4", "s5", "s6", "s8"})
	eq(t, "missing", recipients(ix, []Room{StringRoom("nope")}, nil), nil)
	eq(t, "string 1", recipients(ix, []Room{StringRoom("1")}, nil), nil)

	// Early stop.
	for _, tc := range [][2][]Room{{{even}, nil}, {{even, three}, nil}, {nil, nil}, {{StringRoom("s1")}, nil}} {
		n := 0
		ix.ForEachRecipient(tc[0], tc[1], func(string) bool { n++; return false })
		if n != 1 {
			t.Fatalf("fn called %d times after returning false", n)
		}
	}
	// fn may call back into the index.
	ix.ForEachRecipient([]Room{even}, nil, func(sid string) bool {
		ix.Leave(sid, even)
		ix.Join(sid, StringRoom("was-even"))
		return true
	})
	eq(t, "moved", recipients(ix, []Room{StringRoom("was-even")}, []Room{even}), []string{"s0", "s2", "s4", "s6", "s8"})
}

func TestManySockets(t *testing.T) {
	// Crosses several id chunks and set resizes, then empties everything.
	var ev events
	ix := New(ev.opts())
	const n = 3000
	for i := 0; i < n; i++ {
		ix.Join(fmt.Sprint("s", i), StringRoom(fmt.Sprint("r", i%7)), StringRoom("all"))
	}
	if got := len(recipients(ix, []Room{StringRoom("all")}, nil)); got != n {
		t.Fatalf("all: %d recipients", got)
	}
	if got := len(recipients(ix, nil, []Room{StringRoom("r0")})); got != n-(n+6)/7 {
		t.Fatalf("all−r0: %d recipients", got)
	}
	for i := 0; i < n; i += 2 {
		ix.Disconnect(fmt.Sprint("s", i))
	}
	if got := len(recipients(ix, []Room{StringRoom("all"), StringRoom("r1")}, nil)); got != n/2 {
		t.Fatalf("after disconnects: %d recipients", got)
	}
	for i := 1; i < n; i += 2 {
		ix.Disconnect(fmt.Sprint("s", i))
	}
	if ix.RoomCount() != 0 || ix.SocketCount() != 0 || (ix.strings.Size()+ix.numbers.Size()) != 0 {
		t.Fatal("not empty")
	}
	creates, deletes := 0, 0
	for _, e := range ev.take() {
		if e[0] == '+' {
			creates++
		} else {
			deletes++
		}
	}
	if creates != n+8 || deletes != n+8 {
		t.Fatalf("%d creates, %d deletes", creates, deletes)
	}
}
