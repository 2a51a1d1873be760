// Command fanout measures the fan-out of a zishang520/socket.io v3 server
// on the sioredis adapter: server B with N websocket clients in one room,
// broadcasts to that room from server A through Redis, deliveries/s counted
// by the clients and B's CPU per delivery. In the same run it measures,
// with the same clients and the same broadcasts:
//
//   - memory: the same server B on zishang520's in-memory adapter, the
//     broadcasts issued on B itself at the same rate (no Redis);
//   - node: a Node socket.io 4.8 server with @socket.io/redis-adapter 8.3,
//     the broadcasts from server A through Redis;
//   - node-memory: that Node server on its in-memory adapter, broadcasting
//     locally.
//
// Run it from the integrations/zishang520 module (it starts its own
// redis-server on a free loopback port):
//
//	go run ./fanout                        # 1000 clients, 20 broadcasts/s, 10 s
//	go run ./fanout -clients 1000 -rate 25 -duration 20s
//	go run ./fanout -servers sioredis -cpuprofile ../../profiles/cpu-fanout-sioredis.pprof
//
// Each server B runs in its own process (this executable, re-run as a
// child), so its CPU time is its own (getrusage of that process, sampled at
// the window's edges); the Node server is a process too (process.cpuUsage).
// The clients are one Node process (node/clients.js: socket.io-client 4.8,
// transports ["websocket"], one connection per socket), started afresh for
// each server. Server A is in this process. The Node packages come from
// internal/nodepeer/testdata (make node-peers installs them).
//
// Per server: start it, connect the clients (all join room "r"), broadcast
// ("m", seq, payload) to the room at -rate for -warmup + -duration, measure
// over the -duration window, wait -drain, then count what never arrived.
// Everything is bounded in time; children end with their input (and die
// with this process on Linux).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/rueidis"
	"github.com/sioredis/sioredis/engine"
	"github.com/sioredis/sioredis/integrations/zishang520"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/zishang520/socket.io/servers/socket/v3"
)

const (
	room  = "r"
	event = "m"
)

// config is the run's configuration (the flags).
type config struct {
	Clients    int
	Rate       float64 // broadcasts/s
	Warmup     time.Duration
	Duration   time.Duration
	Drain      time.Duration
	Payload    int
	Servers    []string
	Rounds     int    // the servers are measured in turn, this many times
	CPUProfile string // B's CPU profile with the sioredis adapter, over the window
	MemProfile string // B's CPU profile with the in-memory adapter, over the window
	Redis      string // host:port of a running Redis; empty: start one
	Root       string // the sioredis repository; empty: found above the working directory
}

var allServers = []string{"sioredis", "memory", "node", "node-memory"}

