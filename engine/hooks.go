package engine

import (
	"time"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/plan"
	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/state"
)

// Hooks receive the events of a walk. The engine calls them from many goroutines at once, on the path
// of every operation: implementations must be safe for concurrent use and return quickly.
type Hooks interface {
	// OnStart is called when the change of addr starts.
	OnStart(addr string, action plan.Action)
	// OnProgress relays a progress report the provider streamed during Apply.
	OnProgress(addr string, p plugins.Progress)
	// OnComplete is called when the change of addr is done; r is the resource as it now exists (nil
	// after a delete).
	OnComplete(addr string, action plan.Action, elapsed time.Duration, r *state.Resource)
	// OnError is called when the change of addr failed.
	OnError(addr string, action plan.Action, elapsed time.Duration, diags diag.Diagnostics)
	// OnSkip is called once per failed change (or once for an interrupted walk) with the changes that
	// will not be carried out because of it, sorted; cause is the failed address or a reason.
	OnSkip(addrs []string, cause string)
	// OnPhase reports the phases of a resume or a rollback, with a line for the user.
	OnPhase(phase Phase, message string)
}

// Phase names a stage of an apply, resume or rollback reported through Hooks.OnPhase.
type Phase string

// The phases.
const (
	// PhaseResume starts the resume of an interrupted apply (or rollback).
	PhaseResume Phase = "resume"
	// PhaseSettle reports how an operation left in doubt was settled.
	PhaseSettle Phase = "settle"
	// PhaseRollback starts a rollback.
	PhaseRollback Phase = "rollback"
	// PhaseState reports the new state being written.
	PhaseState Phase = "state"
)

// HookFuncs implements Hooks with optional functions: a nil field ignores its event.
type HookFuncs struct {
	Start    func(addr string, action plan.Action)
	Progress func(addr string, p plugins.Progress)
	Complete func(addr string, action plan.Action, elapsed time.Duration, r *state.Resource)
	Error    func(addr string, action plan.Action, elapsed time.Duration, diags diag.Diagnostics)
	Skip     func(addrs []string, cause string)
	Phase    func(phase Phase, message string)
}

var _ Hooks = HookFuncs{}

// OnStart implements Hooks.
func (h HookFuncs) OnStart(addr string, action plan.Action) {
	if h.Start != nil {
		h.Start(addr, action)
	}
}

// OnProgress implements Hooks.
func (h HookFuncs) OnProgress(addr string, p plugins.Progress) {
	if h.Progress != nil {
		h.Progress(addr, p)
	}
}

// OnComplete implements Hooks.
func (h HookFuncs) OnComplete(addr string, action plan.Action, elapsed time.Duration, r *state.Resource) {
	if h.Complete != nil {
		h.Complete(addr, action, elapsed, r)
	}
}

// OnError implements Hooks.
func (h HookFuncs) OnError(addr string, action plan.Action, elapsed time.Duration, diags diag.Diagnostics) {
	if h.Error != nil {
		h.Error(addr, action, elapsed, diags)
	}
}

// OnSkip implements Hooks.
func (h HookFuncs) OnSkip(addrs []string, cause string) {
	if h.Skip != nil {
		h.Skip(addrs, cause)
	}
}

// OnPhase implements Hooks.
func (h HookFuncs) OnPhase(phase Phase, message string) {
	if h.Phase != nil {
		h.Phase(phase, message)
	}
}

// MultiHooks returns Hooks that pass every event to each of hs in turn. Nil entries are left out.
func MultiHooks(hs ...Hooks) Hooks {
	var m multiHooks
	for _, h := range hs {
		if h != nil {
			m = append(m, h)
		}
	}
	return m
}

type multiHooks []Hooks

func (m multiHooks) OnStart(addr string, action plan.Action) {
	for _, h := range m {
		h.OnStart(addr, action)
	}
}

func (m multiHooks) OnProgress(addr string, p plugins.Progress) {
	for _, h := range m {
		h.OnProgress(addr, p)
	}
}

func (m multiHooks) OnComplete(addr string, action plan.Action, elapsed time.Duration, r *state.Resource) {
	for _, h := range m {
		h.OnComplete(addr, action, elapsed, r)
	}
}

func (m multiHooks) OnError(addr string, action plan.Action, elapsed time.Duration, diags diag.Diagnostics) {
	for _, h := range m {
		h.OnError(addr, action, elapsed, diags)
	}
}

func (m multiHooks) OnSkip(addrs []string, cause string) {
	for _, h := range m {
		h.OnSkip(addrs, cause)
	}
}

func (m multiHooks) OnPhase(phase Phase, message string) {
	for _, h := range m {
		h.OnPhase(phase, message)
	}
}
