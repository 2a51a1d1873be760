package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/rueidis"
	"github.com/sioredis/sioredis/engine"
	"github.com/sioredis/sioredis/integrations/zishang520"
	"github.com/zishang520/socket.io/servers/socket/v3"
)

// childEnv, set to 1, makes this executable (or the test binary) run as
// server B: see serveChild.
const childEnv = "SIOREDIS_FANOUT_CHILD"

// serverSpec is what the parent tells server B, as the first line of B's
// standard input.
type serverSpec struct {
	Adapter    string `json:"adapter"`              // "sioredis" or "memory"
	Redis      string `json:"redis,omitempty"`      // host:port, sioredis only
	CPUProfile string `json:"cpuprofile,omitempty"` // written between "prof start" and "prof stop"
}

// childLine is one line of B's standard output (and of the Node scripts').
type childLine struct {
	Type  string `json:"type"` // ready, snap, ok, error
	Port  int    `json:"port,omitempty"`
	Error string `json:"error,omitempty"`

	// snap
	CPUMicros int64  `json:"cpu_us,omitempty"`  // the process's user+system CPU
	Sockets   int64  `json:"sockets,omitempty"` // sockets connected and joined to the room
	Emitted   uint64 `json:"emitted,omitempty"` // local broadcasts issued (memory)
	Delivered uint64 `json:"delivered,omitempty"`
	Dropped   uint64 `json:"dropped,omitempty"`
	Received  uint64 `json:"received,omitempty"` // clients: messages counted
	Lost      int64  `json:"lost,omitempty"`     // clients: sockets disconnected
	Emitting  bool   `json:"emitting,omitempty"` // local broadcasts still due
}

