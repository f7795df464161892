package local

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/sdk/plugintest"
)

// The local provider through the real protocol (protobuf, gRPC, go-plugin): each resource type goes
// through create, update or replace and destroy, with an empty plan after every apply.
func TestThroughGRPC(t *testing.T) {
	dir := t.TempDir()
	config := map[string]any{"operations_dir": filepath.Join(dir, "ops")}
	file := filepath.Join(dir, "f.txt")
	fileGone := func(map[string]any) error {
		if _, err := os.Stat(file); !os.IsNotExist(err) {
			return fmt.Errorf("%s still exists", file)
		}
		return nil
	}
	tests := []plugintest.Case{
		{Type: "local_file", CheckDestroyed: fileGone, Steps: []plugintest.Step{
			{Config: map[string]any{"path": file, "content": "one"}, Action: plugintest.Create,
				Check: plugintest.Attrs(plugintest.Attr("size", 3), plugintest.Attr("mode", "0644"), plugintest.Attr("id", file))},
			{Config: map[string]any{"path": file, "content": "two!", "mode": "0600"}, Action: plugintest.Update,
				Check: plugintest.Attr("size", 4)},
			{Config: map[string]any{"path": file, "mode": "0999"}, ExpectError: `mode: "0999" does not match`},
		}},
		{Type: "local_directory", Steps: []plugintest.Step{
			{Config: map[string]any{"path": filepath.Join(dir, "d")}, Action: plugintest.Create, Check: plugintest.Attr("mode", "0755")},
			{Config: map[string]any{"path": filepath.Join(dir, "e")}, Action: plugintest.Replace},
		}},
		{Type: "local_command", Steps: []plugintest.Step{
			{Config: map[string]any{"create": "echo hi", "triggers": map[string]any{"v": "1"}}, Action: plugintest.Create,
				Check: plugintest.Attrs(plugintest.Attr("stdout", "hi\n"), plugintest.Attr("exit_code", 0))},
			{Config: map[string]any{"create": "echo hi", "triggers": map[string]any{"v": "2"}}, Action: plugintest.Replace},
			{Config: map[string]any{"create": "exit 4"}, ExpectError: "command exited with code 4"},
		}},
		{Type: "local_data", Steps: []plugintest.Step{
			{Config: map[string]any{"input": map[string]any{"a": 1}}, Action: plugintest.Create, Check: plugintest.Attr("output.a", 1)},
			{Config: map[string]any{"input": "b"}, Action: plugintest.Update, Check: plugintest.Attr("output", "b")},
			{Config: map[string]any{"input": "b", "triggers_replace": 1}, Action: plugintest.Replace},
		}},
		{Type: "local_server", Steps: []plugintest.Step{
			{Config: map[string]any{"root": filepath.Join(dir, "root"), "hostname": "box"}, Action: plugintest.Create,
				Check: plugintest.Attrs(plugintest.Attr("transport", "local"), plugintest.Attr("address", "127.0.0.1"))},
			{Config: map[string]any{"root": filepath.Join(dir, "root"), "hostname": "box2"}, Action: plugintest.Update,
				Check: plugintest.Attr("hostname", "box2")},
		}},
	}
	for _, c := range tests {
		t.Run(c.Type, func(t *testing.T) {
			c.Provider, c.ProviderConfig = New(), config
			plugintest.Test(t, c)
		})
	}
}

// Validation problems cross the wire with their paths, all at once.
func TestValidationThroughGRPC(t *testing.T) {
	h := plugintest.New(t, New(), nil)
	got := h.Validate("local_command", map[string]any{"create": 1, "env": map[string]any{"A": true}, "stdout": "x", "trigers": map[string]any{}})
	want := []string{
		"error: trigers: unknown attribute \"trigers\"\n  Did you mean \"triggers\"?",
		"error: create: expected a string, got number",
		"error: env.A: expected a string, got bool",
		"error: stdout: attribute is computed by the provider and cannot be set",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
	if got := h.Validate("local_files", nil); len(got) != 1 || !strings.Contains(got[0], `Did you mean "local_file"?`) {
		t.Errorf("unknown type: %q", got)
	}
}

// BenchmarkDataGRPC measures a local_data plan and apply through the real protocol, at 1 and 100
// concurrent callers (b.SetParallelism multiplies GOMAXPROCS).
func BenchmarkDataGRPC(b *testing.B) {
	for _, par := range []int{1, 50} {
		b.Run(fmt.Sprint("parallel=", par*runtime.GOMAXPROCS(0)), func(b *testing.B) {
			h := plugintest.New(b, New(), nil)
			p := h.Client()
			config := map[string]any{"input": map[string]any{"name": "x", "n": 1.0}}
			b.SetParallelism(par)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for pb.Next() {
					plan, err := p.Plan(ctx, plugins.PlanRequest{Type: "local_data", Config: config})
					if err != nil {
						b.Fatal(err)
					}
					if _, err := p.Apply(ctx, plugins.ApplyRequest{Type: "local_data", OperationID: "op",
						Planned: plan.Planned, Config: config}, nil); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
