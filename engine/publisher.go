package engine

import (
	"context"
	"sync"
	"time"

	"github.com/redis/rueidis"
	"github.com/sioredis/sioredis/codec"
)

// publisher coalesces publishes from any number of goroutines into pipelined
// batches: one goroutine takes whatever is queued (up to maxBatch) and sends
// it with a single DoMulti, so N concurrent broadcasts cost about N/maxBatch
// round trips instead of N. While a batch is in flight the next one
// accumulates, so batches grow by themselves under load (group commit).
//
// One flushing goroutine keeps the order of publishes: two broadcasts of one
// engine reach Redis, and so every subscriber, in the order they were queued.
type publisher struct {
	client     rueidis.Client
	ctx        context.Context // canceled when Close gives up waiting for Redis
	cancel     context.CancelFunc
	closeWait  time.Duration
	queue      chan pubItem
	maxBatch   int
	flushDelay time.Duration
	stats      *counters
	onError    func(error)

	mu      sync.RWMutex // held shared by enqueuers, exclusively by close
	closed  bool
	closing chan struct{} // closed first: wakes enqueuers blocked on a full queue
	stop    chan struct{} // closed once no enqueuer can add anything: drain and exit
	done    chan struct{}
	once    sync.Once
}

// pubItem is one command waiting to be sent. buf, when set, is the pooled
// buffer the command's payload aliases; it goes back to the pool after the
// send. watch, when set, is told the command's receiver count (a PUBLISH to
// a channel every server subscribes). done, when set, is called with the
// outcome (requests fail at once when their publish failed).
type pubItem struct {
	cmd   rueidis.Completed
	buf   *[]byte
	watch *serverWatch
	done  func(err error)
}

func newPublisher(client rueidis.Client, queueLen, maxBatch int, flushDelay, closeWait time.Duration, stats *counters, onError func(error)) *publisher {
	p := &publisher{
		client:     client,
		closeWait:  closeWait,
		queue:      make(chan pubItem, queueLen),
		maxBatch:   maxBatch,
		flushDelay: flushDelay,
		stats:      stats,
		onError:    onError,
		closing:    make(chan struct{}),
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	go p.run()
	return p
}

// publish queues one command. It blocks while the queue is full, until ctx
// ends or the publisher closes. buf (may be nil) is the pooled buffer the
// command aliases: it is returned to the pool once the command has been
// sent or abandoned.
func (p *publisher) publish(ctx context.Context, it pubItem) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		codec.PutBuffer(it.buf)
		return ErrClosed
	}
	select {
	case p.queue <- it:
		return nil
	default:
	}
	p.stats.publishQueueFull.Add(1)
	buf := it.buf
	select {
	case p.queue <- it:
		return nil
	case <-ctx.Done():
		codec.PutBuffer(buf)
		return ctx.Err()
	case <-p.closing:
		codec.PutBuffer(buf)
		return ErrClosed
	}
}

func (p *publisher) run() {
	defer close(p.done)
	batch := make([]pubItem, 0, p.maxBatch)
	cmds := make([]rueidis.Completed, 0, p.maxBatch)
	for {
		select {
		case it := <-p.queue:
			batch = append(batch, it)
		case <-p.stop:
			// No enqueuer can add anything any more: drain and exit.
			for {
				select {
				case it := <-p.queue:
					batch = append(batch, it)
					if len(batch) == p.maxBatch {
						// (once Close gave up on Redis, flush fails the
						// batch instead of sending it)
						if !p.flush(batch, cmds) {
							cmds = make([]rueidis.Completed, 0, cap(cmds))
						}
						batch = batch[:0]
					}
				default:
					p.flush(batch, cmds)
					return
				}
			}
		}
		batch = p.fill(batch)
		if !p.flush(batch, cmds) {
			cmds = make([]rueidis.Completed, 0, cap(cmds)) // rueidis may still read the old one
		}
		batch = batch[:0]
	}
}

// fill takes more queued items without blocking, waiting up to flushDelay
// for a fuller batch when one is configured.
func (p *publisher) fill(batch []pubItem) []pubItem {
	var timer *time.Timer
	for len(batch) < p.maxBatch {
		select {
		case it := <-p.queue:
			batch = append(batch, it)
			continue
		default:
		}
		if p.flushDelay <= 0 {
			break
		}
		if timer == nil {
			timer = time.NewTimer(p.flushDelay)
			defer timer.Stop()
		}
		select {
		case it := <-p.queue:
			batch = append(batch, it)
			continue
		case <-timer.C:
		}
		break
	}
	return batch
}

// flush sends batch with one DoMulti, building the commands in cmds. It
// reports whether cmds and the batch's buffers may be reused: not when the
// batch failed or was canceled, since rueidis may still be writing them.
func (p *publisher) flush(batch []pubItem, cmds []rueidis.Completed) (reusable bool) {
	if len(batch) == 0 {
		return true
	}
	if p.ctx.Err() != nil {
		// Close gave up on Redis: a canceled DoMulti may still be
		// writing the previous commands, so cmds is not touched again.
		p.abandon(batch)
		return false
	}
	cmds = cmds[:0]
	for _, it := range batch {
		cmds = append(cmds, it.cmd)
	}
	resps := p.client.DoMulti(p.ctx, cmds...)
	p.stats.publishBatches.Add(1)
	var failed uint64
	var firstErr error
	var now time.Time
	for i := range resps {
		err := resps[i].Error()
		if err != nil {
			if p.ctx.Err() != nil {
				err = ErrClosed
			}
			failed++
			if firstErr == nil {
				firstErr = err
			}
		} else if w := batch[i].watch; w != nil {
			if n, e := resps[i].AsInt64(); e == nil {
				if now.IsZero() {
					now = time.Now()
				}
				w.observe(int(n), now)
			}
		}
		if batch[i].done != nil {
			batch[i].done(err)
		}
	}
	p.stats.published.Add(uint64(len(batch)) - failed)
	if failed > 0 {
		p.stats.publishErrors.Add(failed)
		if p.onError != nil {
			p.onError(firstErr)
		}
	}
	// After a cancel, or when the connection failed under the batch (Redis
	// killed), rueidis may still be writing these commands: their buffers
	// are left to the garbage collector, not reused (a race seen when Redis
	// was killed and restarted mid-stream).
	reuse := p.ctx.Err() == nil && failed == 0
	for i := range batch {
		if batch[i].buf != nil && reuse {
			codec.PutBuffer(batch[i].buf)
		}
		batch[i] = pubItem{}
	}
	return reuse
}

// abandon fails items that will never be sent (Close gave up on Redis).
func (p *publisher) abandon(batch []pubItem) {
	for i := range batch {
		if batch[i].done != nil {
			batch[i].done(ErrClosed)
		}
		codec.PutBuffer(batch[i].buf)
		batch[i] = pubItem{}
	}
	p.stats.publishErrors.Add(uint64(len(batch)))
}

// close sends what is queued and stops the flushing goroutine. If Redis
// does not take it within closeWait (frozen, unreachable), what is in
// flight is canceled and what is still queued fails with ErrClosed, counted
// in PublishErrors: close always returns.
func (p *publisher) close() {
	p.once.Do(func() {
		close(p.closing)
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		close(p.stop)
	})
	t := time.NewTimer(p.closeWait)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
		p.cancel()
		<-p.done
	}
	p.cancel()
}
