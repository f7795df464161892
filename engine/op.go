package engine

import (
	"fmt"
	"slices"
	"strings"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/document"
	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/plan"
	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/state"
)

// change carries out the phases of n from n.next on, claiming slot before the first provider call and
// freeing it once the last is over, so that the slot is given back while the last commit record is
// made durable. It returns the action carried out and the resource the change left at its address.
func (r *run) change(n *node, slot *slot) (plan.Action, *state.Resource, diag.Diagnostics) {
	c := n.c
	action := c.Action
	deposed := n.deposed
	var ds diag.Diagnostics
	if c.Action == plan.DeleteThenCreate && n.next == 0 && r.mode == ModeApply {
		if ds = r.precheck(n, slot); ds.HasErrors() {
			return action, r.current(n.addr), ds
		}
		ds = nil
	}
	var all diag.Diagnostics
	for k := n.next; k < len(n.phases); k++ {
		phase := n.phases[k]
		release := func() {}
		if k == len(n.phases)-1 {
			release = slot.free
		}
		var inDoubt *state.Record
		if k == n.next {
			inDoubt = n.inDoubt
		}
		cur := r.current(n.addr)
		switch {
		case phase == "delete" && c.Action == plan.CreateThenDelete:
			ds = r.del(n, slot, phase, deposed, cur, inDoubt, release)
		case phase == "delete":
			// In a rollback, the delete of a replacement puts back the object it replaced.
			ds = r.del(n, slot, phase, cur, r.keep[n.addr], inDoubt, release)
		case phase == "create":
			if c.Action == plan.CreateThenDelete {
				deposed = cur
			}
			ds, _ = r.put(n, slot, phase, cur, nil, inDoubt, release)
		default: // update, read
			var prior any
			if cur != nil {
				prior = cur.Attributes
			}
			var replace bool
			ds, replace = r.put(n, slot, phase, cur, prior, inDoubt, release)
			if replace { // only in a rollback: restoring prior attributes needs a new object
				action = plan.DeleteThenCreate
				if ds = append(ds, r.del(n, slot, "delete", cur, nil, nil, func() {})...); !ds.HasErrors() {
					more, _ := r.put(n, slot, "create", nil, nil, nil, release)
					ds = append(ds, more...)
				}
			}
		}
		if all = append(all, ds...); all.HasErrors() {
			break
		}
	}
	return action, r.current(n.addr), all
}

// config resolves the change's configuration: references against the working state (for the state
// and the provider), then secrets (for the provider only).
func (r *run) config(c *plan.Change) (stored, sent any, sensitive []value.Path, ds diag.Diagnostics) {
	stored = c.Config
	if r.mode == ModeApply {
		stored, ds = document.Resolve(stored, r.attrs)
		if ds.HasErrors() {
			return nil, nil, nil, ds
		}
	}
	sent = stored
	if r.e.Secrets != nil {
		var sds diag.Diagnostics
		sent, sensitive, sds = r.e.Secrets.Resolve(stored, "")
		if ds = append(ds, sds...); ds.HasErrors() {
			return nil, nil, nil, ds
		}
	}
	if value.HasUnknown(sent) {
		var at value.Path
		value.Walk(sent, func(p value.Path, v any) bool {
			if at == nil && value.IsUnknown(v) {
				at = slices.Clone(p)
			}
			return at == nil
		})
		ds = append(ds, diag.Errorf(at.String(), "value still unknown after the resources it depends on were applied"))
	}
	return stored, sent, sensitive, ds
}

