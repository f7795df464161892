package sdk

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/suggest"
	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/plugins"
)

// NewProviderServer returns p as a plugins.Provider that runs in this process: the engine-facing side of
// the SDK, which ServeProvider puts behind gRPC. prov uses it for builtin providers and tests use it
// directly. It panics if p.Validate reports a mistake in the declaration.
func NewProviderServer(p *Provider) plugins.Provider {
	if err := p.Validate(); err != nil {
		panic(fmt.Sprintf("sdk: provider %s: %v", p.Name, err))
	}
	s := &providerServer{
		p:      p,
		config: newObject(p.Config),
		types:  make(map[string]*resourceType, len(p.Resources)),
		schema: &plugins.ProviderSchema{
			Name:         p.Name,
			Version:      p.Version,
			Config:       newObject(p.Config).wire(),
			Resources:    make(map[string]*plugins.ResourceSchema, len(p.Resources)),
			Concurrency:  p.Concurrency,
			Capabilities: p.Capabilities,
		},
	}
	for name, r := range p.Resources {
		attrs := r.Attributes
		if attrs["id"] == nil {
			attrs = maps.Clone(attrs)
			if attrs == nil {
				attrs = map[string]*Attribute{}
			}
			attrs["id"] = &Attribute{Type: String, Computed: true, Description: "The object's identifier."}
		}
		rt := &resourceType{name: name, r: r, obj: newObject(attrs)}
		s.types[name] = rt
		s.schema.Resources[name] = &plugins.ResourceSchema{
			Description: r.Description,
			Attributes:  rt.obj.wire(),
			Importable:  r.Import != nil,
		}
	}
	s.stop, s.cancel = context.WithCancel(context.Background())
	return s
}

type providerServer struct {
	p      *Provider
	config *object
	types  map[string]*resourceType
	schema *plugins.ProviderSchema
	client atomic.Pointer[clientBox]

	mu     sync.Mutex
	stop   context.Context // cancelled by Stop, then replaced
	cancel context.CancelFunc
}

type clientBox struct{ client any }

type resourceType struct {
	name string
	r    *Resource
	obj  *object
}

var _ plugins.Provider = (*providerServer)(nil)

func (s *providerServer) Schema(context.Context) (*plugins.ProviderSchema, diag.Diagnostics, error) {
	return s.schema, nil, nil
}

func (s *providerServer) ValidateConfig(_ context.Context, typ string, config any) (diag.Diagnostics, error) {
	var ds diag.Diagnostics
	if typ == "" {
		s.config.checkConfig(config, nil, &ds)
		return ds, nil
	}
	rt, ds := s.resourceType(typ)
	if rt != nil {
		rt.obj.checkConfig(config, nil, &ds)
	}
	return ds, nil
}

func (s *providerServer) Configure(ctx context.Context, config any) (diag.Diagnostics, error) {
	var ds diag.Diagnostics
	s.config.checkConfig(config, nil, &ds)
	if ds.HasErrors() {
		return ds, nil
	}
	if value.HasUnknown(config) {
		return diag.Diagnostics{diag.Errorf("", "provider configuration depends on values known only after apply")}, nil
	}
	cfg, _ := config.(map[string]any)
	cfg, _ = s.config.withDefaults(cfg)
	if s.p.Configure == nil {
		s.client.Store(&clientBox{})
		return ds, nil
	}
	var client any
	d := newData(maps.Clone(cfg), nil)
	ds = append(ds, s.call(ctx, "configure", "", &Op{}, d, func(ctx context.Context, _ *Op, d *Data) error {
		var err error
		client, err = s.p.Configure(ctx, d)
		return err
	})...)
	if !ds.HasErrors() {
		s.client.Store(&clientBox{client: client})
	}
	return ds, nil
}

