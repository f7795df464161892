// Command scale measures prov end to end on large plans: for each N it writes a JSON document of N
// local_data resources in a fan-out graph (resource i depends on resource ⌊i/10⌋ through a ${…}
// reference) and runs the built prov binary for plan, apply, a no-change plan and destroy, at
// -parallelism 10. It prints wall time, CPU time and peak RSS of prov and of its plugin process per
// step, and the growth of each step's time from one N to the next relative to the growth of N (1.00
// is linear).
//
//	go run ./bench/scale [-n 1000,5000,10000] [-prov bin/prov] [-keep] [-check]
//
// Targets at N = 10,000 (apply ≤ 10 s, no-change plan ≤ 3 s, peak RSS ≤ 300 MB) that are missed are
// printed after the table; with -check a miss also makes the exit code 1.
// The binary is bin/prov of the module (built with go build when missing) unless -prov names one.
// Peak RSS of prov comes from its rusage as reported by wait4; the plugin processes' from the
// high-water mark (VmHWM) in /proc, sampled while prov runs.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/provhq/prov/bench/internal/provbin"
)

// Targets for N = 10,000 on the project's 2-core reference machine.
const (
	targetN         = 10_000
	targetApply     = 10 * time.Second
	targetNoChange  = 3 * time.Second
	targetPeakRSSKB = 300 * 1024
)

func main() {
	ns := flag.String("n", "1000,5000,10000", "comma-separated resource counts")
	prov := flag.String("prov", "", "prov binary (default: bin/prov of the module, built if missing)")
	keep := flag.Bool("keep", false, "keep each N's working directory (document, state, output of every step)")
	parallelism := flag.Int("parallelism", 10, "prov -parallelism")
	check := flag.Bool("check", false, "exit 1 when a target for N = 10,000 is missed")
	flag.Parse()
	counts, err := parseCounts(*ns)
	if err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(2)
	}
	bin, err := provbin.Resolve(*prov)
	if err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(1)
	}
	var all []Result
	for _, n := range counts {
		dir, err := os.MkdirTemp("", fmt.Sprintf("prov-scale-%d-", n))
		if err != nil {
			fmt.Fprintln(os.Stderr, "scale:", err)
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "N = %d in %s …\n", n, dir)
		res, err := Run(context.Background(), Config{Prov: bin, Dir: dir, N: n, Parallelism: *parallelism})
		if !*keep {
			os.RemoveAll(dir)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "scale:", err)
			os.Exit(1)
		}
		all = append(all, res...)
	}
	fmt.Printf("prov scale benchmark: local_data fan-out (i depends on ⌊i/10⌋), -parallelism %d, %s\n\n", *parallelism, bin)
	PrintTable(os.Stdout, all)
	if misses := CheckTargets(all); len(misses) > 0 {
		fmt.Println()
		for _, m := range misses {
			fmt.Println("MISSED:", m)
		}
		if *check {
			os.Exit(1)
		}
	}
}

func parseCounts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-n %q: want positive integers separated by commas", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// Config is one benchmark run: N resources in Dir, applied by the prov binary Prov.
type Config struct {
	Prov        string
	Dir         string
	N           int
	Parallelism int
}

// Step names, in the order Run measures them.
const (
	StepPlan     = "plan"
	StepApply    = "apply"
	StepNoChange = "no-change plan"
	StepDestroy  = "destroy"
)

// Result is the measurement of one step at one N.
type Result struct {
	N    int
	Step string
	// Wall is the elapsed time of the prov command; CPU its user+system time; PluginCPU the
	// plugin processes' (sampled, so a little low).
	Wall, CPU, PluginCPU time.Duration
	// ProvRSSKB is prov's peak resident set in KiB; PluginRSSKB the largest plugin process's, 0 if
	// it could not be sampled.
	ProvRSSKB, PluginRSSKB int64
}

// Document returns the fan-out document of n local_data resources: data.rI depends on data.r⌊I/10⌋.
func Document(n int) ([]byte, error) {
	resources := make(map[string]any, n)
	for i := range n {
		input := map[string]any{"index": i, "name": name(i)}
		if i > 0 {
			input["parent"] = "${data." + name(i/10) + ".output.name}"
		}
		resources["data."+name(i)] = map[string]any{"type": "local_data", "config": map[string]any{"input": input}}
	}
	return json.Marshal(map[string]any{
		"prov":      "1",
		"settings":  map[string]any{"parallelism": 10},
		"resources": resources,
		"outputs":   map[string]any{"root": map[string]any{"value": "${data." + name(0) + ".output.name}"}},
	})
}

func name(i int) string { return fmt.Sprintf("r%05d", i) }

