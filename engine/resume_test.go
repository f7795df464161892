package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/plan"
	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/state"
	"github.com/provhq/prov/state/local"
)

// crashScenario is an apply whose process "dies" during its nth provider Apply: the call never
// returns, as if prov were killed after the intent record, before the outcome. With effect, the
// object was changed before the crash.
type crashScenario struct {
	n      int32
	effect bool
}

// crasher makes the fake provider's Apply hang for good at a chosen call, like a process killed in
// the middle of it. Arm sets the next crash; calls before and after it go through.
type crasher struct {
	mu      sync.Mutex
	calls   int32
	sc      crashScenario
	crashed chan struct{}
	hang    chan struct{} // never closed: the dead process never comes back
}

func newCrasher(f *fixture) *crasher {
	c := &crasher{hang: make(chan struct{})}
	f.fake.ApplyFunc = func(ctx context.Context, req plugins.ApplyRequest, progress func(plugins.Progress)) (*plugins.ApplyResponse, error) {
		c.mu.Lock()
		c.calls++
		crash := c.calls == c.sc.n
		sc, crashed := c.sc, c.crashed
		c.mu.Unlock()
		if crash {
			if sc.effect {
				f.fake.Default().Apply(ctx, req, progress)
			}
			close(crashed)
			<-c.hang
		}
		return f.fake.Default().Apply(ctx, req, progress)
	}
	return c
}

// arm makes the sc.n-th Apply call from now on crash, and returns a channel closed when it has.
func (c *crasher) arm(sc crashScenario) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls, c.sc, c.crashed = 0, sc, make(chan struct{})
	return c.crashed
}

// disarm lets every call through.
func (c *crasher) disarm() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sc.n = -1
}

// waitCrash waits for the crash and for the journal to settle with one operation in doubt (the
// commit of the operation before may still be on its way to the disk).
func waitCrash(t *testing.T, f *fixture, crashed <-chan struct{}) {
	t.Helper()
	select {
	case <-crashed:
	case <-time.After(10 * time.Second):
		t.Fatal("the walk never reached the crash point")
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		if in, err := Pending(context.Background(), f.backend); err == nil && in != nil && in.InDoubt == 1 || time.Now().After(deadline) {
			return
		}
	}
}

// crashedApply runs the scenario's apply until it crashes and returns the fixture, the prior state
// and the crasher, disarmed.
func crashedApply(t *testing.T, sc crashScenario) (*fixture, *state.State, *crasher) {
	t.Helper()
	f := newFixture(t)
	prior := f.seed(map[string]*state.Resource{
		"k": thing("k1", "k", ""),
		"z": thing("z1", "z", "old"),
		"g": thing("g1", "g", ""),
		"r": thing("r1", "r", ""),
		"s": thing("s1", "s", ""),
	})
	c := newCrasher(f)
	crashed := c.arm(sc)
	replace := create("r", cfg("r", "zone", "b"))
	replace.Action = plan.DeleteThenCreate
	cbd := create("s", cfg("s", "zone", "b"))
	cbd.Action = plan.CreateThenDelete
	p := mkPlan(prior,
		create("c0", cfg("c0")),
		create("c1", cfg("c1", "value", "${c0.id}"), "c0"),
		create("c2", cfg("c2", "value", "${c1.value}"), "c1"),
		create("c3", cfg("c3"), "c0"),
		update("z", cfg("z", "value", "new")),
		remove("g"),
		noop("k"),
		replace,
		cbd,
	)
	f.engine.Parallelism = 1
	go f.engine.Apply(context.Background(), p, prior)
	waitCrash(t, f, crashed)
	c.disarm()
	return f, prior, c
}

func crashScenarios() []crashScenario {
	var out []crashScenario
	for n := int32(1); n <= 10; n++ {
		out = append(out, crashScenario{n, true}, crashScenario{n, false})
	}
	return out
}

func (sc crashScenario) String() string {
	if sc.effect {
		return fmt.Sprintf("crash in apply %d after the change", sc.n)
	}
	return fmt.Sprintf("crash in apply %d before the change", sc.n)
}

