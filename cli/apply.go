package cli

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/provhq/prov/cli/cmdutil"
	"github.com/provhq/prov/engine"
	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/plan"
	"github.com/provhq/prov/plan/render"
	"github.com/provhq/prov/state"
)

func newCmdPlan(f *cmdutil.Factory) *cobra.Command {
	var (
		cf               configFlags
		lf               lockFlags
		pf               planFlags
		out              string
		destroy          bool
		detailedExitcode bool
		asJSON           bool
	)
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what apply would change",
		Long: `Compare the configuration with the state (refreshed from the providers) and show the changes apply
would make. With -out the plan is saved, self-contained, for prov apply PLANFILE and prov show.

With -detailed-exitcode the exit code is 0 when there is nothing to do, 2 when there are changes, and 1
on error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			p, err := openProject(f)
			if err != nil {
				return err
			}
			s, err := p.begin(ctx, lf, "plan", false)
			if err != nil {
				return err
			}
			defer s.close()
			pl, diags := s.makePlan(ctx, cf, pf, destroy)
			if err := p.showPlan(f, pl, diags, asJSON); err != nil {
				return err
			}
			if diags.HasErrors() {
				return cmdutil.SilentExit(cmdutil.ExitFailure)
			}
			if out != "" {
				path := out
				if !filepath.IsAbs(path) {
					path = filepath.Join(p.dir, path)
				}
				if err := pl.WriteFile(path, p.codec); err != nil {
					return fmt.Errorf("save plan: %w", err)
				}
				if !asJSON {
					fmt.Fprintf(f.IO.Out, "\nSaved the plan to: %s\nTo perform exactly these actions, run: prov apply %s\n", out, out)
				}
			}
			if detailedExitcode && pl.HasChanges() {
				return cmdutil.SilentExit(cmdutil.ExitChanges)
			}
			return nil
		},
	}
	fs := cmd.Flags()
	cf.register(fs)
	lf.register(fs)
	pf.register(fs)
	fs.StringVar(&out, "out", "", "save the plan to `FILE`")
	fs.BoolVar(&destroy, "destroy", false, "plan the destruction of everything in the state")
	fs.BoolVar(&detailedExitcode, "detailed-exitcode", false, "exit 0 for no changes, 2 for changes, 1 for errors")
	fs.BoolVar(&asJSON, "json", false, "machine-readable output: a stream of JSON lines")
	return cmd
}

// applyOptions are the flags of apply and destroy.
type applyOptions struct {
	cf          configFlags
	lf          lockFlags
	pf          planFlags
	autoApprove bool
	failFast    bool
	resume      bool
	asJSON      bool
}

func (o *applyOptions) register(cmd *cobra.Command, withResume bool) {
	fs := cmd.Flags()
	o.cf.register(fs)
	o.lf.register(fs)
	o.pf.register(fs)
	fs.BoolVar(&o.autoApprove, "auto-approve", false, "skip the interactive approval")
	fs.BoolVar(&o.failFast, "fail-fast", false, "stop starting new operations after the first failure")
	fs.BoolVar(&o.asJSON, "json", false, "machine-readable output: a stream of JSON lines (implies -auto-approve)")
	if withResume {
		fs.BoolVar(&o.resume, "resume", false, "finish an interrupted apply from its journal")
	}
}

func newCmdApply(f *cmdutil.Factory) *cobra.Command {
	var o applyOptions
	cmd := &cobra.Command{
		Use:   "apply [PLANFILE]",
		Short: "Make the changes the configuration calls for",
		Long: `Plan and, once approved, make the changes. Given a saved PLANFILE, apply exactly that plan without
asking; a plan made against an older state is refused. With -resume, finish an apply that was
interrupted (its journal, prov.state.journal, is still present).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case o.resume && len(args) > 0:
				return errUsage(cmd, "-resume takes no plan file: it finishes the plan recorded in the journal")
			case o.resume:
				return resumeRun(cmd, f, o)
			case len(args) == 1:
				return applyPlanFile(cmd, f, o, args[0])
			}
			return planAndApply(cmd, f, o, false)
		},
	}
	o.register(cmd, true)
	return cmd
}

func newCmdDestroy(f *cmdutil.Factory) *cobra.Command {
	var o applyOptions
	cmd := &cobra.Command{
		Use:   "destroy",
		Short: "Delete everything in the state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return planAndApply(cmd, f, o, true)
		},
	}
	o.register(cmd, false)
	return cmd
}

// showPlan prints the diagnostics of making pl and, when it was made, the plan: for people, or as the
// JSON event stream.
func (p *project) showPlan(f *cmdutil.Factory, pl *plan.Plan, diags diag.Diagnostics, asJSON bool) error {
	ok := pl != nil && !diags.HasErrors()
	if !asJSON {
		p.printDiags(diags)
		if ok {
			return render.Human(f.IO.Out, pl, render.Options{Color: f.IO.Color})
		}
		return nil
	}
	stream := render.NewStream(f.IO.Out, time.Now)
	stream.Version(f.Version)
	stream.Diagnostics(relativize(diags, p.dir))
	if ok {
		stream.Plan(pl)
		stream.ChangeSummary(render.OpPlan, pl.Summary())
	}
	return nil
}

