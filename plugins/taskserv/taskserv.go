// Package taskserv plans and applies taskserv installs as resources. The document loader expands
// servers.NAME.taskservs into resources taskservs.NAME.TS of type "taskserv" from the provider
// "taskserv:TS"; NewProvider turns a plugins.Taskserv into that provider, so the planner and the walker
// handle an install like any other resource: Plan asks the taskserv what Install would do (through an
// execution channel to the server), Apply installs or removes it, Read runs its health check. The
// channel to a server is built from the server's state by an exec function; Servers is the one prov
// uses: local exec for the local provider's local_server, SSH (package sshexec) for every other server.
// Order applies what taskservs declare about each other (dependencies, conflicts) to the installs of a
// server.
package taskserv

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/plugins"
)

// ResourceType is the type of every taskserv install.
const ResourceType = "taskserv"

// ProviderPrefix starts the provider name of a taskserv: "taskserv:containerd".
const ProviderPrefix = "taskserv:"

// Name returns the taskserv a provider name stands for: "containerd" for "taskserv:containerd".
func Name(provider string) (string, bool) {
	name, ok := strings.CutPrefix(provider, ProviderPrefix)
	if !ok {
		return "", false
	}
	return name, true
}

// ExecFunc builds the execution channel to a server from the server's attributes (its state). An
// error says why the server cannot be reached; it is shown to the user as a diagnostic.
type ExecFunc func(server any) (plugins.Exec, error)

// NewProvider returns a provider that manages installs of ts, reaching servers through exec. Closing
// the provider closes ts.
func NewProvider(ts plugins.Taskserv, exec ExecFunc) plugins.Provider {
	stopCtx, stop := context.WithCancel(context.Background())
	return &provider{ts: ts, exec: exec, stopCtx: stopCtx, stop: stop}
}

type provider struct {
	ts   plugins.Taskserv
	exec ExecFunc

	describeOnce sync.Once
	desc         *plugins.TaskservDescription
	describeErr  error

	mu      sync.Mutex
	stopCtx context.Context // cancelled by Stop, then replaced for later operations
	stop    context.CancelFunc

	onClose   func() error // releases what the exec function holds (Servers.Provider)
	closeOnce sync.Once
}

var _ plugins.Provider = (*provider)(nil)

// describe asks the taskserv about itself once.
func (p *provider) describe(ctx context.Context) (*plugins.TaskservDescription, error) {
	p.describeOnce.Do(func() {
		p.desc, p.describeErr = p.ts.Describe(ctx)
		if p.describeErr == nil && p.desc == nil {
			p.describeErr = fmt.Errorf("describe: the taskserv returned nothing")
		}
		if p.describeErr != nil {
			p.describeErr = fmt.Errorf("taskserv: describe: %w", p.describeErr)
		}
	})
	return p.desc, p.describeErr
}

// op derives the context of one operation: it ends when ctx does or when Stop is called.
func (p *provider) op(ctx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	p.mu.Lock()
	stopCtx := p.stopCtx
	p.mu.Unlock()
	unregister := context.AfterFunc(stopCtx, cancel)
	return ctx, func() { unregister(); cancel() }
}

func (p *provider) Schema(ctx context.Context) (*plugins.ProviderSchema, diag.Diagnostics, error) {
	d, err := p.describe(ctx)
	if err != nil {
		return nil, nil, err
	}
	return &plugins.ProviderSchema{
		Name:      ProviderPrefix + d.Name,
		Resources: map[string]*plugins.ResourceSchema{ResourceType: resourceSchema(d)},
	}, nil, nil
}