func TestCrashThenResume(t *testing.T) {
	for _, sc := range crashScenarios() {
		t.Run(sc.String(), func(t *testing.T) {
			f, prior, _ := crashedApply(t, sc)
			in, err := Pending(context.Background(), f.backend)
			if err != nil || in == nil || in.InDoubt != 1 || in.Operations != int(sc.n) {
				t.Fatalf("Pending = %+v, %v; want %d operations, 1 in doubt", *in, err, sc.n)
			}
			e := f.newEngine()
			res, err := e.Resume(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Failures) > 0 {
				t.Fatalf("failures: %+v", res.Failures)
			}
			got := f.read()
			want := map[string]string{"c0": "c0", "c1": "c1", "c2": "c2", "c3": "c3", "z": "z", "k": "k", "r": "r", "s": "s"}
			if diff := cmp.Diff(want, resourceNames(got)); diff != "" {
				t.Errorf("state (-want +got):\n%s", diff)
			}
			wantObjects := map[string]int{"c0": 1, "c1": 1, "c2": 1, "c3": 1, "z": 1, "k": 1, "r": 1, "s": 1}
			if diff := cmp.Diff(wantObjects, objectNames(f.fake)); diff != "" {
				t.Errorf("objects in the cloud: nothing created twice, nothing lost (-want +got):\n%s", diff)
			}
			c0 := got.Resources["c0"].Attributes.(map[string]any)["id"]
			if v := got.Resources["c2"].Attributes.(map[string]any)["value"]; v != c0 {
				t.Errorf("c2.value = %v, want c0's id %v", v, c0)
			}
			if got.Serial != prior.Serial+1 {
				t.Errorf("serial %d, want %d", got.Serial, prior.Serial+1)
			}
			if in, _ := Pending(context.Background(), f.backend); in != nil {
				t.Errorf("journal left after resume: %+v", in)
			}
			if len(f.events.phases) == 0 {
				t.Errorf("no resume phase reported")
			}
		})
	}
}

func TestCrashThenRollback(t *testing.T) {
	for _, sc := range crashScenarios() {
		t.Run(sc.String(), func(t *testing.T) {
			f, prior, _ := crashedApply(t, sc)
			res, err := f.newEngine().Rollback(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Failures) > 0 {
				t.Fatalf("failures: %+v", res.Failures)
			}
			got := f.read()
			if diff := cmp.Diff(resourceNames(prior), resourceNames(got)); diff != "" {
				t.Errorf("state after rollback (-prior +got):\n%s", diff)
			}
			for addr, r := range prior.Resources {
				if g := got.Resources[addr]; g == nil || !cmp.Equal(r.Config, g.Config) {
					t.Errorf("%s: config %v, want the prior %v", addr, g, r.Config)
				}
			}
			if diff := cmp.Diff(map[string]int{"k": 1, "z": 1, "g": 1, "r": 1, "s": 1}, objectNames(f.fake)); diff != "" {
				t.Errorf("objects in the cloud (-want +got):\n%s", diff)
			}
			if v := got.Resources["z"].Attributes.(map[string]any)["value"]; v != "old" {
				t.Errorf("z.value = %v, want the prior %q", v, "old")
			}
			if in, _ := Pending(context.Background(), f.backend); in != nil {
				t.Errorf("journal left after rollback: %+v", in)
			}
		})
	}
}

func TestRollbackWithoutJournal(t *testing.T) {
	f := newFixture(t)
	for _, tt := range []struct {
		name string
		fn   func(context.Context, *state.State) (*Result, error)
	}{{"rollback", f.engine.Rollback}, {"resume", f.engine.Resume}} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.fn(context.Background(), nil); err != ErrNoJournal {
				t.Errorf("error = %v, want ErrNoJournal", err)
			}
		})
	}
}

func TestRollbackOnFailure(t *testing.T) {
	tests := []struct {
		name     string
		engine   bool // Engine.RollbackOnFailure, else the plan's setting
		failFast bool
	}{
		{name: "engine setting", engine: true},
		{name: "plan setting"},
		{name: "with fail-fast", engine: true, failFast: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			prior := f.seed(map[string]*state.Resource{
				"z": thing("z1", "z", "old"),
				"g": thing("g1", "g", ""),
			})
			failOn(f, "bad")
			f.engine.RollbackOnFailure, f.engine.FailFast = tt.engine, tt.failFast
			p := mkPlan(prior,
				create("a", cfg("a")),
				create("b", cfg("b"), "a"),
				create("x", cfg("bad"), "b"),
				update("z", cfg("z", "value", "new")),
				remove("g"),
			)
			p.RollbackOnFailure = !tt.engine
			res, err := f.engine.Apply(context.Background(), p, prior)
			if err != nil {
				t.Fatal(err)
			}
			if res.Rollback == nil || len(res.Rollback.Failures) > 0 {
				t.Fatalf("rollback = %+v, want one without failures", res.Rollback)
			}
			got := f.read()
			if diff := cmp.Diff(resourceNames(prior), resourceNames(got)); diff != "" {
				t.Errorf("state after rollback (-prior +got):\n%s", diff)
			}
			if diff := cmp.Diff(map[string]int{"z": 1, "g": 1}, objectNames(f.fake)); diff != "" {
				t.Errorf("objects in the cloud (-want +got):\n%s", diff)
			}
			if got.Serial != prior.Serial+1 {
				t.Errorf("serial %d, want %d", got.Serial, prior.Serial+1)
			}
		})
	}
}

