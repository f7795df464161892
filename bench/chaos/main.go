// Command chaos proves prov's crash safety: it runs trials, each an apply of a few hundred local_file
// resources (parallelism 20, injected latency) hit by one fault at a random moment — SIGKILL of prov,
// SIGKILL of its plugin, SIGINT, a torn last journal record, an operation failed by the provider, or a
// second prov racing for the lock — then a recovery chosen at random (prov apply -resume, or prov
// rollback), then checks:
//
//   - the files on disk, the local_file resources in the state and the desired set (the prior set after
//     a rollback) are the same, contents included;
//   - no file was created twice (the local provider's creation log, PROV_LOCAL_CREATION_LOG);
//   - the state serial never went down;
//   - no journal and no lock are left behind, and prov plan -detailed-exitcode finds nothing to do.
//
// It prints a table per fault kind and a last line "N passed, N failed"; it exits 1 when a trial failed,
// and keeps the failed trials' directories (the document, state, journal and creation log) for study.
//
//	go run ./bench/chaos [-trials 50] [-faults kill-prov,torn-journal] [-seed 1] [-prov bin/prov]
//
// -trials is per fault kind. The binary is bin/prov of the module (built when missing) unless -prov
// names one.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/provhq/prov/bench/internal/provbin"
)

// Config is one chaos run.
type Config struct {
	// Prov is the prov binary.
	Prov string
	// Env is added to the environment of every prov process.
	Env []string
	// Trials is the number of trials per fault kind.
	Trials int
	// Faults are the fault kinds to try (Kinds when empty).
	Faults []string
	// Seed makes the run repeatable, up to the timing of processes.
	Seed uint64
	// Resources is the size of the prior set; the desired set drops a fifth of it, updates two fifths
	// and adds as many new files, so an apply makes 1.6 × Resources changes.
	Resources int
	// Parallelism is prov's -parallelism.
	Parallelism int
	// Latency is injected in every create, update and delete.
	Latency time.Duration
	// Timeout bounds every prov process.
	Timeout time.Duration
	// Jobs is how many trials run at once.
	Jobs int
	// TempDir holds the trials' directories ("" for the system's).
	TempDir string
	// Keep keeps every trial's directory, not only the failed ones'.
	Keep bool
	// Log receives one line per finished trial (nil for none).
	Log io.Writer
}

// harness runs the trials of one Config.
type harness struct {
	cfg      Config
	lockFile []byte // prov.lock.json written by prov init, copied into every trial
}

// Run runs cfg's trials and returns their results, in trial order.
func Run(ctx context.Context, cfg Config) ([]Result, error) {
	if len(cfg.Faults) == 0 {
		cfg.Faults = Kinds
	}
	for _, k := range cfg.Faults {
		if !slices.Contains(Kinds, k) {
			return nil, fmt.Errorf("unknown fault kind %q (want %s)", k, strings.Join(Kinds, ", "))
		}
	}
	cfg.Jobs = max(cfg.Jobs, 1)
	h := &harness{cfg: cfg}
	if err := h.init(ctx); err != nil {
		return nil, err
	}
	type job struct {
		n    int
		kind string
		seed uint64
	}
	// Kinds interleave, so a short or interrupted run still covers all of them; every trial has its
	// own random stream, so -jobs does not change what a seed means.
	seeds := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x5bd1e995))
	var jobs []job
	for i := range cfg.Trials {
		for _, k := range cfg.Faults {
			jobs = append(jobs, job{len(jobs) + 1, k, seeds.Uint64()})
			_ = i
		}
	}
	results := make([]Result, len(jobs))
	next := make(chan job)
	var wg sync.WaitGroup
	var logMu sync.Mutex
	for range cfg.Jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				r := h.trial(ctx, j.n, j.kind, rand.New(rand.NewPCG(j.seed, j.seed^0x9e3779b97f4a7c15)))
				results[j.n-1] = r
				if cfg.Log != nil {
					logMu.Lock()
					logTrial(cfg.Log, r, len(jobs))
					logMu.Unlock()
				}
			}
		}()
	}
	for _, j := range jobs {
		if ctx.Err() != nil {
			break
		}
		next <- j
	}
	close(next)
	wg.Wait()
	return results, ctx.Err()
}

