package plan

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/provhq/prov/internal/dag"
	"github.com/provhq/prov/plugins"
)

// ProviderSource hands out configured providers by name (the key of the document's providers section,
// or an implied builtin such as "local"). The CLI implements it on top of the plugin host; Make and the
// engine's walker both use it. Implementations must be safe for concurrent use and return the same
// Provider for the same name.
type ProviderSource interface {
	Provider(ctx context.Context, name string) (plugins.Provider, error)
}

// Providers is a fixed set of providers by name, a ProviderSource for tests and embedding.
type Providers map[string]plugins.Provider

// Provider implements ProviderSource.
func (ps Providers) Provider(_ context.Context, name string) (plugins.Provider, error) {
	if p, ok := ps[name]; ok {
		return p, nil
	}
	return nil, fmt.Errorf("not available (have %v)", slices.Sorted(maps.Keys(ps)))
}

// Graph returns the order in which the changes must be applied: a node per change, and for each node
// the changes that must finish before it. Creates, updates, replaces and reads come after the changes
// of what they depend on; the delete of a resource comes before any change of what it depended on
// (deletes in reverse dependency order). Dependencies on resources outside the plan (a targeted plan)
// are left out. A cycle is reported as a *dag.CycleError naming it.
func (p *Plan) Graph() (*dag.Graph, error) {
	g := dag.New()
	for addr, c := range p.Changes {
		g.Add(addr)
		for _, dep := range c.DependsOn {
			if _, ok := p.Changes[dep]; !ok {
				continue
			}
			if c.Action == Delete {
				g.Connect(dep, addr)
			} else {
				g.Connect(addr, dep)
			}
		}
	}
	if _, err := g.Sort(); err != nil {
		return nil, err
	}
	return g, nil
}
