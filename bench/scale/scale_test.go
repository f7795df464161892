package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDocument(t *testing.T) {
	raw, err := Document(25)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources map[string]struct {
			Type   string `json:"type"`
			Config struct {
				Input map[string]any `json:"input"`
			} `json:"config"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Resources) != 25 {
		t.Fatalf("%d resources, want 25", len(doc.Resources))
	}
	for _, tc := range []struct {
		addr   string
		parent any
	}{
		{"data.r00000", nil},
		{"data.r00001", "${data.r00000.output.name}"},
		{"data.r00009", "${data.r00000.output.name}"},
		{"data.r00010", "${data.r00001.output.name}"},
		{"data.r00024", "${data.r00002.output.name}"},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			r, ok := doc.Resources[tc.addr]
			if !ok || r.Type != "local_data" {
				t.Fatalf("%s: %+v", tc.addr, r)
			}
			if diff := cmp.Diff(tc.parent, r.Config.Input["parent"]); diff != "" {
				t.Errorf("parent reference (-want +got):\n%s", diff)
			}
		})
	}
}

// cells splits a table row: the writer pads columns with at least two spaces.
var cells = regexp.MustCompile(`\s{2,}`)

func TestPrintTable(t *testing.T) {
	rs := []Result{
		{N: 100, Step: StepApply, Wall: time.Second, CPU: time.Second / 2, PluginCPU: time.Second / 4, ProvRSSKB: 51200, PluginRSSKB: 40960},
		{N: 1000, Step: StepApply, Wall: 20 * time.Second, CPU: 10 * time.Second, ProvRSSKB: 102400},
	}
	var buf bytes.Buffer
	PrintTable(&buf, rs)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want a header and two rows:\n%s", buf.String())
	}
	for i, want := range [][]string{
		{"100", "apply", "1.00 s", "0.50 s", "0.25 s", "50 MiB", "40 MiB", "—"},
		{"1000", "apply", "20.00 s", "10.00 s", "0.00 s", "100 MiB", "n/a", "2.00"},
	} {
		if diff := cmp.Diff(want, cells.Split(strings.TrimSpace(lines[i+1]), -1)); diff != "" {
			t.Errorf("row %d (-want +got):\n%s", i, diff)
		}
	}
	if got := CheckTargets([]Result{{N: targetN, Step: StepApply, Wall: 11 * time.Second}}); len(got) != 1 {
		t.Errorf("CheckTargets of a slow apply = %q, want one miss", got)
	}
}

// TestSmoke runs the whole benchmark at N = 200 through a freshly built prov: every step completes with
// the expected exit code and the numbers are sane.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds prov")
	}
	bin := filepath.Join(t.TempDir(), "prov")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cli/prov").CombinedOutput(); err != nil {
		t.Fatalf("build prov: %v\n%s", err, out)
	}
	const n = 200
	rs, err := Run(context.Background(), Config{Prov: bin, Dir: t.TempDir(), N: n, Parallelism: 10})
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, r := range rs {
		steps = append(steps, r.Step)
		if r.N != n || r.Wall <= 0 || r.Wall > 2*time.Minute || r.CPU <= 0 || r.CPU > r.Wall*time.Duration(runtime.NumCPU())+time.Second {
			t.Errorf("%s: implausible times %+v", r.Step, r)
		}
		if r.ProvRSSKB < 1024 || r.ProvRSSKB > 1<<20 {
			t.Errorf("%s: prov peak RSS %d KiB", r.Step, r.ProvRSSKB)
		}
		if runtime.GOOS == "linux" && (r.PluginRSSKB < 1024 || r.PluginRSSKB > 1<<20) {
			t.Errorf("%s: plugin peak RSS %d KiB", r.Step, r.PluginRSSKB)
		}
	}
	if diff := cmp.Diff([]string{StepPlan, StepApply, StepNoChange, StepDestroy}, steps); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	var buf bytes.Buffer
	PrintTable(&buf, rs)
	t.Logf("\n%s", buf.String())
}
