package plugintest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/sdk"
)

// Case is a step-by-step test of one resource type.
type Case struct {
	Provider *sdk.Provider
	// ProviderConfig configures the provider; nil for none.
	ProviderConfig map[string]any
	Type           string
	Steps          []Step
	// CheckDestroyed, when set, is called with the last state after the resource was destroyed at the
	// end of the case, to prove the real object is gone.
	CheckDestroyed func(last map[string]any) error
}

// Step moves the resource to a new configuration.
type Step struct {
	// Config is the resource's configuration; nil destroys it.
	Config map[string]any
	// Action, when set, is the action the plan must show.
	Action Action
	// ExpectError, when set, is text that an error diagnostic of the plan or the apply must contain;
	// the state stays as it was before the step.
	ExpectError string
	// Check is called with the state after apply.
	Check func(state map[string]any) error
}

// Test runs c through the real protocol. Each step plans, applies, refreshes, and plans again with the
// same configuration: that second plan must be a no-op, which catches a provider whose Read and Plan
// disagree (perpetual diffs). At the end the resource is destroyed.
func Test(t testing.TB, c Case) {
	t.Helper()
	h := New(t, c.Provider, c.ProviderConfig)
	var state map[string]any
	for i, step := range c.Steps {
		if !h.step(i+1, c.Type, &state, step) {
			return
		}
	}
	if state == nil {
		return
	}
	last := state
	if r := h.Apply(h.Plan(c.Type, state, nil)); hasError(r.Diagnostics) {
		t.Fatalf("destroy: %s", strings.Join(r.Diagnostics, "\n"))
	}
	if c.CheckDestroyed != nil {
		if err := c.CheckDestroyed(last); err != nil {
			t.Errorf("after destroy: %v", err)
		}
	}
}

// step runs one step, updating state; it reports whether the case can go on.
func (h *Harness) step(n int, typ string, state *map[string]any, s Step) bool {
	t := h.t
	t.Helper()
	if *state != nil {
		refreshed, ds := h.Read(typ, *state)
		if hasError(ds) {
			t.Errorf("step %d: refresh: %s", n, strings.Join(ds, "\n"))
			return false
		}
		*state = refreshed
	}
	if s.Config != nil {
		if ds := h.Validate(typ, s.Config); hasError(ds) {
			return h.expectError(n, "validate", ds, s.ExpectError)
		}
	}
	plan := h.Plan(typ, *state, s.Config)
	if hasError(plan.Diagnostics) {
		return h.expectError(n, "plan", plan.Diagnostics, s.ExpectError)
	}
	if s.Action != "" && plan.Action != s.Action {
		t.Errorf("step %d: plan is %s, want %s; changes:\n%s", n, plan.Action, s.Action,
			strings.Join(diffKeys(*state, plan.Planned), "\n"))
	}
	r := h.Apply(plan)
	if hasError(r.Diagnostics) {
		return h.expectError(n, "apply", r.Diagnostics, s.ExpectError)
	}
	if s.ExpectError != "" {
		t.Errorf("step %d: succeeded, want an error containing %q", n, s.ExpectError)
		return false
	}
	*state = r.State
	if s.Check != nil {
		if err := s.Check(r.State); err != nil {
			t.Errorf("step %d: %v", n, err)
		}
	}
	if *state == nil {
		return true
	}
	refreshed, ds := h.Read(typ, *state)
	if hasError(ds) || refreshed == nil {
		t.Errorf("step %d: refresh after apply: %v %s", n, refreshed, strings.Join(ds, "\n"))
		return false
	}
	if again := h.Plan(typ, refreshed, s.Config); again.Action != NoOp {
		t.Errorf("step %d: the plan after apply is not empty (%s):\n%s", n, again.Action,
			strings.Join(diffKeys(refreshed, again.Planned), "\n"))
	}
	return true
}

func (h *Harness) expectError(n int, what string, ds []string, want string) bool {
	h.t.Helper()
	all := strings.Join(ds, "\n")
	switch {
	case want == "":
		h.t.Errorf("step %d: %s: %s", n, what, all)
		return false
	case !strings.Contains(all, want):
		h.t.Errorf("step %d: %s failed with\n%s\nwant an error containing %q", n, what, all, want)
		return false
	}
	return true
}

// Attr returns a Check that the attribute at path (e.g. "ingress[0].port") equals want; ints are
// compared as numbers.
func Attr(path string, want any) func(map[string]any) error {
	return func(state map[string]any) error {
		p, err := value.ParsePath(path)
		if err != nil {
			return err
		}
		got, _ := value.Get(state, p)
		w, err := value.Normalize(want)
		if err != nil {
			return err
		}
		if !value.Equal(w, got) {
			return fmt.Errorf("%s = %#v, want %#v", path, got, w)
		}
		return nil
	}
}

// Attrs combines Checks; every failure is reported.
func Attrs(checks ...func(map[string]any) error) func(map[string]any) error {
	return func(state map[string]any) error {
		var msgs []string
		for _, c := range checks {
			if err := c(state); err != nil {
				msgs = append(msgs, err.Error())
			}
		}
		if len(msgs) > 0 {
			return fmt.Errorf("%s", strings.Join(msgs, "; "))
		}
		return nil
	}
}
