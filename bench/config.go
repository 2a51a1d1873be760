package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Config is one run of the harness. It travels as JSON to the child
// processes of -procs, so every field a node needs is exported.
type Config struct {
	Nodes    int `json:"nodes"`
	PubNodes int `json:"pub_nodes"`
	Rooms    int `json:"rooms"`
	Sockets  int `json:"sockets"`
	// PubHostsNone: publishing nodes host no sockets (an API server pushing
	// to rooms on other servers); in per-room mode they then subscribe to
	// nothing and Redis sends them no echo.
	PubHostsNone bool          `json:"publisher_hosts_none,omitempty"`
	Target       string        `json:"target"`
	Payload      int           `json:"payload"`
	Goroutines   int           `json:"goroutines"`
	Duration     time.Duration `json:"duration"`
	Warmup       time.Duration `json:"warmup"`
	// Rate is the broadcasts/s of each publishing node; 0 is full speed.
	Rate float64 `json:"rate"`
	// RatePercent, when positive, makes the run a two-step one: full speed
	// first, then Rate = RatePercent % of what was delivered.
	RatePercent float64 `json:"rate_percent,omitempty"`

	RedisURL string `json:"redis_url"`
	Key      string `json:"key"`
	Procs    bool   `json:"procs"`
	JSON     bool   `json:"-"`
	Compare  bool   `json:"compare"`
	Quiet    bool   `json:"-"`

	PublishBatch      int           `json:"publish_batch"`
	PublishFlushDelay time.Duration `json:"publish_flush_delay"`
	PublishQueue      int           `json:"publish_queue"`
	ReceiveQueue      int           `json:"receive_queue"`

	CPUProfile   string `json:"cpu_profile,omitempty"`
	MemProfile   string `json:"mem_profile,omitempty"`
	MutexProfile string `json:"mutex_profile,omitempty"`
	BlockProfile string `json:"block_profile,omitempty"`
	ProfileDir   string `json:"profile_dir,omitempty"`

	NodeBatch int `json:"node_batch"` // -compare: emits per setImmediate turn of the Node emitter
	// The raw rueidis publisher of the ceiling.
	CeilingBatch      int  `json:"ceiling_batch"`
	CeilingGoroutines int  `json:"ceiling_goroutines"`
	CeilingOnly       bool `json:"-"`

	// Subscriptions is the engine's subscription mode: pattern or rooms.
	Subscriptions string `json:"subscriptions,omitempty"`
	// Protocol is the wire generation (-protocol): classic, redis4,
	// redis5, redis6 or sharded; ShardedMode the sharded protocol's
	// subscription mode (static, dynamic, dynamic-private).
	Protocol    string `json:"protocol,omitempty"`
	ShardedMode string `json:"sharded_mode,omitempty"`
	// Cluster: the harness starts a 3-master Redis Cluster instead of a
	// standalone server (sharded protocol only).
	Cluster bool `json:"cluster,omitempty"`

	// -scaleout: the scale-out scenario (scaleout.go).
	Scaleout           bool   `json:"scaleout,omitempty"`
	ScaleoutNodes      string `json:"scaleout_nodes,omitempty"`
	ScaleoutModes      string `json:"scaleout_modes,omitempty"`
	ScaleoutRooms      int    `json:"scaleout_rooms,omitempty"`
	ScaleoutSockets    int    `json:"scaleout_sockets,omitempty"`
	ScaleoutConnectors int    `json:"scaleout_connectors,omitempty"`

	// -curves: the payload, latency and scale-out sweeps (curves.go).
	CurvesDir      string        `json:"curves_dir,omitempty"`
	CurvesDuration time.Duration `json:"curves_duration,omitempty"`
	CurvesPayloads string        `json:"curves_payloads,omitempty"`
	CurvesRates    string        `json:"curves_rates,omitempty"`
	CurvesServers  string        `json:"curves_servers,omitempty"`

	child      int  // -child index (hidden), -1 when not a child
	scaleChild bool // -scaleout-child (hidden)
}

// Target values.
const (
	targetRooms = "rooms"
	targetAll   = "all"
)