// planAndApply plans, shows the plan, asks, and applies.
func planAndApply(cmd *cobra.Command, f *cmdutil.Factory, o applyOptions, destroy bool) error {
	ctx := cmd.Context()
	p, err := openProject(f)
	if err != nil {
		return err
	}
	op := "apply"
	if destroy {
		op = "destroy"
	}
	s, err := p.begin(ctx, o.lf, op, false)
	if err != nil {
		return err
	}
	defer s.close()
	pl, diags := s.makePlan(ctx, o.cf, o.pf, destroy)
	if err := p.showPlan(f, pl, diags, o.asJSON); err != nil {
		return err
	}
	if diags.HasErrors() {
		return cmdutil.SilentExit(cmdutil.ExitFailure)
	}
	if !pl.HasChanges() {
		return s.saveRefresh(cmd.Context(), pl)
	}
	if !o.autoApprove && !o.asJSON {
		question, detail := "Do you want to perform these actions?", "prov will perform the actions described above."
		if destroy {
			question, detail = "Do you really want to destroy all resources?", "prov will destroy all your managed infrastructure, as shown above.\n  There is no undo."
		}
		ok, err := confirm(f, question, detail)
		if err != nil {
			return err
		}
		if !ok {
			return &cmdutil.ExitError{Code: cmdutil.ExitFailure, Err: errors.New("apply cancelled: nothing was changed")}
		}
		fmt.Fprintln(f.IO.Out)
	}
	return runApply(cmd, f, s, o, pl, destroy)
}

// runApply walks a plan and reports the result.
func runApply(cmd *cobra.Command, f *cmdutil.Factory, s *session, o applyOptions, pl *plan.Plan, destroy bool) error {
	view := newApplyView(f, o.asJSON, pl)
	defer view.close()
	eng := s.engine(o.pf, pl, o.failFast, view)
	res, err := eng.Apply(cmd.Context(), pl, s.prior)
	if err != nil {
		view.close()
		return err
	}
	op := render.OpApply
	if destroy {
		op = render.OpDestroy
	}
	return view.report(s.p, op, res)
}

// applyPlanFile applies a saved plan, refusing a stale one.
func applyPlanFile(cmd *cobra.Command, f *cmdutil.Factory, o applyOptions, file string) error {
	ctx := cmd.Context()
	p, err := openProject(f)
	if err != nil {
		return err
	}
	path := file
	if !filepath.IsAbs(path) {
		path = filepath.Join(p.dir, path)
	}
	pl, err := plan.ReadFile(path, p.codec)
	if err != nil {
		return fmt.Errorf("read plan %s: %w", file, err)
	}
	s, err := p.begin(ctx, o.lf, "apply", false)
	if err != nil {
		return err
	}
	defer s.close()
	if err := pl.CheckFresh(s.prior); err != nil {
		return fmt.Errorf("plan %s is stale: %w", file, err)
	}
	if err := s.startPlugins(pl.Providers); err != nil {
		return err
	}
	if err := checkPluginChecksums(pl, s.checksums()); err != nil {
		return err
	}
	if !pl.HasChanges() {
		if !o.asJSON {
			fmt.Fprintln(f.IO.Out, "No changes. Your infrastructure matches the configuration.")
		}
		return s.saveRefresh(cmd.Context(), pl)
	}
	return runApply(cmd, f, s, o, pl, pl.Destroy)
}

// checkPluginChecksums refuses a plan made with other plugin binaries than the ones locked now.
func checkPluginChecksums(pl *plan.Plan, now map[string]string) error {
	for name, sum := range pl.PluginChecksums {
		if cur, ok := now[name]; ok && cur != sum {
			return fmt.Errorf("plugin %s changed since the plan was made (sha256 %s… then, %s… now); run prov plan again",
				name, sum[:12], cur[:12])
		}
	}
	return nil
}

// resumeRun finishes an interrupted apply.
func resumeRun(cmd *cobra.Command, f *cmdutil.Factory, o applyOptions) error {
	ctx := cmd.Context()
	p, err := openProject(f)
	if err != nil {
		return err
	}
	s, err := p.begin(ctx, o.lf, "apply -resume", true)
	if err != nil {
		return err
	}
	defer s.close()
	pl, err := journalPlan(cmd, p)
	if err != nil {
		return err
	}
	if err := s.startPlugins(pl.Providers); err != nil {
		return err
	}
	view := newApplyView(f, o.asJSON, pl)
	defer view.close()
	res, err := s.engine(o.pf, pl, o.failFast, view).Resume(ctx, s.prior)
	if err != nil {
		view.close()
		if errors.Is(err, engine.ErrNoJournal) {
			return errors.New("there is no interrupted apply to resume (no prov.state.journal)")
		}
		return err
	}
	return view.report(p, render.OpApply, res)
}

