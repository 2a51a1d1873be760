package engine

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/sioredis/sioredis/internal/redistest"
)

// TestEmitterBytesMatchNodeEmitter publishes every scenario of the
// @socket.io/redis-emitter 5.1.0 capture from the Go emitter and compares
// channel and payload byte for byte.
func TestEmitterBytesMatchNodeEmitter(t *testing.T) {
	srv := redistest.NewStandalone(t)
	vectors := loadVectors(t, "emitter-5.1.0.jsonl")
	client, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{srv.Addr}, DisableCache: true})
	must(t, err)
	defer client.Close()
	cap := newCapture(t, srv.Addr)
	em := NewEmitter(client, EmitterOptions{})
	root := em.Of("/")
	date := time.UnixMilli(1700000000123).UTC()
	cases := map[string]func(context.Context) error{
		"emit":    func(c context.Context) error { return root.Emit(c, "hello", "world") },
		"to-room": func(c context.Context) error { return root.To(StringRoom("room1")).Emit(c, "to-room1", 1) },
		"in-room": func(c context.Context) error { return root.In(StringRoom("room2")).Emit(c, "in-room2", 1) },
		"to-two-rooms": func(c context.Context) error {
			return root.To(StringRoom("room1"), StringRoom("room2")).Emit(c, "to-two", 1)
		},
		"to-chained": func(c context.Context) error {
			return root.To(StringRoom("room1")).To(StringRoom("room2")).Emit(c, "chained", 1)
		},
		"except": func(c context.Context) error { return root.Except(StringRoom("room2")).Emit(c, "except-room2", 1) },
		"to-except": func(c context.Context) error {
			return root.To(StringRoom("room1")).Except(StringRoom("room2")).Emit(c, "room1-not-room2", 1)
		},
		"volatile":       func(c context.Context) error { return root.Operator().Volatile().Emit(c, "volatile-ev", 1) },
		"compress-false": func(c context.Context) error { return root.Operator().Compress(false).Emit(c, "nocompress", 1) },
		"volatile-compress-room": func(c context.Context) error {
			return root.To(StringRoom("room1")).Volatile().Compress(true).Emit(c, "flags", 1)
		},
		"of-chat":          func(c context.Context) error { return em.Of("/chat").Emit(c, "chat-ev", "x") },
		"of-chat-no-slash": func(c context.Context) error { return em.Of("chat").Emit(c, "chat-ev2", "y") },
		"room-with-hash":   func(c context.Context) error { return root.To(StringRoom("room#1")).Emit(c, "room-hash", 1) },
		"binary": func(c context.Context) error {
			return root.Emit(c, "bin", []byte{0, 1, 2, 0xff}, map[string]any{"nested": []byte("abc")})
		},
		"numbers": func(c context.Context) error {
			return root.Emit(c, "numbers", 0, 1, 128, int64(1)<<31, int64(1)<<32, -1, -129, -(int64(1)<<31)-1, 1.5, 0.1, 0)
		},
		"date":    func(c context.Context) error { return root.Emit(c, "date", date) },
		"unicode": func(c context.Context) error { return root.Emit(c, "unicode", "héllo", "日本語", "😀") },
		"serverSideEmit": func(c context.Context) error {
			return root.ServerSideEmit(c, "sse", 1, map[string]any{"a": 2})
		},
		"socketsJoin": func(c context.Context) error { return root.Operator().SocketsJoin(c, StringRoom("all-joined")) },
		"socketsJoin-room": func(c context.Context) error {
			return root.In(StringRoom("room1")).SocketsJoin(c, StringRoom("x"), StringRoom("y"))
		},
		"socketsLeave": func(c context.Context) error {
			return root.In(StringRoom("room1")).Except(StringRoom("room2")).SocketsLeave(c, StringRoom("x"))
		},
		"disconnectSockets-room":  func(c context.Context) error { return root.In(StringRoom("room2")).DisconnectSockets(c, false) },
		"disconnectSockets-close": func(c context.Context) error { return root.Operator().DisconnectSockets(c, true) },
		"custom-key": func(c context.Context) error {
			return NewEmitter(client, EmitterOptions{Key: "myapp"}).Of("/").To(StringRoom("room1")).Emit(c, "k", 1)
		},
		"custom-key-of": func(c context.Context) error {
			return NewEmitter(client, EmitterOptions{Key: "myapp"}).Of("/admin").Operator().SocketsJoin(c, StringRoom("r"))
		},
	}
	for scenario, lines := range vectors {
		run, ok := cases[scenario]
		if !ok {
			t.Errorf("scenario %q of the emitter capture has no Go case", scenario)
			continue
		}
		t.Run(scenario, func(t *testing.T) {
			must(t, run(ctx(t)))
			got := cap.next(t)
			want := lines[0]
			if got.Channel != want.Channel {
				t.Errorf("channel %q, want %q", got.Channel, want.Channel)
			}
			if !bytes.Equal([]byte(got.Message), want.payload(t)) {
				t.Errorf("payload\n got %x\nwant %s", got.Message, want.PayloadHex)
			}
		})
	}
}

func TestEmitterRefusesWhatNeedsAnswers(t *testing.T) {
	srv := redistest.Standalone(t)
	client, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{srv.Addr}, DisableCache: true})
	must(t, err)
	defer client.Close()
	ns := NewEmitter(client, EmitterOptions{}).Of("/")
	if _, err := ns.Operator().FetchSockets(ctx(t)); !errors.Is(err, ErrEmitterCannotRequest) {
		t.Fatalf("FetchSockets = %v", err)
	}
	if _, err := ns.Operator().EmitWithAck(ctx(t), "x"); !errors.Is(err, ErrEmitterCannotRequest) {
		t.Fatalf("EmitWithAck = %v", err)
	}
	if err := ns.Emit(ctx(t), "disconnect"); err == nil {
		t.Fatal("reserved event name accepted")
	}
}
