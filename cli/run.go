package cli

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/provhq/prov/cli/cmdutil"
	"github.com/provhq/prov/engine"
	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/plan"
	"github.com/provhq/prov/plan/render"
	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/plugins/host"
	"github.com/provhq/prov/plugins/taskserv"
	"github.com/provhq/prov/state"
)

// planFlags are the flags that shape a plan (plan, apply without a plan file, destroy).
type planFlags struct {
	targets     []string
	replace     []string
	refresh     bool
	parallelism int
}

func (pf *planFlags) register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&pf.targets, "target", nil, "limit the plan to `ADDRESS` and what it depends on (repeatable)")
	fs.StringArrayVar(&pf.replace, "replace", nil, "replace `ADDRESS` even if nothing changed (repeatable)")
	fs.BoolVar(&pf.refresh, "refresh", true, "read every resource from its provider first, to detect drift")
	fs.IntVar(&pf.parallelism, "parallelism", 0, "most operations in flight at once (default: settings.parallelism, else 10)")
}

// session is one plan-and-maybe-apply run: the project, the lock, the prior state, and plugins.
type session struct {
	p      *project
	unlock func()
	prior  *state.State
	host   *host.Host
	src    *providerSource
}

// begin takes the lock, refuses to run over an interrupted apply (unless resuming), and reads the state.
func (p *project) begin(ctx context.Context, lf lockFlags, op string, allowJournal bool) (*session, error) {
	unlock, err := p.lock(ctx, lf, op)
	if err != nil {
		return nil, err
	}
	s := &session{p: p, unlock: unlock}
	if !allowJournal {
		in, err := engine.Pending(ctx, p.backend)
		if err != nil {
			s.close()
			return nil, err
		}
		if in != nil {
			s.close()
			return nil, fmt.Errorf("%w\n(started %s; %d operations journaled, %d in doubt)", in,
				in.Started.Local().Format(time.DateTime), in.Operations, in.InDoubt)
		}
	}
	if s.prior, err = p.readState(ctx); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *session) startPlugins(cfgs map[string]plan.ProviderConfig) error {
	h, src, err := s.p.openPlugins(cfgs)
	if err != nil {
		return err
	}
	s.host, s.src = h, src
	return nil
}

func (s *session) close() {
	if s.src != nil {
		s.src.Close()
	}
	if s.host != nil {
		s.host.Close()
	}
	s.unlock()
}

// checksums are the locked plugin hashes a plan records.
func (s *session) checksums() map[string]string {
	out := map[string]string{}
	if s.host == nil || s.host.Lock() == nil {
		return out
	}
	for key, l := range s.host.Lock().Plugins {
		if l.SHA256 != "" {
			out[key] = l.SHA256
		}
	}
	return out
}

// makePlan loads the configuration and plans it against the session's prior state.
func (s *session) makePlan(ctx context.Context, cf configFlags, pf planFlags, destroy bool) (*plan.Plan, diag.Diagnostics) {
	doc, diags := s.p.loadDocument(cf)
	if diags.HasErrors() {
		return nil, diags
	}
	if err := s.startPlugins(providerConfigs(doc)); err != nil {
		return nil, append(diags, diag.FromError(err)...)
	}
	// Taskservs on the same server are installed in the order their dependencies say.
	if diags = append(diags, taskserv.Order(ctx, doc, s.src)...); diags.HasErrors() {
		return nil, diags
	}
	p, more := plan.Make(ctx, doc, s.prior, s.src, plan.Options{
		Targets: pf.targets, Replace: pf.replace, SkipRefresh: !pf.refresh, Destroy: destroy,
		Parallelism: s.parallelism(pf, nil), PluginChecksums: s.checksums(), Secrets: s.p.secrets,
	})
	return p, append(diags, more...)
}

