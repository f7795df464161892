// Package config is `prov config`: show the merged settings and where each value came from, get one
// value, validate every settings layer, and turn a file of PROVISIONING_* variables into TOML.
package config

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/provhq/prov/cli/cmdutil"
	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/settings"
	"github.com/provhq/prov/internal/workspace"
)

// NewCmdConfig returns `prov config` and its subcommands.
func NewCmdConfig(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config <command>",
		Short: "Show and check prov's own settings",
		Long: `prov's settings come from layers, lowest to highest precedence: the built-in defaults,
$XDG_CONFIG_HOME/prov/config.user.toml, the project's (and workspace's) prov.toml, the environment's
config.ENV.toml (--env or PROVISIONING_ENV), PROVISIONING_<SECTION>_<KEY> variables, and flags.`,
	}
	cmd.AddCommand(newCmdShow(f), newCmdGet(f), newCmdValidate(f), newCmdImportEnv(f))
	return cmd
}

// loadOptions are what every subcommand that loads the settings shares.
type loadOptions struct {
	IO  *cmdutil.IOStreams
	Dir string
	Env string
	// Set are --set KEY=VALUE flags: the flags layer.
	Set []string
}

// now is the clock for {{now.*}}; tests fix it.
var now = time.Now

func (o *loadOptions) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&o.Set, "set", nil, "set `KEY=VALUE` in the flags layer (repeatable)")
}

// load loads the current workspace's settings and prints warnings; on errors it prints them all and
// returns a silent exit.
func (o *loadOptions) load() (*workspace.Active, diag.Diagnostics, error) {
	flags := map[string]string{}
	for _, kv := range o.Set {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, nil, fmt.Errorf("--set %q: want KEY=VALUE", kv)
		}
		flags[k] = v
	}
	a, diags := workspace.LoadActive(o.Dir, settings.Options{Env: o.Env, Flags: flags, Now: now})
	printDiags(o.IO.ErrOut, o.Dir, diags)
	if diags.HasErrors() {
		return nil, diags, cmdutil.SilentExit(cmdutil.ExitFailure)
	}
	return a, diags, nil
}

func printDiags(w io.Writer, dir string, diags diag.Diagnostics) {
	for _, d := range diags {
		d.Pos.File = display(dir, d.Pos.File)
		fmt.Fprintln(w, d)
	}
}

// display shortens a path inside dir to a relative one; anything else is unchanged.
func display(dir, p string) string {
	if !filepath.IsAbs(p) || dir == "" {
		return p
	}
	if rel, err := filepath.Rel(dir, p); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return p
}

// showOptions are `prov config show`'s.
type showOptions struct {
	loadOptions
	Origin bool
	JSON   bool
}

