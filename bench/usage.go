package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/rueidis"
)

// procUsage is what one Go process used.
type procUsage struct {
	CPU        time.Duration `json:"cpu"` // user + system
	Allocs     uint64        `json:"allocs"`
	AllocBytes uint64        `json:"alloc_bytes"`
	GCs        uint64        `json:"gcs"`
}

var usageSamples = []metrics.Sample{
	{Name: "/gc/heap/allocs:objects"},
	{Name: "/gc/heap/allocs:bytes"},
	{Name: "/gc/cycles/total:gc-cycles"},
}

// readUsage samples the process's CPU time and allocation counters (without
// stopping the world).
func readUsage() procUsage {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	s := make([]metrics.Sample, len(usageSamples))
	copy(s, usageSamples)
	metrics.Read(s)
	return procUsage{
		CPU:        time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
		Allocs:     s[0].Value.Uint64(),
		AllocBytes: s[1].Value.Uint64(),
		GCs:        s[2].Value.Uint64(),
	}
}

func (u procUsage) sub(o procUsage) procUsage {
	return procUsage{CPU: u.CPU - o.CPU, Allocs: u.Allocs - o.Allocs, AllocBytes: u.AllocBytes - o.AllocBytes, GCs: u.GCs - o.GCs}
}

// redisCPU returns the CPU time used so far by every Redis server the client
// knows (INFO cpu: used_cpu_user + used_cpu_sys).
func redisCPU(ctx context.Context, client rueidis.Client) (time.Duration, error) {
	var total time.Duration
	for addr, node := range client.Nodes() {
		info, err := node.Do(ctx, node.B().Info().Section("cpu").Build()).ToString()
		if err != nil {
			return 0, fmt.Errorf("INFO cpu on %s: %w", addr, err)
		}
		for _, line := range strings.Split(info, "\n") {
			k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
			if !ok || (k != "used_cpu_user" && k != "used_cpu_sys") {
				continue
			}
			f, err := strconv.ParseFloat(v, 64)
			if err == nil {
				total += time.Duration(f * float64(time.Second))
			}
		}
	}
	return total, nil
}

// profiler writes the profiles a Config asks for: the CPU profile covers
// start..stop, the others are written at stop.
type profiler struct {
	cpu, mem, mutex, block string
	cpuFile                *os.File
}

func newProfiler(c *Config, node int) *profiler {
	p := &profiler{cpu: profilePath(c.CPUProfile, node), mem: profilePath(c.MemProfile, node),
		mutex: profilePath(c.MutexProfile, node), block: profilePath(c.BlockProfile, node)}
	if p.mutex != "" {
		runtime.SetMutexProfileFraction(10)
	}
	if p.block != "" {
		runtime.SetBlockProfileRate(int(10 * time.Microsecond))
	}
	return p
}

func (p *profiler) start() error {
	if p.cpu == "" {
		return nil
	}
	f, err := create(p.cpu)
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("cpu profile: %w", err)
	}
	p.cpuFile = f
	return nil
}

func (p *profiler) stop() error {
	var first error
	keep := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	if p.cpuFile != nil {
		pprof.StopCPUProfile()
		keep(p.cpuFile.Close())
		p.cpuFile = nil
	}
	for _, w := range []struct{ path, name string }{{p.mem, "allocs"}, {p.mutex, "mutex"}, {p.block, "block"}} {
		if w.path == "" {
			continue
		}
		f, err := create(w.path)
		if err != nil {
			keep(err)
			continue
		}
		keep(pprof.Lookup(w.name).WriteTo(f, 0))
		keep(f.Close())
	}
	return first
}

func create(path string) (*os.File, error) {
	if i := strings.LastIndexByte(path, '/'); i > 0 {
		if err := os.MkdirAll(path[:i], 0o755); err != nil {
			return nil, err
		}
	}
	return os.Create(path)
}
