// Command concurrency measures how close prov's walker comes to the ideal schedule when many slow
// operations run at once: it applies N local_data resources, each create delayed by the local
// provider's injected latency, at a high -parallelism, and prints
//
//	efficiency = ideal ÷ actual,  ideal = max(depth × latency, ⌈N ÷ parallelism⌉ × latency)
//
// where actual is the walk: from the first operation started to the last one finished, as prov's JSON
// event stream (-json) timestamps them. The resources form depth levels of N ÷ depth, each resource
// depending on one of the level before (depth 1: all independent). The target is 0.8.
//
//	go run ./bench/concurrency [-n 10000] [-latency 100ms] [-parallelism 1000] [-depth 1] [-prov bin/prov]
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/provhq/prov/bench/internal/provbin"
)

// Target is the efficiency the concurrency run must reach.
const Target = 0.8

// Config is one concurrency run.
type Config struct {
	Prov        string
	Env         []string
	Dir         string
	N           int
	Depth       int
	Parallelism int
	Latency     time.Duration
	Timeout     time.Duration
}

// Result is what a run measured.
type Result struct {
	Ideal, Walk, Wall time.Duration
	// Completed counts the apply_complete events: every resource must have been created.
	Completed int
	// PeakRSSKB is prov's own peak resident memory (its plugin is a separate process).
	PeakRSSKB int64
}

// Efficiency is Ideal ÷ Walk.
func (r Result) Efficiency() float64 { return r.Ideal.Seconds() / r.Walk.Seconds() }

// Ideal is the shortest time a walk of cfg's graph can take.
func Ideal(cfg Config) time.Duration {
	waves := (cfg.N + cfg.Parallelism - 1) / cfg.Parallelism
	return time.Duration(max(cfg.Depth, waves)) * cfg.Latency
}

// Document returns the JSON document of cfg's graph: N local_data resources in Depth levels.
func Document(cfg Config) ([]byte, error) {
	if cfg.Depth < 1 || cfg.N < cfg.Depth {
		return nil, fmt.Errorf("want 1 ≤ depth ≤ n, got depth %d, n %d", cfg.Depth, cfg.N)
	}
	width := cfg.N / cfg.Depth
	res := make(map[string]any, cfg.N)
	for i := range cfg.N {
		r := map[string]any{"type": "local_data", "provider": "local", "config": map[string]any{"input": i}}
		if level := min(i/width, cfg.Depth-1); level > 0 {
			r["depends_on"] = []string{addr(level*width - width + i%width)}
		}
		res[addr(i)] = r
	}
	return json.Marshal(map[string]any{
		"prov":     "1",
		"settings": map[string]any{"parallelism": cfg.Parallelism},
		"providers": map[string]any{"local": map[string]any{"source": "builtin/local",
			"config": map[string]any{"fault_injection": map[string]any{"latency_ms": cfg.Latency.Milliseconds()}}}},
		"resources": res,
	})
}

func addr(i int) string { return fmt.Sprintf("data.r%05d", i) }