// Run writes the document for cfg.N into cfg.Dir and measures plan, apply, a no-change plan and
// destroy. Each step's output is kept in cfg.Dir as STEP.out and STEP.err. A step that exits with an
// unexpected code is an error quoting the end of its stderr.
func Run(ctx context.Context, cfg Config) ([]Result, error) {
	doc, err := Document(cfg.N)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(cfg.Dir, "main.json"), doc, 0o644); err != nil {
		return nil, err
	}
	par := "-parallelism=" + strconv.Itoa(cfg.Parallelism)
	if _, err := step(ctx, cfg, "init", 0, "init"); err != nil {
		return nil, err
	}
	steps := []struct {
		name string
		code int
		args []string
	}{
		{StepPlan, 2, []string{"plan", "-detailed-exitcode", par}},
		{StepApply, 0, []string{"apply", "-auto-approve", par}},
		{StepNoChange, 0, []string{"plan", "-detailed-exitcode", par}},
		{StepDestroy, 0, []string{"destroy", "-auto-approve", par}},
	}
	var out []Result
	for _, s := range steps {
		r, err := step(ctx, cfg, s.name, s.code, s.args...)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	if err := checkEmptyState(cfg.Dir); err != nil {
		return out, err
	}
	return out, nil
}

// checkEmptyState makes sure destroy left nothing behind, so the numbers measured real work.
func checkEmptyState(dir string) error {
	data, err := os.ReadFile(filepath.Join(dir, "prov.state.json"))
	if err != nil {
		return fmt.Errorf("after destroy: %w", err)
	}
	var st struct {
		Resources map[string]json.RawMessage `json:"resources"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("after destroy: state: %w", err)
	}
	if len(st.Resources) != 0 {
		return fmt.Errorf("after destroy: %d resources are still in the state", len(st.Resources))
	}
	return nil
}

func step(ctx context.Context, cfg Config, label string, wantCode int, args ...string) (Result, error) {
	base := strings.ReplaceAll(label, " ", "-")
	stdout, err := os.Create(filepath.Join(cfg.Dir, base+".out"))
	if err != nil {
		return Result{}, err
	}
	defer stdout.Close()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, cfg.Prov, args...)
	cmd.Dir = cfg.Dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	cmd.Stdout, cmd.Stderr = stdout, io.MultiWriter(&stderr, fileWriter(filepath.Join(cfg.Dir, base+".err")))
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Result{}, fmt.Errorf("%s: %w", label, err)
	}
	sampler := newPeakSampler(cmd.Process.Pid)
	waitErr := cmd.Wait()
	wall := time.Since(start)
	pluginKB, pluginCPU := sampler.stop()
	code := cmd.ProcessState.ExitCode()
	if waitErr != nil && code < 0 {
		return Result{}, fmt.Errorf("%s: %w", label, waitErr)
	}
	if code != wantCode {
		return Result{}, fmt.Errorf("%s (prov %s) exited %d, want %d:\n%s", label, strings.Join(args, " "), code, wantCode, tail(stderr.String(), 2000))
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	r := Result{N: cfg.N, Step: label, Wall: wall, CPU: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(),
		PluginCPU: pluginCPU, PluginRSSKB: pluginKB}
	if ru != nil {
		r.ProvRSSKB = ru.Maxrss // KiB on Linux
	}
	return r, nil
}

// fileWriter appends to path, or discards when it cannot be created.
func fileWriter(path string) io.Writer {
	f, err := os.Create(path)
	if err != nil {
		return io.Discard
	}
	return f
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// PrintTable writes the results as a table: one row per N and step, with each step's time growth
// relative to the previous N divided by the growth of N.
func PrintTable(w io.Writer, rs []Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "N\tstep\twall\tCPU prov\tCPU plugin\tpeak RSS prov\tpeak RSS plugin\ttime growth / N growth\t")
	prev := map[string]Result{}
	for _, r := range rs {
		growth := "—"
		if p, ok := prev[r.Step]; ok && p.Wall > 0 && p.N > 0 {
			growth = fmt.Sprintf("%.2f", (float64(r.Wall)/float64(p.Wall))/(float64(r.N)/float64(p.N)))
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.N, r.Step, seconds(r.Wall), seconds(r.CPU),
			seconds(r.PluginCPU), mib(r.ProvRSSKB), mib(r.PluginRSSKB), growth)
		prev[r.Step] = r
	}
	tw.Flush()
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func mib(kb int64) string {
	if kb <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f MiB", float64(kb)/1024)
}

// CheckTargets returns one line per missed target (they apply at N = 10,000 only).
func CheckTargets(rs []Result) []string {
	var misses []string
	for _, r := range rs {
		if r.N != targetN {
			continue
		}
		switch r.Step {
		case StepApply:
			if r.Wall > targetApply {
				misses = append(misses, fmt.Sprintf("apply of %d took %s, target %s", r.N, seconds(r.Wall), seconds(targetApply)))
			}
		case StepNoChange:
			if r.Wall > targetNoChange {
				misses = append(misses, fmt.Sprintf("no-change plan of %d took %s, target %s", r.N, seconds(r.Wall), seconds(targetNoChange)))
			}
		}
		if r.ProvRSSKB > targetPeakRSSKB {
			misses = append(misses, fmt.Sprintf("%s of %d: prov peak RSS %s, target %s", r.Step, r.N, mib(r.ProvRSSKB), mib(targetPeakRSSKB)))
		}
		if r.PluginRSSKB > targetPeakRSSKB {
			misses = append(misses, fmt.Sprintf("%s of %d: plugin peak RSS %s, target %s", r.Step, r.N, mib(r.PluginRSSKB), mib(targetPeakRSSKB)))
		}
	}
	return misses
}
