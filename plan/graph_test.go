package plan

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/internal/dag"
	"github.com/provhq/prov/internal/document"
	"github.com/provhq/prov/plugins"
)

func TestGraph(t *testing.T) {
	tests := []struct {
		name     string
		changes  map[string]*Change
		wantDeps map[string][]string // what must finish before each change
		wantErr  string
	}{
		{
			name: "creates after dependencies, deletes before what they depended on",
			changes: map[string]*Change{
				"app":    {Action: Create, DependsOn: []string{"db"}},
				"db":     {Action: Update},
				"old":    {Action: Delete, DependsOn: []string{"db"}},
				"oldest": {Action: Delete, DependsOn: []string{"old"}},
			},
			wantDeps: map[string][]string{"app": {"db"}, "db": {"old"}, "old": {"oldest"}, "oldest": nil},
		},
		{
			name:     "dependencies outside a targeted plan are left out",
			changes:  map[string]*Change{"a": {Action: Create, DependsOn: []string{"elsewhere"}}},
			wantDeps: map[string][]string{"a": nil},
		},
		{
			name: "cycle",
			changes: map[string]*Change{
				"a": {Action: Update, DependsOn: []string{"b"}},
				"b": {Action: Update, DependsOn: []string{"a"}},
			},
			wantErr: "cycle: a -> b -> a",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := (&Plan{Changes: tt.changes}).Graph()
			if tt.wantErr != "" {
				var ce *dag.CycleError
				if !errors.As(err, &ce) || err.Error() != tt.wantErr {
					t.Fatalf("Graph error = %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]string{}
			for addr := range tt.changes {
				got[addr] = g.Dependencies(addr)
			}
			if diff := cmp.Diff(tt.wantDeps, got); diff != "" {
				t.Errorf("dependencies (-want +got):\n%s", diff)
			}
		})
	}
}

// TestMakeParallel checks that independent resources are planned concurrently, never more than
// Parallelism at once, and that a dependent is planned only after its dependency.
func TestMakeParallel(t *testing.T) {
	const n, par = 40, 4
	var resources []string
	for i := range n {
		cfg := `{"input": "x"}`
		if i == n-1 {
			cfg = `{"input": "${data.r0.output}"}`
		}
		resources = append(resources, fmt.Sprintf(`"data.r%d": {"type": "local_data", "config": %s}`, i, cfg))
	}
	doc := parseDoc(t, `{"prov": "1", "resources": {`+strings.Join(resources, ",")+`}}`)
	local := fakeLocal()
	var inFlight, peak atomic.Int32
	var r0Done atomic.Bool
	local.PlanFunc = func(ctx context.Context, req plugins.PlanRequest) (*plugins.PlanResponse, error) {
		cur := inFlight.Add(1)
		defer inFlight.Add(-1)
		for p := peak.Load(); cur > p && !peak.CompareAndSwap(p, cur); p = peak.Load() {
		}
		time.Sleep(2 * time.Millisecond)
		if req.Config.(map[string]any)["input"] == "x" {
			defer r0Done.Store(true)
		} else if !r0Done.Load() {
			t.Errorf("dependent planned before its dependency")
		}
		return local.Default().Plan(ctx, req)
	}
	p, ds := Make(context.Background(), doc, nil, Providers{"local": local}, Options{Parallelism: par})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	if got := p.Summary().Add; got != n {
		t.Errorf("planned %d creates, want %d", got, n)
	}
	if got := peak.Load(); got < 2 || got > par {
		t.Errorf("peak concurrency %d, want between 2 and %d", got, par)
	}
}

func TestMakeCancelled(t *testing.T) {
	doc := parseDoc(t, `{"prov": "1", "resources": {"data.a": {"type": "local_data"}, "data.b": {"type": "local_data", "depends_on": ["data.a"]}}}`)
	ctx, cancel := context.WithCancel(context.Background())
	local := fakeLocal()
	local.PlanFunc = func(ctx context.Context, req plugins.PlanRequest) (*plugins.PlanResponse, error) {
		cancel()
		return local.Default().Plan(ctx, req)
	}
	p, ds := Make(ctx, doc, nil, Providers{"local": local}, Options{})
	if p != nil || !strings.Contains(ds.String(), "planning stopped: context canceled") {
		t.Errorf("Make after cancel = %v, %v; want no plan and a stop diagnostic", p, ds)
	}
	if got := local.Calls("Plan"); got != 1 {
		t.Errorf("Plan called %d times after cancel, want 1", got)
	}
}

func parseDoc(t *testing.T, src string) *document.Document {
	t.Helper()
	doc, ds := document.Parse([]byte(src), "test.json", nil)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	return doc
}