// saveRefresh records what the refresh found when an apply has nothing to change: objects that already
// are as configured, but whose state was stale (an operation that failed after doing its work, or a
// change made outside prov that happens to match), get their current attributes in the state.
func (s *session) saveRefresh(ctx context.Context, pl *plan.Plan) error {
	var next *state.State
	for addr, c := range pl.Changes {
		r := s.prior.Resource(addr)
		if c.Action != plan.NoOp || r == nil || c.Before == nil || value.Equal(r.Attributes, c.Before) {
			continue
		}
		if next == nil {
			next = s.prior.Clone()
		}
		nr := r.Clone()
		nr.Attributes, nr.Sensitive = c.Before, c.BeforeSensitive
		next.SetResource(addr, nr)
	}
	if next == nil {
		return nil
	}
	next.Serial = s.prior.NextSerial()
	if err := s.p.backend.Write(ctx, next); err != nil {
		return fmt.Errorf("save refreshed state: %w", err)
	}
	return nil
}

// engine returns the walker for this session, reporting to hooks.
func (s *session) engine(pf planFlags, pl *plan.Plan, failFast bool, hooks engine.Hooks) *engine.Engine {
	return &engine.Engine{Providers: s.src, Backend: s.p.backend, Parallelism: s.parallelism(pf, pl),
		FailFast: failFast, Hooks: hooks, Logger: s.p.f.Logger.Named("engine"), Hard: s.p.f.HardStop,
		Secrets: s.p.secrets}
}

// parallelism is -parallelism if given, else the document's settings.parallelism (recorded in the
// plan; 0 here lets the engine take it), else the core.parallelism setting.
func (s *session) parallelism(pf planFlags, pl *plan.Plan) int {
	switch {
	case pf.parallelism > 0:
		return pf.parallelism
	case pl != nil && pl.Parallelism > 0:
		return 0
	}
	return s.p.ws.Settings.Parallelism()
}

// confirm asks the user to type yes.
func confirm(f *cmdutil.Factory, question, detail string) (bool, error) {
	fmt.Fprintf(f.IO.Out, "\n%s\n  %s\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ", question, detail)
	line, err := bufio.NewReader(f.IO.In).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(f.IO.Out)
		return false, nil
	}
	return strings.TrimSpace(line) == "yes", nil
}

// applyView is how an apply reports itself: a live progress view for people, an event stream with -json.
type applyView struct {
	f      *cmdutil.Factory
	json   *render.Stream
	pv     *progressView
	p      *plan.Plan
	closed bool
}

func newApplyView(f *cmdutil.Factory, asJSON bool, p *plan.Plan) *applyView {
	v := &applyView{f: f, p: p}
	if asJSON {
		v.json = render.NewStream(f.IO.Out, time.Now)
	} else {
		v.pv = newProgressView(f.IO.Out, f.IO.IsTerminal, f.IO.Color)
	}
	return v
}

func (v *applyView) close() {
	if v.pv != nil && !v.closed {
		v.pv.Close()
	}
	v.closed = true
}

func (v *applyView) hook(addr string, action plan.Action) render.Hook {
	if v.p == nil {
		return render.Hook{Addr: addr, Action: action}
	}
	return render.NewHook(v.p, addr, action)
}

var _ engine.Hooks = (*applyView)(nil)

func (v *applyView) OnStart(addr string, action plan.Action) {
	if v.json != nil {
		v.json.ApplyStart(v.hook(addr, action))
		return
	}
	v.pv.Start(addr, action)
}

func (v *applyView) OnProgress(addr string, pr plugins.Progress) {
	if v.json != nil {
		h := v.hook(addr, 0)
		h.Message, h.Percent = pr.Message, pr.Percent
		v.json.ApplyProgress(h)
		return
	}
	msg := pr.Message
	if pr.Percent > 0 {
		msg = fmt.Sprintf("%s (%d%%)", msg, pr.Percent)
	}
	v.pv.Progress(addr, msg)
}