// journalPlan is the plan an interrupted apply recorded in its journal.
func journalPlan(cmd *cobra.Command, p *project) (*plan.Plan, error) {
	recs, ok, err := p.backend.Records(cmd.Context())
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	if !ok || len(recs) == 0 {
		return nil, engine.ErrNoJournal
	}
	for _, r := range recs {
		if r.Kind == state.Begin && len(r.Plan) > 0 {
			return plan.Unmarshal(r.Plan)
		}
	}
	return nil, errors.New("the journal records no plan")
}

func newCmdRollback(f *cmdutil.Factory) *cobra.Command {
	var o applyOptions
	cmd := &cobra.Command{
		Use:   "rollback",
		Short: "Undo an interrupted or failed apply, from its journal",
		Long: `Undo the operations an interrupted apply journaled, newest first: delete what it created, restore
what it updated, re-create what it deleted. Operations left in doubt are settled with their provider
first. The rollback is journaled too: if it is interrupted, run prov rollback again.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			p, err := openProject(f)
			if err != nil {
				return err
			}
			s, err := p.begin(ctx, o.lf, "rollback", true)
			if err != nil {
				return err
			}
			defer s.close()
			in, err := engine.Pending(ctx, p.backend)
			if err != nil {
				return err
			}
			if in == nil {
				fmt.Fprintln(f.IO.Out, "Nothing to roll back: the last apply finished (there is no prov.state.journal).")
				return nil
			}
			pl, err := journalPlan(cmd, p)
			if err != nil {
				return err
			}
			if !o.autoApprove && !o.asJSON {
				ok, err := confirm(f, "Do you want to roll back the interrupted apply?",
					fmt.Sprintf("prov will undo the %d operations it journaled (%d in doubt).", in.Operations, in.InDoubt))
				if err != nil {
					return err
				}
				if !ok {
					return &cmdutil.ExitError{Code: cmdutil.ExitFailure, Err: errors.New("rollback cancelled: nothing was changed")}
				}
			}
			if err := s.startPlugins(pl.Providers); err != nil {
				return err
			}
			view := newApplyView(f, o.asJSON, pl)
			defer view.close()
			res, err := s.engine(o.pf, pl, o.failFast, view).Rollback(ctx, s.prior)
			if err != nil {
				view.close()
				return err
			}
			return view.reportAs(p, render.OpApply, "Rollback", res)
		},
	}
	o.register(cmd, false)
	return cmd
}

func newCmdShow(f *cmdutil.Factory) *cobra.Command {
	var asJSON bool
	var format, commentID string
	cmd := &cobra.Command{
		Use:   "show [PLANFILE]",
		Short: "Show a saved plan, or the state",
		Long: `Show a saved plan (no plugins or network needed: the plan file is self-contained) or, without an
argument, the state. -json prints the shape of terraform show -json; -format=markdown prints a plan as
a pull-request comment.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON {
				format = "json"
			}
			p, err := openProject(f)
			if err != nil {
				return err
			}
			if len(args) == 0 {
				s, err := p.readState(cmd.Context())
				if err != nil {
					return err
				}
				switch format {
				case "json":
					data, err := render.StateJSON(s)
					if err != nil {
						return err
					}
					_, err = fmt.Fprintf(f.IO.Out, "%s\n", data)
					return err
				case "", "human":
					return render.HumanState(f.IO.Out, s, render.Options{Color: f.IO.Color})
				}
				return errUsage(cmd, "-format=%s: the state can be shown as human or json", format)
			}
			path := args[0]
			if !filepath.IsAbs(path) {
				path = filepath.Join(p.dir, path)
			}
			pl, err := plan.ReadFile(path, p.codec)
			if err != nil {
				return fmt.Errorf("read plan %s: %w", args[0], err)
			}
			switch format {
			case "json":
				prior, _ := p.readState(cmd.Context()) // for prior_state; the plan itself is self-contained
				data, err := render.JSON(pl, prior)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(f.IO.Out, "%s\n", data)
				return err
			case "markdown", "md":
				_, err := fmt.Fprint(f.IO.Out, render.Markdown(pl, render.MarkdownOptions{ID: commentID}))
				return err
			case "", "human":
				return render.Human(f.IO.Out, pl, render.Options{Color: f.IO.Color})
			}
			return errUsage(cmd, "-format=%s: want human, json or markdown", format)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "machine-readable output (same as -format=json)")
	cmd.Flags().StringVar(&format, "format", "", "output format: human, json or markdown")
	cmd.Flags().StringVar(&commentID, "comment-id", "", "identifier in the markdown marker line, for one sticky pull-request comment per ID")
	return cmd
}