// put creates, updates or reads the object at n's address: it re-plans with the now-known
// configuration, checks the plan still holds, journals the intent, applies and journals the outcome.
// cur is the resource at the address (recorded as the intent's prior); prior the attributes the
// provider plans from (nil for a create). replace reports, in a rollback, that the provider needs a
// new object to restore the prior configuration; nothing was done then.
func (r *run) put(n *node, slot *slot, phase string, cur *state.Resource, prior any, inDoubt *state.Record, release func()) (ds diag.Diagnostics, replace bool) {
	c := n.c
	pv := r.provs[n.prov]
	id := opID(r.planID, n.addr, phase)
	if inDoubt != nil {
		id = inDoubt.OpID
	}
	stored, sent, secretPaths, ds := r.config(c)
	if ds.HasErrors() {
		return ds, false
	}
	secretVals := value.At(sent, secretPaths) // attributes that echo them are secret too
	if inDoubt != nil {
		if !slot.claim() {
			return append(ds, errNotStarted), false
		}
		current := prior
		rd, err := pv.p.Read(r.callCtx, plugins.ReadRequest{Type: c.Type, Current: current, OperationID: id})
		if err != nil {
			return append(ds, diag.Errorf("", "provider %s: read %s to settle operation %s: %v", pv.name, c.Type, id, err)), false
		}
		if rd.Diagnostics.HasErrors() {
			return append(ds, rd.Diagnostics...), false
		}
		switch {
		case phase == "create" && rd.New != nil:
			res := r.resource(c, stored, rd.New, rd.Sensitive, secretPaths, value.Echoes(rd.New, secretVals))
			r.settled(n.addr, phase, id, "found: recorded as created")
			if err := r.record(state.Record{Kind: state.Commit, OpID: id, Addr: n.addr, Action: phase, New: res}); err != nil {
				return append(ds, diag.Errorf("", "journal: %v", err)), false
			}
			r.set(n.addr, res)
			release()
			return ds, false
		case phase == "create":
			r.settled(n.addr, phase, id, "not found: creating it again with the same operation id")
		case rd.New == nil:
			return append(ds, diag.Errorf("", "the object no longer exists: it was deleted outside prov while operation %s was in doubt", id)), false
		default:
			r.settled(n.addr, phase, id, "found: applying again with the same operation id")
			prior = rd.New
		}
	}
	var pr *plugins.PlanResponse
	if inDoubt == nil && r.planHolds(n, phase, prior, stored, secretPaths) {
		pr = &plugins.PlanResponse{Planned: c.After, Sensitive: c.AfterSensitive}
	} else {
		if !slot.claim() {
			return append(ds, errNotStarted), false
		}
		var pds diag.Diagnostics
		pr, pds, replace = r.replan(n, phase, prior, sent)
		if ds = append(ds, pds...); ds.HasErrors() || replace {
			return ds, replace
		}
	}
	if err := r.record(state.Record{Kind: state.Intent, OpID: id, Addr: n.addr, Action: phase, Prior: cur}); err != nil {
		return append(ds, diag.Errorf("", "journal: %v", err)), false
	}
	if !slot.claim() {
		return append(ds, r.abandon(n, phase, id)...), false
	}
	resp, err := pv.p.Apply(r.callCtx, plugins.ApplyRequest{
		Type: c.Type, OperationID: id, Prior: prior, Planned: pr.Planned, Config: sent,
	}, func(p plugins.Progress) { r.hooks.OnProgress(n.addr, p) })
	if err != nil {
		// The plugin crashed, hung or was cut off with the operation in flight: its outcome is unknown.
		// No fail record: the intent stays in doubt and the journal is kept, to be settled by resume.
		r.inDoubt.Store(true)
		return append(ds, inDoubtDiag(pv.name, "apply", c.Type, id, err)), false
	}
	ds = append(ds, resp.Diagnostics...)
	if resp.New != nil && value.HasUnknown(resp.New) {
		// A provider bug; the object exists, so it is kept, with what is unknown as null.
		var at value.Path
		resp.New, at = knownOnly(resp.New)
		ds = append(ds, diag.Errorf(at.String(), "provider %s returned a value still unknown after %s; it is recorded as null. This is a bug in the provider.", pv.name, phase))
	}
	if !ds.HasErrors() {
		release() // a failure keeps the slot until the scheduler knows, for -fail-fast
	}
	var res *state.Resource
	if resp.New != nil {
		res = r.resource(c, stored, resp.New, slices.Concat(resp.Sensitive, pr.Sensitive), secretPaths, value.Echoes(resp.New, secretVals))
	}
	if ds.HasErrors() {
		rec := state.Record{Kind: state.Fail, OpID: id, Addr: n.addr, Action: phase, New: res, Error: ds.Errors().String()}
		switch {
		case res != nil && c.Action == plan.CreateThenDelete:
			// The object being replaced is still in use and stays in the state; the partial
			// replacement is reported rather than tracked.
			rec.New = nil
			ds = append(ds, diag.Warnf("", "the partly created replacement object is not tracked by prov; remove it by hand (operation %s)", id))
		case res != nil && cur != nil:
			// The object as the provider left it, but still with the configuration last applied: the
			// new one was not, and the next plan (which skips the provider for a resource whose
			// recorded configuration is the desired one) must try again.
			res.Config = cur.Config
		}
		if err := r.record(rec); err != nil {
			ds = append(ds, diag.Errorf("", "journal: %v", err))
		}
		if rec.New != nil {
			r.set(n.addr, rec.New)
		}
		return ds, false
	}
	if err := r.record(state.Record{Kind: state.Commit, OpID: id, Addr: n.addr, Action: phase, New: res}); err != nil {
		ds = append(ds, diag.Errorf("", "journal: %v", err))
	}
	r.set(n.addr, res)
	return ds, false
}

