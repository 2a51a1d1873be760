package shard_test

import (
	"fmt"
	"slices"

	"github.com/sioredis/sioredis/shard"
)

func Example() {
	ix := shard.New(shard.Options{})

	// A socket enters the index with its first Join and is always in its
	// own room.
	ix.Join("Xq3aZ")
	ix.Join("Xq3aZ", shard.StringRoom("lobby"), shard.Room{Name: "42", Numeric: true})
	ix.Join("a9Z0k", shard.StringRoom("lobby"), shard.StringRoom("42"))

	fmt.Println(ix.Rooms("Xq3aZ", nil))
	fmt.Println(ix.MemberCount(shard.StringRoom("lobby")), ix.SocketCount(), ix.RoomCount())

	ix.Leave("a9Z0k", shard.StringRoom("lobby"))
	ix.Disconnect("Xq3aZ")
	fmt.Println(ix.HasRoom(shard.StringRoom("lobby")), ix.HasSocket("a9Z0k"))
	// Output:
	// [{Xq3aZ false} {lobby false} {42 true}]
	// 2 2 5
	// false true
}

func ExampleIndex_ForEachRecipient() {
	ix := shard.New(shard.Options{})
	ix.Join("s1", shard.StringRoom("red"))
	ix.Join("s2", shard.StringRoom("red"), shard.StringRoom("blue"))
	ix.Join("s3", shard.StringRoom("blue"), shard.StringRoom("muted"))
	ix.Join("s4")

	// io.to("red").to("blue").except("muted").emit(...)
	var to []string
	ix.ForEachRecipient(
		[]shard.Room{shard.StringRoom("red"), shard.StringRoom("blue")},
		[]shard.Room{shard.StringRoom("muted")},
		func(sid string) bool {
			to = append(to, sid) // s2 is in both rooms but comes once
			return true
		})
	slices.Sort(to)
	fmt.Println(to)

	// io.except("red").emit(...): no target room means every socket.
	to = to[:0]
	ix.ForEachRecipient(nil, []shard.Room{shard.StringRoom("red")}, func(sid string) bool {
		to = append(to, sid)
		return true
	})
	slices.Sort(to)
	fmt.Println(to)
	// Output:
	// [s1 s2]
	// [s3 s4]
}

func ExampleOptions() {
	// The sharded pub/sub mode subscribes a channel per room while the
	// room exists. Events are exact and, per room, strictly alternate.
	var ix *shard.Index
	ix = shard.New(shard.Options{
		OnRoomCreate: func(r shard.Room) {
			// HasSocket takes no lock, so it may be called here: it tells
			// a socket's own (private) room from a public one.
			fmt.Println("subscribe", r.Name, "private:", ix.HasSocket(r.Name))
		},
		OnRoomDelete: func(r shard.Room) { fmt.Println("unsubscribe", r.Name) },
	})
	ix.Join("s1", shard.StringRoom("game"))
	ix.Join("s2", shard.StringRoom("game"))
	ix.Disconnect("s1")
	ix.Disconnect("s2")
	// Output:
	// subscribe s1 private: true
	// subscribe game private: false
	// subscribe s2 private: true
	// unsubscribe s1
	// unsubscribe game
	// unsubscribe s2
}
