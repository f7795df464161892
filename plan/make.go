package plan

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/provhq/prov/internal/dag"
	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/document"
	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/internal/version"
	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/state"
)

// DefaultParallelism is the number of provider calls Make runs at once when Options.Parallelism is 0.
const DefaultParallelism = 10

// Options change what Make plans.
type Options struct {
	// Targets limits the plan to these addresses and what they depend on (with Destroy: these and what
	// depends on them).
	Targets []string
	// Replace forces the replacement of these addresses even if nothing changed.
	Replace []string
	// SkipRefresh plans against the state as recorded, without reading prior resources from their
	// providers first (-refresh=false).
	SkipRefresh bool
	// Destroy plans the deletion of every resource in the state.
	Destroy bool
	// Parallelism is the most provider calls in flight at once; 0 means DefaultParallelism.
	Parallelism int
	// PluginChecksums are recorded in the plan (from prov.lock.json).
	PluginChecksums map[string]string
	// Secrets resolves {"$secret": …} references in configurations before they are sent to a provider;
	// the paths holding secrets are marked sensitive in the planned values. Nil leaves them as written.
	Secrets SecretResolver
}

// SecretResolver replaces secret references in v and returns the paths that now hold secrets, with
// diagnostics prefixed by the data path at; *secrets.Resolver implements it.
type SecretResolver interface {
	Resolve(v any, at string) (any, []value.Path, diag.Diagnostics)
}

// Make compares the desired document with the prior state (nil when there is none) and asks each
// resource's provider for its planned state, in dependency order so that planned values of
// dependencies flow into dependents, with independent calls in parallel. Prior resources are first
// refreshed with the provider's Read unless opts.SkipRefresh. The plan holds a Change for every address
// in scope, no-ops included. Problems come back as diagnostics; the plan is nil when there are errors.
func Make(ctx context.Context, doc *document.Document, prior *state.State, providers ProviderSource, opts Options) (*Plan, diag.Diagnostics) {
	if prior == nil {
		prior = &state.State{}
	}
	if opts.Parallelism <= 0 {
		opts.Parallelism = DefaultParallelism
	}
	m := &maker{doc: doc, prior: prior, source: providers, opts: opts, providers: map[string]*providerEntry{}}
	return m.run(ctx)
}

type maker struct {
	doc    *document.Document
	prior  *state.State
	source ProviderSource
	opts   Options

	mu        sync.Mutex
	diags     diag.Diagnostics
	providers map[string]*providerEntry

	// desired is the graph of the document's resources (edges to what each depends on).
	desired *dag.Graph
	deps    map[string][]string
	// current is the prior state's attributes per address, refreshed; an address missing was gone.
	current map[string]*state.Resource
	// slots hold each change while it is planned; a goroutine writes only its own slot, and dag.Walk
	// orders that write before any dependent reads it.
	slots map[string]*Change
}

type providerEntry struct {
	once   sync.Once
	p      plugins.Provider
	schema *plugins.ProviderSchema
	err    error
	users  []string // resources that needed it, when it failed
}

func (m *maker) report(ds ...diag.Diagnostic) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.diags = append(m.diags, ds...)
}

func (m *maker) errorf(addr, format string, args ...any) {
	d := diag.Errorf("", format, args...)
	d.Address = addr
	m.report(d)
}

// provider returns the named provider and its schema, or nil when it is not available; the failure
// is reported once per provider, naming the resources that need it (see reportProviders).
func (m *maker) provider(ctx context.Context, name, addr string) (plugins.Provider, *plugins.ProviderSchema) {
	m.mu.Lock()
	e, ok := m.providers[name]
	if !ok {
		e = &providerEntry{}
		m.providers[name] = e
	}
	m.mu.Unlock()
	e.once.Do(func() {
		e.p, e.err = m.source.Provider(ctx, name)
		if e.err != nil {
			return
		}
		var ds diag.Diagnostics
		e.schema, ds, e.err = e.p.Schema(ctx)
		if e.err == nil && ds.HasErrors() {
			e.err = ds.Err()
		}
	})
	if e.err != nil {
		m.mu.Lock()
		e.users = append(e.users, addr)
		m.mu.Unlock()
		return nil, nil
	}
	return e.p, e.schema
}

