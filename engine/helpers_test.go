package engine

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/plan"
	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/plugins/pluginfake"
	"github.com/provhq/prov/state"
	"github.com/provhq/prov/state/local"
)

// fakeProvider is the in-memory cloud the tests apply to.
func fakeProvider() *pluginfake.Provider {
	return pluginfake.New("fake", map[string]*plugins.ResourceSchema{
		"fake_thing": {Attributes: map[string]*plugins.Attribute{
			"name":  pluginfake.Attr("required"),
			"value": pluginfake.Attr("optional"),
			"zone":  pluginfake.Attr("optional", "force_new"),
			"ip":    pluginfake.Attr("computed"),
		}},
	})
}

// fixture is an engine over a real local backend in a temporary directory and one fake provider.
type fixture struct {
	t       testing.TB
	dir     string
	backend *local.Backend
	fake    *pluginfake.Provider
	engine  *Engine
	events  *eventLog
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{t: t, dir: dir, backend: local.New(dir, local.Options{}), fake: fakeProvider(), events: &eventLog{}}
	f.engine = f.newEngine()
	return f
}

// newEngine returns an engine as a new process would make it: a new backend on the same directory.
func (f *fixture) newEngine() *Engine {
	return &Engine{
		Providers: plan.Providers{"fake": f.fake},
		Backend:   local.New(f.dir, local.Options{}),
		Hooks:     f.events.hooks(),
	}
}

// seed writes a prior state whose resources exist in the fake cloud, and returns it.
func (f *fixture) seed(resources map[string]*state.Resource) *state.State {
	f.t.Helper()
	s := state.New()
	for addr, r := range resources {
		f.fake.Put(r.Attributes.(map[string]any))
		s.SetResource(addr, r)
	}
	s.NextSerial()
	if err := f.backend.Write(context.Background(), s); err != nil {
		f.t.Fatal(err)
	}
	return f.read()
}

func (f *fixture) read() *state.State {
	f.t.Helper()
	s, err := f.backend.Read(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// thing is a fake_thing resource in the state.
func thing(id, name, val string, deps ...string) *state.Resource {
	cfg := map[string]any{"name": name, "value": val}
	attrs := map[string]any{"id": id, "name": name, "value": val, "ip": "ip-of-" + id}
	return &state.Resource{Type: "fake_thing", Provider: "fake", Config: cfg, Attributes: attrs, Dependencies: deps}
}

// mkPlan is a plan against prior with the given changes.
func mkPlan(prior *state.State, changes ...*plan.Change) *plan.Plan {
	p := &plan.Plan{FormatVersion: plan.FormatVersion, Lineage: prior.Lineage, Serial: prior.Serial,
		Changes: map[string]*plan.Change{}, Outputs: map[string]*plan.OutputChange{}}
	for _, c := range changes {
		if c.Type == "" {
			c.Type, c.Provider = "fake_thing", "fake"
		}
		p.Changes[c.Addr] = c
	}
	return p
}

func create(addr string, config map[string]any, deps ...string) *plan.Change {
	return &plan.Change{Addr: addr, Action: plan.Create, Config: config, After: value.Unknown, DependsOn: deps}
}

func update(addr string, config map[string]any, deps ...string) *plan.Change {
	return &plan.Change{Addr: addr, Action: plan.Update, Config: config, After: value.Unknown, DependsOn: deps}
}

func remove(addr string, deps ...string) *plan.Change {
	return &plan.Change{Addr: addr, Action: plan.Delete, DependsOn: deps}
}

func noop(addr string, deps ...string) *plan.Change {
	return &plan.Change{Addr: addr, Action: plan.NoOp, DependsOn: deps}
}

func cfg(name string, kv ...string) map[string]any {
	m := map[string]any{"name": name}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// eventLog records hook events in order.
type eventLog struct {
	mu     sync.Mutex
	events []string
	skips  [][]string
	phases []string
}

func (l *eventLog) add(s string) {
	l.mu.Lock()
	l.events = append(l.events, s)
	l.mu.Unlock()
}

func (l *eventLog) hooks() Hooks {
	return HookFuncs{
		Start:    func(addr string, a plan.Action) { l.add("start " + addr) },
		Complete: func(addr string, a plan.Action, _ time.Duration, _ *state.Resource) { l.add("done " + addr) },
		Error:    func(addr string, a plan.Action, _ time.Duration, _ diag.Diagnostics) { l.add("fail " + addr) },
		Skip: func(addrs []string, cause string) {
			l.mu.Lock()
			l.skips = append(l.skips, addrs)
			l.mu.Unlock()
		},
		Phase: func(p Phase, msg string) {
			l.mu.Lock()
			l.phases = append(l.phases, string(p)+": "+msg)
			l.mu.Unlock()
		},
	}
}

func (l *eventLog) index(ev string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, e := range l.events {
		if e == ev {
			return i
		}
	}
	return -1
}

// resourceNames maps each address of s to its name attribute.
func resourceNames(s *state.State) map[string]string {
	out := map[string]string{}
	for addr, r := range s.Resources {
		out[addr], _ = r.Attributes.(map[string]any)["name"].(string)
	}
	return out
}

// objectNames lists the names of the objects in the fake cloud, sorted, with repeats.
func objectNames(p *pluginfake.Provider) map[string]int {
	out := map[string]int{}
	for _, o := range p.Objects() {
		name, _ := o.(map[string]any)["name"].(string)
		out[name]++
	}
	return out
}

// applyCalls records the provider's Apply requests.
type applyCalls struct {
	mu   sync.Mutex
	reqs []plugins.ApplyRequest
}

func (a *applyCalls) add(req plugins.ApplyRequest) {
	a.mu.Lock()
	a.reqs = append(a.reqs, req)
	a.mu.Unlock()
}

// kinds lists each request as "create NAME", "update NAME" or "delete NAME".
func (a *applyCalls) kinds() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, r := range a.reqs {
		switch {
		case r.Planned == nil:
			out = append(out, "delete "+r.Prior.(map[string]any)["name"].(string))
		case r.Prior == nil:
			out = append(out, "create "+r.Config.(map[string]any)["name"].(string))
		default:
			out = append(out, "update "+r.Config.(map[string]any)["name"].(string))
		}
	}
	return out
}