func (s *providerServer) Plan(ctx context.Context, req plugins.PlanRequest) (*plugins.PlanResponse, error) {
	rt, ds := s.resourceType(req.Type)
	if rt == nil || req.Config == nil { // unknown type, or a delete
		return &plugins.PlanResponse{Diagnostics: ds}, nil
	}
	prior, err := asObject(req.Prior)
	if err != nil {
		return &plugins.PlanResponse{Diagnostics: diag.Diagnostics{diag.Errorf("", "prior state: %v", err)}}, nil
	}
	if value.IsUnknown(req.Config) { // the whole configuration comes from something not yet created
		return &plugins.PlanResponse{Planned: value.Unknown}, nil
	}
	rt.obj.checkConfig(req.Config, nil, &ds)
	if ds.HasErrors() {
		return &plugins.PlanResponse{Diagnostics: ds}, nil
	}
	cfg, _ := rt.obj.withDefaults(req.Config.(map[string]any))

	planned := make(map[string]any, len(rt.obj.names))
	for _, name := range rt.obj.names {
		if v := cfg[name]; v != nil {
			planned[name] = v
			continue
		}
		if !rt.obj.attrs[name].Computed {
			continue
		}
		if prior == nil {
			planned[name] = value.Unknown
		} else if v := prior[name]; v != nil {
			planned[name] = v
		}
	}
	var replace []value.Path
	if prior != nil {
		rt.obj.replacePaths(nil, prior, planned, &replace)
		switch {
		case len(replace) > 0: // a new object: everything the provider decides is unknown again
			for _, name := range rt.obj.names {
				if rt.obj.attrs[name].Computed && cfg[name] == nil {
					planned[name] = value.Unknown
				}
			}
		case rt.obj.changed(prior, planned): // updated in place: the id stays, computed values may move
			for _, name := range rt.obj.names {
				if name != "id" && rt.obj.attrs[name].computedOnly() {
					planned[name] = value.Unknown
				}
			}
		}
	}
	var cost *float64
	if rt.r.Plan != nil {
		d := newData(planned, prior)
		d.replacing = len(replace) > 0
		ds = append(ds, s.call(ctx, "plan", rt.name, s.op("", nil), d, rt.r.Plan)...)
		planned, cost = d.attrs, d.cost
		for _, p := range d.replace {
			if !slices.ContainsFunc(replace, func(q value.Path) bool { return slices.Equal(p, q) }) {
				replace = append(replace, p)
			}
		}
	}
	resp := &plugins.PlanResponse{Planned: planned, RequiresReplace: replace, MonthlyCost: cost, Diagnostics: ds}
	rt.obj.sensitivePaths(nil, planned, &resp.Sensitive)
	return resp, nil
}

func (s *providerServer) Apply(ctx context.Context, req plugins.ApplyRequest, progress func(plugins.Progress)) (*plugins.ApplyResponse, error) {
	rt, ds := s.resourceType(req.Type)
	if rt == nil {
		return &plugins.ApplyResponse{New: req.Prior, Diagnostics: ds}, nil
	}
	prior, err := asObject(req.Prior)
	if err != nil {
		return &plugins.ApplyResponse{New: req.Prior, Diagnostics: diag.Diagnostics{diag.Errorf("", "prior state: %v", err)}}, nil
	}
	ctx, done := s.stoppable(ctx)
	defer done()
	op := s.op(req.OperationID, progress)

	if req.Planned == nil { // delete
		if rt.r.Delete != nil {
			ds = s.call(ctx, "delete", rt.name, op, newData(maps.Clone(prior), prior), rt.r.Delete)
			if ds.HasErrors() {
				return &plugins.ApplyResponse{New: req.Prior, Diagnostics: ds}, nil
			}
		}
		return &plugins.ApplyResponse{Diagnostics: ds}, nil
	}

	planned, err := asObject(req.Planned)
	if err != nil {
		return &plugins.ApplyResponse{New: req.Prior, Diagnostics: diag.Diagnostics{diag.Errorf("", "planned state: %v", err)}}, nil
	}
	cfg := planned
	if req.Config != nil {
		if cfg, err = asObject(req.Config); err != nil {
			return &plugins.ApplyResponse{New: req.Prior, Diagnostics: diag.Diagnostics{diag.Errorf("", "configuration: %v", err)}}, nil
		}
		cfg, _ = rt.obj.withDefaults(cfg)
	}
	// The configuration as now known, with the computed values the plan settled on.
	attrs := make(map[string]any, len(rt.obj.names))
	for _, name := range rt.obj.names {
		v := cfg[name]
		if v == nil && rt.obj.attrs[name].Computed {
			v = planned[name]
		}
		if v != nil {
			attrs[name] = v
		}
	}
	d := newData(attrs, prior)
	fn, what := rt.r.Create, "create"
	if prior != nil {
		fn, what = rt.r.Update, "update"
	}
	if fn != nil {
		ds = s.call(ctx, what, rt.name, op, d, fn)
	}
	resp := &plugins.ApplyResponse{New: known(d.attrs), Diagnostics: ds}
	if ds.HasErrors() {
		switch {
		case prior != nil:
			resp.New = req.Prior
		case d.ID() == "":
			resp.New = nil // nothing was created
		}
	}
	if m, ok := resp.New.(map[string]any); ok {
		rt.obj.sensitivePaths(nil, m, &resp.Sensitive)
	}
	return resp, nil
}

