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
// send.
type pubItem struct {
	cmd rueidis.Completed
	buf *[]byte
}

func newPublisher(client rueidis.Client, queueLen, maxBatch int, flushDelay time.Duration, stats *counters, onError func(error)) *publisher {
	p := &publisher{
		client:     client,
		queue:      make(chan pubItem, queueLen),
		maxBatch:   maxBatch,
		flushDelay: flushDelay,
		stats:      stats,
		onError:    onError,
		closing:    make(chan struct{}),
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
	}
	go p.run()
	return p
}

// publish queues one command. It blocks while the queue is full, until ctx
// ends or the publisher closes. buf (may be nil) is the pooled buffer the
// command aliases: it is returned to the pool once the command has been
// sent or abandoned.
func (p *publisher) publish(ctx context.Context, cmd rueidis.Completed, buf *[]byte) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		codec.PutBuffer(buf)
		return ErrClosed
	}
	select {
	case p.queue <- pubItem{cmd: cmd, buf: buf}:
		return nil
	default:
	}
	select {
	case p.queue <- pubItem{cmd: cmd, buf: buf}:
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
						p.flush(batch, cmds)
						batch = batch[:0]
					}
				default:
					p.flush(batch, cmds)
					return
				}
			}
		}
		batch = p.fill(batch)
		p.flush(batch, cmds)
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

func (p *publisher) flush(batch []pubItem, cmds []rueidis.Completed) {
	if len(batch) == 0 {
		return
	}
	cmds = cmds[:0]
	for _, it := range batch {
		cmds = append(cmds, it.cmd)
	}
	resps := p.client.DoMulti(context.Background(), cmds...)
	p.stats.publishBatches.Add(1)
	var failed uint64
	var firstErr error
	for i := range resps {
		if err := resps[i].Error(); err != nil {
			failed++
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	p.stats.published.Add(uint64(len(batch)) - failed)
	if failed > 0 {
		p.stats.publishErrors.Add(failed)
		if p.onError != nil {
			p.onError(firstErr)
		}
	}
	for i := range batch {
		if batch[i].buf != nil {
			codec.PutBuffer(batch[i].buf)
		}
		batch[i] = pubItem{}
	}
}

// close sends what is queued and stops the flushing goroutine.
func (p *publisher) close() {
	p.once.Do(func() {
		close(p.closing)
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		close(p.stop)
	})
	<-p.done
}
