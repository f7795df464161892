package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/document"
	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/plan"
	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/state"
)

// DefaultParallelism is the number of operations in flight at once when neither the Engine nor the
// plan says otherwise (Terraform's -parallelism default).
const DefaultParallelism = 10

// The journal's Begin modes.
const (
	ModeApply    = "apply"
	ModeRollback = "rollback"
)

// Engine carries out plans against one state backend. The zero value is not usable: Providers and
// Backend are required. An Engine may run one Apply, Resume or Rollback at a time per backend, and the
// caller holds the backend's lock meanwhile.
type Engine struct {
	// Providers hands out the configured providers the changes name.
	Providers plan.ProviderSource
	// Backend stores the state and the journal.
	Backend state.Backend
	// Parallelism is the most operations in flight at once; 0 takes the plan's setting, then
	// DefaultParallelism.
	Parallelism int
	// ProviderLimits lowers, per provider name, the concurrency a provider declares in its schema
	// (ProviderSchema.Concurrency); 0 or absent keeps the provider's own.
	ProviderLimits map[string]int
	// FailFast stops starting new operations after the first failure.
	FailFast bool
	// RollbackOnFailure undoes an apply that had failures (also enabled by the plan's setting).
	RollbackOnFailure bool
	// Hooks receive progress events; nil means none.
	Hooks Hooks
	// Logger receives the engine's log; nil means none.
	Logger hclog.Logger
	// Hard, when cancelled, cancels the operations in flight and asks the providers to Stop (a second
	// Ctrl-C). Cancelling the context given to Apply only stops starting new operations.
	Hard context.Context
	// Secrets resolves {"$secret": …} references in configurations just before they are sent to a
	// provider; nil leaves them as written. The state keeps the references, not the secrets.
	Secrets SecretResolver
}

// SecretResolver replaces secret references in v and returns the paths that now hold secrets;
// *secrets.Resolver implements it.
type SecretResolver interface {
	Resolve(v any, at string) (any, []value.Path, diag.Diagnostics)
}

// Result is the outcome of an Apply, Resume or Rollback.
type Result struct {
	// Added, Changed, Destroyed and Read count the changes carried out, the way Terraform reports
	// them: a replace counts as one added and one destroyed.
	Added, Changed, Destroyed, Read int
	// Failures are the changes that failed, by address.
	Failures []Failure
	// Skipped are the changes not carried out because something they depend on failed, sorted.
	Skipped []string
	// NotStarted are the changes not started because the walk stopped early (cancelled, fail-fast,
	// or a journal write failed), sorted.
	NotStarted []string
	// Interrupted says the context was cancelled during the walk.
	Interrupted bool
	// Rollback is the result of the rollback that followed a failed apply (RollbackOnFailure).
	Rollback *Result
	// State is the new state, as written to the backend.
	State *state.State
	// Outputs are the root outputs of the new state.
	Outputs map[string]*state.Output
	// Diagnostics are every problem reported, with the address of its resource.
	Diagnostics diag.Diagnostics
}

// Failure is one failed change.
type Failure struct {
	Addr        string
	Action      plan.Action
	Diagnostics diag.Diagnostics
}

// Failed reports whether any change failed or was left out, here or in the rollback that followed.
func (r *Result) Failed() bool {
	return len(r.Failures) > 0 || len(r.Skipped) > 0 || len(r.NotStarted) > 0
}

// ErrNoJournal is returned by Resume and Rollback when there is no journal: nothing was interrupted.
var ErrNoJournal = errors.New("no interrupted apply: there is nothing to resume or roll back")

func (e *Engine) hooks() Hooks {
	if e.Hooks == nil {
		return HookFuncs{}
	}
	return e.Hooks
}

func (e *Engine) logger() hclog.Logger {
	if e.Logger == nil {
		return hclog.NewNullLogger()
	}
	return e.Logger
}

func (e *Engine) parallelism(p *plan.Plan) int {
	switch {
	case e.Parallelism > 0:
		return e.Parallelism
	case p.Parallelism > 0:
		return p.Parallelism
	}
	return DefaultParallelism
}

