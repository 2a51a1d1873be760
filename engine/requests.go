package engine

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/puzpuzpuz/xsync/v3"
)

// IncompleteError is returned by cluster-wide requests (fetchSockets,
// allRooms, serverSideEmit with acks, broadcasts with acks…) that ended
// before every expected server answered. The partial result is returned
// beside it.
type IncompleteError struct {
	// Op names the request, e.g. "fetchSockets".
	Op string
	// Answered is how many servers answered.
	Answered int
	// Expected is how many servers were expected to answer.
	Expected int
	// Err is the cause: ErrTimeout, ErrClosed, a context error, or the
	// error Redis gave when the request was published (then nobody could
	// answer, and the request fails at once).
	Err error
	// Acks and ExpectedAcks, for a broadcast with acknowledgements, are
	// the client acks received and the number of clients the servers that
	// answered reported; CountsKnown says every expected server reported
	// its count (so the missing part is client acks, not servers).
	Acks, ExpectedAcks int
	CountsKnown        bool
}

// Error implements error.
func (e *IncompleteError) Error() string {
	if e.CountsKnown {
		return fmt.Sprintf("%s: %d of %d servers answered, %d of %d client acks received: %v",
			e.Op, e.Answered, e.Expected, e.Acks, e.ExpectedAcks, e.Err)
	}
	if e.ExpectedAcks > 0 || e.Acks > 0 {
		return fmt.Sprintf("%s: %d of %d servers answered (%d of %d client acks so far): %v",
			e.Op, e.Answered, e.Expected, e.Acks, e.ExpectedAcks, e.Err)
	}
	return fmt.Sprintf("%s: %d of %d servers answered: %v", e.Op, e.Answered, e.Expected, e.Err)
}

// Unwrap returns the cause, so errors.Is(err, ErrTimeout) works.
func (e *IncompleteError) Unwrap() error { return e.Err }

var (
	// ErrClosed is returned by operations on a closed engine or namespace.
	ErrClosed = errors.New("sioredis: closed")
	// ErrTimeout is the cause of an IncompleteError when the request timed out.
	ErrTimeout = errors.New("sioredis: request timed out")
	// ErrTooManyRequests is returned when Options.MaxPendingRequests requests
	// are already waiting for answers.
	ErrTooManyRequests = errors.New("sioredis: too many pending requests")
	// ErrUnsupported is returned (wrapped with the operation and the
	// protocol) by an operation the namespace's protocol does not have:
	// fetchSockets or socketsJoin on socket.io-redis 4.0/5.x, customRequest
	// on 6.x, the classic and the sharded protocols, serverSideEmit on
	// 4.0–6.x, allRooms, SOCKETS and single-socket requests on Sharded…
	// Nothing is published.
	ErrUnsupported = errors.New("sioredis: operation not supported by the protocol")
)

// pending is one request waiting for responses. handle is called for each
// response under mu and reports whether the request is complete.
type pending struct {
	mu       sync.Mutex
	handle   func(resp *message) (complete bool)
	answered int
	done     chan struct{}
	once     sync.Once
	err      error
}

// failOnPublishError is the publish callback of a request: a publish Redis
// refused ends the request at once with that error.
func (p *pending) failOnPublishError(err error) {
	if err != nil {
		p.finish(fmt.Errorf("publish: %w", err))
	}
}

func (p *pending) finish(err error) {
	p.once.Do(func() {
		p.err = err
		close(p.done)
	})
}

// requestTable holds the requests of one namespace that wait for answers,
// keyed by request id. It is bounded: a request is removed when it completes,
// times out or the namespace closes, so it never grows without limit (the
// Node adapter's #224).
type requestTable struct {
	m     *xsync.MapOf[string, *pending]
	count atomic.Int64
	max   int64
}

func newRequestTable(max int) *requestTable {
	return &requestTable{m: xsync.NewMapOf[string, *pending](), max: int64(max)}
}

func (t *requestTable) add(id string, p *pending) error {
	if t.count.Add(1) > t.max {
		t.count.Add(-1)
		return ErrTooManyRequests
	}
	p.done = make(chan struct{})
	t.m.Store(id, p)
	return nil
}

func (t *requestTable) remove(id string) {
	if _, ok := t.m.LoadAndDelete(id); ok {
		t.count.Add(-1)
	}
}

// dispatch hands a response to its request. It reports false when no request
// with that id is waiting.
func (t *requestTable) dispatch(id string, resp *message) bool {
	p, ok := t.m.Load(id)
	if !ok {
		return false
	}
	p.mu.Lock()
	select {
	case <-p.done:
		p.mu.Unlock()
		return false
	default:
	}
	complete := p.handle(resp)
	p.mu.Unlock()
	if complete {
		p.finish(nil)
	}
	return true
}

// failAll ends every waiting request with err (on close).
func (t *requestTable) failAll(err error) {
	t.m.Range(func(id string, p *pending) bool {
		p.finish(err)
		t.remove(id)
		return true
	})
}

func (t *requestTable) len() int { return int(t.count.Load()) }
