// Package pluginfake is an in-memory plugins.Provider for tests. It is configured with a schema of
// resource types, keeps the objects it "creates" in a map keyed by id, plans computed attributes as
// unknown on create, asks for replacement when a force_new attribute changes, and counts calls. Every
// method can be overridden through the matching XFunc field (for failure injection); an override may
// delegate to the built-in behaviour through Default. A Provider is safe for concurrent use.
package pluginfake

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/plugins"
)

var _ plugins.Provider = (*Provider)(nil)

// Provider is an in-memory fake provider. Set the XFunc fields before first use.
type Provider struct {
	// Name and Types make up the schema.
	Name  string
	Types map[string]*plugins.ResourceSchema

	SchemaFunc         func(ctx context.Context) (*plugins.ProviderSchema, diag.Diagnostics, error)
	ValidateConfigFunc func(ctx context.Context, typ string, config any) (diag.Diagnostics, error)
	ConfigureFunc      func(ctx context.Context, config any) (diag.Diagnostics, error)
	PlanFunc           func(ctx context.Context, req plugins.PlanRequest) (*plugins.PlanResponse, error)
	ApplyFunc          func(ctx context.Context, req plugins.ApplyRequest, progress func(plugins.Progress)) (*plugins.ApplyResponse, error)
	ReadFunc           func(ctx context.Context, req plugins.ReadRequest) (*plugins.ReadResponse, error)
	ImportFunc         func(ctx context.Context, req plugins.ImportRequest) (*plugins.ImportResponse, error)
	StopFunc           func(ctx context.Context) error
	CloseFunc          func() error

	mu      sync.Mutex
	objects map[string]any    // id → attributes
	byOp    map[string]string // operation id → object id
	nextID  int
	calls   map[string]int
	config  any
}

// New returns a Provider named name with the given resource types.
func New(name string, types map[string]*plugins.ResourceSchema) *Provider {
	return &Provider{Name: name, Types: types}
}

// Attr is a shorthand for building schemas in tests: a string attribute with the given flags, each one
// of "required", "optional", "computed", "force_new", "sensitive".
func Attr(flags ...string) *plugins.Attribute {
	a := &plugins.Attribute{Type: plugins.Type{Kind: plugins.String}}
	for _, f := range flags {
		switch f {
		case "required":
			a.Required = true
		case "optional":
			a.Optional = true
		case "computed":
			a.Computed = true
		case "force_new":
			a.ForceNew = true
		case "sensitive":
			a.Sensitive = true
		default:
			panic("pluginfake: unknown attribute flag " + f)
		}
	}
	return a
}

// Calls returns how many times method (e.g. "Plan", "Apply") was called.
func (p *Provider) Calls(method string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[method]
}

// Objects returns a copy of the stored objects by id.
func (p *Provider) Objects() map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]any, len(p.objects))
	for id, o := range p.objects {
		out[id] = value.Copy(o)
	}
	return out
}

// Put stores attrs (which must hold a string "id") as an existing object, e.g. to simulate drift.
func (p *Provider) Put(attrs map[string]any) {
	id, _ := attrs["id"].(string)
	if id == "" {
		panic("pluginfake: Put needs a string id")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.init()
	p.objects[id] = value.Copy(attrs)
}

// Remove deletes the object with id behind the engine's back, e.g. to simulate a resource gone.
func (p *Provider) Remove(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.objects, id)
}

// Configured returns the configuration passed to the last Configure.
func (p *Provider) Configured() any {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.config
}

// Default returns the built-in behaviour of p, ignoring the XFunc fields and not counting calls, so an
// override can delegate to it.
func (p *Provider) Default() plugins.Provider { return (*base)(p) }

func (p *Provider) init() {
	if p.objects == nil {
		p.objects = map[string]any{}
		p.byOp = map[string]string{}
		p.calls = map[string]int{}
	}
}

func (p *Provider) count(method string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.init()
	p.calls[method]++
}

// Schema implements plugins.Provider.
func (p *Provider) Schema(ctx context.Context) (*plugins.ProviderSchema, diag.Diagnostics, error) {
	p.count("Schema")
	if p.SchemaFunc != nil {
		return p.SchemaFunc(ctx)
	}
	return p.Default().Schema(ctx)
}

// ValidateConfig implements plugins.Provider.
func (p *Provider) ValidateConfig(ctx context.Context, typ string, config any) (diag.Diagnostics, error) {
	p.count("ValidateConfig")
	if p.ValidateConfigFunc != nil {
		return p.ValidateConfigFunc(ctx, typ, config)
	}
	return p.Default().ValidateConfig(ctx, typ, config)
}