func resourceSchema(d *plugins.TaskservDescription) *plugins.ResourceSchema {
	str := plugins.Type{Kind: plugins.String}
	dyn := plugins.Type{Kind: plugins.Dynamic}
	desc := fmt.Sprintf("One install of the taskserv %s on one server", d.Name)
	if d.Category != "" {
		desc += " (" + d.Category + ")"
	}
	return &plugins.ResourceSchema{
		Description: desc + ".",
		Attributes: map[string]*plugins.Attribute{
			"name": {Type: str, Required: true, ForceNew: true, Description: "The taskserv's name."},
			"version": {Type: str, Optional: true, Computed: true,
				Description: "The version to install, one of " + strings.Join(d.Versions, ", ") + "; default the newest."},
			"config": {Type: dyn, Optional: true, Description: "The taskserv's configuration."},
			"server": {Type: dyn, Required: true,
				Description: "The target server's state; another server (another id) replaces the install."},
			"state":   {Type: dyn, Computed: true, Description: "What the taskserv recorded of the install."},
			"healthy": {Type: plugins.Type{Kind: plugins.Bool}, Computed: true, Description: "The last health check passed."},
			"steps": {Type: plugins.Type{Kind: plugins.List, Elem: &str}, Computed: true,
				Description: "What the last install did."},
		},
	}
}

func (p *provider) ValidateConfig(ctx context.Context, typ string, config any) (diag.Diagnostics, error) {
	if typ == "" {
		if m, ok := config.(map[string]any); config != nil && (!ok || len(m) > 0) {
			return diag.Diagnostics{diag.Errorf("", "a taskserv takes no provider configuration")}, nil
		}
		return nil, nil
	}
	if typ != ResourceType {
		return diag.Diagnostics{diag.Errorf("", "a taskserv provider has only the resource type %q, not %q", ResourceType, typ)}, nil
	}
	d, err := p.describe(ctx)
	if err != nil {
		return nil, err
	}
	return check(d, config), nil
}

// check reports the mistakes in an install's configuration that need no server to find.
func check(d *plugins.TaskservDescription, config any) diag.Diagnostics {
	m, ok := config.(map[string]any)
	if !ok {
		return diag.Diagnostics{diag.Errorf("", "want a record {name, version, config, server}")}
	}
	var ds diag.Diagnostics
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if _, ok := resourceSchema(d).Attributes[k]; !ok || k == "state" || k == "healthy" || k == "steps" {
			ds = append(ds, diag.Errorf(k, "unknown field %q", k))
		}
	}
	if name, ok := m["name"].(string); ok && name != d.Name {
		ds = append(ds, diag.Errorf("name", "this provider installs the taskserv %s, not %s", d.Name, name))
	} else if _, ok := m["name"]; !ok {
		ds = append(ds, diag.Errorf("", "missing name"))
	}
	if v, ok := m["version"]; ok && !value.IsUnknown(v) {
		s, isStr := v.(string)
		switch {
		case !isStr:
			ds = append(ds, diag.Errorf("version", "want a string"))
		case len(d.Versions) > 0 && !slices.Contains(d.Versions, s):
			ds = append(ds, diag.Errorf("version", "%s has no version %q; available: %s", d.Name, s, strings.Join(d.Versions, ", ")))
		}
	}
	if c, ok := m["config"]; ok && c != nil && !value.IsUnknown(c) {
		cm, isMap := c.(map[string]any)
		if !isMap {
			ds = append(ds, diag.Errorf("config", "want a record"))
		} else if d.Config != nil {
			for _, k := range slices.Sorted(maps.Keys(cm)) {
				if d.Config[k] == nil {
					ds = append(ds, diag.Errorf(value.KeyPath("config", k).String(), "%s has no configuration field %q; it has: %s",
						d.Name, k, strings.Join(slices.Sorted(maps.Keys(d.Config)), ", ")))
				}
			}
			for _, k := range slices.Sorted(maps.Keys(d.Config)) {
				if _, set := cm[k]; d.Config[k].Required && !set {
					ds = append(ds, diag.Errorf("config", "missing %s, which %s requires", k, d.Name))
				}
			}
		}
	}
	if _, ok := m["server"]; !ok {
		ds = append(ds, diag.Errorf("", "missing server"))
	}
	return ds
}

func (p *provider) Configure(_ context.Context, config any) (diag.Diagnostics, error) {
	if m, ok := config.(map[string]any); config != nil && (!ok || len(m) > 0) {
		return diag.Diagnostics{diag.Errorf("", "a taskserv takes no provider configuration")}, nil
	}
	return nil, nil
}

// install is a taskserv resource's attributes, decoded.
type install struct {
	Name    string
	Version any // string, or value.Unknown
	Config  any
	Server  any
	State   any
	Healthy any
	Steps   any
}