// Run writes the document into cfg.Dir, runs prov init and prov apply -json there, and measures.
func Run(ctx context.Context, cfg Config) (Result, error) {
	doc, err := Document(cfg)
	if err != nil {
		return Result{}, err
	}
	if err := os.WriteFile(filepath.Join(cfg.Dir, "main.json"), doc, 0o644); err != nil {
		return Result{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	env := append(append(os.Environ(), cfg.Env...), "PROV_FAULT_INJECTION=1")
	init := exec.CommandContext(ctx, cfg.Prov, "init")
	init.Dir, init.Env = cfg.Dir, env
	if out, err := init.CombinedOutput(); err != nil {
		return Result{}, fmt.Errorf("prov init: %w\n%s", err, out)
	}
	apply := exec.CommandContext(ctx, cfg.Prov, "apply", "-json")
	apply.Dir, apply.Env = cfg.Dir, env
	var stderr strings.Builder
	apply.Stderr = &stderr
	// The events go to a file and are read once prov has finished: decoding them as they come would
	// take CPU from the run being measured, on a machine with few cores.
	events, err := os.Create(filepath.Join(cfg.Dir, "events.json"))
	if err != nil {
		return Result{}, err
	}
	defer events.Close()
	apply.Stdout = events
	start := time.Now()
	err = apply.Run()
	wall := time.Since(start)
	if err != nil {
		return Result{Wall: wall}, fmt.Errorf("prov apply: %w\n%s", err, stderr.String())
	}
	if _, err := events.Seek(0, io.SeekStart); err != nil {
		return Result{Wall: wall}, err
	}
	res, err := parseEvents(bufio.NewScanner(events))
	res.Wall = wall
	if err != nil {
		return res, err
	}
	if ru, ok := apply.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.PeakRSSKB = ru.Maxrss
	}
	if res.Completed != cfg.N {
		return res, fmt.Errorf("prov apply completed %d operations, want %d", res.Completed, cfg.N)
	}
	res.Ideal = Ideal(cfg)
	return res, nil
}

// parseEvents reads prov's JSON event stream: the walk runs from the first apply_start to the last
// apply_complete.
func parseEvents(sc *bufio.Scanner) (Result, error) {
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	var res Result
	var first, last time.Time
	for sc.Scan() {
		var ev struct {
			Type string    `json:"type"`
			Time time.Time `json:"@timestamp"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return res, fmt.Errorf("event stream: %w", err)
		}
		switch ev.Type {
		case "apply_start":
			if first.IsZero() || ev.Time.Before(first) {
				first = ev.Time
			}
		case "apply_complete":
			res.Completed++
			if ev.Time.After(last) {
				last = ev.Time
			}
		}
	}
	if err := sc.Err(); err != nil {
		return res, fmt.Errorf("event stream: %w", err)
	}
	if first.IsZero() || last.IsZero() {
		return res, errors.New("event stream: no operation started and finished")
	}
	res.Walk = last.Sub(first)
	return res, nil
}

func main() {
	cfg := Config{}
	var prov string
	keep := flag.Bool("keep", false, "keep the working directory")
	flag.IntVar(&cfg.N, "n", 10_000, "resources")
	flag.IntVar(&cfg.Depth, "depth", 1, "levels of the graph (1: all independent)")
	flag.IntVar(&cfg.Parallelism, "parallelism", 1000, "prov -parallelism")
	flag.DurationVar(&cfg.Latency, "latency", 100*time.Millisecond, "latency injected in every create")
	flag.DurationVar(&cfg.Timeout, "timeout", 10*time.Minute, "longest the run may take")
	flag.StringVar(&prov, "prov", "", "prov binary (default: bin/prov of the module, built if missing)")
	flag.Parse()
	var err error
	if cfg.Prov, err = provbin.Resolve(prov); err != nil {
		fail(err)
	}
	if cfg.Dir, err = os.MkdirTemp("", "prov-concurrency-"); err != nil {
		fail(err)
	}
	if !*keep {
		defer os.RemoveAll(cfg.Dir)
	}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		fail(err)
	}
	fmt.Printf("prov concurrency: %d local_data resources, depth %d, latency %s, -parallelism %d\n\n",
		cfg.N, cfg.Depth, cfg.Latency, cfg.Parallelism)
	fmt.Printf("ideal walk   %8.2fs  (max(depth × latency, ⌈N ÷ parallelism⌉ × latency))\n", res.Ideal.Seconds())
	fmt.Printf("actual walk  %8.2fs  (first operation started → last finished)\n", res.Walk.Seconds())
	fmt.Printf("prov apply   %8.2fs  (wall time: plan, walk, state; peak RSS of prov %d MiB)\n", res.Wall.Seconds(), res.PeakRSSKB/1024)
	fmt.Printf("efficiency   %8.2f   (target ≥ %.1f)\n", res.Efficiency(), Target)
	if res.Efficiency() < Target {
		fmt.Println("\nMISSED: efficiency below target")
		os.Exit(1)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "concurrency:", err)
	os.Exit(1)
}
