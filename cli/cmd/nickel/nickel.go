// Package nickel implements `prov nickel`: evaluate, export and query Nickel configurations with prov's
// built-in evaluator (or the binary named by PROV_NICKEL for export), a drop-in for the `nickel` CLI.
package nickel

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/provhq/prov/cli/cmdutil"
	"github.com/provhq/prov/internal/nickel"
	"github.com/provhq/prov/schemas"
)

// NewCmdNickel returns the `prov nickel` command with its eval, export and query subcommands.
func NewCmdNickel(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "nickel <command>",
		Short: "Evaluate, export and query Nickel configurations",
		Long: `prov carries its own Nickel evaluator, so no nickel binary is needed. These commands behave like
the nickel CLI's eval, export and query. Set PROV_NICKEL to a nickel binary to export with it instead.`,
	}
	cmd.AddCommand(newCmdEval(f), newCmdExport(f), newCmdQuery(f))
	return cmd
}

type commonOptions struct {
	io          *cmdutil.IOStreams
	dir         string
	files       []string
	importPaths []string
	field       string
}

func (o *commonOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringArrayVarP(&o.importPaths, "import-path", "I", nil, "add a directory to the import search path")
	cmd.Flags().StringVar(&o.field, "field", "", "only use the value at this field path")
}

func (o *commonOptions) nickelOptions() nickel.Options {
	// prov's schema library is importable as "prov/…", as in configurations prov loads.
	return nickel.Options{ImportPaths: o.importPaths, Field: o.field, Stderr: o.io.ErrOut, EmbeddedFS: schemas.FS}
}

func (o *commonOptions) resolve(args []string) {
	for _, a := range args {
		if o.dir != "" && !filepath.IsAbs(a) {
			a = filepath.Join(o.dir, a)
		}
		o.files = append(o.files, a)
	}
}

// report prints err on stderr as the nickel CLI would (prov nickel is a drop-in for it) and returns
// the exit error.
func report(w io.Writer, err error) error {
	fmt.Fprint(w, nickel.Render(err))
	return cmdutil.SilentExit(cmdutil.ExitFailure)
}

type evalOptions struct{ commonOptions }

func newCmdEval(f *cmdutil.Factory) *cobra.Command {
	o := &evalOptions{}
	cmd := &cobra.Command{
		Use:   "eval FILE...",
		Short: "Evaluate a Nickel program and print the result in Nickel syntax",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.io, o.dir = f.IO, f.Dir
			o.resolve(args)
			return evalRun(o)
		},
	}
	o.addFlags(cmd)
	return cmd
}

func evalRun(o *evalOptions) error {
	out, err := nickel.Eval(o.files, o.nickelOptions())
	if err != nil {
		return report(o.io.ErrOut, err)
	}
	fmt.Fprintln(o.io.Out, out)
	return nil
}

type exportOptions struct {
	commonOptions
	format        string
	applyContract string
	output        string
	overrides     []string
}

func newCmdExport(f *cmdutil.Factory) *cobra.Command {
	o := &exportOptions{}
	cmd := &cobra.Command{
		Use:   "export FILE... [-- field.path=value ...]",
		Short: "Evaluate Nickel files, merged together, and export the result as JSON, YAML, TOML or text",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.io, o.dir = f.IO, f.Dir
			files := args
			if at := cmd.ArgsLenAtDash(); at >= 0 {
				files, o.overrides = args[:at], args[at:]
			}
			if len(files) == 0 {
				return &cmdutil.ExitError{Code: cmdutil.ExitFailure, Err: errors.New("nickel export: no input file")}
			}
			o.resolve(files)
			if o.applyContract != "" && o.dir != "" && !filepath.IsAbs(o.applyContract) {
				o.applyContract = filepath.Join(o.dir, o.applyContract)
			}
			return exportRun(o)
		},
	}
	o.addFlags(cmd)
	cmd.Flags().StringVar(&o.format, "format", "json", "output format: json, yaml, yaml-documents, toml, text or raw")
	cmd.Flags().StringVar(&o.applyContract, "apply-contract", "", "apply the contract in this file to the result")
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "write to this file instead of stdout")
	return cmd
}

func exportRun(o *exportOptions) error {
	opts := o.nickelOptions()
	opts.Format = o.format
	opts.ApplyContract = o.applyContract
	opts.Overrides = o.overrides
	out, err := nickel.Export(o.files, opts)
	if err != nil {
		return report(o.io.ErrOut, err)
	}
	if o.output != "" {
		if err := os.WriteFile(o.output, out, 0o644); err != nil {
			return &cmdutil.ExitError{Code: cmdutil.ExitFailure, Err: fmt.Errorf("nickel export: %w", err)}
		}
		return nil
	}
	_, err = o.io.Out.Write(out)
	return err
}

type queryOptions struct{ commonOptions }

func newCmdQuery(f *cmdutil.Factory) *cobra.Command {
	o := &queryOptions{}
	cmd := &cobra.Command{
		Use:   "query FILE --field PATH",
		Short: "Show the metadata of a field: documentation, type, contracts, default value",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.io, o.dir = f.IO, f.Dir
			o.resolve(args)
			return queryRun(o)
		},
	}
	o.addFlags(cmd)
	return cmd
}

func queryRun(o *queryOptions) error {
	info, err := nickel.Query(o.files, o.nickelOptions())
	if err != nil {
		return report(o.io.ErrOut, err)
	}
	w := o.io.Out
	if info.Doc != "" {
		fmt.Fprintf(w, "%s\n\n", info.Doc)
	}
	if info.Type != "" {
		fmt.Fprintf(w, "• type: %s\n", info.Type)
	}
	if len(info.Contracts) > 0 {
		fmt.Fprintf(w, "• contract: %s\n", strings.Join(info.Contracts, ", "))
	}
	if info.Optional {
		fmt.Fprintln(w, "• optional")
	}
	if info.Default != "" {
		fmt.Fprintf(w, "• default: %s\n", info.Default)
	}
	if info.Value != "" {
		fmt.Fprintf(w, "• value: %s\n", info.Value)
	}
	if len(info.Fields) > 0 {
		fmt.Fprintln(w, "\nAvailable fields")
		for _, k := range info.Fields {
			fmt.Fprintf(w, "• %s\n", k)
		}
	}
	return nil
}
