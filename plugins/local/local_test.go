package local

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/sdk"
)

// harness drives the local provider in process, the way the engine does: plan, then apply the plan.
type harness struct {
	t   *testing.T
	p   plugins.Provider
	ops int
}

func newHarness(t *testing.T, config map[string]any) *harness {
	t.Helper()
	if config == nil {
		config = map[string]any{}
	}
	if _, ok := config["operations_dir"]; !ok {
		config["operations_dir"] = t.TempDir()
	}
	h := &harness{t: t, p: sdk.NewProviderServer(New())}
	ds, err := h.p.Configure(context.Background(), config)
	if err != nil || ds.HasErrors() {
		t.Fatalf("Configure: %v %v", ds, err)
	}
	return h
}

// plan plans typ from prior to config and fails the test on error diagnostics.
func (h *harness) plan(typ string, prior, config any) *plugins.PlanResponse {
	h.t.Helper()
	resp, err := h.p.Plan(context.Background(), plugins.PlanRequest{Type: typ, Prior: prior, Config: config})
	if err != nil || resp.Diagnostics.HasErrors() {
		h.t.Fatalf("Plan %s: %v %v", typ, resp.Diagnostics, err)
	}
	return resp
}

// apply plans and applies one change with a fresh operation id, returning the new state and diagnostics.
func (h *harness) apply(typ string, prior, config any) (any, diag.Diagnostics) {
	h.t.Helper()
	var planned any
	if config != nil {
		planned = h.plan(typ, prior, config).Planned
	}
	h.ops++
	return h.applyOp(typ, "op-"+string(rune('a'+h.ops)), prior, planned, config)
}

func (h *harness) applyOp(typ, opID string, prior, planned, config any) (any, diag.Diagnostics) {
	h.t.Helper()
	resp, err := h.p.Apply(context.Background(), plugins.ApplyRequest{Type: typ, OperationID: opID,
		Prior: prior, Planned: planned, Config: config}, nil)
	if err != nil {
		h.t.Fatalf("Apply %s: %v", typ, err)
	}
	return resp.New, resp.Diagnostics
}

func (h *harness) mustApply(typ string, prior, config any) map[string]any {
	h.t.Helper()
	state, ds := h.apply(typ, prior, config)
	if ds.HasErrors() {
		h.t.Fatalf("Apply %s: %v", typ, ds)
	}
	m, _ := state.(map[string]any)
	return m
}

func (h *harness) read(typ string, current any, opID string) any {
	h.t.Helper()
	resp, err := h.p.Read(context.Background(), plugins.ReadRequest{Type: typ, Current: current, OperationID: opID})
	if err != nil || resp.Diagnostics.HasErrors() {
		h.t.Fatalf("Read %s: %v %v", typ, resp.Diagnostics, err)
	}
	return resp.New
}

func paths(ps []value.Path) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