// Configure implements plugins.Provider.
func (p *Provider) Configure(ctx context.Context, config any) (diag.Diagnostics, error) {
	p.count("Configure")
	if p.ConfigureFunc != nil {
		return p.ConfigureFunc(ctx, config)
	}
	return p.Default().Configure(ctx, config)
}

// Plan implements plugins.Provider.
func (p *Provider) Plan(ctx context.Context, req plugins.PlanRequest) (*plugins.PlanResponse, error) {
	p.count("Plan")
	if p.PlanFunc != nil {
		return p.PlanFunc(ctx, req)
	}
	return p.Default().Plan(ctx, req)
}

// Apply implements plugins.Provider.
func (p *Provider) Apply(ctx context.Context, req plugins.ApplyRequest, progress func(plugins.Progress)) (*plugins.ApplyResponse, error) {
	p.count("Apply")
	if p.ApplyFunc != nil {
		return p.ApplyFunc(ctx, req, progress)
	}
	return p.Default().Apply(ctx, req, progress)
}

// Read implements plugins.Provider.
func (p *Provider) Read(ctx context.Context, req plugins.ReadRequest) (*plugins.ReadResponse, error) {
	p.count("Read")
	if p.ReadFunc != nil {
		return p.ReadFunc(ctx, req)
	}
	return p.Default().Read(ctx, req)
}

// Import implements plugins.Provider.
func (p *Provider) Import(ctx context.Context, req plugins.ImportRequest) (*plugins.ImportResponse, error) {
	p.count("Import")
	if p.ImportFunc != nil {
		return p.ImportFunc(ctx, req)
	}
	return p.Default().Import(ctx, req)
}

// Stop implements plugins.Provider.
func (p *Provider) Stop(ctx context.Context) error {
	p.count("Stop")
	if p.StopFunc != nil {
		return p.StopFunc(ctx)
	}
	return nil
}

// Close implements plugins.Provider.
func (p *Provider) Close() error {
	p.count("Close")
	if p.CloseFunc != nil {
		return p.CloseFunc()
	}
	return nil
}

// base is the built-in behaviour.
type base Provider

func (b *base) Schema(context.Context) (*plugins.ProviderSchema, diag.Diagnostics, error) {
	return &plugins.ProviderSchema{Name: b.Name, Version: "0.0.0-fake", Resources: b.Types}, nil, nil
}

