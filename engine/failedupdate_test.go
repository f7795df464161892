package engine

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/state"
)

// A failed update must not record the new configuration as applied, whatever partial state the
// provider returns: the planner takes a resource whose recorded configuration is the desired one as
// unchanged, so the update would never be tried again.
func TestFailedUpdateKeepsAppliedConfig(t *testing.T) {
	tests := []struct {
		name    string
		partial func(req plugins.ApplyRequest) any
	}{
		{"no partial state", func(plugins.ApplyRequest) any { return nil }},
		{"the object unchanged", func(req plugins.ApplyRequest) any { return req.Prior }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			prior := f.seed(map[string]*state.Resource{"a": thing("a-id", "a", "v1")})
			f.fake.ApplyFunc = func(ctx context.Context, req plugins.ApplyRequest, progress func(plugins.Progress)) (*plugins.ApplyResponse, error) {
				return &plugins.ApplyResponse{New: tt.partial(req), Diagnostics: diag.Diagnostics{diag.Errorf("value", "quota exceeded")}}, nil
			}
			res, err := f.engine.Apply(context.Background(), mkPlan(prior, update("a", cfg("a", "value", "v2"))), prior)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Failures) != 1 {
				t.Fatalf("failures = %+v, want the update of a", res.Failures)
			}
			got := f.read().Resources["a"]
			if diff := cmp.Diff(map[string]any{"name": "a", "value": "v1"}, got.Config); diff != "" {
				t.Errorf("config of a after the failed update (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff("v1", got.Attributes.(map[string]any)["value"]); diff != "" {
				t.Errorf("value of a after the failed update (-want +got):\n%s", diff)
			}
		})
	}
}
