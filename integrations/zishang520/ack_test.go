package zishang520_test

import (
	"sync"
	"testing"
	"time"

	"github.com/sioredis/sioredis/internal/nodepeer"
	"github.com/zishang520/socket.io/servers/socket/v3"
)

// ackResult is what an Ack callback got.
type ackResult struct {
	args []any
	err  error
}

func ackChan() (socket.Ack, chan ackResult) {
	ch := make(chan ackResult, 1)
	return func(args []any, err error) { ch <- ackResult{args, err} }, ch
}

func waitAck(t *testing.T, what string, ch chan ackResult) ackResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(wait):
		t.Fatalf("%s: no ack", what)
		return ackResult{}
	}
}

func ackStrings(t *testing.T, args []any) []string {
	t.Helper()
	out := make([]string, len(args))
	for i, a := range args {
		s, ok := a.(string)
		if !ok {
			t.Fatalf("ack %d is %T (%v), not a string", i, a, a)
		}
		out[i] = s
	}
	return sorted(out)
}

// TestBroadcastWithAck: a cluster broadcast with ack from a Go server gets
// one ack from every client of the three servers, and completes as soon as
// the last arrives (long before its timeout).
func TestBroadcastWithAck(t *testing.T) {
	c := newCluster(t)
	want := sorted([]string{"ack-from-ca", "ack-from-cb", "ack-from-cgn", "ack-from-n1"})
	for _, from := range []*goServer{c.a, c.b} {
		ack, ch := ackChan()
		start := time.Now()
		from.io.Timeout(30*time.Second).EmitWithAck("q", 1)(ack)
		r := waitAck(t, "emitWithAck from "+from.name, ch)
		if r.err != nil {
			t.Fatalf("from %s: %v (acks %v)", from.name, r.err, r.args)
		}
		eq(t, "acks from "+from.name, ackStrings(t, r.args), want)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("from %s: completed after %s, not when the last ack came", from.name, d)
		}
	}
	// A room: only its members answer.
	c.sb.Join("room")
	c.n.Join("n1", "/", "room")
	ack, ch := ackChan()
	c.a.io.To("room").Timeout(30 * time.Second).EmitWithAck("q")(ack)
	r := waitAck(t, "emitWithAck to room", ch)
	if r.err != nil {
		t.Fatal(r.err)
	}
	eq(t, "acks from room", ackStrings(t, r.args), sorted([]string{"ack-from-cb", "ack-from-n1"}))

	// From Node, through the Go servers' clients.
	res := c.n.EmitWithAck(nodepeer.Target{}, 10*time.Second, "q")
	eq(t, "node emitWithAck err", res.Err, "")
	got := make([]string, len(res.Res))
	for i, v := range res.Res {
		got[i], _ = v.(string)
	}
	eq(t, "acks to node", sorted(got), want)

	c.a.noErrors(t)
	c.b.noErrors(t)
}

// TestAckIDs: a socket's own EmitWithAck and a cluster broadcast with ack
// from another server meet on the same socket, many times over; each gets
// its own answer. With ack ids numbered by the engine apart from the
// server's counter, the two collided and the socket's own call timed out.
func TestAckIDs(t *testing.T) {
	c := newCluster(t)
	// The client answers each event with its first argument, so that an
	// answer given to the wrong caller shows, and holds its answers until
	// it has the round's two packets ("own" i and "cluster" 1000+i), so
	// that both wait for an ack on the socket at the same time.
	var (
		mu   sync.Mutex
		held = map[int][]func(){}
	)
	c.cb.sock.OffAny(nil)
	c.cb.sock.OnAny(func(args ...any) {
		ack, ok := args[len(args)-1].(socket.Ack)
		if !ok {
			return
		}
		v := args[1]
		n, ok := v.(float64)
		if !ok { // not a round: answer at once
			ack([]any{v}, nil)
			return
		}
		round := int(n) % 1000
		mu.Lock()
		held[round] = append(held[round], func() { ack([]any{v}, nil) })
		var answer []func()
		if len(held[round]) == 2 {
			answer = held[round]
			delete(held, round)
		}
		mu.Unlock()
		for _, f := range answer {
			f()
		}
	})
	const rounds = 20
	var wg sync.WaitGroup
	errs := make(chan string, 4*rounds)
	// Two streams at once, each sequential (a zishang520 socket's
	// Timeout flag is not safe for concurrent use).
	wg.Add(2)
	go func() { // the socket's own emits, on its server
		defer wg.Done()
		for i := range rounds {
			ack, ch := ackChan()
			c.sb.Timeout(10*time.Second).EmitWithAck("own", float64(i))(ack)
			r := <-ch
			if r.err != nil || len(r.args) != 1 || r.args[0] != float64(i) {
				errs <- "own emit: " + fmtAck(r)
			}
		}
	}()
	go func() { // broadcasts with ack from the other Go server
		defer wg.Done()
		for i := range rounds {
			ack, ch := ackChan()
			c.a.io.To(socket.Room(c.sb.Id())).Timeout(10*time.Second).EmitWithAck("cluster", float64(1000+i))(ack)
			r := <-ch
			if r.err != nil || len(r.args) != 1 || r.args[0] != float64(1000+i) {
				errs <- "cluster emit: " + fmtAck(r)
			}
		}
	}()
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	// And a broadcast with ack from the socket's own server, local delivery.
	ack, ch := ackChan()
	c.b.io.To(socket.Room(c.sb.Id())).Timeout(10*time.Second).EmitWithAck("cluster", "x")(ack)
	r := waitAck(t, "local broadcast with ack", ch)
	eq(t, "local broadcast with ack", fmtAck(r), fmtAck(ackResult{args: []any{"x"}}))
	c.a.noErrors(t)
	c.b.noErrors(t)
}

func fmtAck(r ackResult) string {
	if r.err != nil {
		return "error " + r.err.Error()
	}
	return fmtValue(r.args)
}
