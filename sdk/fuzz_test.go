package sdk

import (
	"context"
	"testing"

	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/plugins"
)

// FuzzPlan feeds arbitrary configurations and prior states to the planner and the validator: whatever
// arrives, the answer is a plan or diagnostics, never a panic, and a valid configuration plans without
// errors.
func FuzzPlan(f *testing.F) {
	f.Add([]byte(`{"name": "web", "ingress": [{"port": 22}]}`), []byte(``))
	f.Add([]byte(`{"name": "web", "zone": "de-fra1", "disk": {"size_gb": 1}}`), []byte(`{"id": "x", "name": "web", "zone": "fi-hel1"}`))
	f.Add([]byte(`{"name": 1, "tags": {"a": [1]}, "ingress": [null, {}]}`), []byte(`[1]`))
	f.Add([]byte(`null`), []byte(`{"disk": 7}`))
	s := NewProviderServer(testProvider(&cloud{servers: map[string]map[string]any{}}))
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, config, prior []byte) {
		c, err := value.Decode(config, nil)
		if err != nil {
			return
		}
		p, err := value.Decode(prior, nil)
		if err != nil {
			return
		}
		ds, _ := s.ValidateConfig(ctx, "test_server", c)
		resp, err := s.Plan(ctx, plugins.PlanRequest{Type: "test_server", Prior: p, Config: c})
		if err != nil {
			t.Fatal(err)
		}
		_, isMap := p.(map[string]any)
		cm, _ := c.(map[string]any)
		warn := cm["name"] == "warn" // the test provider's plan hook rejects it
		if !ds.HasErrors() && c != nil && (p == nil || isMap) && !warn && resp.Diagnostics.HasErrors() {
			t.Errorf("a valid configuration did not plan: %v", resp.Diagnostics)
		}
	})
}