func (s *providerServer) Read(ctx context.Context, req plugins.ReadRequest) (*plugins.ReadResponse, error) {
	rt, ds := s.resourceType(req.Type)
	if rt == nil {
		return &plugins.ReadResponse{New: req.Current, Diagnostics: ds}, nil
	}
	current, err := asObject(req.Current)
	if err != nil {
		return &plugins.ReadResponse{New: req.Current, Diagnostics: diag.Diagnostics{diag.Errorf("", "current state: %v", err)}}, nil
	}
	if rt.r.Read == nil || (current == nil && req.OperationID == "") {
		return &plugins.ReadResponse{New: req.Current}, nil
	}
	ctx, done := s.stoppable(ctx)
	defer done()
	attrs, _ := value.Copy(current).(map[string]any)
	d := newData(attrs, current)
	ds = s.call(ctx, "read", rt.name, s.op(req.OperationID, nil), d, rt.r.Read)
	resp := &plugins.ReadResponse{New: known(d.attrs), Diagnostics: ds}
	switch {
	case ds.HasErrors():
		resp.New = req.Current
	case errors.Is(d.gone(), ErrNotFound), current == nil && d.ID() == "":
		resp.New = nil
	}
	if m, ok := resp.New.(map[string]any); ok {
		rt.obj.sensitivePaths(nil, m, &resp.Sensitive)
	}
	return resp, nil
}

func (s *providerServer) Import(ctx context.Context, req plugins.ImportRequest) (*plugins.ImportResponse, error) {
	rt, ds := s.resourceType(req.Type)
	if rt == nil {
		return &plugins.ImportResponse{Diagnostics: ds}, nil
	}
	if rt.r.Import == nil {
		return &plugins.ImportResponse{Diagnostics: diag.Diagnostics{diag.Errorf("", "resource type %s cannot be imported", rt.name)}}, nil
	}
	ctx, done := s.stoppable(ctx)
	defer done()
	d := newData(map[string]any{"id": req.ID}, nil)
	ds = s.call(ctx, "import", rt.name, s.op("", nil), d, rt.r.Import)
	if errors.Is(d.gone(), ErrNotFound) {
		ds = append(ds, diag.Errorf("", "cannot import %s %q: it does not exist", rt.name, req.ID))
	}
	if ds.HasErrors() {
		return &plugins.ImportResponse{Diagnostics: ds}, nil
	}
	resp := &plugins.ImportResponse{State: known(d.attrs), Diagnostics: ds}
	rt.obj.sensitivePaths(nil, d.attrs, &resp.Sensitive)
	return resp, nil
}

// Stop cancels the contexts of the operations in flight; later operations run normally.
func (s *providerServer) Stop(context.Context) error {
	s.mu.Lock()
	s.cancel()
	s.stop, s.cancel = context.WithCancel(context.Background())
	s.mu.Unlock()
	return nil
}

func (s *providerServer) Close() error { return nil }

// stoppable returns ctx that Stop also cancels.
func (s *providerServer) stoppable(ctx context.Context) (context.Context, func()) {
	s.mu.Lock()
	stop := s.stop
	s.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	unhook := context.AfterFunc(stop, cancel)
	return ctx, func() { unhook(); cancel() }
}

