package plugintest

import (
	"context"
	"testing"

	"github.com/provhq/prov/engine"
	"github.com/provhq/prov/internal/document"
	"github.com/provhq/prov/internal/protocol"
	"github.com/provhq/prov/plan"
	"github.com/provhq/prov/sdk"
	"github.com/provhq/prov/state"
	"github.com/provhq/prov/state/local"
)

// World runs whole documents through prov itself: the planner (plan.Make) and the engine's walker
// (engine.Apply, journaled), with the given providers served through the real protocol and the state
// kept by the local backend in a temporary directory. It is the end-to-end test of a provider short of
// building binaries.
type World struct {
	t testing.TB
	// Dir holds the state (prov.state.json) and the journal.
	Dir       string
	backend   *local.Backend
	providers plan.Providers
}

// NewWorld serves each provider under its name (the name resources and the providers section of a
// document use) for the duration of t.
func NewWorld(t testing.TB, providers map[string]*sdk.Provider) *World {
	t.Helper()
	dir := t.TempDir()
	w := &World{t: t, Dir: dir, backend: local.New(dir, local.Options{}), providers: plan.Providers{}}
	for name, p := range providers {
		w.providers[name] = protocol.ServeTestProvider(t, sdk.NewProviderServer(p))
	}
	return w
}

// Outcome is what one prov apply did.
type Outcome struct {
	Plan   *plan.Plan
	Result *engine.Result
	// Diagnostics holds the planning and apply problems, rendered.
	Diagnostics []string
}

// Apply does what "prov apply -auto-approve" does with doc, a JSON document: configure the providers
// from its providers section, plan against the current state, and apply the plan. Planning errors are
// returned in the Outcome, with Result nil.
func (w *World) Apply(doc string) *Outcome {
	w.t.Helper()
	ctx := context.Background()
	d, ds := document.Parse([]byte(doc), "main.json", nil)
	if ds.HasErrors() {
		return &Outcome{Diagnostics: render(ds)}
	}
	for name, p := range w.providers {
		var config any = map[string]any{}
		if dp := d.Providers[name]; dp != nil && dp.Config != nil {
			config = dp.Config
		}
		if cds, err := p.Configure(ctx, config); err != nil || cds.HasErrors() {
			if err != nil {
				w.t.Fatalf("plugintest: configure %s: %v", name, err)
			}
			return &Outcome{Diagnostics: render(cds)}
		}
	}
	prior := w.State()
	p, ds := plan.Make(ctx, d, prior, w.providers, plan.Options{})
	if ds.HasErrors() {
		return &Outcome{Plan: p, Diagnostics: render(ds)}
	}
	e := &engine.Engine{Providers: w.providers, Backend: w.backend}
	res, err := e.Apply(ctx, p, prior)
	if err != nil {
		w.t.Fatalf("plugintest: apply: %v", err)
	}
	return &Outcome{Plan: p, Result: res, Diagnostics: render(append(ds, res.Diagnostics...))}
}

// State returns the current state.
func (w *World) State() *state.State {
	w.t.Helper()
	s, err := w.backend.Read(context.Background())
	if err != nil {
		w.t.Fatalf("plugintest: read state: %v", err)
	}
	return s
}