// replan asks the provider for the planned state of n's object with the now-known configuration sent,
// and checks it against the saved plan: every known planned value must be the same, and an update must
// still be an update (in a rollback, replace reports that it is not, without a diagnostic).
func (r *run) replan(n *node, phase string, prior, sent any) (pr *plugins.PlanResponse, ds diag.Diagnostics, replace bool) {
	c, pv := n.c, r.provs[n.prov]
	pr, err := pv.p.Plan(r.callCtx, plugins.PlanRequest{Type: c.Type, Prior: prior, Config: sent})
	if err != nil {
		return nil, diag.Diagnostics{diag.Errorf("", "provider %s: plan %s: %v", pv.name, c.Type, err)}, false
	}
	if ds = pr.Diagnostics; ds.HasErrors() {
		return nil, ds, false
	}
	if phase == "update" && len(pr.RequiresReplace) > 0 {
		if r.mode == ModeRollback {
			return nil, ds, true
		}
		return nil, append(ds, inconsistent(pv.name, pr.RequiresReplace[0], "now requires replacing the object")), false
	}
	if r.mode == ModeApply {
		if p, bad := differs(c.After, pr.Planned, nil); bad {
			return nil, append(ds, inconsistent(pv.name, p, "has a different planned value")), false
		}
	}
	return pr, ds, false
}

// planHolds reports whether the saved plan's planned value is still the provider's answer, so the
// re-plan can be skipped: the provider would be asked the very question it answered at plan time. That
// is the case in an apply when the phase starts from the prior the plan was made from (nothing for a
// create, the planned-from attributes for an update or read), the configuration resolves now to what it
// resolved to against the planned values of its dependencies, and no secret is involved (secrets are
// resolved afresh and may have been rotated). It halves the provider calls of an apply whose
// configurations were known at plan time, the common case; anything computed by a dependency during
// the walk still goes through replan and its consistency check, and so does a change with sensitive
// values, which a saved plan holds as unknown.
func (r *run) planHolds(n *node, phase string, prior, stored any, secretPaths []value.Path) bool {
	c := n.c
	if r.mode != ModeApply || len(secretPaths) > 0 || len(c.AfterSensitive) > 0 || value.IsUnknown(c.After) {
		return false // a plan file keeps no sensitive value: it reads back as unknown
	}
	switch phase {
	case "create":
		if c.Action != plan.Create {
			return false // a replacement was planned from the old object's attributes
		}
	case "update", "read":
		if !value.Equal(prior, c.Before) {
			return false
		}
	default:
		return false
	}
	atPlan, ds := document.Resolve(c.Config, r.planned)
	return !ds.HasErrors() && value.Equal(atPlan, stored)
}

// planned gives Resolve the planned value of a dependency, as the planner resolved references.
func (r *run) planned(addr string) (any, bool) {
	if c, ok := r.plan.Changes[addr]; ok {
		return c.After, true
	}
	return nil, false
}

// precheck plans the create of a delete-then-create before its delete, so that a plan that no longer
// holds fails while the object still exists.
func (r *run) precheck(n *node, slot *slot) diag.Diagnostics {
	_, sent, _, ds := r.config(n.c)
	if ds.HasErrors() {
		return ds
	}
	if !slot.claim() {
		return append(ds, errNotStarted)
	}
	_, pds, _ := r.replan(n, "create", nil, sent)
	return append(ds, pds...)
}

