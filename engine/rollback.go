package engine

import (
	"context"
	"fmt"

	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/plan"
	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/state"
)

// Rollback undoes the operations journaled by an interrupted apply and returns the state to what it
// was before it: what was created is deleted, what was updated gets its prior configuration back
// (replaced when the provider cannot update it in place), what was deleted is created again from its
// prior configuration. Operations in doubt are settled first with the provider's Read. The rollback
// is journaled in the same journal (a Begin record in mode "rollback"), so a rollback that dies can be
// run again, or resumed. At the end the new state is written and the journal removed, unless the
// rollback was interrupted (ctx cancelled): then the journal stays for the next prov rollback. prior is
// the state read under the lock (nil reads it). Without a journal it returns ErrNoJournal.
func (e *Engine) Rollback(ctx context.Context, prior *state.State) (*Result, error) {
	prior, err := e.prior(ctx, prior)
	if err != nil {
		return nil, err
	}
	recs, err := e.journal(ctx)
	if err != nil {
		return nil, fmt.Errorf("engine: rollback: %w", err)
	}
	if recs == nil {
		return nil, ErrNoJournal
	}
	applyPlan, err := plan.Unmarshal(recs[0].Plan)
	if err != nil {
		return nil, fmt.Errorf("engine: rollback: the journal's plan: %w", err)
	}
	if prior.Serial == 0 && len(prior.Resources) == 0 && applyPlan.Lineage != "" {
		// No state was ever written (the interrupted apply was the first): keep the lineage the plan
		// was made against rather than the one made up by reading a missing state.
		prior = prior.Clone()
		prior.Lineage = applyPlan.Lineage
	}
	last, err := plan.Unmarshal(recs[lastBegin(recs)].Plan)
	if err != nil {
		return nil, fmt.Errorf("engine: rollback: the journal's plan: %w", err)
	}
	jw, err := e.Backend.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("engine: rollback: %w", err)
	}
	settled, err := e.settle(ctx, jw, recs, last, state.Fold(prior, recs))
	all := append(recs, settled...)
	if err != nil {
		jw.Close()
		return nil, err
	}
	current := state.Fold(prior, all)
	// The outputs before the apply are known only while its state has not been written.
	var outputs map[string]*state.Output
	if prior.Serial == applyPlan.Serial {
		outputs = prior.Outputs
	} else {
		outputs = current.Outputs
	}
	res, final, err := e.rollback(ctx, jw, applyPlan, all, current, outputs)
	if err != nil {
		jw.Close()
		return res, err
	}
	if err := e.writeState(ctx, jw, final, prior, nil, res.Interrupted); err != nil {
		return res, err
	}
	res.State, res.Outputs = final, final.Outputs
	return res, nil
}

// rollback walks the changes that take current back to the resources before the first operation of
// recs and to outputs; it returns the new working state. applied is the plan being rolled back.
func (e *Engine) rollback(ctx context.Context, jw state.JournalWriter, applied *plan.Plan, recs []state.Record, current *state.State, outputs map[string]*state.Output) (*Result, *state.State, error) {
	keep := replaced(recs)
	rp := rollbackPlan(firstPriors(recs), keep, current, outputs)
	rp.Providers, rp.Parallelism = applied.Providers, applied.Parallelism
	e.hooks().OnPhase(PhaseRollback, fmt.Sprintf("rolling back: %d changes to undo", len(rp.Changes)))
	e.logger().Info("rollback", "changes", len(rp.Changes))
	if len(rp.Changes) == 0 && len(rp.Outputs) == 0 {
		return &Result{}, current, nil
	}
	data, err := rp.Marshal()
	if err != nil {
		return nil, nil, fmt.Errorf("engine: rollback: %w", err)
	}
	r, err := e.newRun(ctx, ModeRollback, rp, data, current)
	if err != nil {
		return nil, nil, err
	}
	defer r.done()
	r.jw, r.keep = jw, keep
	if err := r.record(state.Record{Kind: state.Begin, Plan: data, Mode: ModeRollback}); err != nil {
		return nil, nil, fmt.Errorf("engine: rollback: %w", err)
	}
	res := r.walk(ctx)
	final := r.fold()
	if err := r.fatal(); err != nil {
		return res, final, fmt.Errorf("engine: rollback: journal: %w", err)
	}
	return res, final, nil
}

// replaced returns, by address, the objects that the create-then-delete replaces in recs replaced
// and did not delete (the create committed, the delete of the old object did not): they still exist.
func replaced(recs []state.Record) map[string]*state.Resource {
	keep := map[string]*state.Resource{}
	for _, op := range operations(recs) {
		in := op.intent
		switch {
		case op.outcome != state.Commit:
		case in.Action == "create" && in.Prior != nil: // the create of a create-then-delete
			keep[in.Addr] = in.Prior
		case in.Action == "delete":
			delete(keep, in.Addr)
		}
	}
	return keep
}

