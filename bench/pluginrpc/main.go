// Command pluginrpc measures the plugin protocol end to end: one plugin process started by the real
// host (go-plugin, AutoMTLS, protocol v1), no-op Plan and Apply calls. It prints the round-trip latency
// of sequential calls and the throughput at 1, 10, 100 and 1000 concurrent callers.
//
//	go run ./bench/pluginrpc [-duration 2s] [-latency-calls 2000]
//
// The binary serves the plugin itself: the host starts it again as "pluginrpc __plugin provider noop",
// the way prov starts its builtin plugins.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/protocol"
	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/plugins/host"
)

func main() {
	if len(os.Args) == 4 && os.Args[1] == host.BuiltinCommand {
		protocol.ServeProvider(noop{})
	}
	duration := flag.Duration("duration", 2*time.Second, "how long each throughput run lasts")
	latencyCalls := flag.Int("latency-calls", 2000, "sequential calls for the latency measurement")
	flag.Parse()
	if err := run(*duration, *latencyCalls); err != nil {
		fmt.Fprintln(os.Stderr, "pluginrpc:", err)
		os.Exit(1)
	}
}

func run(duration time.Duration, latencyCalls int) error {
	dir, err := os.MkdirTemp("", "pluginrpc-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	h, err := host.New(host.Options{Dir: dir, SearchPath: []string{}, Builtins: []host.ID{{Kind: host.Provider, Name: "noop"}}})
	if err != nil {
		return err
	}
	defer h.Close()
	ctx := context.Background()
	p, err := h.Provider(ctx, "noop", "", "")
	if err != nil {
		return err
	}

	config := map[string]any{"name": "bench", "size": 2.0, "tags": map[string]any{"env": "bench"}}
	planned := map[string]any{"name": "bench", "size": 2.0, "tags": map[string]any{"env": "bench"}, "id": "i-0123"}
	calls := map[string]func() error{
		"Plan": func() error {
			_, err := p.Plan(ctx, plugins.PlanRequest{Type: "noop_thing", Prior: planned, Config: config})
			return err
		},
		"Apply": func() error {
			_, err := p.Apply(ctx, plugins.ApplyRequest{Type: "noop_thing", OperationID: "op", Prior: planned, Planned: planned, Config: config}, nil)
			return err
		},
	}
	ops := []string{"Plan", "Apply"}
	for _, op := range ops { // warm up connections and code paths
		for range 200 {
			if err := calls[op](); err != nil {
				return err
			}
		}
	}

	fmt.Printf("plugin RPC benchmark: one plugin process, AutoMTLS, %d CPUs, GOMAXPROCS %d\n\n", runtime.NumCPU(), runtime.GOMAXPROCS(0))
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "call\tp50\tp90\tp99\tmean\t")
	for _, op := range ops {
		lat := make([]time.Duration, latencyCalls)
		for i := range lat {
			start := time.Now()
			if err := calls[op](); err != nil {
				return err
			}
			lat[i] = time.Since(start)
		}
		slices.Sort(lat)
		var sum time.Duration
		for _, d := range lat {
			sum += d
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", op, us(lat[len(lat)/2]), us(lat[len(lat)*9/10]), us(lat[len(lat)*99/100]), us(sum/time.Duration(len(lat))))
	}
	tw.Flush()

	fmt.Println()
	tw = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "concurrent\tPlan calls/s\tCPU/call\tApply calls/s\tCPU/call\tApply calls/s if CPUs idle\t")
	for _, n := range []int{1, 10, 100, 1000} {
		fmt.Fprintf(tw, "%d\t", n)
		var cpuPerApply time.Duration
		for _, op := range ops {
			cpu0 := cpuTime()
			rate, calls, err := throughput(calls[op], n, duration)
			if err != nil {
				return err
			}
			perCall := (cpuTime() - cpu0) / time.Duration(max(calls, 1))
			cpuPerApply = perCall
			fmt.Fprintf(tw, "%.0f\t%s\t", rate, us(perCall))
		}
		fmt.Fprintf(tw, "%.0f\t\n", float64(runtime.NumCPU())*float64(time.Second)/float64(cpuPerApply))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Println("\nCPU/call is the CPU time of prov and the plugin together (user+sys) per call; the last column is")
	fmt.Println("what that CPU cost allows on this machine's CPUs when nothing else competes for them.")
	return nil
}

func us(d time.Duration) string { return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond)) }

// throughput runs call from n goroutines for d and returns completed calls per second and the count.
func throughput(call func() error, n int, d time.Duration) (float64, int64, error) {
	var (
		done     atomic.Int64
		stop     atomic.Bool
		wg       sync.WaitGroup
		firstErr error
		errOnce  sync.Once
	)
	start := time.Now()
	for range n {
		wg.Go(func() {
			for !stop.Load() {
				if err := call(); err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				done.Add(1)
			}
		})
	}
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
	return float64(done.Load()) / time.Since(start).Seconds(), done.Load(), firstErr
}

// cpuTime is the user+system CPU time used so far by this process and its child processes (the plugin),
// read from /proc.
func cpuTime() time.Duration {
	total := procCPU(os.Getpid())
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", os.Getpid()))
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, pid := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(pid); err == nil {
				total += procCPU(n)
			}
		}
	}
	return total
}

// procCPU reads utime+stime of a process from /proc/PID/stat.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	const clockTicks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// noop is a provider that does no work: Plan returns the config, Apply the planned state.
type noop struct{}

func (noop) Schema(context.Context) (*plugins.ProviderSchema, diag.Diagnostics, error) {
	return &plugins.ProviderSchema{Name: "noop", Resources: map[string]*plugins.ResourceSchema{}}, nil, nil
}
func (noop) ValidateConfig(context.Context, string, any) (diag.Diagnostics, error) { return nil, nil }
func (noop) Configure(context.Context, any) (diag.Diagnostics, error)              { return nil, nil }
func (noop) Plan(_ context.Context, req plugins.PlanRequest) (*plugins.PlanResponse, error) {
	return &plugins.PlanResponse{Planned: req.Config}, nil
}
func (noop) Apply(_ context.Context, req plugins.ApplyRequest, _ func(plugins.Progress)) (*plugins.ApplyResponse, error) {
	return &plugins.ApplyResponse{New: req.Planned}, nil
}
func (noop) Read(_ context.Context, req plugins.ReadRequest) (*plugins.ReadResponse, error) {
	return &plugins.ReadResponse{New: req.Current}, nil
}
func (noop) Import(_ context.Context, req plugins.ImportRequest) (*plugins.ImportResponse, error) {
	return &plugins.ImportResponse{State: map[string]any{"id": req.ID}}, nil
}
func (noop) Stop(context.Context) error { return nil }
func (noop) Close() error               { return nil }