// Apply carries out p, made against prior (the state read under the lock; nil reads it from the
// backend). It journals every operation, folds the journal into a new state with the next serial, writes
// it and removes the journal. Failed changes do not stop independent ones; what succeeded is kept in
// the new state (unless RollbackOnFailure undoes it). When ctx is cancelled no new operation starts,
// those in flight finish, and the state is written as usual with Result.Interrupted set.
//
// The error is for what prevents an apply from running or finishing (a stale plan, a journal left by
// an interrupted apply — an *Interrupted —, a provider that cannot be reached, a state that cannot be
// written); failed changes are reported in the Result.
func (e *Engine) Apply(ctx context.Context, p *plan.Plan, prior *state.State) (*Result, error) {
	prior, err := e.prior(ctx, prior)
	if err != nil {
		return nil, err
	}
	if err := p.CheckFresh(prior); err != nil {
		return nil, err
	}
	if recs, err := e.journal(ctx); err != nil {
		return nil, fmt.Errorf("engine: apply: %w", err)
	} else if recs != nil {
		return nil, interrupted(recs)
	}
	data, err := p.Marshal()
	if err != nil {
		return nil, fmt.Errorf("engine: apply: %w", err)
	}
	r, err := e.newRun(ctx, ModeApply, p, data, prior)
	if err != nil {
		return nil, err
	}
	jw, err := e.Backend.Create(ctx, state.Record{Kind: state.Begin, Time: timeNow(), Plan: data, Mode: ModeApply})
	if err != nil {
		r.done()
		return nil, fmt.Errorf("engine: apply: %w", err)
	}
	r.jw = jw
	e.logger().Info("apply started", "changes", len(r.nodes), "parallelism", r.parallelism)
	res := r.walk(ctx)
	return e.conclude(ctx, r, res, prior, nil)
}

func (e *Engine) prior(ctx context.Context, prior *state.State) (*state.State, error) {
	if prior != nil {
		return prior, nil
	}
	s, err := e.Backend.Read(ctx)
	if err != nil {
		return nil, fmt.Errorf("engine: read state: %w", err)
	}
	return s, nil
}

// conclude finishes a walk: it rolls back if asked to, computes the outputs, folds the journal into
// a new state, writes it and removes the journal. older are the journal records before r's.
func (e *Engine) conclude(ctx context.Context, r *run, res *Result, prior *state.State, older []state.Record) (*Result, error) {
	r.done()
	final := r.fold()
	if r.fatal() == nil && r.mode == ModeApply && !res.Interrupted && len(res.Failures) > 0 &&
		(e.RollbackOnFailure || r.plan.RollbackOnFailure) {
		all := slices.Concat(older, r.records())
		rb, rbFinal, err := e.rollback(ctx, r.jw, r.plan, all, final, prior.Outputs)
		if err != nil {
			r.jw.Close()
			return res, err
		}
		res.Rollback = rb
		final = rbFinal
	}
	keep := res.Rollback != nil && res.Rollback.Interrupted || r.mode == ModeRollback && res.Interrupted ||
		r.inDoubt.Load()
	if err := e.writeState(ctx, r.jw, final, prior, r.fatal(), keep); err != nil {
		return res, err
	}
	res.State, res.Outputs = final, final.Outputs
	if res.Rollback != nil {
		res.Rollback.State, res.Rollback.Outputs = final, final.Outputs
	}
	e.logger().Info("apply finished", "added", res.Added, "changed", res.Changed, "destroyed", res.Destroyed,
		"failed", len(res.Failures), "serial", final.Serial)
	return res, nil
}

