// Command sidebyside runs prov and Terraform (or OpenTofu) on the same graph and prints their times,
// peak memory and ratios in one table. The graph is the scale benchmark's fan-out: resource i depends
// on resource ⌊i/10⌋ through a reference; prov uses local_data, the other tool terraform_data (built
// into it, so no provider download is needed). For each N and each tool it times apply (all creates)
// and a plan with nothing to do, at the same -parallelism.
//
//	go run ./bench/sidebyside [-n 1000,5000] [-parallelism 10] [-prov bin/prov]
//
// A tool that is not on PATH is reported ("terraform not found — skipped") and left out; no number is
// made up for it.
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

// Tool is one engine under test: how to write the graph and how to run each step.
type Tool struct {
	Name string
	Bin  string
	// Document returns the file name and content of an n-resource fan-out for the tool.
	Document func(n int) (string, []byte, error)
	// Args returns the arguments of a step: "init", "apply" or "plan" (a plan that must find nothing).
	Args func(step string, parallelism int) []string
	// Env is added to the environment.
	Env []string
}

// Measurement is one step of one tool at one N.
type Measurement struct {
	Wall      time.Duration
	PeakRSSKB int64 // the tool's process plus the largest of its children (prov's plugin)
}

func parent(i int) int { return i / 10 }

// Prov is prov with local_data.
func Prov(bin string) Tool {
	return Tool{
		Name: "prov", Bin: bin,
		Document: func(n int) (string, []byte, error) {
			res := make(map[string]any, n)
			for i := range n {
				input := any("root")
				if i > 0 {
					input = fmt.Sprintf("${data.r%d.output}", parent(i))
				}
				res[fmt.Sprintf("data.r%d", i)] = map[string]any{"type": "local_data", "provider": "local", "config": map[string]any{"input": input}}
			}
			b, err := json.Marshal(map[string]any{"prov": "1", "resources": res})
			return "main.json", b, err
		},
		Args: func(step string, parallelism int) []string {
			switch step {
			case "apply":
				return []string{"apply", "-auto-approve", "-parallelism=" + strconv.Itoa(parallelism)}
			case "plan":
				return []string{"plan", "-detailed-exitcode", "-parallelism=" + strconv.Itoa(parallelism)}
			}
			return []string{step}
		},
	}
}

// Terraform is terraform or tofu (bin) with terraform_data.
func Terraform(name, bin string) Tool {
	return Tool{
		Name: name, Bin: bin,
		Document: func(n int) (string, []byte, error) {
			res := make(map[string]any, n)
			for i := range n {
				input := "root"
				if i > 0 {
					input = fmt.Sprintf("${terraform_data.r%d.output}", parent(i))
				}
				res[fmt.Sprintf("r%d", i)] = map[string]any{"input": input}
			}
			b, err := json.Marshal(map[string]any{"resource": map[string]any{"terraform_data": res}})
			return "main.tf.json", b, err
		},
		Args: func(step string, parallelism int) []string {
			switch step {
			case "apply":
				return []string{"apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=" + strconv.Itoa(parallelism)}
			case "plan":
				return []string{"plan", "-detailed-exitcode", "-input=false", "-no-color", "-parallelism=" + strconv.Itoa(parallelism)}
			}
			return []string{"init", "-input=false", "-no-color"}
		},
		Env: []string{"TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1"},
	}
}

// Measure runs init, apply and a no-change plan of an n-resource fan-out with tool in dir.
func Measure(ctx context.Context, tool Tool, dir string, n, parallelism int) (apply, plan Measurement, err error) {
	name, doc, err := tool.Document(n)
	if err != nil {
		return apply, plan, err
	}
	if err := os.WriteFile(filepath.Join(dir, name), doc, 0o644); err != nil {
		return apply, plan, err
	}
	if _, err := step(ctx, tool, dir, tool.Args("init", parallelism)); err != nil {
		return apply, plan, err
	}
	if apply, err = step(ctx, tool, dir, tool.Args("apply", parallelism)); err != nil {
		return apply, plan, err
	}
	plan, err = step(ctx, tool, dir, tool.Args("plan", parallelism))
	return apply, plan, err
}