func (s *providerServer) op(id string, progress func(plugins.Progress)) *Op {
	op := &Op{ID: id, progress: progress}
	if c := s.client.Load(); c != nil {
		op.Client = c.client
	}
	return op
}

func (s *providerServer) resourceType(typ string) (*resourceType, diag.Diagnostics) {
	if rt := s.types[typ]; rt != nil {
		return rt, nil
	}
	d := diag.Errorf("", "provider %s has no resource type %q", s.p.Name, typ)
	if c := suggest.Closest(typ, slices.Sorted(maps.Keys(s.types))); c != "" {
		d.Detail = fmt.Sprintf("Did you mean %q?", c)
	}
	return nil, diag.Diagnostics{d}
}

// call runs fn, turning its error, its warnings, the mistakes recorded in d and a panic into diagnostics.
// ErrNotFound is not a problem: it is left in d for the caller.
func (s *providerServer) call(ctx context.Context, what, typ string, op *Op, d *Data, fn Func) (ds diag.Diagnostics) {
	defer func() {
		if r := recover(); r != nil {
			in := what
			if typ != "" {
				in += " of " + typ
			}
			ds = append(ds, diag.Diagnostic{
				Severity: diag.Error,
				Summary:  fmt.Sprintf("provider %s crashed in %s: %v", s.p.Name, in, r),
				Detail:   "This is a bug in the provider. Stack:\n" + string(debug.Stack()),
			})
		}
	}()
	err := fn(ctx, op, d)
	if errors.Is(err, ErrNotFound) {
		d.errs = append(d.errs, notFound{})
		err = nil
	}
	ds = append(ds, op.warnings...)
	ds = append(ds, errDiags(err)...)
	for _, e := range d.errs {
		ds = append(ds, errDiags(e)...)
	}
	return ds
}

// notFound records in Data.errs that the function returned ErrNotFound.
type notFound struct{}

func (notFound) Error() string { return ErrNotFound.Error() }
func (notFound) Unwrap() error { return ErrNotFound }

// gone returns ErrNotFound when the last function said the object does not exist.
func (d *Data) gone() error {
	for _, e := range d.errs {
		if _, ok := e.(notFound); ok {
			return ErrNotFound
		}
	}
	return nil
}

// errDiags turns a function's error into diagnostics: one per joined error, with the attribute path of
// an AttrError. The first line of the message is the summary, the lines after it the detail.
func errDiags(err error) diag.Diagnostics {
	if err == nil {
		return nil
	}
	if _, ok := err.(notFound); ok {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var ds diag.Diagnostics
		for _, e := range j.Unwrap() {
			ds = append(ds, errDiags(e)...)
		}
		return ds
	}
	path, msg := "", err.Error()
	var ae *attrError
	if errors.As(err, &ae) {
		path, msg = ae.path, ae.err.Error()
	}
	d := diag.Diagnostic{Severity: diag.Error, Path: path, Summary: msg}
	if summary, detail, ok := strings.Cut(msg, "\n"); ok {
		d.Summary, d.Detail = summary, detail
	}
	return diag.Diagnostics{d}
}

// asObject returns v as a record; nil stays nil.
func asObject(v any) (map[string]any, error) {
	switch m := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return m, nil
	}
	return nil, fmt.Errorf("expected an object, got %s", kindOf(v))
}

// known replaces the unknowns a function left in m with null, and drops null attributes: after apply
// everything is known, and an unset attribute is the same as a null one.
func known(m map[string]any) map[string]any {
	for k, v := range m {
		switch {
		case v == nil, value.IsUnknown(v):
			delete(m, k)
		case value.HasUnknown(v):
			m[k] = clearUnknown(v)
		}
	}
	return m
}

func clearUnknown(v any) any {
	switch c := v.(type) {
	case []any:
		out := make([]any, len(c))
		for i, e := range c {
			out[i] = clearUnknown(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(c))
		for k, e := range c {
			out[k] = clearUnknown(e)
		}
		return out
	}
	if value.IsUnknown(v) {
		return nil
	}
	return v
}