// writeState writes final as the successor of prior, closes the journal and removes it. The journal
// is kept when a record could not be written (fatal: it may know more than the state) and when keep
// is set (an interrupted rollback, to be run again); folding it again later is harmless.
func (e *Engine) writeState(ctx context.Context, jw state.JournalWriter, final, prior *state.State, fatal error, keep bool) error {
	ctx = context.WithoutCancel(ctx) // the state is written even after Ctrl-C
	final.Lineage = prior.Lineage
	final.Serial = prior.Serial
	final.NextSerial()
	final.ProvVersion = state.Version()
	e.hooks().OnPhase(PhaseState, fmt.Sprintf("writing state serial %d", final.Serial))
	if err := e.Backend.Write(ctx, final); err != nil {
		jw.Close()
		return fmt.Errorf("engine: write state: %w (the journal is kept: run prov apply -resume)", err)
	}
	cerr := jw.Close()
	if fatal != nil {
		return fmt.Errorf("engine: journal: %w (the state was written; the journal is kept)", fatal)
	}
	if cerr != nil {
		return fmt.Errorf("engine: close journal: %w", cerr)
	}
	if keep {
		return nil
	}
	if err := e.Backend.Remove(ctx); err != nil {
		return fmt.Errorf("engine: remove journal: %w", err)
	}
	return nil
}

// provider is one provider the walk uses, with its concurrency limit (0: none) and, with a limit, the
// semaphore of its operations in flight.
type provider struct {
	name  string
	p     plugins.Provider
	limit int
	slots chan struct{}
}

// run is one walk of one plan.
type run struct {
	e           *Engine
	mode        string
	plan        *plan.Plan
	planID      string
	parallelism int
	hooks       Hooks
	log         hclog.Logger
	callCtx     context.Context // provider calls: cancelled only by Engine.Hard
	stopCalls   func() bool
	// slots holds a place for each operation at the providers, at most parallelism; stopping is
	// closed when the walk stops starting operations.
	slots    chan struct{}
	stopping chan struct{}

	provs []*provider
	nodes []node

	// base is the state the walk starts from; overlay holds what the walk has changed since (a nil
	// resource: deleted). Lookups read overlay, then base; neither is copied.
	base    *state.State
	mu      sync.RWMutex
	overlay map[string]*state.Resource
	// keep, in a rollback, holds the objects a create-then-delete replaced and did not delete, by
	// address: deleting the replacement puts them back.
	keep map[string]*state.Resource

	jw       state.JournalWriter
	recMu    sync.Mutex
	recs     []state.Record
	fatalErr atomic.Pointer[error]
	// inDoubt is set when a provider call failed in transport with its operation in flight: the
	// journal must outlive the walk so a resume can settle the operation.
	inDoubt atomic.Bool
}

func (e *Engine) newRun(ctx context.Context, mode string, p *plan.Plan, data []byte, base *state.State) (*run, error) {
	sum := sha256.Sum256(data)
	r := &run{
		e: e, mode: mode, plan: p, planID: hex.EncodeToString(sum[:]),
		parallelism: e.parallelism(p), hooks: e.hooks(), log: e.logger(), base: base,
	}
	if err := r.buildNodes(ctx); err != nil {
		return nil, err
	}
	r.overlay = make(map[string]*state.Resource, len(r.nodes))
	r.recs = make([]state.Record, 0, 2*len(r.nodes)+len(p.Outputs)+1)
	callCtx := context.WithoutCancel(ctx)
	if e.Hard != nil {
		var cancel context.CancelFunc
		callCtx, cancel = context.WithCancel(callCtx)
		r.stopCalls = context.AfterFunc(e.Hard, func() {
			cancel()
			for _, pv := range r.provs {
				pv.p.Stop(context.Background())
			}
		})
	}
	r.callCtx = callCtx
	return r, nil
}

// provider returns the index of the named provider in r.provs, starting it and reading its
// concurrency limit the first time.
func (r *run) provider(ctx context.Context, name string, byName map[string]int) (int, error) {
	if i, ok := byName[name]; ok {
		return i, nil
	}
	p, err := r.e.Providers.Provider(ctx, name)
	if err != nil {
		return 0, fmt.Errorf("engine: provider %s: %w", name, err)
	}
	schema, ds, err := p.Schema(ctx)
	if err == nil {
		err = ds.Err()
	}
	if err != nil {
		return 0, fmt.Errorf("engine: provider %s: schema: %w", name, err)
	}
	limit := schema.Concurrency
	if l := r.e.ProviderLimits[name]; l > 0 && (limit == 0 || l < limit) {
		limit = l
	}
	pv := &provider{name: name, p: p, limit: limit}
	if limit > 0 {
		pv.slots = make(chan struct{}, limit)
	}
	r.provs = append(r.provs, pv)
	byName[name] = len(r.provs) - 1
	return len(r.provs) - 1, nil
}

