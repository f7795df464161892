package engine

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/provhq/prov/plan"
	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/state"
)

// fanOut is the benchmark shape of the issue: n creates where resource i depends on resource ⌊i/10⌋
// and refers to its id.
func fanOut(prior *state.State, n int) *plan.Plan {
	changes := make([]*plan.Change, n)
	for i := range n {
		c := cfg(fmt.Sprint(i))
		var deps []string
		if i > 0 {
			parent := fmt.Sprintf("r%05d", i/10)
			c["value"] = "${" + parent + ".id}"
			deps = []string{parent}
		}
		changes[i] = create(fmt.Sprintf("r%05d", i), c, deps...)
	}
	return mkPlan(prior, changes...)
}

// withLatency makes every Apply of the fake take d.
func withLatency(f *fixture, d time.Duration) {
	f.fake.ApplyFunc = func(ctx context.Context, req plugins.ApplyRequest, progress func(plugins.Progress)) (*plugins.ApplyResponse, error) {
		time.Sleep(d)
		return f.fake.Default().Apply(ctx, req, progress)
	}
}

// idealTime is how long a walker with no overhead of its own needs for the fan-out graph of n nodes
// with par operations in flight, each taking latency: a list-scheduling simulation, ready nodes started
// in the order they became ready, the earliest-finishing operation completing first.
func idealTime(n, par int, latency time.Duration) time.Duration {
	type op struct {
		end  time.Duration
		node int
	}
	var running []op // sorted by end, as all operations take the same time
	ready := []int{0}
	now := time.Duration(0)
	for done := 0; done < n; {
		for len(ready) > 0 && len(running) < par {
			running = append(running, op{now + latency, ready[0]})
			ready = ready[1:]
		}
		next := running[0]
		running = running[1:]
		now, done = next.end, done+1
		for c := next.node * 10; c < next.node*10+10 && c < n; c++ {
			if c != next.node {
				ready = append(ready, c)
			}
		}
	}
	return now
}

// TestThousandConcurrent applies 10,000 changes of the fan-out graph with 1,000 in flight, each taking
// 100 ms at the provider, with the journal in memory (the walker's own cost) and on disk (the local
// backend's group commit), and logs how close the walk comes to the ideal time (idealTime). The target
// (0.8) is bench/concurrency's, measured there; this test only catches a walker that stops running
// operations side by side (efficiency below 0.3, where one at a time would be 0.001).
func TestThousandConcurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("takes several seconds")
	}
	const n, par, latency = 10000, 1000, 100 * time.Millisecond
	ideal := idealTime(n, par, latency)
	for _, backend := range []string{"memory", "local"} {
		t.Run(backend, func(t *testing.T) {
			f := newFixture(t)
			if backend == "memory" {
				f.engine.Backend = &memBackend{}
			}
			f.engine.Parallelism = par
			withLatency(f, latency)
			prior, err := f.engine.Backend.Read(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			p := fanOut(prior, n)
			cpu0 := cpuTime()
			start := time.Now()
			res, err := f.engine.Apply(context.Background(), p, prior)
			elapsed := time.Since(start)
			cpu := cpuTime() - cpu0
			if err != nil {
				t.Fatal(err)
			}
			if res.Added != n || len(res.Failures) > 0 {
				t.Fatalf("added %d, failures %d", res.Added, len(res.Failures))
			}
			eff := float64(ideal) / float64(elapsed)
			t.Logf("%d operations, %d in flight, %v each: %v (ideal %v), efficiency %.2f, %.0f ops/s, CPU %v (%v per operation)",
				n, par, latency, elapsed.Round(time.Millisecond), ideal, eff, float64(n)/elapsed.Seconds(),
				cpu.Round(time.Millisecond), (cpu / n).Round(time.Microsecond))
			if eff < 0.3 {
				t.Errorf("efficiency %.2f: the walk is not running operations side by side", eff)
			}
		})
	}
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkApplyFanOut applies the fan-out graph with the in-memory provider at the default
// parallelism, through the real local backend (journal with group commit and fsync, state write) and
// through an in-memory one (the walker's own cost).
func BenchmarkApplyFanOut(b *testing.B) {
	for _, tt := range []struct {
		n       int
		backend string
	}{{1000, "local"}, {10000, "local"}, {10000, "memory"}} {
		n := tt.n
		b.Run(fmt.Sprintf("n=%d/%s", n, tt.backend), func(b *testing.B) {
			b.ReportAllocs()
			var total time.Duration
			for b.Loop() {
				b.StopTimer()
				f := newFixture(b)
				if tt.backend == "memory" {
					f.engine.Backend = &memBackend{}
				}
				prior, err := f.engine.Backend.Read(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				p := fanOut(prior, n)
				b.StartTimer()
				start := time.Now()
				res, err := f.engine.Apply(context.Background(), p, prior)
				total += time.Since(start)
				if err != nil || res.Added != n {
					b.Fatalf("apply: %v, added %d", err, res.Added)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/total.Seconds(), "ops/s")
		})
	}
}