func (m *maker) reportProviders() {
	for _, name := range slices.Sorted(maps.Keys(m.providers)) {
		e := m.providers[name]
		if e.err == nil {
			continue
		}
		slices.Sort(e.users)
		users := slices.Compact(e.users)
		more := ""
		if len(users) > 5 {
			users, more = users[:5], fmt.Sprintf(" and %d more", len(users)-5)
		}
		d := diag.Errorf("", "provider %q: %v", name, e.err)
		d.Detail = "Needed by " + strings.Join(users, ", ") + more + "."
		m.diags = append(m.diags, d)
	}
}

func (m *maker) run(ctx context.Context) (*Plan, diag.Diagnostics) {
	p := &Plan{
		FormatVersion:     FormatVersion,
		ProvVersion:       version.Version,
		Lineage:           m.prior.Lineage,
		Serial:            m.prior.Serial,
		DocumentDigest:    m.doc.Digest,
		PluginChecksums:   m.opts.PluginChecksums,
		Destroy:           m.opts.Destroy,
		Changes:           map[string]*Change{},
		Outputs:           map[string]*OutputChange{},
		Providers:         map[string]ProviderConfig{},
		Parallelism:       m.doc.Settings.Parallelism,
		RollbackOnFailure: m.doc.Settings.RollbackOnFailure,
	}
	for name, pr := range m.doc.Providers {
		p.Providers[name] = ProviderConfig{Source: pr.Source, Version: pr.Version, Config: pr.Config}
	}

	m.buildDesired()
	if _, err := m.desired.Sort(); err != nil {
		return nil, diag.Diagnostics{cycleDiag(err)}
	}
	desiredScope, priorScope := m.scope()
	if m.diags.HasErrors() {
		return nil, m.diags
	}
	m.refresh(ctx, priorScope)
	if err := ctx.Err(); err != nil {
		return nil, append(m.diags, stopped(err))
	}

	// Plan the desired resources in scope, in dependency order.
	g := dag.New()
	m.slots = make(map[string]*Change, len(desiredScope))
	for _, addr := range desiredScope {
		g.Add(addr)
		m.slots[addr] = &Change{Addr: addr}
		for _, dep := range m.deps[addr] {
			g.Connect(addr, dep)
		}
	}
	err := g.Walk(ctx, m.opts.Parallelism, func(ctx context.Context, addr string) {
		m.planResource(ctx, addr)
	})
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return nil, append(m.diags, stopped(err))
	}
	maps.Copy(p.Changes, m.slots)

	// Prior resources that are not (or no longer) desired are deleted.
	for _, addr := range priorScope {
		if _, desired := m.slots[addr]; desired {
			continue
		}
		p.Changes[addr] = m.planDelete(addr)
	}
	m.planOutputs(p)

	if _, err := p.Graph(); err != nil {
		m.report(cycleDiag(err))
	}
	m.reportProviders()
	slices.SortStableFunc(m.diags, func(a, b diag.Diagnostic) int { return cmp.Compare(a.Address, b.Address) })
	if m.diags.HasErrors() {
		return nil, m.diags
	}
	return p, m.diags
}

func stopped(err error) diag.Diagnostic {
	return diag.Diagnostic{Severity: diag.Error, Summary: "planning stopped: " + err.Error()}
}

func cycleDiag(err error) diag.Diagnostic {
	var ce *dag.CycleError
	if errors.As(err, &ce) {
		return diag.Diagnostic{Severity: diag.Error, Summary: "dependency " + ce.Error(),
			Detail: "Resources depend on each other through references or depends_on; break the cycle."}
	}
	return diag.Diagnostic{Severity: diag.Error, Summary: err.Error()}
}

// buildDesired records each desired resource's dependencies: depends_on and the resources its
// references name.
func (m *maker) buildDesired() {
	m.desired = dag.New()
	m.deps = map[string][]string{}
	if m.opts.Destroy {
		return
	}
	for addr, r := range m.doc.Resources {
		m.desired.Add(addr)
		deps := slices.Clone(r.DependsOn)
		for _, ref := range r.References {
			deps = append(deps, ref.Addr)
		}
		slices.Sort(deps)
		deps = slices.Compact(deps)
		m.deps[addr] = deps
		for _, d := range deps {
			m.desired.Connect(addr, d)
		}
	}
}

