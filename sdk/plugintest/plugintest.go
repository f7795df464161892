// Package plugintest tests a plugin written with the sdk package through the real plugin protocol:
// protobuf encoding, gRPC and go-plugin, inside the test process. Harness calls one provider operation
// at a time and returns plain results; Test runs a resource through a sequence of configurations the
// way prov plan and apply would (plan, apply, refresh, and a second plan that must be empty), then
// destroys it.
//
//	func TestGreeting(t *testing.T) {
//		plugintest.Test(t, plugintest.Case{
//			Provider: hello.New(),
//			Type:     "hello_greeting",
//			Steps: []plugintest.Step{
//				{Config: map[string]any{"name": "world"}, Action: plugintest.Create,
//					Check: plugintest.Attr("text", "Hello, world!")},
//				{Config: map[string]any{"name": "prov"}, Action: plugintest.Replace},
//			},
//		})
//	}
package plugintest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/protocol"
	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/sdk"
)

// Action is what a plan does to a resource.
type Action string

// The actions a Plan reports.
const (
	NoOp    Action = "no-op"
	Create  Action = "create"
	Update  Action = "update"
	Replace Action = "replace"
	Delete  Action = "delete"
)

// Harness is a provider served through the real protocol for one test. Its methods fail the test on a
// transport error; the plugin's diagnostics are returned, rendered one per string.
type Harness struct {
	t      testing.TB
	client plugins.Provider
	ops    atomic.Int64
}

// New serves p through gRPC for the duration of t and configures it with config (nil for none). A
// configuration the provider rejects fails the test.
func New(t testing.TB, p *sdk.Provider, config map[string]any) *Harness {
	t.Helper()
	h := &Harness{t: t, client: protocol.ServeTestProvider(t, sdk.NewProviderServer(p))}
	if config == nil {
		config = map[string]any{}
	}
	ds, err := h.client.Configure(context.Background(), config)
	if err != nil {
		t.Fatalf("plugintest: configure %s: %v", p.Name, err)
	}
	if ds.HasErrors() {
		t.Fatalf("plugintest: configure %s:\n%s", p.Name, ds)
	}
	return h
}

// Client returns the gRPC client, for calls the harness has no helper for.
func (h *Harness) Client() plugins.Provider { return h.client }

// Schema returns the provider's schema as the host sees it.
func (h *Harness) Schema() *plugins.ProviderSchema {
	h.t.Helper()
	s, _, err := h.client.Schema(context.Background())
	if err != nil {
		h.t.Fatalf("plugintest: schema: %v", err)
	}
	return s
}

// Validate checks config for resource type typ ("" for the provider's configuration) and returns the
// diagnostics, e.g. "error: ingress[0].port: expected a number, got string".
func (h *Harness) Validate(typ string, config any) []string {
	h.t.Helper()
	ds, err := h.client.ValidateConfig(context.Background(), typ, config)
	if err != nil {
		h.t.Fatalf("plugintest: validate %s: %v", typ, err)
	}
	return render(ds)
}

// Plan is the outcome of planning one resource.
type Plan struct {
	Action Action
	// Planned is the planned state; values known only after apply are sdk.Unknown.
	Planned         map[string]any
	RequiresReplace []string
	Sensitive       []string
	Diagnostics     []string

	prior, config map[string]any
	typ           string
}

// Plan plans resource type typ from prior (nil: it does not exist yet) to config (nil: delete it).
func (h *Harness) Plan(typ string, prior, config map[string]any) *Plan {
	h.t.Helper()
	resp, err := h.client.Plan(context.Background(), plugins.PlanRequest{Type: typ, Prior: orNil(prior), Config: orNil(config)})
	if err != nil {
		h.t.Fatalf("plugintest: plan %s: %v", typ, err)
	}
	planned, _ := resp.Planned.(map[string]any)
	p := &Plan{Planned: planned, RequiresReplace: pathStrings(resp.RequiresReplace), Sensitive: pathStrings(resp.Sensitive),
		Diagnostics: render(resp.Diagnostics), prior: prior, config: config, typ: typ}
	switch {
	case config == nil && prior == nil:
		p.Action = NoOp
	case config == nil:
		p.Action = Delete
	case prior == nil:
		p.Action = Create
	case len(resp.RequiresReplace) > 0:
		p.Action = Replace
	case !value.Equal(any(prior), any(planned)):
		p.Action = Update
	default:
		p.Action = NoOp
	}
	return p
}