func main() {
	if os.Getenv(childEnv) == "1" {
		if err := serveChild(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "fanout server:", err)
			os.Exit(1)
		}
		return
	}
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "fanout:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rows, err := run(ctx, cfg, os.Stderr)
	if len(rows) > 0 {
		report(os.Stdout, cfg, rows)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fanout:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("fanout", flag.ContinueOnError)
	var cfg config
	var servers string
	fs.IntVar(&cfg.Clients, "clients", 1000, "websocket clients on the server under test, all in one room")
	fs.Float64Var(&cfg.Rate, "rate", 20, "broadcasts per second to the room")
	fs.DurationVar(&cfg.Warmup, "warmup", 2*time.Second, "broadcasting before the measured window")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "the measured window")
	fs.DurationVar(&cfg.Drain, "drain", time.Second, "wait after the last broadcast before counting losses")
	fs.IntVar(&cfg.Payload, "payload", 100, "bytes of the string argument of each broadcast")
	fs.StringVar(&servers, "servers", strings.Join(allServers, ","), "servers to measure, in order: "+strings.Join(allServers, ", "))
	fs.IntVar(&cfg.Rounds, "rounds", 1, "measure the servers in turn this many times (the summary takes each server's median)")
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write the CPU profile of server B with the sioredis adapter (the window only) to this file")
	fs.StringVar(&cfg.MemProfile, "cpuprofile-memory", "", "write the CPU profile of server B with the in-memory adapter (the window only) to this file")
	fs.StringVar(&cfg.Redis, "redis", "", "host:port of a Redis to use (default: start a redis-server on a free loopback port)")
	fs.StringVar(&cfg.Root, "root", "", "the sioredis repository (default: found above the working directory)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch {
	case cfg.Clients < 1 || cfg.Clients > 20000:
		return cfg, errors.New("-clients: 1 to 20000")
	case cfg.Rate <= 0 || cfg.Rate > 100000:
		return cfg, errors.New("-rate: above 0, at most 100000")
	case cfg.Warmup < 0 || cfg.Duration < 100*time.Millisecond || cfg.Duration > 10*time.Minute || cfg.Drain < 0 || cfg.Drain > time.Minute:
		return cfg, errors.New("-duration: 100ms to 10m; -warmup ≥ 0; -drain 0 to 1m")
	case cfg.Rounds < 1 || cfg.Rounds > 20:
		return cfg, errors.New("-rounds: 1 to 20")
	case cfg.Payload < 0 || cfg.Payload > 1<<20:
		return cfg, errors.New("-payload: 0 to 1 MiB")
	}
	for _, s := range strings.Split(servers, ",") {
		s = strings.TrimSpace(s)
		if !contains(allServers, s) {
			return cfg, fmt.Errorf("-servers: unknown %q (want %s)", s, strings.Join(allServers, ", "))
		}
		cfg.Servers = append(cfg.Servers, s)
	}
	return cfg, nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// row is the measurement of one server.
type row struct {
	Server      string
	Round       int
	Emitted     uint64  // broadcasts in the window
	Received    uint64  // messages the clients counted in the window
	Seconds     float64 // the window
	CPUMicros   int64   // the server's CPU in the window
	ClientCPU   int64   // the clients' CPU in the window
	Expected    uint64  // broadcasts × clients, whole run
	Lost        int64   // expected − received, whole run, after the drain
	Disconnects int64
	Dropped     uint64 // engine drops (sioredis)
}

func (r row) deliveriesPerSec() float64 { return float64(r.Received) / r.Seconds }

// keptUp is the percentage of the window's broadcasts × clients that the
// clients counted in the window.
func (r row) keptUp(clients int) float64 {
	if r.Emitted == 0 {
		return 0
	}
	return 100 * float64(r.Received) / float64(r.Emitted*uint64(clients))
}

func (r row) cpuPerDelivery() float64 {
	if r.Received == 0 {
		return 0
	}
	return float64(r.CPUMicros) / float64(r.Received)
}

// runner holds what the servers share: Redis, server A, the paths.
type runner struct {
	cfg     config
	log     io.Writer
	redis   string // host:port
	self    string
	nodeBin string
	modules string // NODE_PATH
	scripts string // node/ of this command
	a       *socket.Server
}

