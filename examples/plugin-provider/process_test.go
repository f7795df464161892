package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/plugins/host"
)

// The provider as prov runs it: built as its own binary, found under ./.prov/plugins, locked, and
// started as a separate process speaking gRPC through go-plugin.
func TestAsPluginProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, ".prov", "plugins", "prov-provider-notes")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	const source = "example.com/acme/notes"
	req := host.Requirement{Kind: host.Provider, Name: "notes", Source: source}
	if _, err := host.Init(host.Options{Dir: dir}, []host.Requirement{req}, false); err != nil {
		t.Fatal(err)
	}
	h, err := host.New(host.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ctx := context.Background()
	p, err := h.Provider(ctx, "notes", source, "")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "notes.json")
	if ds, err := p.Configure(ctx, map[string]any{"file": file}); err != nil || ds.HasErrors() {
		t.Fatalf("Configure: %v %v", ds, err)
	}
	config := map[string]any{"title": "todo", "body": "buy milk"}
	plan, err := p.Plan(ctx, plugins.PlanRequest{Type: "notes_note", Config: config})
	if err != nil || plan.Diagnostics.HasErrors() {
		t.Fatalf("Plan: %v %v", plan.Diagnostics, err)
	}
	applied, err := p.Apply(ctx, plugins.ApplyRequest{Type: "notes_note", OperationID: "op-1", Planned: plan.Planned, Config: config}, nil)
	if err != nil || applied.Diagnostics.HasErrors() {
		t.Fatalf("Apply: %v %v", applied.Diagnostics, err)
	}
	want := map[string]any{"id": "todo", "title": "todo", "body": "buy milk", "words": 2.0}
	if diff := cmp.Diff(any(want), applied.New); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
	if b, err := os.ReadFile(file); err != nil || len(b) == 0 {
		t.Errorf("notes file: %q %v", b, err)
	}
}
