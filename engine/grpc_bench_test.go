package engine_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/provhq/prov/engine"
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