func newCmdShow(f *cmdutil.Factory) *cobra.Command {
	o := &showOptions{}
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Show the merged settings",
		Long: `Show every setting's value after merging the layers and expanding {{…}} interpolations, as TOML.
With --origin, each value is followed by the file or variable it came from.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.IO, o.Dir, o.Env = f.IO, f.Dir, f.Env
			return showRun(o)
		},
	}
	cmd.Flags().BoolVar(&o.Origin, "origin", false, "show where each value came from")
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print JSON: each key with its value and origin")
	o.register(cmd)
	return cmd
}

// jsonSetting is one setting in `config show -json`.
type jsonSetting struct {
	Value  any    `json:"value"`
	Origin string `json:"origin"`
}

func showRun(o *showOptions) error {
	a, _, err := o.load()
	if err != nil {
		return err
	}
	s := a.Settings
	if o.JSON {
		out := struct {
			Workspace string                 `json:"workspace"`
			Env       string                 `json:"env"`
			Files     []string               `json:"files"`
			Settings  map[string]jsonSetting `json:"settings"`
		}{Workspace: a.Name, Env: s.Env(), Files: []string{}, Settings: map[string]jsonSetting{}}
		for _, f := range s.Files() {
			out.Files = append(out.Files, display(o.Dir, f))
		}
		for _, k := range s.Keys() {
			v, _ := s.Get(k)
			out.Settings[k] = jsonSetting{Value: v.Value, Origin: display(o.Dir, v.Origin)}
		}
		enc := json.NewEncoder(o.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	values := map[string]any{}
	var origins map[string]string
	if o.Origin {
		origins = map[string]string{}
		env := s.Env()
		if env == "" {
			env = "(none)"
		}
		fmt.Fprintf(o.IO.Out, "# workspace: %s\n# environment: %s\n\n", a.Name, env)
	}
	for _, k := range s.Keys() {
		v, _ := s.Get(k)
		values[k] = v.Value
		if origins != nil {
			origins[k] = display(o.Dir, v.Origin)
		}
	}
	_, err = o.IO.Out.Write(settings.FormatTOML(values, origins))
	return err
}

// getOptions are `prov config get`'s.
type getOptions struct {
	loadOptions
	Key string
}

func newCmdGet(f *cmdutil.Factory) *cobra.Command {
	o := &getOptions{}
	cmd := &cobra.Command{
		Use:   "get KEY",
		Short: "Print one setting's value",
		Long: `Print the value of KEY (section.key). Strings print as they are, lists one item per line, so
the output can be used in scripts: cd "$(prov config get paths.base)".`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.IO, o.Dir, o.Env, o.Key = f.IO, f.Dir, f.Env, args[0]
			return getRun(o)
		},
	}
	o.register(cmd)
	return cmd
}

func getRun(o *getOptions) error {
	if _, ok := settings.KindOf(o.Key); !ok {
		msg := fmt.Sprintf("unknown setting %q", o.Key)
		if s := settings.Suggest(o.Key); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		return &cmdutil.ExitError{Code: cmdutil.ExitFailure, Err: fmt.Errorf("%s", msg)}
	}
	a, _, err := o.load()
	if err != nil {
		return err
	}
	v, _ := a.Settings.Get(o.Key)
	switch x := v.Value.(type) {
	case []string:
		for _, e := range x {
			fmt.Fprintln(o.IO.Out, e)
		}
	default:
		fmt.Fprintln(o.IO.Out, x)
	}
	return nil
}

// validateOptions are `prov config validate`'s.
type validateOptions struct {
	loadOptions
}

func newCmdValidate(f *cmdutil.Factory) *cobra.Command {
	o := &validateOptions{}
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check every settings layer",
		Long: `Check every settings layer: TOML syntax, unknown keys (with suggestions), value types and
ranges, interpolations. Unlike other commands, which only warn about unknown keys, validate fails on
any problem, so a typo cannot slip through CI.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.IO, o.Dir, o.Env = f.IO, f.Dir, f.Env
			return validateRun(o)
		},
	}
	o.register(cmd)
	return cmd
}

func validateRun(o *validateOptions) error {
	a, diags, err := o.load()
	if err != nil {
		return err
	}
	if len(diags) > 0 {
		return cmdutil.SilentExit(cmdutil.ExitFailure)
	}
	files := make([]string, 0, len(a.Settings.Files()))
	for _, f := range a.Settings.Files() {
		files = append(files, display(o.Dir, f))
	}
	if len(files) == 0 {
		fmt.Fprintln(o.IO.Out, "Success! The settings are valid (built-in defaults only).")
		return nil
	}
	fmt.Fprintf(o.IO.Out, "Success! The settings are valid (%s).\n", strings.Join(files, ", "))
	return nil
}

// importEnvOptions are `prov config import-env`'s.
type importEnvOptions struct {
	IO   *cmdutil.IOStreams
	File string
}

func newCmdImportEnv(f *cmdutil.Factory) *cobra.Command {
	o := &importEnvOptions{}
	cmd := &cobra.Command{
		Use:   "import-env FILE",
		Short: "Turn PROVISIONING_* variable assignments into TOML",
		Long: `Read FILE ("-" for standard input), lines of PROVISIONING_<SECTION>_<KEY>=value (optionally
"export ", quoted values, # comments), and print the equivalent settings as TOML, ready for prov.toml or
config.user.toml. Variables that name no setting are reported with a suggestion.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.IO, o.File = f.IO, args[0]
			return importEnvRun(o)
		},
	}
	return cmd
}

func importEnvRun(o *importEnvOptions) error {
	var data []byte
	var err error
	name := o.File
	if o.File == "-" {
		name = "<stdin>"
		data, err = io.ReadAll(o.IO.In)
	} else {
		data, err = os.ReadFile(o.File)
	}
	if err != nil {
		return fmt.Errorf("import-env: %w", err)
	}
	values, diags := settings.ImportEnv(name, data)
	printDiags(o.IO.ErrOut, "", diags)
	if diags.HasErrors() {
		return cmdutil.SilentExit(cmdutil.ExitFailure)
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	fmt.Fprintf(o.IO.Out, "# Imported from %s by prov config import-env.\n", name)
	if len(keys) == 0 {
		return nil
	}
	fmt.Fprintln(o.IO.Out)
	_, err = o.IO.Out.Write(settings.FormatTOML(values, nil))
	return err
}