// del deletes the object prior at n's address; after is the resource the address holds once it is
// gone (nil, or the replacement of a create-then-delete).
func (r *run) del(n *node, slot *slot, phase string, prior, after *state.Resource, inDoubt *state.Record, release func()) diag.Diagnostics {
	if prior == nil { // already gone
		release()
		return nil
	}
	pv := r.provs[n.prov]
	id := opID(r.planID, n.addr, phase)
	attrs := prior.Attributes
	if inDoubt != nil {
		id = inDoubt.OpID
		if !slot.claim() {
			return diag.Diagnostics{errNotStarted}
		}
		rd, err := pv.p.Read(r.callCtx, plugins.ReadRequest{Type: prior.Type, Current: attrs, OperationID: id})
		if err != nil {
			return diag.Diagnostics{diag.Errorf("", "provider %s: read %s to settle operation %s: %v", pv.name, prior.Type, id, err)}
		}
		if rd.Diagnostics.HasErrors() {
			return rd.Diagnostics
		}
		if rd.New == nil {
			r.settled(n.addr, phase, id, "gone: recorded as deleted")
			release()
			if err := r.record(state.Record{Kind: state.Commit, OpID: id, Addr: n.addr, Action: phase, New: after}); err != nil {
				return diag.Diagnostics{diag.Errorf("", "journal: %v", err)}
			}
			r.set(n.addr, after)
			return nil
		}
		r.settled(n.addr, phase, id, "still there: deleting it again with the same operation id")
		attrs = rd.New
	}
	if err := r.record(state.Record{Kind: state.Intent, OpID: id, Addr: n.addr, Action: phase, Prior: prior}); err != nil {
		return diag.Diagnostics{diag.Errorf("", "journal: %v", err)}
	}
	if !slot.claim() {
		return r.abandon(n, phase, id)
	}
	resp, err := pv.p.Apply(r.callCtx, plugins.ApplyRequest{Type: prior.Type, OperationID: id, Prior: attrs},
		func(p plugins.Progress) { r.hooks.OnProgress(n.addr, p) })
	if err != nil {
		r.inDoubt.Store(true) // as in put: the delete's outcome is unknown
		return diag.Diagnostics{inDoubtDiag(pv.name, "delete", prior.Type, id, err)}
	}
	ds := resp.Diagnostics
	if ds.HasErrors() {
		rec := state.Record{Kind: state.Fail, OpID: id, Addr: n.addr, Action: phase, Error: ds.Errors().String()}
		if resp.New != nil && after == nil {
			res := prior.Clone()
			res.Attributes = resp.New
			rec.New = res
		}
		if after != nil {
			ds = append(ds, diag.Warnf("", "the replaced object was not deleted and is no longer tracked by prov; remove it by hand (operation %s)", id))
		}
		if err := r.record(rec); err != nil {
			ds = append(ds, diag.Errorf("", "journal: %v", err))
		}
		if rec.New != nil {
			r.set(n.addr, rec.New)
		}
		return ds
	}
	release()
	if err := r.record(state.Record{Kind: state.Commit, OpID: id, Addr: n.addr, Action: phase, New: after}); err != nil {
		ds = append(ds, diag.Errorf("", "journal: %v", err))
	}
	r.set(n.addr, after)
	return ds
}

// errNotStarted ends a change whose slot the walk stopped before it could claim; execute drops it
// and the change is reported as not started.
var errNotStarted = diag.Errorf("", "not started: the apply stopped first")

// abandon closes the journaled intent of an operation that will not reach its provider, because the
// walk stopped while it waited for a slot: the operation did not happen.
func (r *run) abandon(n *node, phase, id string) diag.Diagnostics {
	ds := diag.Diagnostics{errNotStarted}
	rec := state.Record{Kind: state.Fail, OpID: id, Addr: n.addr, Action: phase, Error: "not started: the apply stopped before it reached the provider"}
	if err := r.record(rec); err != nil {
		ds = append(ds, diag.Errorf("", "journal: %v", err))
	}
	return ds
}

