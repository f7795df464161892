package engine

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/provhq/prov/plan"
	"github.com/provhq/prov/state"
)

// Interrupted describes the journal an apply or a rollback left behind when its process died. As an
// error it tells the user what to do.
type Interrupted struct {
	// Mode is the Begin mode of the interrupted walk: ModeApply or ModeRollback.
	Mode string
	// Started is when the interrupted apply began.
	Started time.Time
	// Operations counts the operations journaled; InDoubt those with an intent but no outcome.
	Operations, InDoubt int
}

func (in *Interrupted) Error() string {
	if in.Mode == ModeRollback {
		return "the last rollback was interrupted: run prov rollback to finish it"
	}
	return "the last apply was interrupted: run prov apply -resume or prov rollback"
}

// Pending reports the journal of an interrupted apply or rollback, or nil when there is none. The CLI
// calls it before plan and apply, which refuse to run while one exists.
func Pending(ctx context.Context, js state.JournalStore) (*Interrupted, error) {
	recs, ok, err := js.Records(ctx)
	if err != nil {
		return nil, fmt.Errorf("engine: read journal: %w", err)
	}
	if !ok || len(recs) == 0 {
		return nil, nil // no journal, or one torn inside its Begin record: nothing was done (see journal)
	}
	return interrupted(recs), nil
}

// interrupted describes the journal recs.
func interrupted(recs []state.Record) *Interrupted {
	in := &Interrupted{Mode: ModeApply}
	if len(recs) > 0 {
		in.Started = recs[0].Time
		in.Mode = recs[lastBegin(recs)].Mode
	}
	for _, op := range operations(recs) {
		in.Operations++
		if op.outcome == "" {
			in.InDoubt++
		}
	}
	return in
}

// journal reads the records of the journal in the backend, nil when there is none. A journal torn
// inside its Begin record holds none: the walk died creating it, before any operation (the Begin is
// durable before the first intent), so it is removed and counts as none. Callers hold the state lock.
func (e *Engine) journal(ctx context.Context) ([]state.Record, error) {
	recs, ok, err := e.Backend.Records(ctx)
	if err != nil || !ok {
		return nil, err
	}
	if len(recs) == 0 {
		if err := e.Backend.Remove(ctx); err != nil {
			return nil, err
		}
		e.logger().Warn("removed a journal with no complete record: the apply that wrote it died before any operation")
		return nil, nil
	}
	return recs, nil
}

// lastBegin is the index of the last Begin record: a rollback appends its own to the apply's journal.
func lastBegin(recs []state.Record) int {
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i].Kind == state.Begin {
			return i
		}
	}
	return 0
}

// operation is what the journal says of one operation id: its first intent (whose Prior is the
// resource before it) and its last outcome (Commit, Fail, or "" when in doubt).
type operation struct {
	intent  state.Record
	outcome state.RecordKind
}

// operations lists the operations of recs in the order of their first intent. An intent after a fail
// (a retry) puts the operation in doubt again.
func operations(recs []state.Record) []*operation {
	var ops []*operation
	byID := map[string]*operation{}
	for _, rec := range recs {
		switch rec.Kind {
		case state.Intent:
			if op, ok := byID[rec.OpID]; ok {
				op.outcome = ""
				continue
			}
			op := &operation{intent: rec}
			byID[rec.OpID] = op
			ops = append(ops, op)
		case state.Commit, state.Fail:
			if op, ok := byID[rec.OpID]; ok {
				op.outcome = rec.Kind
			}
		}
	}
	return ops
}

