package local_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/provhq/prov/state"
	"github.com/provhq/prov/state/local"
)

// BenchmarkJournalAppend measures durable appends per second with 1, 10 and 100 goroutines appending
// at once: group commit lets one fdatasync cover the records of many writers.
func BenchmarkJournalAppend(b *testing.B) {
	for _, writers := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			bk := local.New(b.TempDir(), local.Options{})
			w, err := bk.Create(context.Background(), state.Record{Kind: state.Begin, Mode: "apply"})
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close()
			rec := state.Record{Kind: state.Commit, OpID: "0f8c0c5e-5d43-4c7f-9b62-3e0c0a8f5a11", Addr: "resources.data_01234",
				New: &state.Resource{Type: "local_data", Provider: "local", Attributes: map[string]any{"id": "x", "input": "hello"}}}
			var next atomic.Int64
			var wg sync.WaitGroup
			start := time.Now()
			b.ResetTimer()
			for range writers {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						if err := w.Append(rec); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "appends/s")
		})
	}
}

// bigState returns a state of n local_data resources shaped like the scale benchmark's.
func bigState(n int) *state.State {
	s := state.New()
	for i := range n {
		addr := fmt.Sprintf("resources.data_%05d", i)
		s.SetResource(addr, &state.Resource{Type: "local_data", Provider: "local",
			Config:       map[string]any{"input": map[string]any{"i": float64(i), "name": addr}},
			Attributes:   map[string]any{"id": addr, "input": map[string]any{"i": float64(i), "name": addr}},
			Dependencies: []string{fmt.Sprintf("resources.data_%05d", i/10)}})
	}
	return s
}

// BenchmarkWriteRead10k measures one atomic Write (check of the current file, backup, temp file,
// fsyncs, rename) and one Read of a 10,000-resource state.
func BenchmarkWriteRead10k(b *testing.B) {
	ctx := context.Background()
	bk := local.New(b.TempDir(), local.Options{})
	s := bigState(10000)
	if err := bk.Write(ctx, s); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		s.NextSerial()
		if err := bk.Write(ctx, s); err != nil {
			b.Fatal(err)
		}
		if _, err := bk.Read(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
