package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/redis/rueidis"
	"github.com/sioredis/sioredis/internal/curvedata"
	"github.com/sioredis/sioredis/internal/redistest"
)

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if cfg.scaleChild {
		if err := runScaleChild(); err != nil {
			fmt.Fprintln(os.Stderr, "bench scale-out child:", err)
			os.Exit(1)
		}
		return
	}
	if cfg.child >= 0 {
		if err := runChild(cfg.child); err != nil {
			fmt.Fprintln(os.Stderr, "bench child:", err)
			os.Exit(1)
		}
		return
	}
	res, err := run(cfg, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if cfg.JSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if res.Curves != nil {
		printCurves(os.Stdout, res.Curves)
		return
	}
	if res.Scaleout != nil {
		res.Scaleout.print(os.Stdout, res.Redis)
		return
	}
	res.print(os.Stdout)
}

// run runs everything cfg asks for and returns the result; status lines go
// to status.
func run(cfg *Config, status *os.File) (*Result, error) {
	res := &Result{Command: "go run ./bench " + strings.Join(os.Args[1:], " "), Config: cfg, Mode: "in-process"}
	if cfg.Procs {
		res.Mode = "separate-process"
	}
	if cfg.Cluster {
		cl, err := startBenchCluster()
		if err != nil {
			return nil, err
		}
		defer cl.stop()
		stopOnSignal(cl.stop)
		cfg.RedisURL = cl.URL()
		res.RedisStarted = true
	}
	if cfg.RedisURL == "" {
		srv, err := redistest.StartStandalone()
		if err != nil {
			return nil, fmt.Errorf("%w (or pass -redis URL)", err)
		}
		defer srv.Stop()
		stopOnSignal(srv.Stop)
		cfg.RedisURL = srv.URL()
		res.RedisStarted = true
	}
	res.Redis = strings.TrimPrefix(cfg.RedisURL, "redis://")
	opt, err := clientOption(cfg.RedisURL)
	if err != nil {
		return nil, err
	}
	client, err := rueidis.NewClient(opt)
	if err != nil {
		return nil, fmt.Errorf("connect to Redis %s: %w", cfg.RedisURL, err)
	}
	defer client.Close()
	ctx := context.Background()
	if v, err := client.Do(ctx, client.B().Info().Section("server").Build()).ToString(); err == nil {
		for _, l := range strings.Split(v, "\n") {
			if k, val, ok := strings.Cut(strings.TrimSpace(l), ":"); ok && k == "redis_version" {
				res.Redis += ", redis " + val
			}
		}
	}
	if client.Mode() == rueidis.ClientModeCluster {
		res.Redis += fmt.Sprintf(", cluster of %d nodes", len(client.Nodes()))
	}
	r := &runner{cfg: cfg, redis: client, progress: newProgressLine(status, cfg.Quiet || cfg.JSON && !isTTY(status))}
	say := func(format string, args ...any) {
		if !cfg.Quiet {
			fmt.Fprintf(status, "bench: "+format+"\n", args...)
		}
	}

	if cfg.Scaleout {
		if res.Scaleout, err = r.runScaleout(ctx, say); err != nil {
			return nil, err
		}
		return res, nil
	}
	if cfg.CurvesDir != "" {
		if res.Curves, err = r.runCurves(ctx, res, say); err != nil {
			return nil, err
		}
		path, err := curvedata.Write(cfg.CurvesDir, res.Curves)
		if err != nil {
			return nil, err
		}
		say("curves: wrote %s", path)
		return res, nil
	}
	if cfg.CeilingOnly {
		say("ceiling only: raw rueidis, DoMulti(%d) × %d goroutines, %s", cfg.CeilingBatch, cfg.CeilingGoroutines, cfg.Duration)
		if err := r.runCeilings(ctx, res, say); err != nil {
			return nil, err
		}
		return res, nil
	}
	rate := cfg.Rate
	if cfg.RatePercent > 0 {
		say("calibrating: full speed first, then %.0f%% of it", cfg.RatePercent)
		full, err := r.run(ctx, 0)
		if err != nil {
			return nil, err
		}
		rate = summarize(full).PublishedPerSec / float64(cfg.PubNodes) * cfg.RatePercent / 100
	}
	say("engine nodes: %d %s, %s, %s", cfg.Nodes, res.Mode, cfg.protocolName(), cfg.Duration)
	main, err := r.run(ctx, rate)
	if err != nil {
		return nil, err
	}
	res.Run = summarize(main)
	if !cfg.Compare {
		return res, nil
	}
	if err := r.runCeilings(ctx, res, say); err != nil {
		return nil, err
	}
	say("Node peer: %s, %s", cfg.nodePeer().label, cfg.Duration)
	if res.Node, err = r.runNode(ctx, 1, 0); err != nil {
		res.NodeError = err.Error()
		fmt.Fprintln(status, "bench: Node comparison skipped:", err)
	}
	if rate == 0 {
		half := res.Run.PublishedPerSec / float64(cfg.PubNodes) / 2
		say("latency at half the maximum rate: %s broadcasts/s per publishing node, %s", si(half), cfg.Duration)
		hr, err := r.run(ctx, half)
		if err != nil {
			return nil, err
		}
		res.HalfRate = summarize(hr)
	}
	res.checkGoals()
	return res, nil
}

// runCeilings measures the raw rueidis ceilings of the run's protocol: the
// plain PUBLISH → SUBSCRIBE one, and the protocol's own topology (for the
// sharded protocol, SPUBLISH → SSUBSCRIBE plain and with echoes).
func (r *runner) runCeilings(ctx context.Context, res *Result, say func(string, ...any)) error {
	cfg := r.cfg
	var err error
	say("ceiling: raw rueidis PUBLISH → SUBSCRIBE, %s", cfg.Duration)
	if res.Ceiling, err = r.runCeiling(ctx, ceilingSpec{}); err != nil {
		return fmt.Errorf("ceiling: %w", err)
	}
	if cfg.sharded() {
		say("ceiling, sharded: raw rueidis SPUBLISH → SSUBSCRIBE, %s", cfg.Duration)
		if res.CeilingShard, err = r.runCeiling(ctx, ceilingSpec{sharded: true, all: true}); err != nil {
			return fmt.Errorf("ceiling: %w", err)
		}
	}
	top := cfg.topologyCeiling()
	say("ceiling, the protocol's topology: %s, %s", top.label(), cfg.Duration)
	if res.CeilingPSub, err = r.runCeiling(ctx, top); err != nil {
		return fmt.Errorf("ceiling: %w", err)
	}
	return nil
}

// stopOnSignal stops the harness's Redis on Ctrl-C before exiting.
func stopOnSignal(stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ch
		stop()
		os.Exit(130)
	}()
}

func isTTY(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