// Result is the outcome of applying a plan: the new state (nil when the resource is gone).
type Result struct {
	State       map[string]any
	Sensitive   []string
	Diagnostics []string
	Progress    []string
}

// Apply makes plan real as prov would: a replace is a delete and then a create, each with its own
// operation id. A plan with error diagnostics fails the test.
func (h *Harness) Apply(plan *Plan) *Result {
	h.t.Helper()
	if len(plan.Diagnostics) > 0 && hasError(plan.Diagnostics) {
		h.t.Fatalf("plugintest: apply %s: the plan has errors:\n%v", plan.typ, plan.Diagnostics)
	}
	switch plan.Action {
	case NoOp:
		return &Result{State: plan.prior}
	case Replace:
		gone := h.ApplyOp(h.nextOp(), plan.typ, plan.prior, nil, nil)
		if hasError(gone.Diagnostics) {
			return gone
		}
		create := h.Plan(plan.typ, nil, plan.config)
		if hasError(create.Diagnostics) {
			return &Result{Diagnostics: create.Diagnostics}
		}
		return h.ApplyOp(h.nextOp(), plan.typ, nil, create.Planned, plan.config)
	case Delete:
		return h.ApplyOp(h.nextOp(), plan.typ, plan.prior, nil, nil)
	}
	return h.ApplyOp(h.nextOp(), plan.typ, plan.prior, plan.Planned, plan.config)
}

// ApplyOp calls Apply once with the given operation id, for tests of retries and idempotency.
func (h *Harness) ApplyOp(opID, typ string, prior, planned, config map[string]any) *Result {
	h.t.Helper()
	r := &Result{}
	resp, err := h.client.Apply(context.Background(), plugins.ApplyRequest{Type: typ, OperationID: opID,
		Prior: orNil(prior), Planned: orNil(planned), Config: orNil(config)}, func(p plugins.Progress) {
		r.Progress = append(r.Progress, p.Message)
	})
	if err != nil {
		h.t.Fatalf("plugintest: apply %s: %v", typ, err)
	}
	r.State, _ = resp.New.(map[string]any)
	r.Sensitive = pathStrings(resp.Sensitive)
	r.Diagnostics = render(resp.Diagnostics)
	return r
}

// Read refreshes state from the real object; nil means it no longer exists.
func (h *Harness) Read(typ string, state map[string]any) (map[string]any, []string) {
	return h.read(typ, state, "")
}

// Settle asks the provider whether the operation opID, whose outcome is in doubt, happened; the state
// is nil when it did not.
func (h *Harness) Settle(typ, opID string) (map[string]any, []string) {
	return h.read(typ, nil, opID)
}

func (h *Harness) read(typ string, state map[string]any, opID string) (map[string]any, []string) {
	h.t.Helper()
	resp, err := h.client.Read(context.Background(), plugins.ReadRequest{Type: typ, Current: orNil(state), OperationID: opID})
	if err != nil {
		h.t.Fatalf("plugintest: read %s: %v", typ, err)
	}
	m, _ := resp.New.(map[string]any)
	return m, render(resp.Diagnostics)
}

// Import imports the object with the given id.
func (h *Harness) Import(typ, id string) (map[string]any, []string) {
	h.t.Helper()
	resp, err := h.client.Import(context.Background(), plugins.ImportRequest{Type: typ, ID: id})
	if err != nil {
		h.t.Fatalf("plugintest: import %s: %v", typ, err)
	}
	m, _ := resp.State.(map[string]any)
	return m, render(resp.Diagnostics)
}

func (h *Harness) nextOp() string { return fmt.Sprintf("plugintest-op-%d", h.ops.Add(1)) }

func orNil(m map[string]any) any {
	if m == nil {
		return nil
	}
	return m
}

func render(ds diag.Diagnostics) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.String())
	}
	return out
}

func pathStrings(ps []value.Path) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

func hasError(ds []string) bool {
	return slices.ContainsFunc(ds, func(s string) bool { return strings.HasPrefix(s, "error: ") })
}

// diffKeys lists the attributes whose values differ between a and b.
func diffKeys(a, b map[string]any) []string {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		if !value.Equal(a[k], b[k]) {
			out = append(out, fmt.Sprintf("%s: %v → %v", k, a[k], b[k]))
		}
	}
	return out
}