// scope returns the desired and prior addresses the plan covers, sorted.
func (m *maker) scope() (desired, prior []string) {
	desired = m.desired.Nodes()
	prior = slices.Sorted(maps.Keys(m.prior.Resources))
	for _, addr := range m.opts.Replace {
		if _, ok := m.doc.Resources[addr]; !ok || m.opts.Destroy {
			m.report(diag.Errorf("", "-replace %s: no such resource in the configuration", addr))
		}
	}
	if len(m.opts.Targets) == 0 {
		return desired, prior
	}
	for _, t := range m.opts.Targets {
		_, inDoc := m.doc.Resources[t]
		_, inState := m.prior.Resources[t]
		if !inDoc && !inState {
			m.report(diag.Errorf("", "-target %s: no such resource in the configuration or the state", t))
		}
	}
	if m.opts.Destroy {
		// Destroying a target destroys what depends on it first.
		rev := dag.New()
		for addr, r := range m.prior.Resources {
			rev.Add(addr)
			for _, d := range r.Dependencies {
				rev.Connect(d, addr)
			}
		}
		return nil, rev.Closure(m.opts.Targets...)
	}
	desired = m.desired.Closure(m.opts.Targets...)
	in := map[string]bool{}
	for _, a := range desired {
		in[a] = true
	}
	var priorIn []string
	for _, addr := range prior {
		_, inDoc := m.doc.Resources[addr]
		if in[addr] || !inDoc && slices.Contains(m.opts.Targets, addr) {
			priorIn = append(priorIn, addr)
		}
	}
	return desired, priorIn
}