// rollbackPlan is the plan from current back to target (by address, nil: absent) and outputs. At an
// address in keep, the current object is a replacement whose predecessor still exists: it is deleted
// and the predecessor takes its place again.
// Configurations in it are as applied (references resolved), so the rollback walk does not resolve
// them again; planned values are unknown, as the provider plans them again during the walk.
func rollbackPlan(target, keep map[string]*state.Resource, current *state.State, outputs map[string]*state.Output) *plan.Plan {
	rp := &plan.Plan{
		FormatVersion: plan.FormatVersion, ProvVersion: state.Version(),
		Lineage: current.Lineage, Serial: current.Serial,
		Changes: map[string]*plan.Change{}, Outputs: map[string]*plan.OutputChange{},
	}
	for _, addr := range sortedKeys(target) {
		orig, cur := target[addr], current.Resources[addr]
		switch {
		case keep[addr] != nil && cur != nil:
			rp.Changes[addr] = &plan.Change{
				Addr: addr, Type: cur.Type, Provider: cur.Provider, Action: plan.Delete,
				Before: cur.Attributes, BeforeSensitive: cur.Sensitive, DependsOn: cur.Dependencies,
				Reason: "replacement created by the apply being rolled back; the object it replaced is kept",
			}
		case orig == nil && cur == nil:
		case orig == nil:
			rp.Changes[addr] = &plan.Change{
				Addr: addr, Type: cur.Type, Provider: cur.Provider, Action: plan.Delete,
				Before: cur.Attributes, BeforeSensitive: cur.Sensitive, DependsOn: cur.Dependencies,
				Reason: "created by the apply being rolled back",
			}
		case cur == nil:
			rp.Changes[addr] = &plan.Change{
				Addr: addr, Type: orig.Type, Provider: orig.Provider, Action: plan.Create,
				After: value.Unknown, Config: orig.Config, AfterSensitive: orig.Sensitive, DependsOn: orig.Dependencies,
				Reason: "deleted by the apply being rolled back",
			}
		case value.Equal(orig.Attributes, cur.Attributes) && value.Equal(orig.Config, cur.Config):
		default:
			rp.Changes[addr] = &plan.Change{
				Addr: addr, Type: orig.Type, Provider: orig.Provider, Action: plan.Update,
				Before: cur.Attributes, BeforeSensitive: cur.Sensitive, After: value.Unknown, Config: orig.Config,
				AfterSensitive: orig.Sensitive, DependsOn: orig.Dependencies,
				Reason: "changed by the apply being rolled back",
			}
		}
	}
	names := map[string]bool{}
	for n := range outputs {
		names[n] = true
	}
	for n := range current.Outputs {
		names[n] = true
	}
	for _, name := range sortedKeys(names) {
		want, have := outputs[name], current.Outputs[name]
		switch {
		case want == nil && have == nil:
		case want == nil:
			rp.Outputs[name] = &plan.OutputChange{Name: name, Action: plan.Delete, Sensitive: have.Sensitive}
		case have == nil || !value.Equal(want.Value, have.Value) || want.Sensitive != have.Sensitive:
			rp.Outputs[name] = &plan.OutputChange{Name: name, Action: plan.Update, Value: want.Value, After: want.Value, Sensitive: want.Sensitive}
		}
	}
	return rp
}

// settle records the outcome of every operation in doubt in recs, found with the provider's Read by
// operation id, without doing anything: a create found or an update is committed with what exists, a
// delete whose object is gone is committed, anything else is recorded as failed (not carried out). p
// is the plan of the walk the operations belong to; current the working state.
func (e *Engine) settle(ctx context.Context, jw state.JournalWriter, recs []state.Record, p *plan.Plan, current *state.State) ([]state.Record, error) {
	var out []state.Record
	for _, op := range operations(recs) {
		if op.outcome != "" {
			continue
		}
		in := op.intent
		c := p.Changes[in.Addr]
		typ, provName := "", ""
		switch {
		case in.Prior != nil:
			typ, provName = in.Prior.Type, in.Prior.Provider
		case c != nil:
			typ, provName = c.Type, c.Provider
		default:
			return out, fmt.Errorf("engine: settle operation %s on %s: the journal's plan has no such change", in.OpID, in.Addr)
		}
		pv, err := e.Providers.Provider(ctx, provName)
		if err != nil {
			return out, fmt.Errorf("engine: settle operation %s on %s: provider %s: %w", in.OpID, in.Addr, provName, err)
		}
		req := plugins.ReadRequest{Type: typ, OperationID: in.OpID}
		if in.Prior != nil && in.Action != "create" {
			req.Current = in.Prior.Attributes
		}
		rd, err := pv.Read(ctx, req)
		if err == nil {
			err = rd.Diagnostics.Err()
		}
		if err != nil {
			return out, fmt.Errorf("engine: settle operation %s on %s: read: %w", in.OpID, in.Addr, err)
		}
		rec := state.Record{Kind: state.Fail, OpID: in.OpID, Addr: in.Addr, Action: in.Action, Error: "not carried out"}
		outcome := "not carried out"
		switch {
		case in.Action == "create" && rd.New != nil:
			rec = state.Record{Kind: state.Commit, OpID: in.OpID, Addr: in.Addr, Action: in.Action,
				New: &state.Resource{Type: typ, Provider: provName, Attributes: rd.New, Sensitive: rd.Sensitive}}
			if c != nil {
				rec.New.Dependencies = c.DependsOn
			}
			outcome = "found: recorded as created"
		case in.Action == "delete" && rd.New == nil:
			rec = state.Record{Kind: state.Commit, OpID: in.OpID, Addr: in.Addr, Action: in.Action}
			if c != nil && c.Action == plan.CreateThenDelete {
				rec.New = current.Resources[in.Addr] // the replacement stays
			}
			outcome = "gone: recorded as deleted"
		case (in.Action == "update" || in.Action == "read") && in.Prior != nil:
			res := in.Prior.Clone()
			res.Attributes = rd.New
			if rd.New == nil {
				res = nil
			}
			rec = state.Record{Kind: state.Commit, OpID: in.OpID, Addr: in.Addr, Action: in.Action, New: res}
			outcome = "recorded as it now exists"
		}
		rec.Time = timeNow()
		if err := jw.Append(rec); err != nil {
			return out, fmt.Errorf("engine: settle operation %s on %s: %w", in.OpID, in.Addr, err)
		}
		out = append(out, rec)
		e.hooks().OnPhase(PhaseSettle, fmt.Sprintf("%s: %s in doubt (operation %s): %s", in.Addr, in.Action, in.OpID, outcome))
	}
	return out, nil
}