// checkRolledBack checks the state and the cloud are back to prior, and the journal is gone.
func checkRolledBack(t *testing.T, f *fixture, prior *state.State) {
	t.Helper()
	got := f.read()
	if diff := cmp.Diff(resourceNames(prior), resourceNames(got)); diff != "" {
		t.Errorf("state after rollback (-prior +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"k": 1, "z": 1, "g": 1, "r": 1, "s": 1}, objectNames(f.fake)); diff != "" {
		t.Errorf("objects in the cloud (-want +got):\n%s", diff)
	}
	if v := got.Resources["z"].Attributes.(map[string]any)["value"]; v != "old" {
		t.Errorf("z.value = %v, want the prior %q", v, "old")
	}
	if in, _ := Pending(context.Background(), f.backend); in != nil {
		t.Errorf("journal left: %+v", in)
	}
}

// TestCrashDuringRollback kills the apply, then kills the rollback in the middle, then finishes with
// a second rollback or a resume of the first.
func TestCrashDuringRollback(t *testing.T) {
	for _, finish := range []string{"rollback again", "resume the rollback"} {
		for _, at := range []int32{1, 2, 3} {
			for _, effect := range []bool{true, false} {
				sc := crashScenario{at, effect}
				t.Run(fmt.Sprintf("%s after a %s", finish, sc), func(t *testing.T) {
					f, prior, c := crashedApply(t, crashScenario{6, true})
					crashed := c.arm(sc)
					e := f.newEngine()
					e.Parallelism = 1
					go e.Rollback(context.Background(), nil)
					waitCrash(t, f, crashed)
					c.disarm()
					if in, err := Pending(context.Background(), f.backend); err != nil || in == nil || in.Mode != ModeRollback {
						t.Fatalf("Pending = %+v, %v; want an interrupted rollback", in, err)
					}
					var res *Result
					var err error
					if finish == "rollback again" {
						res, err = f.newEngine().Rollback(context.Background(), nil)
					} else {
						res, err = f.newEngine().Resume(context.Background(), nil)
					}
					if err != nil {
						t.Fatal(err)
					}
					if len(res.Failures) > 0 {
						t.Fatalf("failures: %+v", res.Failures)
					}
					checkRolledBack(t, f, prior)
				})
			}
		}
	}
}

// TestInterruptedRollbackKeepsJournal cancels a rollback after its first operation: the journal stays,
// and the next rollback finishes the job.
func TestInterruptedRollbackKeepsJournal(t *testing.T) {
	for _, finish := range []string{"rollback", "resume"} {
		t.Run(finish, func(t *testing.T) {
			f, prior, _ := crashedApply(t, crashScenario{6, true})
			ctx, cancel := context.WithCancel(context.Background())
			f.fake.ApplyFunc = func(c context.Context, req plugins.ApplyRequest, progress func(plugins.Progress)) (*plugins.ApplyResponse, error) {
				cancel() // Ctrl-C during the first operation
				return f.fake.Default().Apply(c, req, progress)
			}
			e := f.newEngine()
			e.Parallelism = 1
			res, err := e.Rollback(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Interrupted || len(res.NotStarted) == 0 {
				t.Fatalf("interrupted %v, not started %v; want an interrupted rollback", res.Interrupted, res.NotStarted)
			}
			if in, err := Pending(context.Background(), f.backend); err != nil || in == nil || in.Mode != ModeRollback {
				t.Fatalf("Pending = %+v, %v; want the rollback's journal kept", in, err)
			}
			f.fake.ApplyFunc = nil
			if finish == "rollback" {
				res, err = f.newEngine().Rollback(context.Background(), nil)
			} else {
				res, err = f.newEngine().Resume(context.Background(), nil)
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Failures) > 0 {
				t.Fatalf("failures: %+v", res.Failures)
			}
			checkRolledBack(t, f, prior)
		})
	}
}

// A journal torn inside its Begin record (the apply died creating it) holds no operation: it does not
// block plan or apply, and resume and rollback remove it and report nothing to do.
func TestTornBeginJournal(t *testing.T) {
	for _, tt := range []struct {
		name string
		run  func(f *fixture, prior *state.State) error
	}{
		{"apply", func(f *fixture, prior *state.State) error {
			_, err := f.newEngine().Apply(context.Background(), mkPlan(prior, create("a", cfg("a"))), prior)
			return err
		}},
		{"resume", func(f *fixture, prior *state.State) error {
			if _, err := f.newEngine().Resume(context.Background(), nil); err != ErrNoJournal {
				return fmt.Errorf("resume: %v, want ErrNoJournal", err)
			}
			return nil
		}},
		{"rollback", func(f *fixture, prior *state.State) error {
			if _, err := f.newEngine().Rollback(context.Background(), nil); err != ErrNoJournal {
				return fmt.Errorf("rollback: %v, want ErrNoJournal", err)
			}
			return nil
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			prior := f.read()
			jw, err := f.backend.Create(context.Background(), state.Record{Kind: state.Begin, Mode: ModeApply, Plan: []byte("{}")})
			if err != nil {
				t.Fatal(err)
			}
			jw.Close()
			name := filepath.Join(f.dir, local.JournalFile)
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(name, data[:len(data)-10], 0o600); err != nil { // tear the Begin record
				t.Fatal(err)
			}
			if in, err := Pending(context.Background(), f.backend); in != nil || err != nil {
				t.Fatalf("Pending = %v, %v; want nothing pending", in, err)
			}
			if err := tt.run(f, prior); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(name); tt.name != "apply" && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the torn journal is still there: %v", err)
			}
		})
	}
}