func decode(v any) install {
	m, _ := v.(map[string]any)
	in := install{Version: m["version"], Config: m["config"], Server: m["server"], State: m["state"],
		Healthy: m["healthy"], Steps: m["steps"]}
	in.Name, _ = m["name"].(string)
	if in.Config == nil {
		in.Config = map[string]any{}
	}
	return in
}

func (in install) encode() map[string]any {
	return map[string]any{"name": in.Name, "version": in.Version, "config": in.Config, "server": in.Server,
		"state": in.State, "healthy": in.Healthy, "steps": in.Steps}
}

// request is the taskserv request for in; prior is the install's recorded state.
func (in install) request(opID string, prior any) plugins.TaskservRequest {
	v, _ := in.Version.(string)
	return plugins.TaskservRequest{OperationID: opID, Version: v, Config: in.Config, Server: in.Server, Prior: prior}
}

// desired decodes a configuration, the version defaulted to the newest the taskserv has.
func (p *provider) desired(d *plugins.TaskservDescription, config any) install {
	in := decode(config)
	if in.Version == nil && len(d.Versions) > 0 {
		in.Version = newest(d.Versions)
	}
	in.State, in.Healthy, in.Steps = nil, nil, nil
	return in
}

// channel builds the execution channel to server, the problem as a diagnostic at "server".
func (p *provider) channel(server any) (plugins.Exec, diag.Diagnostics) {
	x, err := p.exec(server)
	if err != nil {
		return nil, diag.Diagnostics{diag.Errorf("server", "%v", err)}
	}
	return x, nil
}

func (p *provider) Plan(ctx context.Context, req plugins.PlanRequest) (*plugins.PlanResponse, error) {
	if req.Config == nil {
		return &plugins.PlanResponse{}, nil
	}
	ctx, done := p.op(ctx)
	defer done()
	d, err := p.describe(ctx)
	if err != nil {
		return nil, err
	}
	if ds := check(d, req.Config); ds.HasErrors() {
		return &plugins.PlanResponse{Diagnostics: ds}, nil
	}
	want := p.desired(d, req.Config)
	resp := &plugins.PlanResponse{}
	var prior *install
	if req.Prior != nil {
		in := decode(req.Prior)
		prior = &in
		if !sameServer(prior.Server, want.Server) {
			resp.RequiresReplace = append(resp.RequiresReplace, value.KeyPath("server"))
		}
		if prior.Name != want.Name {
			resp.RequiresReplace = append(resp.RequiresReplace, value.KeyPath("name"))
		}
	}
	if len(resp.RequiresReplace) > 0 {
		prior = nil // planned as a new install on the new server
	}
	// Before the server exists, or while the configuration waits on other resources, the taskserv
	// cannot be asked: the install is planned, what it records known after apply.
	if value.HasUnknown(want.Server) || value.HasUnknown(want.Config) || value.IsUnknown(want.Version) {
		// A server that will not be reachable is refused now rather than after it is made.
		if m, ok := want.Server.(map[string]any); ok && !value.IsUnknown(m["transport"]) {
			if _, ds := p.channel(want.Server); ds.HasErrors() {
				resp.Diagnostics = ds
				return resp, nil
			}
		}
		want.State, want.Healthy, want.Steps = value.Unknown, value.Unknown, value.Unknown
		resp.Planned = want.encode()
		resp.Sensitive = sensitive(d, resp.Planned)
		return resp, nil
	}
	x, ds := p.channel(want.Server)
	if ds.HasErrors() {
		resp.Diagnostics = ds
		return resp, nil
	}
	var priorState any
	if prior != nil {
		priorState = prior.State
	}
	tp, err := p.ts.Plan(ctx, want.request("", priorState), x)
	if err != nil {
		return nil, fmt.Errorf("taskserv %s: plan: %w", d.Name, err)
	}
	resp.Diagnostics = tp.Diagnostics
	if tp.Diagnostics.HasErrors() {
		return resp, nil
	}
	switch {
	case prior != nil && !tp.Changed && prior.Healthy == true:
		want.State, want.Healthy, want.Steps = prior.State, prior.Healthy, prior.Steps
	case prior != nil && !tp.Changed:
		// It failed its last health check: installed again, by the same steps as last time. The
		// walker plans again from the state it holds, which may predate the check, and finds the
		// same steps there.
		want.State, want.Healthy, want.Steps = value.Unknown, value.Unknown, prior.Steps
	default:
		want.State, want.Healthy = value.Unknown, value.Unknown
		steps := tp.Steps
		if len(steps) == 0 {
			steps = []string{fmt.Sprintf("install %s %s", d.Name, want.Version)}
		}
		want.Steps = stringsToAny(steps)
	}
	resp.Planned = want.encode()
	resp.Sensitive = sensitive(d, resp.Planned)
	return resp, nil
}

