package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/plan"
	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/state"
)

func TestApplyOrder(t *testing.T) {
	f := newFixture(t)
	prior := f.seed(map[string]*state.Resource{
		"x": thing("x1", "x", ""),
		"y": thing("y1", "y", "", "x"),
		"z": thing("z1", "z", "old"),
		"k": thing("k1", "k", ""),
	})
	p := mkPlan(prior,
		create("a", cfg("a")),
		create("b", cfg("b", "value", "${a.id}"), "a"),
		create("c", cfg("c", "value", "${b.value}-c"), "b"),
		remove("x"),
		remove("y", "x"),
		update("z", cfg("z", "value", "new")),
		noop("k"),
	)
	p.Outputs["c_value"] = &plan.OutputChange{Name: "c_value", Action: plan.Create, Value: "${c.value}", After: value.Unknown}
	res, err := f.engine.Apply(context.Background(), p, prior)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([3]int{3, 1, 2}, [3]int{res.Added, res.Changed, res.Destroyed}); diff != "" {
		t.Errorf("added, changed, destroyed (-want +got):\n%s", diff)
	}
	for _, tt := range []struct{ before, after string }{
		{"done a", "start b"},
		{"done b", "start c"},
		{"done y", "start x"}, // deletes in reverse dependency order
	} {
		t.Run(tt.before+" < "+tt.after, func(t *testing.T) {
			if b, a := f.events.index(tt.before), f.events.index(tt.after); b < 0 || a < 0 || b > a {
				t.Errorf("%q at %d, %q at %d; events: %v", tt.before, b, tt.after, a, f.events.events)
			}
		})
	}
	got := f.read()
	if got.Serial != prior.Serial+1 || got.Lineage != prior.Lineage {
		t.Errorf("state serial %d lineage %s, want %d %s", got.Serial, got.Lineage, prior.Serial+1, prior.Lineage)
	}
	if diff := cmp.Diff(map[string]string{"a": "a", "b": "b", "c": "c", "z": "z", "k": "k"}, resourceNames(got)); diff != "" {
		t.Errorf("state resources (-want +got):\n%s", diff)
	}
	aID := got.Resources["a"].Attributes.(map[string]any)["id"]
	wantB := map[string]any{"name": "b", "value": aID}
	if diff := cmp.Diff(wantB, got.Resources["b"].Config); diff != "" {
		t.Errorf("b's config is resolved against a (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&state.Output{Value: fmt.Sprint(aID, "-c")}, got.Outputs["c_value"]); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"a": 1, "b": 1, "c": 1, "z": 1, "k": 1}, objectNames(f.fake)); diff != "" {
		t.Errorf("objects in the cloud (-want +got):\n%s", diff)
	}
	if got.Resources["z"].Attributes.(map[string]any)["value"] != "new" {
		t.Errorf("z not updated: %v", got.Resources["z"].Attributes)
	}
	if in, err := Pending(context.Background(), f.backend); err != nil || in != nil {
		t.Errorf("Pending after apply = %v, %v; want no journal", in, err)
	}
}

func TestReplace(t *testing.T) {
	tests := []struct {
		action plan.Action
		want   []string
	}{
		{plan.DeleteThenCreate, []string{"delete r", "create r"}},
		{plan.CreateThenDelete, []string{"create r", "delete r"}},
	}
	for _, tt := range tests {
		t.Run(tt.action.String(), func(t *testing.T) {
			f := newFixture(t)
			prior := f.seed(map[string]*state.Resource{"r": thing("r1", "r", "")})
			var calls applyCalls
			f.fake.ApplyFunc = func(ctx context.Context, req plugins.ApplyRequest, progress func(plugins.Progress)) (*plugins.ApplyResponse, error) {
				calls.add(req)
				return f.fake.Default().Apply(ctx, req, progress)
			}
			c := create("r", cfg("r", "zone", "b"))
			c.Action = tt.action
			res, err := f.engine.Apply(context.Background(), mkPlan(prior, c), prior)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, calls.kinds()); diff != "" {
				t.Errorf("provider calls (-want +got):\n%s", diff)
			}
			if res.Added != 1 || res.Destroyed != 1 {
				t.Errorf("added %d destroyed %d, want 1 and 1", res.Added, res.Destroyed)
			}
			got := f.read().Resources["r"]
			if id := got.Attributes.(map[string]any)["id"]; id == "r1" || id == nil {
				t.Errorf("r not replaced: id %v", id)
			}
			if diff := cmp.Diff(map[string]int{"r": 1}, objectNames(f.fake)); diff != "" {
				t.Errorf("objects in the cloud (-want +got):\n%s", diff)
			}
		})
	}
}