func (v *applyView) OnComplete(addr string, action plan.Action, elapsed time.Duration, r *state.Resource) {
	var attrs any
	if r != nil {
		attrs = r.Attributes
	}
	h := v.hook(addr, action).WithID(attrs)
	h.Elapsed = elapsed
	if v.json != nil {
		v.json.ApplyComplete(h)
		return
	}
	v.pv.Complete(addr, action, elapsed, h.IDValue)
}

func (v *applyView) OnError(addr string, action plan.Action, elapsed time.Duration, diags diag.Diagnostics) {
	if v.json != nil {
		h := v.hook(addr, action)
		h.Elapsed = elapsed
		v.json.ApplyErrored(h)
		v.json.Diagnostics(diags.WithAddress(addr))
		return
	}
	summary := "failed"
	if len(diags) > 0 {
		summary = diags[0].Summary
	}
	v.pv.Fail(addr, action, elapsed, summary)
}

func (v *applyView) OnSkip(addrs []string, cause string) {
	if v.json != nil {
		v.json.Skipped(addrs, cause)
		return
	}
	v.pv.Skip(addrs, cause)
}

func (v *applyView) OnPhase(phase engine.Phase, message string) {
	if v.json != nil {
		v.json.Phase(string(phase), message)
		return
	}
	v.pv.Message(message)
}

// report prints the end of an apply: diagnostics, the summary line and outputs. It returns the error
// that gives the exit code.
func (v *applyView) report(p *project, op render.Operation, res *engine.Result) error {
	return v.reportAs(p, op, "Apply", res)
}

// reportAs is report with the word the summary lines start with ("Apply", "Rollback").
func (v *applyView) reportAs(p *project, op render.Operation, title string, res *engine.Result) error {
	v.close()
	counts := plan.Summary{Add: res.Added, Change: res.Changed, Destroy: res.Destroyed}
	if v.json != nil {
		v.json.Diagnostics(failureDiags(res))
		if !res.Failed() && !res.Interrupted {
			v.json.ChangeSummary(op, counts)
			v.json.Outputs(res.Outputs)
		}
	} else {
		p.printDiags(failureDiags(res))
		out := v.f.IO.Out
		switch {
		case res.Interrupted:
			fmt.Fprintf(out, "\n%s interrupted. Resources: %d added, %d changed, %d destroyed; %d not started.\n",
				title, res.Added, res.Changed, res.Destroyed, len(res.NotStarted))
		case res.Failed():
			fmt.Fprintf(out, "\n%s failed. Resources: %d added, %d changed, %d destroyed; %d failed, %d skipped.\n",
				title, res.Added, res.Changed, res.Destroyed, len(res.Failures), len(res.Skipped)+len(res.NotStarted))
		case op == render.OpDestroy:
			fmt.Fprintf(out, "\nDestroy complete! Resources: %d destroyed.\n", res.Destroyed)
		default:
			fmt.Fprintf(out, "\n%s complete! Resources: %d added, %d changed, %d destroyed.\n", title, res.Added, res.Changed, res.Destroyed)
		}
		if res.Rollback != nil {
			fmt.Fprintf(out, "Rolled back (rollback_on_failure): %d added, %d changed, %d destroyed.\n",
				res.Rollback.Added, res.Rollback.Changed, res.Rollback.Destroyed)
		}
		if len(res.Outputs) > 0 && !res.Failed() {
			fmt.Fprint(out, "\nOutputs:\n\n")
			for _, name := range sortedKeys(res.Outputs) {
				fmt.Fprintf(out, "%s = %s\n", name, formatOutput(res.Outputs[name], true))
			}
		}
	}
	if res.Failed() || res.Interrupted {
		return cmdutil.SilentExit(cmdutil.ExitFailure)
	}
	return nil
}

// failureDiags are the diagnostics of every failed change, each once.
func failureDiags(res *engine.Result) diag.Diagnostics {
	if len(res.Diagnostics) > 0 {
		return res.Diagnostics
	}
	var ds diag.Diagnostics
	for _, fl := range res.Failures {
		ds = append(ds, fl.Diagnostics.WithAddress(fl.Addr)...)
	}
	return ds
}