// sensitive lists the paths of v (an install's attributes) that hold configuration the taskserv
// declares sensitive (a token, a password): in the configuration and in what the install recorded.
func sensitive(d *plugins.TaskservDescription, v any) []value.Path {
	m, _ := v.(map[string]any)
	var out []value.Path
	for _, k := range slices.Sorted(maps.Keys(d.Config)) {
		if !d.Config[k].Sensitive {
			continue
		}
		if c, _ := m["config"].(map[string]any); c != nil {
			if _, ok := c[k]; ok {
				out = append(out, value.KeyPath("config", k))
			}
		}
		if st, _ := m["state"].(map[string]any); st != nil {
			if c, _ := st["config"].(map[string]any); c != nil {
				if _, ok := c[k]; ok {
					out = append(out, value.KeyPath("state", "config", k))
				}
			}
		}
	}
	return out
}

func (p *provider) Apply(ctx context.Context, req plugins.ApplyRequest, progress func(plugins.Progress)) (*plugins.ApplyResponse, error) {
	ctx, done := p.op(ctx)
	defer done()
	d, err := p.describe(ctx)
	if err != nil {
		return nil, err
	}
	if req.Planned == nil {
		return p.remove(ctx, d, req)
	}
	want := p.desired(d, req.Config)
	var prior *install
	var priorState any
	if req.Prior != nil {
		in := decode(req.Prior)
		prior, priorState = &in, in.State
	}
	// Every update installs, even one the plan shows as only the server's attributes changing: the
	// walker plans again from the state it holds, which may predate a failed health check, and
	// installing is safe to repeat.
	x, ds := p.channel(want.Server)
	if ds.HasErrors() {
		return &plugins.ApplyResponse{New: req.Prior, Diagnostics: ds}, nil
	}
	if progress == nil {
		progress = func(plugins.Progress) {}
	}
	res, err := p.ts.Install(ctx, want.request(req.OperationID, priorState), x, progress)
	if err != nil {
		return nil, fmt.Errorf("taskserv %s: install: %w", d.Name, err)
	}
	resp := &plugins.ApplyResponse{Diagnostics: res.Diagnostics}
	if res.Diagnostics.HasErrors() {
		// What exists is what existed before, as the taskserv recorded it.
		if prior != nil {
			prior.State = res.State
			resp.New = prior.encode()
			resp.Sensitive = sensitive(d, resp.New)
		}
		return resp, nil
	}
	want.State, want.Healthy = res.State, res.Healthy
	if steps, ok := decode(req.Planned).Steps.([]any); ok {
		want.Steps = steps
	} else {
		want.Steps = stringsToAny([]string{fmt.Sprintf("install %s %s", d.Name, want.Version)})
	}
	if !res.Healthy {
		resp.Diagnostics = append(resp.Diagnostics, unhealthy(d.Name, res.Output))
	}
	resp.New = want.encode()
	resp.Sensitive = sensitive(d, resp.New)
	return resp, nil
}

func (p *provider) remove(ctx context.Context, d *plugins.TaskservDescription, req plugins.ApplyRequest) (*plugins.ApplyResponse, error) {
	prior := decode(req.Prior)
	x, ds := p.channel(prior.Server)
	if ds.HasErrors() {
		return &plugins.ApplyResponse{New: req.Prior, Diagnostics: ds}, nil
	}
	res, err := p.ts.Remove(ctx, prior.request(req.OperationID, prior.State), x)
	if err != nil {
		return nil, fmt.Errorf("taskserv %s: remove: %w", d.Name, err)
	}
	if res.Diagnostics.HasErrors() {
		return &plugins.ApplyResponse{New: req.Prior, Diagnostics: res.Diagnostics}, nil
	}
	return &plugins.ApplyResponse{Diagnostics: res.Diagnostics}, nil
}