// step runs one command to success (exit 0), measuring its wall time and peak memory.
func step(ctx context.Context, tool Tool, dir string, args []string) (Measurement, error) {
	cmd := exec.CommandContext(ctx, tool.Bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), tool.Env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Measurement{}, fmt.Errorf("%s %s: %w", tool.Name, args[0], err)
	}
	stop := make(chan struct{})
	childPeak := make(chan int64)
	go func() { childPeak <- sampleChildren(cmd.Process.Pid, stop) }()
	err := cmd.Wait()
	wall := time.Since(start)
	close(stop)
	peak := <-childPeak
	if err != nil {
		s := out.String()
		if len(s) > 2000 {
			s = "…" + s[len(s)-2000:]
		}
		return Measurement{}, fmt.Errorf("%s %s: %w\n%s", tool.Name, strings.Join(args, " "), err, s)
	}
	m := Measurement{Wall: wall}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.PeakRSSKB = ru.Maxrss + peak
	}
	return m, nil
}

// sampleChildren returns the largest peak resident memory (VmHWM) of pid's children, sampled until stop.
func sampleChildren(pid int, stop <-chan struct{}) int64 {
	var peak int64
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
		for _, task := range tasks {
			b, _ := os.ReadFile(task)
			for _, child := range strings.Fields(string(b)) {
				peak = max(peak, vmHWM(child))
			}
		}
		select {
		case <-stop:
			return peak
		case <-t.C:
		}
	}
}

func vmHWM(pid string) int64 {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb
		}
	}
	return 0
}

// Row is one line of the table: a step at one N, prov against another tool.
type Row struct {
	N           int
	Step        string
	Other       string
	Prov, Their Measurement
}

// PrintTable prints the rows; the ratio is the other tool's time (or memory) over prov's.
func PrintTable(w io.Writer, rows []Row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "N\tstep\ttool\tprov\tother\ttime ratio\tprov peak RSS\tother peak RSS\tmemory ratio")
	for _, r := range rows {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%.2fs\t%.2fs\t%.1f×\t%d MiB\t%d MiB\t%.1f×\n", r.N, r.Step, r.Other,
			r.Prov.Wall.Seconds(), r.Their.Wall.Seconds(), r.Their.Wall.Seconds()/r.Prov.Wall.Seconds(),
			r.Prov.PeakRSSKB/1024, r.Their.PeakRSSKB/1024, float64(r.Their.PeakRSSKB)/float64(max(r.Prov.PeakRSSKB, 1)))
	}
	tw.Flush()
}

func main() {
	ns := flag.String("n", "1000,5000", "comma-separated resource counts")
	parallelism := flag.Int("parallelism", 10, "-parallelism of both tools")
	provFlag := flag.String("prov", "", "prov binary (default: bin/prov of the module, built if missing)")
	flag.Parse()
	var others []Tool
	for _, name := range []string{"terraform", "tofu"} {
		bin, err := exec.LookPath(name)
		if err != nil {
			fmt.Printf("%s not found — skipped\n", name)
			continue
		}
		others = append(others, Terraform(name, bin))
	}
	if len(others) == 0 {
		return
	}
	counts, err := parseCounts(*ns)
	if err != nil {
		fail(err)
	}
	bin, err := provbin.Resolve(*provFlag)
	if err != nil {
		fail(err)
	}
	ctx := context.Background()
	var rows []Row
	for _, n := range counts {
		pa, pp, err := measureIn(ctx, Prov(bin), n, *parallelism)
		if err != nil {
			fail(err)
		}
		for _, other := range others {
			ta, tp, err := measureIn(ctx, other, n, *parallelism)
			if err != nil {
				fail(err)
			}
			rows = append(rows, Row{n, "apply", other.Name, pa, ta}, Row{n, "plan (no changes)", other.Name, pp, tp})
		}
	}
	fmt.Printf("\nprov against %s: fan-out (i depends on ⌊i/10⌋), local_data / terraform_data, -parallelism %d\n\n",
		names(others), *parallelism)
	PrintTable(os.Stdout, rows)
}

func measureIn(ctx context.Context, tool Tool, n, parallelism int) (Measurement, Measurement, error) {
	dir, err := os.MkdirTemp("", fmt.Sprintf("sidebyside-%s-%d-", tool.Name, n))
	if err != nil {
		return Measurement{}, Measurement{}, err
	}
	defer os.RemoveAll(dir)
	fmt.Fprintf(os.Stderr, "%s, N = %d …\n", tool.Name, n)
	return Measure(ctx, tool, dir, n, parallelism)
}

func names(tools []Tool) string {
	var s []string
	for _, t := range tools {
		s = append(s, t.Name)
	}
	return strings.Join(s, " and ")
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

func fail(err error) {
	fmt.Fprintln(os.Stderr, "sidebyside:", err)
	os.Exit(1)
}