// parseFlags parses the command line into a Config.
func parseFlags(args []string, out io.Writer) (*Config, error) {
	c := &Config{child: -1}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.IntVar(&c.Nodes, "nodes", 2, "number of engine nodes (N)")
	fs.IntVar(&c.PubNodes, "pub-nodes", 1, "how many nodes publish (the first ones); the others only receive")
	fs.IntVar(&c.Rooms, "rooms", 16, "number of rooms (R); socket i of a node joins room i mod R")
	fs.IntVar(&c.Sockets, "sockets", 16, "simulated local sockets per node (S)")
	fs.BoolVar(&c.PubHostsNone, "publisher-hosts-none", false, "publishing nodes host no sockets (an API server pushing to rooms on other servers; with -subscriptions rooms they subscribe to nothing)")
	fs.StringVar(&c.Target, "target", targetRooms, "who a broadcast reaches: rooms (one room each, round robin) or all (every socket)")
	fs.IntVar(&c.Payload, "payload", 100, "payload size in bytes (P)")
	fs.IntVar(&c.Goroutines, "goroutines", 16, "concurrent publishing goroutines per publishing node (G)")
	fs.DurationVar(&c.Duration, "duration", 5*time.Second, "measured publishing time (D)")
	fs.DurationVar(&c.Warmup, "warmup", 500*time.Millisecond, "publishing before the measured window (not counted)")
	rate := fs.String("rate", "0", "broadcasts/s per publishing node: 0 = full speed; N% = N percent of the full-speed rate, measured first in the same run")
	fs.StringVar(&c.RedisURL, "redis", "", "use this Redis (redis://host:port, standalone or cluster; several seeds with ?addr=host:port) instead of starting one")
	fs.StringVar(&c.Key, "key", "socket.io", "channel prefix (the adapter's key): use a fresh one to share a Redis with other traffic")
	fs.BoolVar(&c.Procs, "procs", false, "run every node as a separate OS process")
	fs.BoolVar(&c.JSON, "json", false, "print the result as JSON instead of the table")
	fs.BoolVar(&c.Compare, "compare", false, "also measure the raw rueidis ceiling, the Node adapter, and latency at half rate; print ratios")
	fs.BoolVar(&c.Quiet, "q", false, "no live progress line")
	fs.IntVar(&c.PublishBatch, "batch", 0, "engine Options.PublishBatch (0: the engine's default)")
	fs.DurationVar(&c.PublishFlushDelay, "flush-delay", 0, "engine Options.PublishFlushDelay (0: the engine's default)")
	fs.IntVar(&c.PublishQueue, "publish-queue", 0, "engine Options.PublishQueue (0: the engine's default)")
	fs.IntVar(&c.ReceiveQueue, "receive-queue", 0, "engine Options.ReceiveQueue (0: the engine's default)")
	fs.IntVar(&c.NodeBatch, "node-batch", 100, "-compare: emits per setImmediate turn of the Node emitter")
	fs.IntVar(&c.CeilingBatch, "ceiling-batch", 100, "-compare: commands per DoMulti of the raw rueidis ceiling")
	fs.IntVar(&c.CeilingGoroutines, "ceiling-goroutines", 4, "-compare: publishing goroutines of the raw rueidis ceiling")
	fs.BoolVar(&c.CeilingOnly, "ceiling-only", false, "measure only the raw rueidis ceiling (with -ceiling-batch, -ceiling-goroutines)")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "write a CPU profile of the measured window to this file")
	fs.StringVar(&c.MemProfile, "memprofile", "", "write an allocation profile to this file")
	fs.StringVar(&c.MutexProfile, "mutexprofile", "", "write a mutex contention profile to this file")
	fs.StringVar(&c.BlockProfile, "blockprofile", "", "write a blocking profile to this file")
	fs.StringVar(&c.ProfileDir, "profile-dir", "", "write cpu, mem (allocs), mutex and block profiles into this directory (per node with -procs)")
	fs.StringVar(&c.Subscriptions, "subscriptions", "pattern", "engine Options.Subscriptions: pattern (one PSUBSCRIBE per namespace) or rooms (a SUBSCRIBE per hosted room)")
	fs.StringVar(&c.Protocol, "protocol", protoClassic, "wire protocol of the engines (and of the Node peer of -compare): classic, redis4 (socket.io-redis 4.0), redis5 (5.x), redis6 (6.x) or sharded (createShardedAdapter)")
	fs.StringVar(&c.ShardedMode, "sharded-mode", "dynamic", "-protocol sharded: subscription mode, static, dynamic or dynamic-private")
	fs.BoolVar(&c.Cluster, "cluster", false, "start a 3-master Redis Cluster (redis-server, redis-cli) instead of a standalone server; -protocol sharded and -scaleout only")
	fs.BoolVar(&c.Scaleout, "scaleout", false, "run the scale-out scenario instead: one publisher, N receiving nodes, private rooms, both subscription modes (uses -duration, -warmup, -rate, -payload, -goroutines, -procs)")
	fs.StringVar(&c.ScaleoutNodes, "scaleout-nodes", "1,2,4,8", "-scaleout: the numbers of receiving nodes, comma-separated")
	fs.StringVar(&c.ScaleoutModes, "scaleout-modes", "pattern,rooms", "-scaleout: the modes, comma-separated: pattern, rooms (classic protocol), sharded-static, sharded-dynamic, sharded-dynamic-private")
	fs.IntVar(&c.ScaleoutRooms, "scaleout-rooms", 100, "-scaleout: private rooms (one socket each) per receiving node")
	fs.IntVar(&c.ScaleoutSockets, "scaleout-sockets", 100000, "-scaleout: sockets connected to one node to measure the subscription cost (0: skip)")
	fs.IntVar(&c.ScaleoutConnectors, "scaleout-connectors", 256, "-scaleout: goroutines connecting those sockets")
	fs.StringVar(&c.CurvesDir, "curves", "", "run the payload, latency-vs-rate and scale-out sweeps, engine and Node peer, and write DIR/curves.json (charts: make curves)")
	fs.DurationVar(&c.CurvesDuration, "curves-duration", 4*time.Second, "-curves: measured time of each point (0: -duration)")
	fs.StringVar(&c.CurvesPayloads, "curves-payloads", "100,1024,4096,16384", "-curves: payload sizes in bytes, comma-separated")
	fs.StringVar(&c.CurvesRates, "curves-rates", "10,25,50,75", "-curves: fixed rates of the latency sweep, in % of each side's own maximum at -payload")
	fs.StringVar(&c.CurvesServers, "curves-servers", "1,2,4,8", "-curves: numbers of receiving servers of the scale-out sweep")
	fs.BoolVar(&c.scaleChild, "scaleout-child", false, "internal: a receiving node of -scaleout -procs (spec as JSON on stdin)")
	fs.IntVar(&c.child, "child", -1, "internal: run node N of a -procs run (config as JSON on stdin)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `bench — sioredis load harness: N engine nodes broadcasting through Redis.

Usage: go run ./bench [flags]      (make bench BENCH_FLAGS="...")

With no flags: its own redis-server on a free loopback port, 2 in-process
nodes (node 0 publishes, node 1 receives), 16 rooms, 16 sockets per node,
100-byte payloads, 16 publishing goroutines, 5 s at full speed.

Flags:
`)
		fs.VisitAll(func(f *flag.Flag) {
			if f.Name == "child" || f.Name == "scaleout-child" {
				return // internal
			}
			name, usage := flag.UnquoteUsage(f)
			if name != "" {
				name = " " + name
			}
			fmt.Fprintf(fs.Output(), "  -%s%s\n    \t%s", f.Name, name, usage)
			if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false" && f.DefValue != "0s" {
				fmt.Fprintf(fs.Output(), " (default %s)", f.DefValue)
			}
			fmt.Fprintln(fs.Output())
		})
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if strings.HasSuffix(*rate, "%") {
		p, err := strconv.ParseFloat(strings.TrimSuffix(*rate, "%"), 64)
		if err != nil || p <= 0 {
			return nil, fmt.Errorf("-rate %q: want a number or a positive percentage", *rate)
		}
		c.RatePercent = p
	} else {
		r, err := strconv.ParseFloat(*rate, 64)
		if err != nil || r < 0 {
			return nil, fmt.Errorf("-rate %q: want a number or a positive percentage", *rate)
		}
		c.Rate = r
	}
	if c.ProfileDir != "" {
		set := func(p *string, name string) {
			if *p == "" {
				*p = c.ProfileDir + "/" + name
			}
		}
		set(&c.CPUProfile, "cpu.pprof")
		set(&c.MemProfile, "mem.pprof")
		set(&c.MutexProfile, "mutex.pprof")
		set(&c.BlockProfile, "block.pprof")
	}
	return c, c.validate()
}

func (c *Config) validate() error {
	switch {
	case c.Nodes < 1:
		return errors.New("-nodes must be at least 1")
	case c.PubNodes < 1 || c.PubNodes > c.Nodes:
		return errors.New("-pub-nodes must be between 1 and -nodes")
	case c.Rooms < 1:
		return errors.New("-rooms must be at least 1")
	case c.Sockets < 0:
		return errors.New("-sockets must not be negative")
	case c.Target != targetRooms && c.Target != targetAll:
		return fmt.Errorf("-target %q: want rooms or all", c.Target)
	case c.Payload < 0:
		return errors.New("-payload must not be negative")
	case c.Goroutines < 1:
		return errors.New("-goroutines must be at least 1")
	case c.Duration <= 0:
		return errors.New("-duration must be positive")
	case c.Warmup < 0:
		return errors.New("-warmup must not be negative")
	case c.NodeBatch < 1:
		return errors.New("-node-batch must be at least 1")
	case c.CeilingBatch < 1 || c.CeilingGoroutines < 1:
		return errors.New("-ceiling-batch and -ceiling-goroutines must be at least 1")
	case c.ScaleoutRooms < 1:
		return errors.New("-scaleout-rooms must be at least 1")
	case c.ScaleoutSockets < 0 || c.ScaleoutConnectors < 1:
		return errors.New("-scaleout-sockets must not be negative and -scaleout-connectors must be at least 1")
	}
	if _, err := parseMode(c.Subscriptions); err != nil {
		return fmt.Errorf("-subscriptions: %w", err)
	}
	if _, err := parseProtocol(c.Protocol); err != nil {
		return err
	}
	if _, err := parseShardedMode(c.ShardedMode); err != nil {
		return err
	}
	if c.Cluster && c.RedisURL != "" {
		return errors.New("-cluster starts its own cluster: not with -redis")
	}
	if c.Cluster && !c.Scaleout && !c.sharded() {
		return errors.New("-cluster: with -protocol sharded or -scaleout only")
	}
	if c.CurvesDir != "" {
		switch {
		case c.Scaleout || c.CeilingOnly || c.Compare:
			return errors.New("-curves: not with -scaleout, -ceiling-only or -compare")
		case c.Rate != 0 || c.RatePercent != 0:
			return errors.New("-curves chooses its own rates: not with -rate")
		case c.CurvesDuration < 0:
			return errors.New("-curves-duration must not be negative")
		}
		if _, err := parseInts("-curves-payloads", c.CurvesPayloads); err != nil {
			return err
		}
		if _, err := parsePercents("-curves-rates", c.CurvesRates); err != nil {
			return err
		}
		if _, err := parseInts("-curves-servers", c.CurvesServers); err != nil {
			return err
		}
	}
	if c.Scaleout {
		nodes, err := parseScaleoutNodes(c.ScaleoutNodes)
		if err != nil {
			return err
		}
		modes, err := parseModes(c.ScaleoutModes)
		if err != nil {
			return err
		}
		if len(nodes)*len(modes) > 100 {
			return errors.New("-scaleout: at most 100 rows (modes × nodes)")
		}
	}
	return nil
}

// recipients is how many sockets of one node a broadcast to room k reaches
// (k < 0: a broadcast to everyone).
func (c *Config) recipients(k int) int {
	if k < 0 {
		return c.Sockets
	}
	n := c.Sockets / c.Rooms
	if k < c.Sockets%c.Rooms {
		n++
	}
	return n
}

// roomName is the name of room k.
func roomName(k int) string { return "room-" + strconv.Itoa(k) }

// isPublisher reports whether node i publishes.
func (c *Config) isPublisher(i int) bool { return i < c.PubNodes }

// profilePath returns path with "-node<i>" before its extension when each
// node is its own process (so that their profiles do not overwrite each
// other).
func profilePath(path string, node int) string {
	if path == "" || node < 0 {
		return path
	}
	dot := strings.LastIndexByte(path, '.')
	slash := strings.LastIndexByte(path, '/')
	if dot <= slash {
		return path + "-node" + strconv.Itoa(node)
	}
	return path[:dot] + "-node" + strconv.Itoa(node) + path[dot:]
}