func (r *run) settled(addr, phase, id, outcome string) {
	r.hooks.OnPhase(PhaseSettle, fmt.Sprintf("%s: %s in doubt (operation %s): %s", addr, phase, id, outcome))
	r.log.Info("settled operation in doubt", "address", addr, "phase", phase, "op", id, "outcome", outcome)
}

// resource is the state entry for an object of c's type.
func (r *run) resource(c *plan.Change, config, attrs any, sensitive ...[]value.Path) *state.Resource {
	return &state.Resource{
		Type: c.Type, Provider: c.Provider, Config: config, Attributes: attrs,
		Sensitive: mergePaths(sensitive...), Dependencies: c.DependsOn, MonthlyCost: c.MonthlyCost,
	}
}

func mergePaths(lists ...[]value.Path) []value.Path {
	n := 0
	for _, l := range lists {
		n += len(l)
	}
	if n == 0 {
		return nil
	}
	out := make([]value.Path, 0, n)
	seen := make(map[string]bool, n)
	for _, l := range lists {
		for _, p := range l {
			if s := p.String(); !seen[s] {
				seen[s] = true
				out = append(out, p)
			}
		}
	}
	slices.SortFunc(out, func(a, b value.Path) int { return strings.Compare(a.String(), b.String()) })
	return out
}

func inconsistent(provider string, p value.Path, what string) diag.Diagnostic {
	return diag.Diagnostic{
		Severity: diag.Error,
		Summary:  "provider produced an inconsistent plan",
		Path:     p.String(),
		Detail: fmt.Sprintf("With the configuration resolved, provider %s planned a change that differs from the saved plan: "+
			"%s %s. The saved plan can no longer be applied as shown; run prov plan again. "+
			"If it keeps happening, this is a bug in the provider.", provider, orRoot(p), what),
	}
}

func orRoot(p value.Path) string {
	if len(p) == 0 {
		return "the object"
	}
	return p.String()
}

// differs reports the first path at which now does not match a known value of saved (an unknown in
// saved matches anything; a missing key is null).
func differs(saved, now any, p value.Path) (value.Path, bool) {
	if value.IsUnknown(saved) {
		return nil, false
	}
	switch s := saved.(type) {
	case map[string]any:
		m, ok := now.(map[string]any)
		if !ok {
			return p, true
		}
		for k, sv := range s {
			if q, bad := differs(sv, m[k], p.Key(k)); bad {
				return q, true
			}
		}
		for k, nv := range m {
			if _, ok := s[k]; !ok && nv != nil {
				return p.Key(k), true
			}
		}
		return nil, false
	case []any:
		l, ok := now.([]any)
		if !ok || len(l) != len(s) {
			return p, true
		}
		for i := range s {
			if q, bad := differs(s[i], l[i], p.Index(i)); bad {
				return q, true
			}
		}
		return nil, false
	}
	if !value.Equal(saved, now) {
		return p, true
	}
	return nil, false
}

// inDoubtDiag reports an operation whose plugin failed while it was in flight.
func inDoubtDiag(provider, verb, typ, id string, err error) diag.Diagnostic {
	d := diag.Errorf("", "provider %s: %s %s: %v", provider, verb, typ, err)
	d.Detail = "The operation's outcome is unknown (operation " + id + "), so the journal is kept.\n" +
		"Run prov apply -resume to settle it with the provider and finish, or prov rollback to undo the apply."
	return d
}

// knownOnly returns a copy of v with every unknown value replaced by null, and the first such path.
func knownOnly(v any) (any, value.Path) {
	var first value.Path
	var known func(p value.Path, v any) any
	known = func(p value.Path, v any) any {
		switch c := v.(type) {
		case []any:
			out := make([]any, len(c))
			for i, e := range c {
				out[i] = known(p.Index(i), e)
			}
			return out
		case map[string]any:
			out := make(map[string]any, len(c))
			for k, e := range c {
				out[k] = known(p.Key(k), e)
			}
			return out
		}
		if value.IsUnknown(v) {
			if first == nil || p.String() < first.String() {
				first = slices.Clone(p)
			}
			return nil
		}
		return v
	}
	return known(nil, v), first
}