// Read runs the taskserv's health check. An install the taskserv no longer finds (no state) is gone;
// an unhealthy one stays, marked unhealthy, and the next plan reinstalls it.
func (p *provider) Read(ctx context.Context, req plugins.ReadRequest) (*plugins.ReadResponse, error) {
	if req.Current == nil {
		// Settling an install in doubt: Install is safe to run again, so report it as not done.
		return &plugins.ReadResponse{}, nil
	}
	ctx, done := p.op(ctx)
	defer done()
	d, err := p.describe(ctx)
	if err != nil {
		return nil, err
	}
	cur := decode(req.Current)
	x, ds := p.channel(cur.Server)
	if ds.HasErrors() {
		return &plugins.ReadResponse{New: req.Current, Diagnostics: ds}, nil
	}
	res, err := p.ts.Check(ctx, cur.request(req.OperationID, cur.State), x)
	if err != nil {
		return nil, fmt.Errorf("taskserv %s: check: %w", d.Name, err)
	}
	resp := &plugins.ReadResponse{Diagnostics: res.Diagnostics}
	if res.Diagnostics.HasErrors() {
		resp.New = req.Current
		return resp, nil
	}
	if res.State == nil {
		return resp, nil
	}
	cur.State, cur.Healthy = res.State, res.Healthy
	if !res.Healthy {
		resp.Diagnostics = append(resp.Diagnostics, unhealthy(d.Name, res.Output))
	}
	resp.New = cur.encode()
	resp.Sensitive = sensitive(d, resp.New)
	return resp, nil
}

func (p *provider) Import(_ context.Context, req plugins.ImportRequest) (*plugins.ImportResponse, error) {
	d := diag.Errorf("", "taskserv installs cannot be imported")
	d.Detail = "A taskserv is installed by prov: list it in the server's taskservs and apply; installing " +
		"is safe to repeat over what is already there."
	return &plugins.ImportResponse{Diagnostics: diag.Diagnostics{d}}, nil
}

// Stop ends the operations in flight; later ones run as usual.
func (p *provider) Stop(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stop()
	p.stopCtx, p.stop = context.WithCancel(context.Background())
	return nil
}

func (p *provider) Close() error {
	p.mu.Lock()
	p.stop()
	p.mu.Unlock()
	err := p.ts.Close()
	p.closeOnce.Do(func() {
		if p.onClose != nil {
			if cerr := p.onClose(); err == nil {
				err = cerr
			}
		}
	})
	return err
}

func unhealthy(name, output string) diag.Diagnostic {
	d := diag.Warnf("healthy", "taskserv %s is not healthy", name)
	d.Detail = strings.TrimSpace(output)
	if d.Detail != "" {
		d.Detail += "\n"
	}
	d.Detail += "The next plan reinstalls it."
	return d
}

// sameServer reports whether a and b are the same server: the same id when both have one, else equal.
func sameServer(a, b any) bool {
	am, _ := a.(map[string]any)
	bm, _ := b.(map[string]any)
	if aid, ok := am["id"]; ok {
		if bid, ok := bm["id"]; ok {
			return !value.IsUnknown(bid) && value.Equal(aid, bid)
		}
	}
	return value.Equal(a, b)
}

// newest returns the highest of versions, comparing dot-separated parts numerically where both are
// numbers ("1.10.0" > "1.9.2").
func newest(versions []string) string {
	return slices.MaxFunc(versions, compareVersions)
}

func compareVersions(a, b string) int {
	as, bs := strings.Split(strings.TrimPrefix(a, "v"), "."), strings.Split(strings.TrimPrefix(b, "v"), ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, errx := strconv.Atoi(as[i])
		y, erry := strconv.Atoi(bs[i])
		c := strings.Compare(as[i], bs[i])
		if errx == nil && erry == nil {
			c = x - y
		}
		if c != 0 {
			return c
		}
	}
	return len(as) - len(bs)
}

func stringsToAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