// refresh reads every prior resource in scope from its provider, in parallel. A resource that no
// longer exists is left out of m.current.
func (m *maker) refresh(ctx context.Context, addrs []string) {
	m.current = make(map[string]*state.Resource, len(addrs))
	if m.opts.SkipRefresh {
		for _, a := range addrs {
			m.current[a] = m.prior.Resources[a]
		}
		return
	}
	var mu sync.Mutex
	sem := make(chan struct{}, m.opts.Parallelism)
	var wg sync.WaitGroup
	for _, addr := range addrs {
		r := m.prior.Resources[addr]
		sem <- struct{}{}
		if ctx.Err() != nil {
			break // reported once by run
		}
		wg.Go(func() {
			defer func() { <-sem }()
			cur := m.read(ctx, addr, r)
			if cur != nil {
				mu.Lock()
				m.current[addr] = cur
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

func (m *maker) read(ctx context.Context, addr string, r *state.Resource) *state.Resource {
	prov, _ := m.provider(ctx, r.Provider, addr)
	if prov == nil {
		return r
	}
	resp, err := prov.Read(ctx, plugins.ReadRequest{Type: r.Type, Current: r.Attributes})
	if err != nil {
		if ctx.Err() == nil {
			m.errorf(addr, "refresh: %v", err)
		}
		return r
	}
	if len(resp.Diagnostics) > 0 {
		m.report(resp.Diagnostics.WithAddress(addr)...)
	}
	if resp.Diagnostics.HasErrors() {
		return r
	}
	if resp.New == nil {
		return nil
	}
	cur := *r
	cur.Attributes = resp.New
	if resp.Sensitive != nil {
		cur.Sensitive = resp.Sensitive
	}
	return &cur
}

// lookup gives Resolve the planned value of a dependency.
func (m *maker) lookup(addr string) (any, bool) {
	if c, ok := m.slots[addr]; ok {
		return c.After, true
	}
	return nil, false
}

func (m *maker) planResource(ctx context.Context, addr string) {
	c := m.slots[addr]
	r := m.doc.Resources[addr]
	c.Type, c.Provider, c.Config, c.DependsOn = r.Type, r.Provider, r.Config, m.deps[addr]
	c.After = value.Unknown // what dependents see if planning fails
	config, ds := document.Resolve(r.Config, m.lookup)
	if len(ds) > 0 {
		m.report(m.doc.ConfigDiagnostics(addr, ds)...)
		if ds.HasErrors() {
			return
		}
	}
	written := config // as the state records it: secrets stay references
	var secretPaths []value.Path
	if m.opts.Secrets != nil {
		var sds diag.Diagnostics
		config, secretPaths, sds = m.opts.Secrets.Resolve(config, "config")
		if len(sds) > 0 {
			m.report(sds.WithAddress(addr)...)
			if sds.HasErrors() {
				return
			}
		}
	}
	prov, schema := m.provider(ctx, r.Provider, addr)
	if prov == nil {
		return
	}
	dataSource := schema != nil && schema.Resources[r.Type] != nil && schema.Resources[r.Type].DataSource
	if !dataSource && m.unchanged(addr, r, written) {
		cur := m.current[addr]
		c.Before, c.BeforeSensitive = cur.Attributes, cur.Sensitive
		c.After, c.AfterSensitive, c.Action = cur.Attributes, cur.Sensitive, NoOp
		c.MonthlyCost, c.BeforeMonthlyCost = cur.MonthlyCost, cur.MonthlyCost
		return
	}
	cur := m.current[addr]
	var prior any
	if cur != nil {
		prior = cur.Attributes
		c.Before, c.BeforeSensitive, c.BeforeMonthlyCost = prior, cur.Sensitive, cur.MonthlyCost
	}
	switch {
	case cur != nil && cur.Type != r.Type:
		c.Reason = fmt.Sprintf("the type changed from %s to %s", cur.Type, r.Type)
	case cur != nil && slices.Contains(m.opts.Replace, addr):
		c.Reason = "replacement requested with -replace"
	case cur == nil && m.prior.Resources[addr] != nil:
		c.Reason = "the object no longer exists; it was deleted outside prov"
	}
	forced := cur != nil && c.Reason != ""
	planPrior := prior
	if forced {
		planPrior = nil // plan the replacement as a new object
	}
	if cur != nil && !forced && len(r.Lifecycle.IgnoreChanges) > 0 {
		config = ignoreChanges(config, prior, r.Lifecycle.IgnoreChanges)
		// The walker applies the configuration as planned: the ignored attributes keep their values.
		c.Config = ignoreChanges(c.Config, prior, r.Lifecycle.IgnoreChanges)
	}
	resp, err := prov.Plan(ctx, plugins.PlanRequest{Type: r.Type, Prior: planPrior, Config: config})
	if err != nil {
		if ctx.Err() == nil {
			m.errorf(addr, "plan: %v", err)
		}
		return
	}
	if len(resp.Diagnostics) > 0 {
		m.report(m.doc.ConfigDiagnostics(addr, resp.Diagnostics)...)
		if resp.Diagnostics.HasErrors() {
			return
		}
	}
	// A provider may copy a secret input into other attributes (an output, a connection string): those
	// are as secret as the input.
	echoes := value.Echoes(resp.Planned, value.At(config, secretPaths))
	c.After, c.AfterSensitive, c.MonthlyCost = resp.Planned, mergePaths(mergePaths(resp.Sensitive, secretPaths), echoes), resp.MonthlyCost
	switch {
	case dataSource:
		c.Action = Read
		if cur != nil && value.Equal(prior, resp.Planned) {
			c.Action = NoOp
		}
	case cur == nil:
		c.Action = Create
	case forced || len(resp.RequiresReplace) > 0:
		c.Action = DeleteThenCreate
		if r.Lifecycle.CreateBeforeDestroy {
			c.Action = CreateThenDelete
		}
		c.ReplacePaths = resp.RequiresReplace
		if r.Lifecycle.PreventDestroy {
			d := diag.Errorf("lifecycle.prevent_destroy", "the plan would replace %s, but it has lifecycle.prevent_destroy set", addr)
			d.Address = addr
			d.Detail = "Remove prevent_destroy to allow it, or change the configuration so it is not replaced."
			m.report(d)
		}
	case value.Equal(prior, resp.Planned):
		c.Action = NoOp
	default:
		c.Action = Update
	}
}

// unchanged reports whether addr can be planned as a no-op without asking its provider: it is
// recorded in the state with exactly this (resolved, fully known) configuration and the same type,
// refreshing it found no drift, and nothing forces a replacement. A provider's Plan is a function of
// the prior state and the configuration, so asking it again would only repeat the last apply's answer;
// skipping the call halves the provider round trips of a no-change plan (see docs/ARCHITECTURE.md).
func (m *maker) unchanged(addr string, r *document.Resource, config any) bool {
	rec, cur := m.prior.Resources[addr], m.current[addr]
	if rec == nil || cur == nil || rec.Type != r.Type || cur.Type != r.Type || rec.Provider != r.Provider ||
		slices.Contains(m.opts.Replace, addr) || value.HasUnknown(config) {
		return false
	}
	return value.Equal(rec.Config, config) && value.Equal(rec.Attributes, cur.Attributes)
}

func joinPath(prefix, p string) string {
	if p == "" || p[0] == '[' {
		return prefix + p
	}
	return prefix + "." + p
}

// ignoreChanges returns config with the prior values at the ignored paths, so the provider plans no
// change there.
func ignoreChanges(config, prior any, paths []string) any {
	for _, s := range paths {
		p, err := value.ParsePath(s) // checked by the loader
		if err != nil {
			continue
		}
		old, ok := value.Get(prior, p)
		if !ok {
			continue
		}
		if nc, err := value.Set(config, p, value.Copy(old)); err == nil {
			config = nc
		}
	}
	return config
}

func (m *maker) planDelete(addr string) *Change {
	r := m.prior.Resources[addr]
	c := &Change{Addr: addr, Type: r.Type, Provider: r.Provider, Action: Delete, DependsOn: r.Dependencies,
		BeforeMonthlyCost: r.MonthlyCost}
	if cur := m.current[addr]; cur != nil {
		c.Before, c.BeforeSensitive = cur.Attributes, cur.Sensitive
	} else {
		c.Before, c.BeforeSensitive = r.Attributes, r.Sensitive
		c.Reason = "the object no longer exists; it is only removed from the state"
	}
	switch {
	case m.opts.Destroy:
		if dr, ok := m.doc.Resources[addr]; ok && dr.Lifecycle.PreventDestroy {
			d := diag.Errorf("lifecycle.prevent_destroy", "the plan would destroy %s, but it has lifecycle.prevent_destroy set", addr)
			d.Address = addr
			m.report(d)
		}
	case c.Reason == "":
		c.Reason = "it is no longer in the configuration"
	}
	return c
}

func (m *maker) planOutputs(p *Plan) {
	lookup := func(addr string) (any, bool) {
		if c, ok := p.Changes[addr]; ok && c.Action != Delete {
			return c.After, true
		}
		if r, ok := m.prior.Resources[addr]; ok {
			return r.Attributes, true
		}
		if _, ok := m.doc.Resources[addr]; ok {
			return value.Unknown, true // outside a targeted plan, not yet created
		}
		return nil, false
	}
	if !m.opts.Destroy {
		for name, o := range m.doc.Outputs {
			oc := &OutputChange{Name: name, Value: o.Value, Sensitive: o.Sensitive}
			after, ds := document.Resolve(o.Value, lookup)
			if len(ds) > 0 {
				for i := range ds {
					ds[i].Path = joinPath("outputs."+name+".value", ds[i].Path)
				}
				m.report(ds...)
			}
			oc.After = after
			prev, had := m.prior.Outputs[name]
			switch {
			case !had:
				oc.Action = Create
			case value.Equal(prev.Value, after) && prev.Sensitive == o.Sensitive:
				oc.Before, oc.Action = prev.Value, NoOp
			default:
				oc.Before, oc.Action = prev.Value, Update
			}
			p.Outputs[name] = oc
		}
	}
	for name, prev := range m.prior.Outputs {
		if _, ok := p.Outputs[name]; !ok {
			p.Outputs[name] = &OutputChange{Name: name, Action: Delete, Before: prev.Value, Sensitive: prev.Sensitive}
		}
	}
}

// mergePaths returns the paths of a and b, sorted, without duplicates.
func mergePaths(a, b []value.Path) []value.Path {
	if len(b) == 0 {
		return a
	}
	out := append(slices.Clone(a), b...)
	sortPaths(out)
	return slices.CompactFunc(out, func(x, y value.Path) bool { return slices.Equal(x, y) })
}