// run measures cfg.Servers one after the other and returns their rows (those
// measured before an error too).
func run(ctx context.Context, cfg config, log io.Writer) ([]row, error) {
	r := &runner{cfg: cfg, log: log}
	var err error
	if r.self, err = os.Executable(); err != nil {
		return nil, err
	}
	root := cfg.Root
	if root == "" {
		if root, err = findRoot(); err != nil {
			return nil, err
		}
	}
	r.modules = filepath.Join(root, "internal", "nodepeer", "testdata", "node_modules")
	r.scripts = filepath.Join(root, "integrations", "zishang520", "fanout", "node")
	if r.nodeBin, err = exec.LookPath("node"); err != nil {
		return nil, errNoNode
	}
	for _, p := range []string{filepath.Join(r.modules, "socket.io-client"), filepath.Join(r.modules, "@socket.io", "redis-adapter")} {
		if _, err := os.Stat(p); err != nil {
			return nil, errNoNode
		}
	}
	r.redis = cfg.Redis
	if r.redis == "" {
		srv, err := redistest.StartStandalone()
		if err != nil {
			return nil, err
		}
		defer srv.Stop()
		r.redis = srv.Addr
	}
	// Server A: a zishang520 server on the sioredis adapter, in this
	// process, with no clients.
	eng, err := engine.New(engine.Options{ClientOption: rueidis.ClientOption{InitAddress: []string{r.redis}}})
	if err != nil {
		return nil, fmt.Errorf("server A: %w", err)
	}
	defer eng.Close()
	opts := socket.DefaultServerOptions()
	opts.SetAdapter(zishang520.NewAdapterBuilder(eng))
	r.a = socket.NewServer(nil, opts)
	defer r.a.Close(nil)

	var rows []row
	for round := 1; round <= cfg.Rounds; round++ {
		for _, s := range cfg.Servers {
			if ctx.Err() != nil {
				return rows, ctx.Err()
			}
			fmt.Fprintf(log, "fanout: round %d/%d, %s: %d clients, %g broadcasts/s, %s + %s\n", round, cfg.Rounds, s, cfg.Clients, cfg.Rate, cfg.Warmup, cfg.Duration)
			rw, err := r.measure(ctx, s, round)
			if err != nil {
				return rows, fmt.Errorf("%s: %w", s, err)
			}
			rows = append(rows, rw)
		}
	}
	return rows, nil
}

// findRoot returns the sioredis repository above the working directory.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "internal", "nodepeer", "testdata", "package.json")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("the sioredis repository is not above the working directory: run from it, or pass -root")
		}
		dir = parent
	}
}

// startServer starts the server under test and returns it with its URL.
func (r *runner) startServer(name string) (*child, string, error) {
	var c *child
	var err error
	switch name {
	case "sioredis", "memory":
		cmd := exec.Command(r.self)
		cmd.Env = append(os.Environ(), childEnv+"=1")
		spec := serverSpec{Adapter: name}
		if name == "sioredis" {
			spec.Redis = r.redis
			spec.CPUProfile = r.cfg.CPUProfile
		} else {
			spec.CPUProfile = r.cfg.MemProfile
		}
		if spec.CPUProfile != "" {
			if spec.CPUProfile, err = filepath.Abs(spec.CPUProfile); err != nil {
				return nil, "", err
			}
		}
		c, err = startChild("server B ("+name+")", cmd, spec)
	default:
		args := []string{filepath.Join(r.scripts, "server.js")}
		if name == "node" {
			args = append(args, "--redis", "redis://"+r.redis)
		}
		cmd := exec.Command(r.nodeBin, args...)
		cmd.Env = append(os.Environ(), "NODE_PATH="+r.modules)
		c, err = startChild("node server ("+name+")", cmd, nil)
	}
	if err != nil {
		return nil, "", err
	}
	l, err := c.next("ready", 30*time.Second)
	if err != nil {
		c.close()
		return nil, "", err
	}
	return c, "http://127.0.0.1:" + strconv.Itoa(l.Port), nil
}