// Resume finishes the apply (or rollback) whose journal is in the backend: prior is the state read
// under the lock (nil reads it). The working state is prior with the journal folded in; each change
// continues from its first phase without a commit record, an operation in doubt is first settled with
// the provider's Read by its operation id (found: recorded; not found: applied again under the same
// id, so nothing is created twice). Then, as Apply, it writes the new state and removes the journal.
func (e *Engine) Resume(ctx context.Context, prior *state.State) (*Result, error) {
	prior, err := e.prior(ctx, prior)
	if err != nil {
		return nil, err
	}
	recs, err := e.journal(ctx)
	if err != nil {
		return nil, fmt.Errorf("engine: resume: %w", err)
	}
	if recs == nil {
		return nil, ErrNoJournal
	}
	bi := lastBegin(recs)
	begin := recs[bi]
	p, err := plan.Unmarshal(begin.Plan)
	if err != nil {
		return nil, fmt.Errorf("engine: resume: the journal's plan: %w", err)
	}
	if prior.Serial == 0 && len(prior.Resources) == 0 {
		// No state was ever written (the interrupted apply was the first): every read of a missing
		// state makes up a fresh lineage, so adopt the one the plan was made against.
		prior = prior.Clone()
		prior.Lineage = p.Lineage
	}
	if p.Lineage != "" && prior.Lineage != "" && p.Lineage != prior.Lineage {
		return nil, fmt.Errorf("engine: resume: the journal belongs to state lineage %s, not to this state (%s)", p.Lineage, prior.Lineage)
	}
	mode := begin.Mode
	if mode != ModeRollback {
		mode = ModeApply
	}
	r, err := e.newRun(ctx, mode, p, begin.Plan, state.Fold(prior, recs))
	if err != nil {
		return nil, err
	}
	if mode == ModeRollback {
		r.keep = replaced(recs[:bi])
	}
	inDoubt, left := r.restore(recs[bi+1:])
	if r.jw, err = e.Backend.Open(ctx); err != nil {
		r.done()
		return nil, fmt.Errorf("engine: resume: %w", err)
	}
	e.hooks().OnPhase(PhaseResume, fmt.Sprintf("resuming the %s started %s: %d changes left, %d operations in doubt",
		mode, begin.Time.Local().Format(time.DateTime), left, inDoubt))
	e.logger().Info("resume", "mode", mode, "left", left, "in_doubt", inDoubt)
	res := r.walk(ctx)
	return e.conclude(ctx, r, res, prior, recs)
}

// restore sets each node's progress from the records of its walk: the phases already committed are
// skipped, an intent without outcome is in doubt, a failed phase runs again. It returns how many
// operations are in doubt and how many changes have something left to do.
func (r *run) restore(recs []state.Record) (inDoubt, left int) {
	byAddr := map[string][]*operation{}
	for _, op := range operations(recs) {
		byAddr[op.intent.Addr] = append(byAddr[op.intent.Addr], op)
	}
	for i := range r.nodes {
		n := &r.nodes[i]
		ops := byAddr[n.addr]
		if len(ops) > 0 && n.c.Action == plan.Update && ops[0].intent.Action == "delete" {
			n.phases = deleteThenCreatePhase // a rollback turned this update into a replace
		}
		if n.c.Action == plan.CreateThenDelete && len(ops) > 0 {
			n.deposed = ops[0].intent.Prior
		}
		k := 0
		for k < len(ops) && k < len(n.phases) && ops[k].intent.Action == n.phases[k] && ops[k].outcome == state.Commit {
			k++
		}
		n.next = k
		if k < len(ops) && k < len(n.phases) && ops[k].intent.Action == n.phases[k] && ops[k].outcome == "" {
			in := ops[k].intent
			n.inDoubt = &in
			inDoubt++
		}
		if !n.trivial() {
			left++
		}
	}
	return inDoubt, left
}

// firstPriors returns, for every address an operation of recs touched, the resource before the first
// of them (nil when it did not exist): what a rollback restores.
func firstPriors(recs []state.Record) map[string]*state.Resource {
	out := map[string]*state.Resource{}
	for _, rec := range recs {
		if rec.Kind != state.Intent {
			continue
		}
		if _, seen := out[rec.Addr]; !seen {
			out[rec.Addr] = rec.Prior
		}
	}
	return out
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
