package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// progressLine prints one live line while a run goes: rewritten in place
// on a terminal, one line per second otherwise.
type progressLine struct {
	w     io.Writer
	tty   bool
	quiet bool
}

func newProgressLine(w *os.File, quiet bool) *progressLine {
	tty := false
	if fi, err := w.Stat(); err == nil {
		tty = fi.Mode()&os.ModeCharDevice != 0
	}
	return &progressLine{w: w, tty: tty, quiet: quiet}
}

// start prints progress every second from snap until the returned stop is
// called (stop may be called more than once).
func (p *progressLine) start(s schedule, rate float64, snap func() []nodeCounters) (stop func()) {
	if p == nil || p.quiet {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		prev := sum(snap())
		prevT := time.Now()
		for {
			select {
			case <-done:
				if p.tty {
					fmt.Fprint(p.w, "\r\033[K")
				}
				return
			case now := <-t.C:
				cur := sum(snap())
				dt := now.Sub(prevT).Seconds()
				el := time.Duration(now.UnixNano() - s.Start)
				phase := "run"
				switch {
				case now.UnixNano() < s.Start:
					phase = "start"
				case now.UnixNano() < s.Measure:
					phase = "warm-up"
				case now.UnixNano() >= s.End:
					phase = "drain"
				}
				target := "full speed"
				if rate > 0 {
					target = si(rate) + "/s per node"
				}
				line := fmt.Sprintf("[%5.1fs %-7s] %s  published %s/s  received %s bc/s  deliveries %s/s  backlog %s  drops %d",
					el.Seconds(), phase, target, si(float64(cur.Published-prev.Published)/dt),
					si(float64(cur.BcastsRecv-prev.BcastsRecv)/dt), si(float64(cur.Local+cur.Remote-prev.Local-prev.Remote)/dt),
					si(float64(cur.backlog)), cur.drops)
				if p.tty {
					fmt.Fprint(p.w, "\r\033[K"+line)
				} else {
					fmt.Fprintln(p.w, line)
				}
				prev, prevT = cur, now
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); wg.Wait() }) }
}

type progressSum struct {
	nodeCounters
	backlog uint64 // remote deliveries still expected
	drops   uint64
}

func sum(cs []nodeCounters) progressSum {
	var s progressSum
	exp := expectedRemote(cs)
	for i, c := range cs {
		s.Published += c.Published
		s.BcastsRecv += c.BcastsRecv
		s.Local += c.Local
		s.Remote += c.Remote
		s.drops += c.realDrops()
		if exp[i] > c.Remote {
			s.backlog += exp[i] - c.Remote
		}
	}
	return s
}

// si formats n with a k/M suffix.
func si(n float64) string {
	switch {
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", n/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1fk", n/1e3)
	default:
		return fmt.Sprintf("%.0f", n)
	}
}
