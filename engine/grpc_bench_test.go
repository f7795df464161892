package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/provhq/prov/engine"
	"github.com/provhq/prov/internal/document"
	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/plan"
	"github.com/provhq/prov/plugins/local"
	"github.com/provhq/prov/sdk/plugintest"
	statelocal "github.com/provhq/prov/state/local"
)

// BenchmarkApplyLocalDataGRPC is the production shape: n local_data resources in the fan-out
// graph (i depends on ⌊i/10⌋ and takes its output as input), applied at the default parallelism by
// the real local provider over gRPC, journaled by the local state backend in a temporary directory.
func BenchmarkApplyLocalDataGRPC(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			h := plugintest.New(b, local.New(), nil)
			b.ReportAllocs()
			var total time.Duration
			for b.Loop() {
				b.StopTimer()
				backend := statelocal.New(b.TempDir(), statelocal.Options{})
				e := &engine.Engine{Providers: plan.Providers{"local": h.Client()}, Backend: backend}
				prior, err := backend.Read(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				p := &plan.Plan{FormatVersion: plan.FormatVersion, Lineage: prior.Lineage, Serial: prior.Serial,
					Changes: make(map[string]*plan.Change, n)}
				for i := range n {
					c := &plan.Change{Addr: fmt.Sprintf("data.d%05d", i), Type: "local_data", Provider: "local",
						Action: plan.Create, After: value.Unknown, Config: map[string]any{"input": fmt.Sprint(i)}}
					if i > 0 {
						parent := fmt.Sprintf("data.d%05d", i/10)
						c.Config = map[string]any{"input": "${" + parent + ".output}"}
						c.DependsOn = []string{parent}
					}
					p.Changes[c.Addr] = c
				}
				b.StartTimer()
				start := time.Now()
				res, err := e.Apply(context.Background(), p, prior)
				total += time.Since(start)
				if err != nil || res.Added != n {
					b.Fatalf("apply: %v, added %d, failures %v", err, res.Added, res.Failures)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/total.Seconds(), "ops/s")
		})
	}
}

// BenchmarkWideApplyGRPC is bench/concurrency's shape in one process, for profiling both sides of the
// gRPC connection at once: n independent local_data creates planned by plan.Make, each delayed by the
// local provider's injected latency, applied at parallelism 1000. The ideal time is ⌈n ÷ 1000⌉ ×
// latency; what exceeds it is the CPU prov and the plugin spend per operation.
func BenchmarkWideApplyGRPC(b *testing.B) {
	const n, parallelism, latency = 10000, 1000, 100 * time.Millisecond
	b.Setenv(local.EnvFaultInjection, "1")
	h := plugintest.New(b, local.New(), map[string]any{"fault_injection": map[string]any{"latency_ms": latency.Milliseconds()}})
	res := make(map[string]any, n)
	for i := range n {
		res[fmt.Sprintf("data.r%05d", i)] = map[string]any{"type": "local_data", "provider": "local", "config": map[string]any{"input": i}}
	}
	data, err := json.Marshal(map[string]any{"prov": "1", "providers": map[string]any{"local": map[string]any{"source": "builtin/local"}}, "resources": res})
	if err != nil {
		b.Fatal(err)
	}
	doc, ds := document.Parse(data, "main.json", nil)
	if ds.HasErrors() {
		b.Fatal(ds)
	}
	providers := plan.Providers{"local": h.Client()}
	var total, cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		backend := statelocal.New(b.TempDir(), statelocal.Options{})
		prior, err := backend.Read(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		p, ds := plan.Make(context.Background(), doc, prior, providers, plan.Options{Parallelism: parallelism})
		if ds.HasErrors() {
			b.Fatal(ds)
		}
		p.Parallelism = parallelism
		e := &engine.Engine{Providers: providers, Backend: backend}
		b.StartTimer()
		start, cpuStart := time.Now(), cpuTime(b)
		out, err := e.Apply(context.Background(), p, prior)
		total, cpu = total+time.Since(start), cpu+cpuTime(b)-cpuStart
		if err != nil || out.Added != n {
			b.Fatalf("apply: %v, added %d, failures %v", err, out.Added, out.Failures)
		}
	}
	ideal := time.Duration((n+parallelism-1)/parallelism) * latency
	b.ReportMetric(ideal.Seconds()*float64(b.N)/total.Seconds(), "efficiency")
	// CPU per operation, host and plugin together, is what the efficiency on a loaded machine hides.
	b.ReportMetric(float64(cpu.Microseconds())/float64(n*b.N), "cpu-µs/op")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