func (r *runner) startClients(url string) (*child, error) {
	cmd := exec.Command(r.nodeBin, filepath.Join(r.scripts, "clients.js"), "--url", url, "--clients", strconv.Itoa(r.cfg.Clients), "--event", event)
	cmd.Env = append(os.Environ(), "NODE_PATH="+r.modules)
	c, err := startChild("clients", cmd, nil)
	if err != nil {
		return nil, err
	}
	if _, err := c.next("ready", 90*time.Second); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// measure runs one server's measurement.
func (r *runner) measure(ctx context.Context, name string, round int) (row, error) {
	cfg := r.cfg
	rw := row{Server: name, Round: round}
	srv, url, err := r.startServer(name)
	if err != nil {
		return rw, err
	}
	defer srv.close()
	cl, err := r.startClients(url)
	if err != nil {
		return rw, err
	}
	defer cl.close()
	// Every socket has joined the room on the server.
	deadline := time.Now().Add(30 * time.Second)
	for {
		s, err := srv.do("snap", "snap")
		if err != nil {
			return rw, err
		}
		if s.Sockets == int64(cfg.Clients) {
			break
		}
		if time.Now().After(deadline) {
			return rw, fmt.Errorf("%d of %d sockets in the room after 30 s", s.Sockets, cfg.Clients)
		}
		time.Sleep(50 * time.Millisecond)
	}

	total := cfg.Warmup + cfg.Duration
	local := name == "memory" || name == "node-memory"
	var fromA atomic.Uint64
	aDone := make(chan struct{})
	emitCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if local {
		close(aDone)
		if _, err := srv.do(fmt.Sprintf("emit %g %d %d", cfg.Rate, total.Milliseconds(), cfg.Payload), "ok"); err != nil {
			return rw, err
		}
	} else {
		payload := strings.Repeat("x", cfg.Payload)
		go func() {
			defer close(aDone)
			pace(emitCtx, cfg.Rate, total, func(seq int) {
				if err := r.a.To(room).Emit(event, seq, payload); err == nil {
					fromA.Add(1)
				}
			})
		}()
	}
	started := time.Now()
	type edge struct {
		at       time.Time
		srv, cli childLine
	}
	snapAt := func(t time.Time) (edge, error) {
		select {
		case <-time.After(time.Until(t)):
		case <-ctx.Done():
			return edge{}, ctx.Err()
		}
		var e edge
		var err error
		if e.srv, err = srv.do("snap", "snap"); err != nil {
			return e, err
		}
		e.at = time.Now()
		if !local {
			e.srv.Emitted = fromA.Load()
		}
		if e.cli, err = cl.do("snap", "snap"); err != nil {
			return e, err
		}
		return e, nil
	}
	// The profile covers the window: started just before its first snap,
	// stopped just after its last.
	profile := round == 1
	if _, err := srv.doAt(profile, started.Add(cfg.Warmup-5*time.Millisecond), "prof start", "ok", name); err != nil {
		return rw, err
	}
	e1, err := snapAt(started.Add(cfg.Warmup))
	if err != nil {
		return rw, err
	}
	e2, err := snapAt(started.Add(total))
	if err != nil {
		return rw, err
	}
	if _, err := srv.doAt(profile, time.Now(), "prof stop", "ok", name); err != nil {
		return rw, err
	}
	<-aDone
	// A server that broadcasts itself may be behind its schedule (each of
	// its broadcasts is written to every socket before the next one): wait
	// for its last broadcast before the drain, so that lost counts losses.
	for end := time.Now().Add(time.Minute); local; {
		s, err := srv.do("snap", "snap")
		if err != nil {
			return rw, err
		}
		if !s.Emitting {
			break
		}
		if time.Now().After(end) {
			return rw, errors.New("its broadcasts still running a minute after their schedule ended")
		}
		time.Sleep(20 * time.Millisecond)
	}
	e3, err := snapAt(time.Now().Add(cfg.Drain))
	if err != nil {
		return rw, err
	}
	rw.Seconds = e2.at.Sub(e1.at).Seconds()
	rw.Emitted = e2.srv.Emitted - e1.srv.Emitted
	rw.Received = e2.cli.Received - e1.cli.Received
	rw.CPUMicros = e2.srv.CPUMicros - e1.srv.CPUMicros
	rw.ClientCPU = e2.cli.CPUMicros - e1.cli.CPUMicros
	rw.Expected = e3.srv.Emitted * uint64(cfg.Clients)
	rw.Lost = int64(rw.Expected) - int64(e3.cli.Received)
	rw.Disconnects = e3.cli.Lost
	rw.Dropped = e3.srv.Dropped
	return rw, nil
}

// doAt sends a profiling command at t, to the Go servers only (and when
// on).
func (c *child) doAt(on bool, t time.Time, command, want, server string) (childLine, error) {
	if !on || (server != "sioredis" && server != "memory") {
		return childLine{}, nil
	}
	time.Sleep(time.Until(t))
	return c.do(command, want)
}

var descriptions = map[string]string{
	"sioredis":    "zishang520 v3 + sioredis adapter, broadcasts from server A through Redis",
	"memory":      "zishang520 v3 + its in-memory adapter, broadcasts issued on B",
	"node":        "socket.io 4.8 + @socket.io/redis-adapter 8.3, broadcasts from server A through Redis",
	"node-memory": "socket.io 4.8 + its in-memory adapter, broadcasts issued on it",
}

// report prints the table, the ratio and the goal.
func report(w io.Writer, cfg config, rows []row) {
	fmt.Fprintf(w, "zishang520 fan-out: %d websocket clients (socket.io-client 4.8, one Node process) in one room, %g broadcasts/s, payload %d B, %s measured after %s, %d round(s)\n",
		cfg.Clients, cfg.Rate, cfg.Payload, cfg.Duration, cfg.Warmup, cfg.Rounds)
	header := func() {
		fmt.Fprintf(w, "%-12s %5s %12s %14s %9s %8s %10s %16s %12s %6s\n", "server", "round", "broadcasts/s", "deliveries/s", "kept up", "lost", "server CPU", "CPU µs/delivery", "clients CPU", "drops")
	}
	line := func(r row, round string) {
		fmt.Fprintf(w, "%-12s %5s %12.1f %14.0f %8.1f%% %8d %9.1f%% %16.2f %11.1f%% %6d\n", r.Server, round, float64(r.Emitted)/r.Seconds, r.deliveriesPerSec(), r.keptUp(cfg.Clients), r.Lost,
			100*float64(r.CPUMicros)/1e6/r.Seconds, r.cpuPerDelivery(), 100*float64(r.ClientCPU)/1e6/r.Seconds, r.Dropped)
	}
	header()
	for _, r := range rows {
		line(r, strconv.Itoa(r.Round))
	}
	by := map[string]row{} // each server's row of median CPU per delivery
	if cfg.Rounds > 1 {
		fmt.Fprintln(w, "\nmedian of the rounds (the row whose CPU per delivery is the median):")
		header()
	}
	for _, name := range cfg.Servers {
		var rs []row
		for _, r := range rows {
			if r.Server == name {
				rs = append(rs, r)
			}
		}
		if len(rs) == 0 {
			continue
		}
		sort.Slice(rs, func(i, j int) bool { return rs[i].cpuPerDelivery() < rs[j].cpuPerDelivery() })
		by[name] = rs[(len(rs)-1)/2]
		if cfg.Rounds > 1 {
			line(by[name], "med")
		}
	}
	for _, name := range cfg.Servers {
		fmt.Fprintf(w, "  %-11s %s\n", name, descriptions[name])
	}
	fmt.Fprintln(w, "server CPU = the server process's user+system time over the window (100 % = one core); per delivery = ÷ messages the clients counted in it")
	fmt.Fprintln(w, "kept up = messages counted in the window ÷ (broadcasts in it × clients): under ~99 % the server fell behind and its row measures a backlog")
	fmt.Fprintln(w, "lost = broadcasts × clients − messages counted, after the drain; drops = the sioredis engine's dropped messages")
	s, okS := by["sioredis"]
	m, okM := by["memory"]
	if okS && okM && m.cpuPerDelivery() > 0 {
		ratio := s.cpuPerDelivery() / m.cpuPerDelivery()
		verdict := "met"
		if ratio > 1.05 {
			verdict = "NOT MET"
		}
		fmt.Fprintf(w, "goal: CPU per delivery, sioredis ÷ in-memory: %.3f (want ≤ 1.05) %s\n", ratio, verdict)
	}
	if n, ok := by["node"]; ok && okS && n.cpuPerDelivery() > 0 {
		fmt.Fprintf(w, "CPU per delivery, sioredis ÷ Node redis-adapter: %.3f\n", s.cpuPerDelivery()/n.cpuPerDelivery())
	}
}