// init runs prov init once, in a directory of its own, for the lock file every trial copies.
func (h *harness) init(ctx context.Context) error {
	dir, err := os.MkdirTemp(h.cfg.TempDir, "chaos-init-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := writeDoc(dir, fileSet{"files.x": {"out/x", "x"}}, docOptions{parallelism: 1}); err != nil {
		return err
	}
	env := []string{"PROV_FAULT_INJECTION=1", "HOME=" + dir, "XDG_CONFIG_HOME=" + dir, "XDG_CACHE_HOME=" + dir, "XDG_DATA_HOME=" + dir}
	code, out, err := h.run(ctx, dir, env, h.cfg.Timeout, "init")
	if err != nil {
		return err
	}
	if code != 0 {
		return fmt.Errorf("prov init exited %d:\n%s", code, tail(out, 1500))
	}
	h.lockFile, err = os.ReadFile(filepath.Join(dir, "prov.lock.json"))
	if err != nil {
		return fmt.Errorf("prov init: %w", err)
	}
	return nil
}

func logTrial(w io.Writer, r Result, total int) {
	status := "ok  "
	if r.Failure != "" {
		status = "FAIL"
	}
	journal := "no journal"
	if r.Journal {
		journal = "journal"
	}
	fmt.Fprintf(w, "%s %3d/%d %-12s %-8s %-10s %5.1fs  %s\n", status, r.N, total, r.Kind, r.Recovery, journal,
		r.Duration.Seconds(), r.Note)
	if r.Failure != "" {
		fmt.Fprintf(w, "     %s\n     kept in %s\n", strings.ReplaceAll(r.Failure, "\n", "\n     "), r.Dir)
	}
}

// PrintTable prints one row per fault kind and the final "N passed, N failed" line.
func PrintTable(w io.Writer, results []Result, kinds []string) (passed, failed int) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "fault\ttrials\tpassed\tfailed\tresumed\trolled back\tjournal left\tmean time")
	for _, k := range kinds {
		var n, ok, resumed, rolled, journal int
		var total time.Duration
		for _, r := range results {
			if r.Kind != k || r.N == 0 {
				continue
			}
			n++
			total += r.Duration
			if r.Failure == "" {
				ok++
			}
			if r.Recovery == Resume {
				resumed++
			} else {
				rolled++
			}
			if r.Journal {
				journal++
			}
		}
		if n == 0 {
			continue
		}
		passed += ok
		failed += n - ok
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%.1fs\n", k, n, ok, n-ok, resumed, rolled, journal,
			(total / time.Duration(n)).Seconds())
	}
	tw.Flush()
	fmt.Fprintf(w, "%d passed, %d failed\n", passed, failed)
	return passed, failed
}

func main() {
	cfg := Config{Log: os.Stderr}
	var faults, prov string
	flag.IntVar(&cfg.Trials, "trials", 50, "trials per fault kind")
	flag.StringVar(&faults, "faults", strings.Join(Kinds, ","), "comma-separated fault kinds")
	flag.Uint64Var(&cfg.Seed, "seed", uint64(time.Now().UnixNano()), "random seed (printed, for a repeat run)")
	flag.IntVar(&cfg.Resources, "resources", 100, "files in the prior set (the apply makes 1.6× as many changes)")
	flag.IntVar(&cfg.Parallelism, "parallelism", 20, "prov -parallelism")
	flag.DurationVar(&cfg.Latency, "latency", 30*time.Millisecond, "latency injected in every operation")
	flag.DurationVar(&cfg.Timeout, "timeout", 2*time.Minute, "longest any prov process may run")
	flag.IntVar(&cfg.Jobs, "jobs", 4, "trials run at once (each is mostly waiting on injected latency and process start-up)")
	flag.BoolVar(&cfg.Keep, "keep", false, "keep every trial's directory")
	flag.StringVar(&prov, "prov", "", "prov binary (default: bin/prov of the module, built if missing)")
	flag.Parse()
	cfg.Faults = strings.Split(faults, ",")
	var err error
	if cfg.Prov, err = provbin.Resolve(prov); err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "chaos: %s, seed %d, %d trials per fault, %d resources, parallelism %d, latency %s\n",
		cfg.Prov, cfg.Seed, cfg.Trials, cfg.Resources, cfg.Parallelism, cfg.Latency)
	start := time.Now()
	results, err := Run(context.Background(), cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(1)
	}
	fmt.Printf("\nprov chaos: seed %d, %d local_file resources changed per apply, parallelism %d, latency %s, %s\n\n",
		cfg.Seed, cfg.Resources*8/5, cfg.Parallelism, cfg.Latency, time.Since(start).Round(time.Second))
	if _, failed := PrintTable(os.Stdout, results, cfg.Faults); failed > 0 {
		os.Exit(1)
	}
}