// failOn makes the fake fail the creates of the named objects.
func failOn(f *fixture, names ...string) {
	f.fake.ApplyFunc = func(ctx context.Context, req plugins.ApplyRequest, progress func(plugins.Progress)) (*plugins.ApplyResponse, error) {
		if cfg, ok := req.Config.(map[string]any); ok {
			for _, n := range names {
				if cfg["name"] == n {
					return &plugins.ApplyResponse{Diagnostics: diag.Diagnostics{diag.Errorf("name", "quota exceeded")}}, nil
				}
			}
		}
		return f.fake.Default().Apply(ctx, req, progress)
	}
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name           string
		failFast       bool
		wantSkipped    []string
		wantNotStarted []string
		wantState      map[string]string
	}{
		{
			name:        "dependents skipped once, independent branches go on",
			wantSkipped: []string{"b", "c", "e"},
			wantState:   map[string]string{"d": "d"},
		},
		{
			name:           "fail-fast starts nothing after the failure",
			failFast:       true,
			wantSkipped:    []string{"b", "c", "e"},
			wantNotStarted: []string{"d"},
			wantState:      map[string]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			failOn(f, "a")
			f.engine.FailFast = tt.failFast
			f.engine.Parallelism = 1 // a runs first (address order), then the rest
			prior := f.read()
			p := mkPlan(prior,
				create("a", cfg("a")),
				create("b", cfg("b"), "a"),
				create("c", cfg("c"), "b"),
				create("e", cfg("e"), "a", "b"),
				create("d", cfg("d")),
			)
			res, err := f.engine.Apply(context.Background(), p, prior)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Failures) != 1 || res.Failures[0].Addr != "a" || !strings.Contains(res.Failures[0].Diagnostics.String(), "quota exceeded") {
				t.Errorf("failures = %+v, want a: quota exceeded", res.Failures)
			}
			if diff := cmp.Diff(tt.wantSkipped, res.Skipped); diff != "" {
				t.Errorf("skipped (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantNotStarted, res.NotStarted); diff != "" {
				t.Errorf("not started (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([][]string{tt.wantSkipped}, f.events.skips[:1]); diff != "" {
				t.Errorf("OnSkip calls (-want +got):\n%s", diff)
			}
			var skipDiags int
			for _, d := range res.Diagnostics {
				if strings.Contains(d.Summary, "because a failed") {
					skipDiags++
				}
			}
			if skipDiags != 1 {
				t.Errorf("%d diagnostics about the skipped changes, want 1: %v", skipDiags, res.Diagnostics)
			}
			if diff := cmp.Diff(tt.wantState, resourceNames(f.read())); diff != "" {
				t.Errorf("state (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParallelismLimits(t *testing.T) {
	tests := []struct {
		name          string
		parallelism   int
		concurrency   int // the provider's schema hint
		providerLimit int // config
		want          int
	}{
		{name: "global", parallelism: 4, want: 4},
		{name: "provider hint", parallelism: 10, concurrency: 3, want: 3},
		{name: "config lowers the hint", parallelism: 10, concurrency: 5, providerLimit: 2, want: 2},
		{name: "config cannot raise the hint", parallelism: 10, concurrency: 3, providerLimit: 8, want: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.engine.Parallelism = tt.parallelism
			f.engine.ProviderLimits = map[string]int{"fake": tt.providerLimit}
			f.fake.SchemaFunc = func(ctx context.Context) (*plugins.ProviderSchema, diag.Diagnostics, error) {
				s, ds, err := f.fake.Default().Schema(ctx)
				s.Concurrency = tt.concurrency
				return s, ds, err
			}
			var now, most atomic.Int64
			f.fake.ApplyFunc = func(ctx context.Context, req plugins.ApplyRequest, progress func(plugins.Progress)) (*plugins.ApplyResponse, error) {
				n := now.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				time.Sleep(3 * time.Millisecond)
				now.Add(-1)
				return f.fake.Default().Apply(ctx, req, progress)
			}
			prior := f.read()
			var changes []*plan.Change
			for i := range 40 {
				changes = append(changes, create(fmt.Sprintf("r%02d", i), cfg(fmt.Sprint(i))))
			}
			res, err := f.engine.Apply(context.Background(), mkPlan(prior, changes...), prior)
			if err != nil {
				t.Fatal(err)
			}
			if res.Added != 40 {
				t.Errorf("added %d, want 40", res.Added)
			}
			if got := int(most.Load()); got != tt.want {
				t.Errorf("most operations in flight = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestCancel(t *testing.T) {
	f := newFixture(t)
	f.engine.Parallelism = 2
	started := make(chan struct{}, 100)
	proceed := make(chan struct{})
	f.fake.ApplyFunc = func(ctx context.Context, req plugins.ApplyRequest, progress func(plugins.Progress)) (*plugins.ApplyResponse, error) {
		started <- struct{}{}
		<-proceed
		return f.fake.Default().Apply(ctx, req, progress)
	}
	prior := f.read()
	var changes []*plan.Change
	for i := range 20 {
		changes = append(changes, create(fmt.Sprintf("r%02d", i), cfg(fmt.Sprint(i))))
	}
	ctx, cancel := context.WithCancel(context.Background())
	var res *Result
	var err error
	var wg sync.WaitGroup
	wg.Go(func() { res, err = f.engine.Apply(ctx, mkPlan(prior, changes...), prior) })
	<-started
	<-started
	cancel() // Ctrl-C: the two in flight finish, nothing else starts
	time.Sleep(20 * time.Millisecond)
	close(proceed)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted || res.Added != 2 || len(res.NotStarted) != 18 {
		t.Errorf("interrupted %v, added %d, not started %d; want true, 2, 18", res.Interrupted, res.Added, len(res.NotStarted))
	}
	if n := len(f.read().Resources); n != 2 {
		t.Errorf("state has %d resources, want the 2 applied", n)
	}
	if in, _ := Pending(context.Background(), f.backend); in != nil {
		t.Errorf("journal left after an interrupted apply: %+v", in)
	}
}

func TestHardCancel(t *testing.T) {
	f := newFixture(t)
	hard, hardCancel := context.WithCancel(context.Background())
	f.engine.Hard = hard
	inFlight := make(chan struct{})
	f.fake.ApplyFunc = func(ctx context.Context, req plugins.ApplyRequest, progress func(plugins.Progress)) (*plugins.ApplyResponse, error) {
		close(inFlight)
		<-ctx.Done()
		return nil, ctx.Err()
	}
	prior := f.read()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-inFlight
		cancel()
		hardCancel()
	}()
	res, err := f.engine.Apply(ctx, mkPlan(prior, create("a", cfg("a")), create("b", cfg("b"), "a")), prior)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted || len(res.Failures) != 1 || res.Failures[0].Addr != "a" {
		t.Errorf("interrupted %v failures %+v; want the in-flight a cancelled", res.Interrupted, res.Failures)
	}
	if f.fake.Calls("Stop") == 0 {
		t.Errorf("provider Stop not called on hard cancel")
	}
}

// b's value comes from a's id, unknown at plan time: once a exists, b is planned again and the
// provider's answer must agree with every value the saved plan knew.
func TestInconsistentPlan(t *testing.T) {
	f := newFixture(t)
	prior := f.read()
	a := create("a", cfg("a"))
	b := create("b", cfg("b", "value", "${a.id}"), "a")
	b.After = map[string]any{"name": "b", "value": "x", "id": value.Unknown, "ip": value.Unknown}
	res, err := f.engine.Apply(context.Background(), mkPlan(prior, a, b), prior)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failures) != 1 {
		t.Fatalf("failures = %+v, want one", res.Failures)
	}
	d := res.Failures[0].Diagnostics[0]
	if d.Summary != "provider produced an inconsistent plan" || d.Path != "value" || d.Address != "b" {
		t.Errorf("diagnostic = %+v", d)
	}
	if got := f.fake.Calls("Apply"); got != 1 {
		t.Errorf("Apply called %d times, want once (for a only)", got)
	}
}

// A saved plan that knew everything is applied as planned, without asking the provider again; a
// change whose configuration takes a value computed during the walk is planned again, and so is one
// with sensitive values.
func TestReplanOnlyWhatChanged(t *testing.T) {
	f := newFixture(t)
	prior := f.read()
	// planned plans c as the planner would: from its configuration with references resolved against
	// the planned values of its dependencies (asConfig), keeping the references in c.Config.
	planned := func(c *plan.Change, asPlanned map[string]any) *plan.Change {
		pr, err := f.fake.Plan(context.Background(), plugins.PlanRequest{Type: "fake_thing", Config: asPlanned})
		if err != nil || pr.Diagnostics.HasErrors() {
			t.Fatalf("plan %s: %v %v", c.Addr, err, pr.Diagnostics)
		}
		c.After = pr.Planned
		return c
	}
	a := planned(create("a", cfg("a", "value", "v")), cfg("a", "value", "v"))
	b := planned(create("b", cfg("b", "value", "${a.value}"), "a"), cfg("b", "value", "v")) // known at plan time
	c := planned(create("c", cfg("c", "value", "${a.id}"), "a"), map[string]any{"name": "c", "value": value.Unknown})
	d := planned(create("d", cfg("d", "value", "v")), cfg("d", "value", "v"))
	d.AfterSensitive = []value.Path{value.KeyPath("value")} // a saved plan would hold it as unknown
	before := f.fake.Calls("Plan")
	res, err := f.engine.Apply(context.Background(), mkPlan(prior, a, b, c, d), prior)
	if err != nil || len(res.Failures) > 0 {
		t.Fatalf("apply: %v %+v", err, res.Failures)
	}
	if got := f.fake.Calls("Plan") - before; got != 2 {
		t.Errorf("provider Plan called %d times during the apply, want 2 (for c and d)", got)
	}
	if got := f.fake.Calls("Apply"); got != 4 {
		t.Errorf("Apply called %d times, want 4", got)
	}
	st := f.read()
	if got, want := st.Resources["c"].Attributes.(map[string]any)["value"], st.Resources["a"].Attributes.(map[string]any)["id"]; got != want {
		t.Errorf("c.value = %v, want a's id %v", got, want)
	}
}

func TestApplyRefusesInterrupted(t *testing.T) {
	f := newFixture(t)
	prior := f.read()
	jw, err := f.backend.Create(context.Background(), state.Record{Kind: state.Begin, Mode: ModeApply})
	if err != nil {
		t.Fatal(err)
	}
	jw.Append(state.Record{Kind: state.Intent, OpID: "op1", Addr: "a", Action: "create"})
	jw.Close()
	in, err := Pending(context.Background(), f.backend)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&Interrupted{Mode: ModeApply, Started: in.Started, Operations: 1, InDoubt: 1}, in); diff != "" {
		t.Errorf("Pending (-want +got):\n%s", diff)
	}
	_, err = f.engine.Apply(context.Background(), mkPlan(prior, create("a", cfg("a"))), prior)
	if err == nil || !strings.Contains(err.Error(), "run prov apply -resume or prov rollback") {
		t.Errorf("Apply = %v, want the interrupted-apply error", err)
	}
}

// fakeSecrets resolves {"$secret": NAME} to "secret-NAME".
type fakeSecrets struct{}

func (fakeSecrets) Resolve(v any, at string) (any, []value.Path, diag.Diagnostics) {
	var paths []value.Path
	out := v
	value.Walk(v, func(p value.Path, x any) bool {
		if m, ok := x.(map[string]any); ok {
			if name, ok := m["$secret"].(string); ok {
				out, _ = value.Set(out, p, "secret-"+name)
				paths = append(paths, p)
				return false
			}
		}
		return true
	})
	return out, paths, nil
}

func TestSecrets(t *testing.T) {
	f := newFixture(t)
	f.engine.Secrets = fakeSecrets{}
	prior := f.read()
	config := map[string]any{"name": "a", "value": map[string]any{"$secret": "pw"}}
	if _, err := f.engine.Apply(context.Background(), mkPlan(prior, create("a", config)), prior); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"a": 1}, objectNames(f.fake)); diff != "" {
		t.Fatalf("objects (-want +got):\n%s", diff)
	}
	for _, o := range f.fake.Objects() {
		if v := o.(map[string]any)["value"]; v != "secret-pw" {
			t.Errorf("the provider got value %v, want the secret", v)
		}
	}
	got := f.read().Resources["a"]
	if diff := cmp.Diff(config, got.Config); diff != "" {
		t.Errorf("the state keeps the reference, not the secret (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]value.Path{value.KeyPath("value")}, got.Sensitive); diff != "" {
		t.Errorf("sensitive paths (-want +got):\n%s", diff)
	}
}

func TestReplacePlanCheckedBeforeDelete(t *testing.T) {
	f := newFixture(t)
	prior := f.seed(map[string]*state.Resource{"r": thing("r1", "r", "")})
	c := create("r", cfg("r", "zone", "b"))
	c.Action = plan.DeleteThenCreate
	c.After = map[string]any{"name": "r", "zone": "a", "id": value.Unknown, "ip": value.Unknown}
	res, err := f.engine.Apply(context.Background(), mkPlan(prior, c), prior)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failures) != 1 || res.Failures[0].Diagnostics[0].Summary != "provider produced an inconsistent plan" {
		t.Fatalf("failures = %+v, want the inconsistent plan", res.Failures)
	}
	if f.fake.Calls("Apply") != 0 {
		t.Errorf("the object was touched although the replacement's plan no longer holds")
	}
	if diff := cmp.Diff(map[string]string{"r": "r"}, resourceNames(f.read())); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
}

// durableBackend records which commits have been made durable (their Append returned).
type durableBackend struct {
	state.Backend
	mu      sync.Mutex
	durable map[string]bool // addresses with a durable commit
}

func (d *durableBackend) Create(ctx context.Context, begin state.Record) (state.JournalWriter, error) {
	jw, err := d.Backend.Create(ctx, begin)
	return &durableWriter{JournalWriter: jw, d: d}, err
}

type durableWriter struct {
	state.JournalWriter
	d *durableBackend
}

func (w *durableWriter) Append(rec state.Record) error {
	err := w.JournalWriter.Append(rec)
	if err == nil && rec.Kind == state.Commit {
		w.d.mu.Lock()
		w.d.durable[rec.Addr] = true
		w.d.mu.Unlock()
	}
	return err
}

func TestDependentsWaitForDurableCommits(t *testing.T) {
	f := newFixture(t)
	d := &durableBackend{Backend: f.engine.Backend, durable: map[string]bool{}}
	f.engine.Backend, f.engine.Parallelism = d, 20
	prior := f.read()
	p := fanOut(prior, 300)
	var early atomic.Int32
	f.fake.ApplyFunc = func(ctx context.Context, req plugins.ApplyRequest, progress func(plugins.Progress)) (*plugins.ApplyResponse, error) {
		var i int
		fmt.Sscan(req.Config.(map[string]any)["name"].(string), &i)
		if i > 0 {
			d.mu.Lock()
			ok := d.durable[fmt.Sprintf("r%05d", i/10)]
			d.mu.Unlock()
			if !ok {
				early.Add(1)
			}
		}
		return f.fake.Default().Apply(ctx, req, progress)
	}
	res, err := f.engine.Apply(context.Background(), p, prior)
	if err != nil {
		t.Fatal(err)
	}
	if res.Added != 300 {
		t.Errorf("added %d, want 300", res.Added)
	}
	if n := early.Load(); n > 0 {
		t.Errorf("%d operations started before their dependency's commit was durable", n)
	}
}

// TestProviderLimitDoesNotBlockOthers: a provider limited to one operation at a time, with slow
// operations, must not hold back another provider's ready changes.
func TestProviderLimitDoesNotBlockOthers(t *testing.T) {
	f := newFixture(t)
	slow := fakeProvider()
	slow.Name = "slow"
	slow.SchemaFunc = func(ctx context.Context) (*plugins.ProviderSchema, diag.Diagnostics, error) {
		s, ds, err := slow.Default().Schema(ctx)
		s.Concurrency = 1
		return s, ds, err
	}
	release := make(chan struct{})
	slow.ApplyFunc = func(ctx context.Context, req plugins.ApplyRequest, progress func(plugins.Progress)) (*plugins.ApplyResponse, error) {
		<-release
		return slow.Default().Apply(ctx, req, progress)
	}
	var fastDone atomic.Int32
	f.fake.ApplyFunc = func(ctx context.Context, req plugins.ApplyRequest, progress func(plugins.Progress)) (*plugins.ApplyResponse, error) {
		if fastDone.Add(1) == 10 {
			close(release) // the slow provider goes on only once all of the fast one's work is done
		}
		return f.fake.Default().Apply(ctx, req, progress)
	}
	f.engine.Providers = plan.Providers{"fake": f.fake, "slow": slow}
	f.engine.Parallelism = 4
	prior := f.read()
	var changes []*plan.Change
	for i := range 10 {
		s := create(fmt.Sprintf("a%d", i), cfg(fmt.Sprint("s", i)))
		s.Type, s.Provider = "fake_thing", "slow"
		changes = append(changes, s, create(fmt.Sprintf("b%d", i), cfg(fmt.Sprint("f", i))))
	}
	done := make(chan struct{})
	var res *Result
	var err error
	go func() {
		defer close(done)
		res, err = f.engine.Apply(context.Background(), mkPlan(prior, changes...), prior)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("the limited provider's queue held back the other provider's changes")
	}
	if err != nil || res.Added != 20 {
		t.Fatalf("apply: %v, added %d", err, res.Added)
	}
}

// A provider that answers an apply with an unknown value is a bug: the object is kept in the state,
// the unknown recorded as null, and the change fails saying where.
func TestUnknownAfterApply(t *testing.T) {
	f := newFixture(t)
	f.fake.ApplyFunc = func(ctx context.Context, req plugins.ApplyRequest, progress func(plugins.Progress)) (*plugins.ApplyResponse, error) {
		resp, err := f.fake.Default().Apply(ctx, req, progress)
		if err == nil && resp.New != nil {
			resp.New.(map[string]any)["ip"] = value.Unknown
		}
		return resp, err
	}
	prior := f.read()
	res, err := f.engine.Apply(context.Background(), mkPlan(prior, create("a", cfg("a"))), prior)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failures) != 1 || res.Failures[0].Diagnostics[0].Path != "ip" {
		t.Fatalf("failures = %+v, want one at ip", res.Failures)
	}
	got := f.read().Resources["a"]
	if got == nil {
		t.Fatal("the object the provider created is not in the state")
	}
	if ip, ok := got.Attributes.(map[string]any)["ip"]; !ok || ip != nil {
		t.Errorf("ip = %v (present %v), want null", ip, ok)
	}
}

// TestFailFastStopsChangesAhead: at -parallelism 8 one change more is admitted and journals its intent
// ahead of a free slot. When a failure stops the walk (-fail-fast) it gives up before reaching its
// provider: it is reported as not started, never applied, and the apply leaves no operation in doubt.
func TestFailFastStopsChangesAhead(t *testing.T) {
	f := newFixture(t)
	f.engine.FailFast = true
	f.engine.Parallelism = 8
	var (
		mu     sync.Mutex
		calls  int
		finish = make(chan struct{})
	)
	f.fake.ApplyFunc = func(ctx context.Context, req plugins.ApplyRequest, progress func(plugins.Progress)) (*plugins.ApplyResponse, error) {
		mu.Lock()
		calls++
		last := calls == 8
		mu.Unlock()
		if last { // every slot is taken, and the change ahead waits for one
			return &plugins.ApplyResponse{Diagnostics: diag.Diagnostics{diag.Errorf("name", "quota exceeded")}}, nil
		}
		<-finish
		return f.fake.Default().Apply(ctx, req, progress)
	}
	go func() {
		for {
			f.events.mu.Lock()
			failed := slices.ContainsFunc(f.events.events, func(e string) bool { return strings.HasPrefix(e, "fail ") })
			f.events.mu.Unlock()
			if failed {
				close(finish)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	prior := f.read()
	var changes []*plan.Change
	for i := range 9 {
		name := fmt.Sprintf("c%d", i)
		changes = append(changes, create(name, cfg(name)))
	}
	res, err := f.engine.Apply(context.Background(), mkPlan(prior, changes...), prior)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failures) != 1 || len(res.NotStarted) != 1 {
		t.Fatalf("failures %v, not started %v; want one of each", res.Failures, res.NotStarted)
	}
	ahead := res.NotStarted[0]
	if f.events.index("start "+ahead) >= 0 {
		t.Errorf("%s was reported started", ahead)
	}
	if _, ok := objectNames(f.fake)[ahead]; ok {
		t.Errorf("%s was created", ahead)
	}
	if calls != 8 {
		t.Errorf("%d Apply calls, want 8", calls)
	}
	if got := len(resourceNames(f.read())); got != 7 {
		t.Errorf("state has %d resources, want the 7 applied", got)
	}
	if pending, err := Pending(context.Background(), f.backend); err != nil || pending != nil {
		t.Errorf("Pending after the apply = %+v, %v; want no journal", pending, err)
	}
}