// serveChild is server B: a zishang520 socket.io v3 server on a free
// loopback port whose every socket joins room "r", with the sioredis adapter
// or the server's own in-memory adapter. It reads its serverSpec, answers
// {"type":"ready","port":N}, then obeys one command per line:
//
//	snap                 its CPU time (getrusage), sockets, counters
//	emit RATE MILLIS     (memory) broadcast to the room at RATE/s for MILLIS
//	prof start|stop      the CPU profile of serverSpec.CPUProfile
//
// and shuts down at the end of its input.
func serveChild(in io.Reader, out io.Writer) error {
	lines := bufio.NewScanner(in)
	enc := json.NewEncoder(out)
	var mu sync.Mutex
	send := func(l childLine) {
		mu.Lock()
		defer mu.Unlock()
		_ = enc.Encode(l)
	}
	fail := func(err error) error {
		send(childLine{Type: "error", Error: err.Error()})
		return err
	}
	if !lines.Scan() {
		return errors.New("no spec on stdin")
	}
	var spec serverSpec
	if err := json.Unmarshal(lines.Bytes(), &spec); err != nil {
		return fail(fmt.Errorf("spec: %w", err))
	}

	opts := socket.DefaultServerOptions()
	var eng *engine.Engine
	switch spec.Adapter {
	case "sioredis":
		var err error
		eng, err = engine.New(engine.Options{ClientOption: rueidis.ClientOption{InitAddress: []string{spec.Redis}}})
		if err != nil {
			return fail(err)
		}
		defer eng.Close()
		b := zishang520.NewAdapterBuilder(eng)
		b.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
		opts.SetAdapter(b)
	case "memory":
	default:
		return fail(fmt.Errorf("adapter %q: want sioredis or memory", spec.Adapter))
	}
	srv := socket.NewServer(nil, opts)
	var joined atomic.Int64
	_ = srv.On("connection", func(args ...any) {
		s := args[0].(*socket.Socket)
		s.Join(room)
		joined.Add(1)
		_ = s.On("disconnect", func(...any) { joined.Add(-1) })
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	hs := &http.Server{Handler: srv.ServeHandler(nil)}
	go func() { _ = hs.Serve(ln) }()
	defer func() {
		done := make(chan struct{})
		go func() { srv.Close(nil); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
		_ = hs.Close()
	}()
	send(childLine{Type: "ready", Port: ln.Addr().(*net.TCPAddr).Port})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var emitted atomic.Uint64
	var active atomic.Int32 // emit commands running
	var emitting sync.WaitGroup
	defer emitting.Wait()
	defer cancel()
	var prof *os.File
	defer func() {
		if prof != nil {
			pprof.StopCPUProfile()
			prof.Close()
		}
	}()
	payload := ""
	for lines.Scan() {
		f := strings.Fields(lines.Text())
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "snap":
			l := childLine{Type: "snap", CPUMicros: cpuMicros(), Sockets: joined.Load(), Emitted: emitted.Load(), Emitting: active.Load() > 0}
			if eng != nil {
				st := eng.Stats()
				l.Delivered = st.Delivered
				for _, n := range st.Dropped {
					l.Dropped += n
				}
			}
			send(l)
		case "emit":
			if len(f) != 4 {
				send(childLine{Type: "error", Error: "usage: emit RATE MILLIS PAYLOAD_BYTES"})
				continue
			}
			rate, err1 := strconv.ParseFloat(f[1], 64)
			ms, err2 := strconv.Atoi(f[2])
			size, err3 := strconv.Atoi(f[3])
			if err := errors.Join(err1, err2, err3); err != nil || rate <= 0 {
				send(childLine{Type: "error", Error: fmt.Sprintf("emit %q: bad arguments", f[1:])})
				continue
			}
			payload = strings.Repeat("x", size)
			emitting.Add(1)
			active.Add(1)
			go func() {
				defer emitting.Done()
				defer active.Add(-1)
				pace(ctx, rate, time.Duration(ms)*time.Millisecond, func(seq int) {
					_ = srv.To(room).Emit(event, seq, payload)
					emitted.Add(1)
				})
			}()
			send(childLine{Type: "ok"})
		case "prof":
			switch {
			case spec.CPUProfile == "":
				send(childLine{Type: "ok"})
			case len(f) == 2 && f[1] == "start" && prof == nil:
				fh, err := os.Create(spec.CPUProfile)
				if err == nil {
					if err = pprof.StartCPUProfile(fh); err != nil {
						fh.Close()
					} else {
						prof = fh
					}
				}
				if err != nil {
					send(childLine{Type: "error", Error: err.Error()})
				} else {
					send(childLine{Type: "ok"})
				}
			case len(f) == 2 && f[1] == "stop" && prof != nil:
				pprof.StopCPUProfile()
				err := prof.Close()
				prof = nil
				if err != nil {
					send(childLine{Type: "error", Error: err.Error()})
				} else {
					send(childLine{Type: "ok"})
				}
			default:
				send(childLine{Type: "error", Error: "usage: prof start|stop (in that order)"})
			}
		default:
			send(childLine{Type: "error", Error: fmt.Sprintf("unknown command %q", f[0])})
		}
	}
	return nil
}

// cpuMicros is this process's user + system CPU time in µs.
func cpuMicros() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano()/1e3 + ru.Stime.Nano()/1e3
}

// pace calls emit(0), emit(1)… at rate per second for d (message j is due
// at j/rate after the start; what is due after a late wake-up goes out at
// once), until d has passed or ctx is done. It never spins. It returns the
// number of calls.
func pace(ctx context.Context, rate float64, d time.Duration, emit func(seq int)) int {
	start := time.Now()
	interval := float64(time.Second) / rate
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for n := 0; ; n++ {
		due := time.Duration(float64(n) * interval)
		if due >= d {
			return n
		}
		if wait := due - time.Since(start); wait > 0 {
			t.Reset(wait)
			select {
			case <-ctx.Done():
				return n
			case <-t.C:
			}
		} else if ctx.Err() != nil {
			return n
		}
		emit(n)
	}
}