func TestFile(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "creations.log")
	t.Setenv(EnvCreationLog, log)
	h := newHarness(t, nil)
	path := filepath.Join(dir, "sub", "motd")
	config := map[string]any{"path": path, "content": "hello\n", "mode": "0600"}

	plan := h.plan("local_file", nil, config)
	wantPlanned := map[string]any{"path": path, "content": "hello\n", "mode": "0600", "id": value.Unknown,
		"sha256": "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03", "size": 6.0}
	if diff := cmp.Diff(wantPlanned, plan.Planned); diff != "" {
		t.Errorf("planned (-want +got):\n%s", diff)
	}

	state := h.mustApply("local_file", nil, config)
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "hello\n" {
		t.Fatalf("file = %q, %v", b, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
	}
	wantPlanned["id"] = path
	if diff := cmp.Diff(wantPlanned, any(state)); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
	if got, _ := os.ReadFile(log); string(got) != path+"\top-b\n" {
		t.Errorf("creation log = %q", got)
	}

	tests := []struct {
		name        string
		disk        func()
		config      map[string]any
		wantGone    bool
		wantChanged bool
		wantReplace []string
	}{
		{name: "no drift, no change", disk: func() {}, config: config},
		{name: "changed on disk is drift", disk: func() { os.WriteFile(path, []byte("edited"), 0o600) }, config: config, wantChanged: true},
		{name: "mode changed on disk is drift", disk: func() { os.Chmod(path, 0o644) }, config: config, wantChanged: true},
		{name: "vanished", disk: func() { os.Remove(path) }, config: config, wantGone: true},
		{name: "new path replaces", disk: func() {}, config: map[string]any{"path": path + ".new", "content": "hello\n", "mode": "0600"},
			wantChanged: true, wantReplace: []string{"path"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := os.Stat(path); err != nil { // put back what an earlier case changed
				state = h.mustApply("local_file", nil, config)
			}
			tt.disk()
			refreshed := h.read("local_file", state, "")
			if (refreshed == nil) != tt.wantGone {
				t.Fatalf("refreshed = %v, want gone %v", refreshed, tt.wantGone)
			}
			if refreshed == nil {
				return
			}
			plan := h.plan("local_file", refreshed, tt.config)
			if changed := !value.Equal(refreshed, plan.Planned); changed != tt.wantChanged {
				t.Errorf("changed = %v, want %v (planned %v)", changed, tt.wantChanged, plan.Planned)
			}
			if diff := cmp.Diff(tt.wantReplace, paths(plan.RequiresReplace)); diff != "" {
				t.Errorf("replace (-want +got):\n%s", diff)
			}
			if tt.wantChanged && len(tt.wantReplace) == 0 {
				state = h.mustApply("local_file", refreshed, tt.config)
				if b, _ := os.ReadFile(path); string(b) != "hello\n" {
					t.Errorf("after update file = %q", b)
				}
			}
		})
	}

	if gone, ds := h.apply("local_file", state, nil); gone != nil || ds.HasErrors() {
		t.Fatalf("delete: %v %v", gone, ds)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("file still there after delete: %v", err)
	}
}

