package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/provhq/prov/cli/cmdutil"
	"github.com/provhq/prov/plan/render"
	"github.com/provhq/prov/state"
)

func newCmdState(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "state",
		Short: "Inspect and edit the state",
		Long:  "Inspect and edit the state. Edits take the state lock and keep the previous state as prov.state.json.backup.",
	}
	cmd.AddCommand(newCmdStateList(f), newCmdStateShow(f), newCmdStateRm(f), newCmdStateMv(f),
		newCmdStatePull(f), newCmdStatePush(f))
	return cmd
}

func newCmdStateList(f *cmdutil.Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [ADDRESS-PREFIX...]",
		Short: "List the resources in the state",
		RunE: func(cmd *cobra.Command, args []string) error {
			_, s, err := openState(cmd, f)
			if err != nil {
				return err
			}
			var addrs []string
			for _, a := range s.Addresses() {
				if matchesAny(a, args) {
					addrs = append(addrs, a)
				}
			}
			if asJSON {
				type entry struct {
					Address  string `json:"address"`
					Type     string `json:"type"`
					Provider string `json:"provider"`
				}
				out := []entry{}
				for _, a := range addrs {
					r := s.Resource(a)
					out = append(out, entry{a, r.Type, r.Provider})
				}
				return writeJSON(f.IO.Out, map[string]any{"format_version": "1", "resources": out})
			}
			for _, a := range addrs {
				fmt.Fprintln(f.IO.Out, a)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "machine-readable output")
	return cmd
}

// matchesAny reports whether addr is, or is inside, one of the prefixes (all match when there are none).
func matchesAny(addr string, prefixes []string) bool {
	if len(prefixes) == 0 {
		return true
	}
	for _, p := range prefixes {
		if addr == p || strings.HasPrefix(addr, p+".") {
			return true
		}
	}
	return false
}

func newCmdStateShow(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "show ADDRESS",
		Short: "Show one resource in the state (sensitive values hidden)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, s, err := openState(cmd, f)
			if err != nil {
				return err
			}
			r := s.Resource(args[0])
			if r == nil {
				return fmt.Errorf("no resource %q in the state", args[0])
			}
			return render.HumanResource(f.IO.Out, args[0], r, render.Options{Color: f.IO.Color})
		},
	}
}

// editState runs edit on the state under the lock and writes the result.
func editState(cmd *cobra.Command, f *cmdutil.Factory, lf lockFlags, op string, edit func(*state.State) error) error {
	ctx := cmd.Context()
	p, err := openProject(f)
	if err != nil {
		return err
	}
	unlock, err := p.lock(ctx, lf, op)
	if err != nil {
		return err
	}
	defer unlock()
	if err := p.checkNoJournal(ctx); err != nil {
		return err
	}
	s, err := p.readState(ctx)
	if err != nil {
		return err
	}
	next := s.Clone()
	if err := edit(next); err != nil {
		return err
	}
	next.Serial = s.NextSerial()
	return p.backend.Write(ctx, next)
}

func newCmdStateRm(f *cmdutil.Factory) *cobra.Command {
	var lf lockFlags
	cmd := &cobra.Command{
		Use:   "rm ADDRESS...",
		Short: "Stop managing resources (they are not destroyed)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return editState(cmd, f, lf, "state rm", func(s *state.State) error {
				for _, a := range args {
					if err := s.Remove(a); err != nil {
						return fmt.Errorf("state rm %s: %w", a, err)
					}
					fmt.Fprintf(f.IO.Out, "Removed %s\n", a)
				}
				return nil
			})
		},
	}
	lf.register(cmd.Flags())
	return cmd
}

func newCmdStateMv(f *cmdutil.Factory) *cobra.Command {
	var lf lockFlags
	cmd := &cobra.Command{
		Use:   "mv SOURCE DESTINATION",
		Short: "Move a resource to another address",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return editState(cmd, f, lf, "state mv", func(s *state.State) error {
				if err := s.Move(args[0], args[1]); err != nil {
					return fmt.Errorf("state mv %s %s: %w", args[0], args[1], err)
				}
				fmt.Fprintf(f.IO.Out, "Moved %s to %s\n", args[0], args[1])
				return nil
			})
		},
	}
	lf.register(cmd.Flags())
	return cmd
}

