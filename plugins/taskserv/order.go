package taskserv

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/document"
	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/plan"
	"github.com/provhq/prov/plugins"
)

// Describer is implemented by the providers NewProvider returns: what the taskserv says of itself.
type Describer interface {
	Describe(ctx context.Context) (*plugins.TaskservDescription, error)
}

var _ Describer = (*provider)(nil)

// Describe returns the taskserv's description.
func (p *provider) Describe(ctx context.Context) (*plugins.TaskservDescription, error) {
	return p.describe(ctx)
}

// Order applies what the taskservs of doc declare about each other, per server: an install depends on
// the installs of the taskservs it needs on the same server (so they are installed first and removed
// last), a needed taskserv the server does not list is an error, and so is a conflicting one it lists.
// Providers come from src; those that are not taskserv adapters (no Describer) are skipped.
func Order(ctx context.Context, doc *document.Document, src plan.ProviderSource) diag.Diagnostics {
	// servers[server][taskserv] = install address, for installs the loader expanded from servers.
	servers := map[string]map[string]string{}
	for addr, r := range doc.Resources {
		name, ok := Name(r.Provider)
		parts := strings.Split(addr, ".")
		if !ok || r.Type != ResourceType || len(parts) != 3 || parts[0] != "taskservs" || parts[2] != name || doc.Invalid[addr] {
			continue // not an install the loader expanded, or one whose server's entry is reported already
		}
		if servers[parts[1]] == nil {
			servers[parts[1]] = map[string]string{}
		}
		servers[parts[1]][name] = addr
	}
	var ds diag.Diagnostics
	descs := map[string]*plugins.TaskservDescription{}
	for _, server := range slices.Sorted(maps.Keys(servers)) {
		installs := servers[server]
		for _, name := range slices.Sorted(maps.Keys(installs)) {
			addr := installs[name]
			d, ok := descs[name]
			if !ok {
				d = describe(ctx, src, ProviderPrefix+name, addr, &ds)
				descs[name] = d
			}
			if d == nil {
				continue
			}
			at := value.KeyPath("servers", server, "taskservs")
			r := doc.Resources[addr]
			for _, dep := range d.Dependencies {
				depAddr, listed := installs[dep]
				if !listed {
					ds = append(ds, problem(doc, at, addr, "taskserv %s needs %s on the same server: add %q to %s", name, dep, dep, document.Display(at)))
					continue
				}
				if !slices.Contains(r.DependsOn, depAddr) {
					r.DependsOn = append(r.DependsOn, depAddr)
				}
			}
			for _, c := range d.Conflicts {
				if _, listed := installs[c]; listed {
					ds = append(ds, problem(doc, at, addr, "taskserv %s conflicts with %s, which server %s also lists: keep one of them", name, c, server))
				}
			}
		}
	}
	return ds
}

func describe(ctx context.Context, src plan.ProviderSource, provider, addr string, ds *diag.Diagnostics) *plugins.TaskservDescription {
	p, err := src.Provider(ctx, provider)
	if err != nil {
		// Planning reports a provider that does not start, at every resource that uses it.
		return nil
	}
	dp, ok := p.(Describer)
	if !ok {
		return nil
	}
	d, err := dp.Describe(ctx)
	if err != nil {
		e := diag.Errorf("", "provider %s: %v", provider, err)
		e.Address = addr
		*ds = append(*ds, e)
		return nil
	}
	return d
}

func problem(doc *document.Document, at value.Path, addr, format string, args ...any) diag.Diagnostic {
	d := diag.Errorf(document.Display(at), format, args...)
	d.Address = addr
	d.Pos = doc.Pos(at)
	return d
}