func TestFileValidation(t *testing.T) {
	h := newHarness(t, nil)
	tests := []struct {
		config map[string]any
		want   string
	}{
		{map[string]any{"path": "x", "mode": "644"}, `error: mode: "644" does not match ^0[0-7]{3}$`},
		{map[string]any{"content": 1.0}, "error: content: expected a string, got number\nerror: path: missing required attribute"},
		{map[string]any{"path": "x", "sha256": "abc"}, "error: sha256: attribute is computed by the provider and cannot be set"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			ds, _ := h.p.ValidateConfig(context.Background(), "local_file", tt.config)
			if diff := cmp.Diff(tt.want, ds.String()); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDirectory(t *testing.T) {
	h := newHarness(t, nil)
	dir := filepath.Join(t.TempDir(), "a", "b")
	config := map[string]any{"path": dir, "mode": "0700"}
	state := h.mustApply("local_directory", nil, config)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("directory: %v %v", fi, err)
	}
	if diff := cmp.Diff(map[string]any{"path": dir, "mode": "0700", "id": dir}, state); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
	os.WriteFile(filepath.Join(dir, "keep"), nil, 0o644)
	_, ds := h.apply("local_directory", state, nil)
	if !strings.Contains(ds.String(), "the directory is not empty; set force_destroy") {
		t.Errorf("deleting a non-empty directory: %v", ds)
	}
	config["force_destroy"] = true
	state = h.mustApply("local_directory", state, config)
	if _, ds := h.apply("local_directory", state, nil); ds.HasErrors() {
		t.Fatal(ds)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("directory still there: %v", err)
	}
	if got := h.read("local_directory", state, ""); got != nil {
		t.Errorf("read after delete = %v, want gone", got)
	}
}

func TestCommand(t *testing.T) {
	h := newHarness(t, nil)
	dir := t.TempDir()
	count := func() int {
		b, _ := os.ReadFile(filepath.Join(dir, "runs"))
		return strings.Count(string(b), "\n")
	}
	config := map[string]any{
		"create":      `echo run >> runs; echo "hello $WHO"`,
		"update":      `echo "updated $WHO"`,
		"destroy":     `echo destroyed > gone`,
		"env":         map[string]any{"WHO": "world"},
		"working_dir": dir,
		"triggers":    map[string]any{"v": "1"},
	}
	plan := h.plan("local_command", nil, config)
	planned, _ := plan.Planned.(map[string]any)
	if planned["stdout"] != value.Unknown || planned["exit_code"] != value.Unknown {
		t.Errorf("stdout and exit_code must be unknown before the first run: %v", planned)
	}

	state, ds := h.applyOp("local_command", "op-1", nil, plan.Planned, config)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	want := map[string]any{"id": "op-1", "stdout": "hello world\n", "exit_code": 0.0}
	for k, v := range want {
		if got := state.(map[string]any)[k]; got != v {
			t.Errorf("%s = %#v, want %#v", k, got, v)
		}
	}

	// A retry with the same operation id, and a settle by operation id, do not run the command again.
	again, ds := h.applyOp("local_command", "op-1", nil, plan.Planned, config)
	if ds.HasErrors() || !value.Equal(again, state) {
		t.Errorf("retried create = %v %v, want %v", again, ds, state)
	}
	if settled := h.read("local_command", nil, "op-1"); !value.Equal(settled, state) {
		t.Errorf("settled = %v, want %v", settled, state)
	}
	if settled := h.read("local_command", nil, "op-never"); settled != nil {
		t.Errorf("an operation that never ran settled as %v", settled)
	}
	if n := count(); n != 1 {
		t.Errorf("create ran %d times, want 1", n)
	}

	config["env"] = map[string]any{"WHO": "prov"}
	updated := h.mustApply("local_command", state, config)
	if updated["stdout"] != "updated prov\n" || updated["id"] != "op-1" {
		t.Errorf("updated = %v", updated)
	}

	config["triggers"] = map[string]any{"v": "2"}
	if got := paths(h.plan("local_command", updated, config).RequiresReplace); !cmp.Equal(got, []string{"triggers"}) {
		t.Errorf("a trigger change must replace, got %v", got)
	}

	if _, ds := h.apply("local_command", updated, nil); ds.HasErrors() {
		t.Fatal(ds)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "gone")); string(b) != "destroyed\n" {
		t.Errorf("destroy command did not run: %q", b)
	}
}

func TestCommandFailure(t *testing.T) {
	h := newHarness(t, nil)
	state, ds := h.apply("local_command", nil, map[string]any{"create": "echo partial; echo broken >&2; exit 3"})
	if state != nil {
		t.Errorf("a failed create left state %v", state)
	}
	if diff := cmp.Diff("error: command exited with code 3: echo partial; echo broken >&2; exit 3\n  broken", ds.String()); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}

func TestData(t *testing.T) {
	h := newHarness(t, nil)
	input := map[string]any{"a": []any{1.0, "x"}}
	tests := []struct {
		name        string
		prior       map[string]any
		config      map[string]any
		wantPlanned map[string]any
		wantReplace []string
	}{
		{"create shows output", nil, map[string]any{"input": input},
			map[string]any{"id": value.Unknown, "input": input, "output": input}, nil},
		{"unknown input", nil, map[string]any{"input": value.Unknown},
			map[string]any{"id": value.Unknown, "input": value.Unknown, "output": value.Unknown}, nil},
		{"no change", map[string]any{"id": "d1", "input": "x", "output": "x"}, map[string]any{"input": "x"},
			map[string]any{"id": "d1", "input": "x", "output": "x"}, nil},
		{"update keeps id", map[string]any{"id": "d1", "input": "x", "output": "x"}, map[string]any{"input": "y"},
			map[string]any{"id": "d1", "input": "y", "output": "y"}, nil},
		{"triggers_replace replaces", map[string]any{"id": "d1", "input": "x", "output": "x", "triggers_replace": 1.0},
			map[string]any{"input": "x", "triggers_replace": 2.0},
			map[string]any{"id": value.Unknown, "input": "x", "output": "x", "triggers_replace": 2.0}, []string{"triggers_replace"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var prior any
			if tt.prior != nil {
				prior = tt.prior
			}
			plan := h.plan("local_data", prior, tt.config)
			if diff := cmp.Diff(any(tt.wantPlanned), plan.Planned); diff != "" {
				t.Errorf("planned (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantReplace, paths(plan.RequiresReplace)); diff != "" {
				t.Errorf("replace (-want +got):\n%s", diff)
			}
		})
	}

	state, ds := h.applyOp("local_data", "op-7", nil, map[string]any{"id": value.Unknown, "output": value.Unknown},
		map[string]any{"input": "now known"})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	if diff := cmp.Diff(any(map[string]any{"id": "op-7", "input": "now known", "output": "now known"}), state); diff != "" {
		t.Errorf("applied (-want +got):\n%s", diff)
	}
}

func TestServer(t *testing.T) {
	h := newHarness(t, nil)
	root := filepath.Join(t.TempDir(), "sandbox")
	plan := h.plan("local_server", nil, map[string]any{"root": root, "hostname": "box"})
	if diff := cmp.Diff(any(map[string]any{"id": value.Unknown, "root": root, "hostname": "box",
		"address": "127.0.0.1", "transport": "local"}), plan.Planned); diff != "" {
		t.Errorf("planned (-want +got):\n%s", diff)
	}
	state := h.mustApply("local_server", nil, map[string]any{"root": root})
	host, _ := os.Hostname()
	want := map[string]any{"id": "local:" + root, "root": root, "hostname": host, "address": "127.0.0.1", "transport": "local"}
	if diff := cmp.Diff(want, state); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		t.Errorf("sandbox root not created: %v", err)
	}
	if got := h.read("local_server", state, ""); !value.Equal(got, any(state)) {
		t.Errorf("read = %v", got)
	}
	os.Remove(root)
	if got := h.read("local_server", state, ""); got != nil {
		t.Errorf("a vanished sandbox must read as gone, got %v", got)
	}
}

func TestFaultInjection(t *testing.T) {
	block := map[string]any{"fault_injection": map[string]any{"fail_matching": []any{"bad"}}}
	t.Run("refused without the environment variable", func(t *testing.T) {
		t.Setenv(EnvFaultInjection, "")
		ds, _ := sdk.NewProviderServer(New()).ValidateConfig(context.Background(), "", block)
		want := "error: fault_injection: fault injection is for tests and benchmarks; set PROV_FAULT_INJECTION=1 to allow it"
		if diff := cmp.Diff(want, ds.String()); diff != "" {
			t.Errorf("diagnostics (-want +got):\n%s", diff)
		}
	})

	t.Setenv(EnvFaultInjection, "1")
	tests := []struct {
		name      string
		faults    map[string]any
		opID      string
		input     string
		wantFail  bool
		wantState bool
		minTime   time.Duration
	}{
		{"matching operation fails before the work", map[string]any{"fail_matching": []any{"bad"}}, "op-bad", "x", true, false, 0},
		{"matching attribute fails", map[string]any{"fail_matching": []any{"bad"}}, "op-1", "a bad input", true, false, 0},
		{"other operations succeed", map[string]any{"fail_matching": []any{"bad"}}, "op-good", "x", false, true, 0},
		{"fail_after does the work", map[string]any{"fail_matching": []any{"bad"}, "fail_after": true}, "op-bad", "x", true, true, 0},
		{"rate 1 always fails", map[string]any{"fail_rate": 1.0, "seed": 7.0}, "op-1", "x", true, false, 0},
		{"rate 0 never fails", map[string]any{"fail_rate": 0.0}, "op-1", "x", false, true, 0},
		{"latency", map[string]any{"latency_ms": 30.0}, "op-1", "x", false, true, 30 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, map[string]any{"fault_injection": tt.faults})
			config := map[string]any{"input": tt.input}
			start := time.Now()
			state, ds := h.applyOp("local_data", tt.opID, nil, h.plan("local_data", nil, config).Planned, config)
			if elapsed := time.Since(start); elapsed < tt.minTime {
				t.Errorf("apply took %v, want at least %v", elapsed, tt.minTime)
			}
			if got := strings.Contains(ds.String(), ErrInjected.Error()); got != tt.wantFail {
				t.Errorf("failed = %v (%v), want %v", got, ds, tt.wantFail)
			}
			if (state != nil) != tt.wantState {
				t.Errorf("state = %v, want present %v", state, tt.wantState)
			}
		})
	}
}

func TestRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	h := newHarness(t, nil)
	state := h.mustApply("local_file", nil, map[string]any{"path": "out/rel.txt", "content": "x"})
	if state["id"] != filepath.Join(dir, "out", "rel.txt") {
		t.Errorf("id = %v, want the absolute path under the working directory", state["id"])
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "rel.txt")); err != nil {
		t.Error(err)
	}
}

// BenchmarkDataPlanApply measures the in-process cost of planning and applying one local_data create,
// the unit of the large-plan benchmark.
func BenchmarkDataPlanApply(b *testing.B) {
	p := sdk.NewProviderServer(New())
	ctx := context.Background()
	p.Configure(ctx, map[string]any{})
	config := map[string]any{"input": map[string]any{"name": "x", "n": 1.0}}
	b.ReportAllocs()
	for b.Loop() {
		plan, _ := p.Plan(ctx, plugins.PlanRequest{Type: "local_data", Config: config})
		p.Apply(ctx, plugins.ApplyRequest{Type: "local_data", OperationID: "op", Planned: plan.Planned, Config: config}, nil)
	}
}

// A seeded fail_rate fails about that fraction of operations, and the same ones on every run.
func TestFailRateSeeded(t *testing.T) {
	t.Setenv(EnvFaultInjection, "1")
	outcomes := func() []bool {
		h := newHarness(t, map[string]any{"fault_injection": map[string]any{"fail_rate": 0.3, "seed": 42.0}})
		config := map[string]any{"input": "x"}
		planned := h.plan("local_data", nil, config).Planned
		var out []bool
		for i := range 200 {
			_, ds := h.applyOp("local_data", fmt.Sprint("op-", i), nil, planned, config)
			out = append(out, ds.HasErrors())
		}
		return out
	}
	first := outcomes()
	failed := 0
	for _, f := range first {
		if f {
			failed++
		}
	}
	if failed < 40 || failed > 80 {
		t.Errorf("%d of 200 failed at rate 0.3", failed)
	}
	if diff := cmp.Diff(first, outcomes()); diff != "" {
		t.Errorf("the same seed failed different operations (-first +second):\n%s", diff)
	}
}

func TestCommandPlan(t *testing.T) {
	h := newHarness(t, nil)
	prior := map[string]any{"id": "op-1", "create": "echo hi", "env": map[string]any{"A": "1"}, "stdout": "hi\n", "exit_code": 0.0}
	tests := []struct {
		name        string
		config      map[string]any
		wantStdout  any
		wantReplace []string
	}{
		{"no update command: outputs stay", map[string]any{"create": "echo hi", "env": map[string]any{"A": "2"}}, "hi\n", nil},
		{"update command: outputs unknown", map[string]any{"create": "echo hi", "update": "echo up", "env": map[string]any{"A": "2"}}, value.Unknown, nil},
		{"replace: outputs unknown", map[string]any{"create": "echo bye", "env": map[string]any{"A": "1"}}, value.Unknown, []string{"create"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := h.plan("local_command", prior, tt.config)
			if got := plan.Planned.(map[string]any)["stdout"]; got != tt.wantStdout {
				t.Errorf("planned stdout = %#v, want %#v", got, tt.wantStdout)
			}
			if diff := cmp.Diff(tt.wantReplace, paths(plan.RequiresReplace)); diff != "" {
				t.Errorf("replace (-want +got):\n%s", diff)
			}
		})
	}
}