// done releases what the run holds beyond the walk.
func (r *run) done() {
	if r.stopCalls != nil {
		r.stopCalls()
	}
}

func (r *run) fatal() error {
	if p := r.fatalErr.Load(); p != nil {
		return *p
	}
	return nil
}

func (r *run) setFatal(err error) {
	r.fatalErr.CompareAndSwap(nil, &err)
}

// current returns the resource at addr as the walk has left it so far, or nil.
func (r *run) current(addr string) *state.Resource {
	r.mu.RLock()
	res, ok := r.overlay[addr]
	r.mu.RUnlock()
	if ok {
		return res
	}
	return r.base.Resources[addr]
}

func (r *run) set(addr string, res *state.Resource) {
	r.mu.Lock()
	r.overlay[addr] = res
	r.mu.Unlock()
}

// attrs is the lookup document.Resolve uses: a resource's attributes in the working state.
func (r *run) attrs(addr string) (any, bool) {
	if res := r.current(addr); res != nil {
		return res.Attributes, true
	}
	return nil, false
}

// record keeps rec for the final fold and appends it to the journal, returning once it is durable.
// A record that cannot be written stops the walk (see fatal); it is still folded into the state.
func (r *run) record(rec state.Record) error {
	rec.Time = timeNow()
	r.recMu.Lock()
	r.recs = append(r.recs, rec)
	r.recMu.Unlock()
	if err := r.jw.Append(rec); err != nil {
		r.setFatal(err)
		return err
	}
	return nil
}

func (r *run) records() []state.Record {
	r.recMu.Lock()
	defer r.recMu.Unlock()
	return slices.Clone(r.recs)
}

// fold computes the outputs, journals them, and returns base with the walk's records applied. It is
// called after the walk, when no worker appends any more.
func (r *run) fold() *state.State {
	r.outputs()
	return state.Fold(r.base, r.recs)
}

// outputs journals the root outputs whose value the walk changed. An output whose value cannot be
// known (what it refers to failed) keeps its prior value.
func (r *run) outputs() {
	var wg sync.WaitGroup
	for _, name := range slices.Sorted(maps.Keys(r.plan.Outputs)) {
		o := r.plan.Outputs[name]
		if o.Action == plan.NoOp {
			continue
		}
		var out *state.Output
		if o.Action != plan.Delete {
			v := o.Value
			if r.mode == ModeApply {
				var ds diag.Diagnostics
				if v, ds = document.Resolve(v, r.attrs); ds.HasErrors() {
					continue
				}
			}
			sensitive := o.Sensitive
			if r.e.Secrets != nil {
				var paths []value.Path
				var ds diag.Diagnostics
				if v, paths, ds = r.e.Secrets.Resolve(v, "outputs."+name); ds.HasErrors() {
					continue
				}
				sensitive = sensitive || len(paths) > 0
			}
			if value.HasUnknown(v) {
				continue
			}
			out = &state.Output{Value: v, Sensitive: sensitive}
		}
		if old := r.base.Output(name); old == nil && out == nil ||
			old != nil && out != nil && old.Sensitive == out.Sensitive && value.Equal(old.Value, out.Value) {
			continue
		}
		// Appended concurrently so that one fsync covers them all.
		wg.Go(func() { r.record(state.Record{Kind: state.OutputRecord, Name: name, Output: out}) })
	}
	wg.Wait()
}

// timeNow is the clock of journal records.
var timeNow = time.Now

// opID is the operation id of one phase of the change of addr: unique per plan, address and phase,
// and the same when a resume computes it again.
func opID(planID, addr, phase string) string {
	h := sha256.New()
	h.Write([]byte(planID))
	h.Write([]byte{0})
	h.Write([]byte(addr))
	h.Write([]byte{0})
	h.Write([]byte(phase))
	return hex.EncodeToString(h.Sum(nil)[:16])
}
