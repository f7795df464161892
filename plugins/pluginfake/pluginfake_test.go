package pluginfake

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/plugins"
)

func testProvider() *Provider {
	return New("fake", map[string]*plugins.ResourceSchema{
		"fake_thing": {Attributes: map[string]*plugins.Attribute{
			"name":   Attr("required"),
			"zone":   Attr("optional", "force_new"),
			"ip":     Attr("computed"),
			"secret": Attr("optional", "sensitive"),
		}},
	})
}

func TestPlan(t *testing.T) {
	tests := []struct {
		name        string
		prior       any
		config      any
		wantPlanned any
		wantReplace []value.Path
	}{
		{
			name:        "create marks computed unknown",
			config:      map[string]any{"name": "a"},
			wantPlanned: map[string]any{"name": "a", "ip": value.Unknown, "id": value.Unknown},
		},
		{
			name:        "update keeps computed",
			prior:       map[string]any{"id": "fake-1", "name": "a", "ip": "10.0.0.1"},
			config:      map[string]any{"name": "b"},
			wantPlanned: map[string]any{"id": "fake-1", "name": "b", "ip": "10.0.0.1"},
		},
		{
			name:        "force_new change replaces",
			prior:       map[string]any{"id": "fake-1", "name": "a", "zone": "x", "ip": "10.0.0.1"},
			config:      map[string]any{"name": "a", "zone": "y"},
			wantPlanned: map[string]any{"id": value.Unknown, "name": "a", "zone": "y", "ip": value.Unknown},
			wantReplace: []value.Path{value.KeyPath("zone")},
		},
		{
			name:  "delete",
			prior: map[string]any{"id": "fake-1", "name": "a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testProvider()
			resp, err := p.Plan(context.Background(), plugins.PlanRequest{Type: "fake_thing", Prior: tt.prior, Config: tt.config})
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Diagnostics) > 0 {
				t.Fatalf("diagnostics: %v", resp.Diagnostics)
			}
			if diff := cmp.Diff(tt.wantPlanned, resp.Planned, cmp.Exporter(func(reflect.Type) bool { return true })); diff != "" {
				t.Errorf("planned (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantReplace, resp.RequiresReplace); diff != "" {
				t.Errorf("replace (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]value.Path{value.KeyPath("secret")}, resp.Sensitive); diff != "" {
				t.Errorf("sensitive (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	p := testProvider()
	cfg := map[string]any{"name": "a"}
	created, err := p.Apply(ctx, plugins.ApplyRequest{Type: "fake_thing", OperationID: "op1", Config: cfg, Planned: cfg}, nil)
	if err != nil || len(created.Diagnostics) > 0 {
		t.Fatalf("create: %v %v", err, created.Diagnostics)
	}
	want := map[string]any{"id": "fake-1", "name": "a", "ip": "ip-of-fake-1"}
	if diff := cmp.Diff(want, created.New); diff != "" {
		t.Fatalf("created (-want +got):\n%s", diff)
	}
	// The same operation id does not create twice.
	again, _ := p.Apply(ctx, plugins.ApplyRequest{Type: "fake_thing", OperationID: "op1", Config: cfg, Planned: cfg}, nil)
	if diff := cmp.Diff(want, again.New); diff != "" {
		t.Fatalf("retried create (-want +got):\n%s", diff)
	}
	byOp, _ := p.Read(ctx, plugins.ReadRequest{Type: "fake_thing", OperationID: "op1"})
	if diff := cmp.Diff(want, byOp.New); diff != "" {
		t.Fatalf("read by operation (-want +got):\n%s", diff)
	}
	if _, err := p.Apply(ctx, plugins.ApplyRequest{Type: "fake_thing", OperationID: "op2", Prior: created.New}, nil); err != nil {
		t.Fatal(err)
	}
	gone, _ := p.Read(ctx, plugins.ReadRequest{Type: "fake_thing", Current: created.New})
	if gone.New != nil {
		t.Errorf("read after delete = %v, want nil", gone.New)
	}
	if diff := cmp.Diff(map[string]any{}, p.Objects()); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	if got := p.Calls("Apply"); got != 3 {
		t.Errorf("Apply calls = %d, want 3", got)
	}
}

func TestOverrideAndConcurrency(t *testing.T) {
	ctx := context.Background()
	p := testProvider()
	boom := errors.New("boom")
	p.ApplyFunc = func(ctx context.Context, req plugins.ApplyRequest, progress func(plugins.Progress)) (*plugins.ApplyResponse, error) {
		if req.OperationID == "fail" {
			return nil, boom
		}
		return p.Default().Apply(ctx, req, progress)
	}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			cfg := map[string]any{"name": "x"}
			op := fmt.Sprintf("op%d", i)
			if _, err := p.Apply(ctx, plugins.ApplyRequest{Type: "fake_thing", OperationID: op, Config: cfg, Planned: cfg}, nil); err != nil {
				t.Errorf("apply %s: %v", op, err)
			}
		})
	}
	wg.Wait()
	if _, err := p.Apply(ctx, plugins.ApplyRequest{Type: "fake_thing", OperationID: "fail"}, nil); !errors.Is(err, boom) {
		t.Errorf("override error = %v, want boom", err)
	}
	if got, want := p.Calls("Apply"), 51; got != want {
		t.Errorf("Apply calls = %d, want %d", got, want)
	}
	if got, want := len(p.Objects()), 50; got != want {
		t.Errorf("objects = %d, want %d", got, want)
	}
}

func TestUnknownType(t *testing.T) {
	p := testProvider()
	resp, err := p.Plan(context.Background(), plugins.PlanRequest{Type: "nope", Config: map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Diagnostics.HasErrors() {
		t.Errorf("want an error diagnostic for an unknown type")
	}
	ds, _ := p.ValidateConfig(context.Background(), "fake_thing", map[string]any{"bogus": 1, "ip": "x"})
	want := []string{"name", "bogus", "ip"}
	var got []string
	for _, d := range ds {
		got = append(got, d.Path)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("validate paths (-want +got):\n%s", diff)
	}
}

func TestImportConfigureDrift(t *testing.T) {
	ctx := context.Background()
	p := testProvider()
	p.Put(map[string]any{"id": "x-1", "name": "imported"})
	tests := []struct {
		name    string
		id      string
		want    any
		wantErr bool
	}{
		{"existing", "x-1", map[string]any{"id": "x-1", "name": "imported"}, false},
		{"missing", "x-2", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := p.Import(ctx, plugins.ImportRequest{Type: "fake_thing", ID: tt.id})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Diagnostics.HasErrors() != tt.wantErr {
				t.Errorf("diagnostics = %v, want error %v", resp.Diagnostics, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, resp.State); diff != "" {
				t.Errorf("state (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := p.Configure(ctx, map[string]any{"zone": "a"}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"zone": "a"}, p.Configured()); diff != "" {
		t.Errorf("configured (-want +got):\n%s", diff)
	}
	p.Remove("x-1")
	if resp, _ := p.Read(ctx, plugins.ReadRequest{Type: "fake_thing", Current: map[string]any{"id": "x-1"}}); resp.New != nil {
		t.Errorf("read after Remove = %v, want nil", resp.New)
	}
	if err := p.Stop(ctx); err != nil || p.Close() != nil || p.Calls("Stop") != 1 || p.Calls("Close") != 1 {
		t.Errorf("Stop/Close: %v, calls %d %d", err, p.Calls("Stop"), p.Calls("Close"))
	}
}