func newCmdStatePull(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "pull",
		Short: "Write the state as JSON to standard output",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := openProject(f)
			if err != nil {
				return err
			}
			data, err := state.Pull(cmd.Context(), p.stored)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(f.IO.Out, "%s\n", data)
			return err
		},
	}
}

func newCmdStatePush(f *cmdutil.Factory) *cobra.Command {
	var lf lockFlags
	var force bool
	cmd := &cobra.Command{
		Use:   "push FILE|-",
		Short: "Replace the state with a state file",
		Long: "Replace the state with FILE (or standard input for -). A state of another lineage, or with a lower\n" +
			"serial than the current one, is refused unless -force is given.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var data []byte
			var err error
			if args[0] == "-" {
				data, err = io.ReadAll(f.IO.In)
			} else {
				data, err = os.ReadFile(args[0])
			}
			if err != nil {
				return err
			}
			s, err := state.Decode(data, args[0])
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			p, err := openProject(f)
			if err != nil {
				return err
			}
			unlock, err := p.lock(ctx, lf, "state push")
			if err != nil {
				return err
			}
			defer unlock()
			return state.Push(ctx, p.stored, s, force)
		},
	}
	lf.register(cmd.Flags())
	cmd.Flags().BoolVar(&force, "force", false, "replace the state even if lineage or serial say it would lose track of resources")
	return cmd
}

func newCmdForceUnlock(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "force-unlock LOCK_ID",
		Short: "Remove a state lock left behind by a process that died",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := openProject(f)
			if err != nil {
				return err
			}
			if err := p.backend.ForceUnlock(args[0]); err != nil {
				return fmt.Errorf("force-unlock: %w", err)
			}
			fmt.Fprintln(f.IO.Out, "The state has been unlocked.")
			return nil
		},
	}
}

func newCmdOutput(f *cmdutil.Factory) *cobra.Command {
	var asJSON, raw bool
	cmd := &cobra.Command{
		Use:   "output [NAME]",
		Short: "Print root outputs from the state",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, s, err := openState(cmd, f)
			if err != nil {
				return err
			}
			if len(args) == 1 {
				o := s.Output(args[0])
				if o == nil {
					return fmt.Errorf("no output %q in the state; run prov apply, or check the name with prov output", args[0])
				}
				switch {
				case raw:
					str, ok := o.Value.(string)
					if !ok {
						b, _ := json.Marshal(o.Value)
						str = string(b)
					}
					_, err = io.WriteString(f.IO.Out, str)
					return err
				case asJSON:
					return writeJSON(f.IO.Out, outputJSON(o))
				}
				fmt.Fprintln(f.IO.Out, formatOutput(o, false))
				return nil
			}
			if asJSON {
				out := map[string]any{}
				for name, o := range s.Outputs {
					out[name] = outputJSON(o)
				}
				return writeJSON(f.IO.Out, out)
			}
			for _, name := range sortedKeys(s.Outputs) {
				fmt.Fprintf(f.IO.Out, "%s = %s\n", name, formatOutput(s.Outputs[name], true))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "machine-readable output (sensitive values redacted)")
	cmd.Flags().BoolVar(&raw, "raw", false, "print one output's value as is, without quotes; the only way to read a sensitive output")
	return cmd
}

func formatOutput(o *state.Output, redact bool) string {
	if redact && o.Sensitive {
		return "<sensitive>"
	}
	b, err := json.MarshalIndent(o.Value, "", "  ")
	if err != nil {
		return fmt.Sprint(o.Value)
	}
	return string(b)
}

// outputJSON is an output as -json prints it. Unlike terraform, sensitive values are never printed here:
// scripts that need one ask for it by name with -raw.
func outputJSON(o *state.Output) map[string]any {
	if o.Sensitive {
		return map[string]any{"value": nil, "sensitive": true}
	}
	return map[string]any{"value": o.Value, "sensitive": false}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
