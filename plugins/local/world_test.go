package local

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/plan"
	"github.com/provhq/prov/sdk"
	"github.com/provhq/prov/sdk/plugintest"
)

// The local provider under prov's planner and engine, through gRPC: a document of dependent resources
// is created, re-applied without changes, repaired after drift, and partly destroyed.
func TestDocumentThroughEngine(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	w := plugintest.NewWorld(t, map[string]*sdk.Provider{"local": New()})
	doc := func(content string, withData bool) string {
		data := ""
		if withData {
			data = `, "meta.digest": {"type": "local_data", "provider": "local",
				"config": {"input": {"sha": "${files.motd.sha256}", "size": "${files.motd.size}"}}}`
		}
		return fmt.Sprintf(`{"prov": "1",
			"providers": {"local": {"source": "builtin/local", "config": {"operations_dir": %q}}},
			"resources": {
				"dirs.out": {"type": "local_directory", "provider": "local", "config": {"path": "out"}},
				"files.motd": {"type": "local_file", "provider": "local",
					"config": {"path": "${dirs.out.path}/motd", "content": %q}}%s}}`,
			filepath.Join(dir, "ops"), content, data)
	}
	motd := filepath.Join(dir, "out", "motd")
	tests := []struct {
		name    string
		doc     string
		before  func()
		want    plan.Summary
		wantOut string
	}{
		{name: "create", doc: doc("hello", true), want: plan.Summary{Add: 3}, wantOut: "hello"},
		{name: "nothing to do", doc: doc("hello", true), want: plan.Summary{}, wantOut: "hello"},
		{name: "drift is repaired", doc: doc("hello", true), before: func() { os.WriteFile(motd, []byte("vandalised"), 0o644) },
			want: plan.Summary{Change: 1}, wantOut: "hello"},
		{name: "a change flows to dependents", doc: doc("hello, world", true), want: plan.Summary{Change: 2}, wantOut: "hello, world"},
		{name: "a removed resource is destroyed", doc: doc("hello, world", false), want: plan.Summary{Destroy: 1}, wantOut: "hello, world"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.before != nil {
				tt.before()
			}
			out := w.Apply(tt.doc)
			if out.Result == nil || out.Result.Failed() {
				t.Fatalf("apply failed: %v", out.Diagnostics)
			}
			if diff := cmp.Diff(tt.want, out.Plan.Summary()); diff != "" {
				t.Errorf("plan summary (-want +got):\n%s", diff)
			}
			if b, _ := os.ReadFile(motd); string(b) != tt.wantOut {
				t.Errorf("motd = %q, want %q", b, tt.wantOut)
			}
		})
	}
	s := w.State()
	if got := s.Resources["files.motd"].Attributes.(map[string]any)["id"]; got != motd {
		t.Errorf("files.motd id = %v, want %s", got, motd)
	}
	if _, ok := s.Resources["meta.digest"]; ok {
		t.Error("meta.digest is still in the state")
	}
}