func (b *base) ValidateConfig(_ context.Context, typ string, config any) (diag.Diagnostics, error) {
	if typ == "" {
		return nil, nil
	}
	s, ds := b.schema(typ)
	if s == nil {
		return ds, nil
	}
	cfg, _ := config.(map[string]any)
	for _, name := range slices.Sorted(maps.Keys(s.Attributes)) {
		a := s.Attributes[name]
		if _, ok := cfg[name]; a.Required && !ok {
			ds = append(ds, diag.Errorf(name, "missing required attribute %q", name))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(cfg)) {
		a, ok := s.Attributes[name]
		switch {
		case !ok:
			ds = append(ds, diag.Errorf(name, "unsupported attribute %q", name))
		case a.Computed && !a.Optional && !a.Required:
			ds = append(ds, diag.Errorf(name, "attribute %q is computed and cannot be set", name))
		}
	}
	return ds, nil
}

func (b *base) Configure(_ context.Context, config any) (diag.Diagnostics, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.config = value.Copy(config)
	return nil, nil
}

func (b *base) schema(typ string) (*plugins.ResourceSchema, diag.Diagnostics) {
	if s, ok := b.Types[typ]; ok {
		return s, nil
	}
	return nil, diag.Diagnostics{diag.Errorf("", "provider %q has no resource type %q", b.Name, typ)}
}

// plan computes the planned state: config plus defaults, with computed attributes kept from prior
// unless the resource is replaced, unknown otherwise.
func (b *base) plan(s *plugins.ResourceSchema, prior, config any) (planned map[string]any, replace []value.Path) {
	cfg, _ := config.(map[string]any)
	old, _ := prior.(map[string]any)
	planned = make(map[string]any, len(s.Attributes))
	for name, a := range s.Attributes {
		if v, ok := cfg[name]; ok && v != nil {
			planned[name] = value.Copy(v)
		} else if a.Default != nil {
			planned[name] = a.Default
		}
		if a.ForceNew && old != nil && !value.Equal(old[name], planned[name]) {
			replace = append(replace, value.KeyPath(name))
		}
	}
	slices.SortFunc(replace, func(x, y value.Path) int { return strings.Compare(x.String(), y.String()) })
	computed := func(name string) {
		if _, set := planned[name]; set {
			return
		}
		if v, ok := old[name]; ok && len(replace) == 0 {
			planned[name] = v
		} else {
			planned[name] = value.Unknown
		}
	}
	for name, a := range s.Attributes {
		if a.Computed {
			computed(name)
		}
	}
	if _, ok := s.Attributes["id"]; !ok {
		computed("id") // every object has an id, declared or not
	}
	return planned, replace
}

func sensitive(s *plugins.ResourceSchema) []value.Path {
	var out []value.Path
	for _, name := range slices.Sorted(maps.Keys(s.Attributes)) {
		if s.Attributes[name].Sensitive {
			out = append(out, value.KeyPath(name))
		}
	}
	return out
}

func (b *base) Plan(_ context.Context, req plugins.PlanRequest) (*plugins.PlanResponse, error) {
	s, ds := b.schema(req.Type)
	if s == nil {
		return &plugins.PlanResponse{Diagnostics: ds}, nil
	}
	if req.Config == nil {
		return &plugins.PlanResponse{Sensitive: sensitive(s)}, nil
	}
	if ds, _ := b.ValidateConfig(context.Background(), req.Type, req.Config); ds.HasErrors() {
		return &plugins.PlanResponse{Diagnostics: ds}, nil
	}
	planned, replace := b.plan(s, req.Prior, req.Config)
	return &plugins.PlanResponse{Planned: planned, RequiresReplace: replace, Sensitive: sensitive(s)}, nil
}

func (b *base) Apply(ctx context.Context, req plugins.ApplyRequest, progress func(plugins.Progress)) (*plugins.ApplyResponse, error) {
	s, ds := b.schema(req.Type)
	if s == nil {
		return &plugins.ApplyResponse{Diagnostics: ds}, nil
	}
	if err := ctx.Err(); err != nil {
		return &plugins.ApplyResponse{New: req.Prior, Diagnostics: diag.FromError(err)}, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	(*Provider)(b).init()
	old, _ := req.Prior.(map[string]any)
	oldID, _ := old["id"].(string)
	if req.Planned == nil { // delete
		delete(b.objects, oldID)
		return &plugins.ApplyResponse{}, nil
	}
	// A create already done under this operation id is not done twice.
	if id, ok := b.byOp[req.OperationID]; ok && req.OperationID != "" {
		if o, ok := b.objects[id]; ok {
			return &plugins.ApplyResponse{New: value.Copy(o), Sensitive: sensitive(s)}, nil
		}
	}
	planned, replace := b.plan(s, req.Prior, req.Config)
	id := oldID
	if id == "" || len(replace) > 0 {
		b.nextID++
		id = fmt.Sprintf("%s-%d", b.Name, b.nextID)
		if len(replace) > 0 {
			delete(b.objects, oldID)
		}
	}
	for name, v := range planned {
		if !value.IsUnknown(v) {
			continue
		}
		if name == "id" {
			planned[name] = id
		} else {
			planned[name] = name + "-of-" + id
		}
	}
	b.objects[id] = planned
	if req.OperationID != "" {
		b.byOp[req.OperationID] = id
	}
	if progress != nil {
		progress(plugins.Progress{Message: "done", Percent: 100})
	}
	return &plugins.ApplyResponse{New: value.Copy(planned), Sensitive: sensitive(s)}, nil
}

func (b *base) Read(_ context.Context, req plugins.ReadRequest) (*plugins.ReadResponse, error) {
	s, ds := b.schema(req.Type)
	if s == nil {
		return &plugins.ReadResponse{Diagnostics: ds}, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	(*Provider)(b).init()
	cur, _ := req.Current.(map[string]any)
	id, _ := cur["id"].(string)
	if id == "" {
		id = b.byOp[req.OperationID]
	}
	o, ok := b.objects[id]
	if !ok {
		return &plugins.ReadResponse{}, nil
	}
	return &plugins.ReadResponse{New: value.Copy(o), Sensitive: sensitive(s)}, nil
}

func (b *base) Import(_ context.Context, req plugins.ImportRequest) (*plugins.ImportResponse, error) {
	s, ds := b.schema(req.Type)
	if s == nil {
		return &plugins.ImportResponse{Diagnostics: ds}, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	o, ok := b.objects[req.ID]
	if !ok {
		return &plugins.ImportResponse{Diagnostics: diag.Diagnostics{diag.Errorf("", "no %s object with id %q", req.Type, req.ID)}}, nil
	}
	return &plugins.ImportResponse{State: value.Copy(o), Sensitive: sensitive(s)}, nil
}

func (b *base) Stop(context.Context) error { return nil }

func (b *base) Close() error { return nil }
