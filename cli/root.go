// Package cli is prov's command line: the root command, global flags, logging and signal handling, and
// the core verbs (init, validate, plan, apply, destroy, rollback, show, state, import, output, graph,
// force-unlock, providers, version). Noun-groups with many subcommands live in cli/cmd/<noun>.
package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/provhq/prov/cli/cmdutil"
	"github.com/provhq/prov/internal/version"
	"github.com/provhq/prov/plugins/host"
)

// Main runs prov with args (without the program name) and returns the exit code.
func Main(args []string) int {
	io := &cmdutil.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	io.IsTerminal = term.IsTerminal(int(os.Stdout.Fd()))
	io.Color = io.IsTerminal && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"

	soft, stopSoft := context.WithCancel(context.Background())
	defer stopSoft()
	hard, stopHard := context.WithCancel(context.Background())
	defer stopHard()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		n := 0
		for range sigs {
			n++
			if n == 1 {
				fmt.Fprintln(io.ErrOut, "\nInterrupt received: finishing operations in flight; press Ctrl-C again to stop them at once.")
				stopSoft()
				continue
			}
			fmt.Fprintln(io.ErrOut, "\nSecond interrupt: cancelling operations in flight.")
			stopHard()
		}
	}()

	if path := os.Getenv("PROV_CPUPROFILE"); path != "" {
		// For profiling prov itself; undocumented on purpose. A builtin plugin process inherits the
		// variable: it writes PATH.KIND-NAME instead of overwriting prov's own profile.
		if len(args) == 3 && args[0] == host.BuiltinCommand {
			path += "." + args[1] + "-" + args[2]
		}
		if out, err := os.Create(path); err == nil {
			pprof.StartCPUProfile(out)
			defer pprof.StopCPUProfile()
		}
	}

	f := &cmdutil.Factory{IO: io, Version: version.Version, HardStop: hard}
	logger, closeLog, err := newLogger(io.ErrOut)
	if err != nil {
		fmt.Fprintln(io.ErrOut, "prov:", err)
		return cmdutil.ExitFailure
	}
	defer closeLog()
	f.Logger = logger

	// Whatever happens below, no plugin process outlives prov.
	defer host.KillAll()

	root := NewRootCmd(f)
	root.SetArgs(NormalizeArgs(args))
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.ErrOut)
	err = root.ExecuteContext(soft)
	code := cmdutil.ExitCode(err)
	if err != nil && err.Error() != "" {
		fmt.Fprintln(io.ErrOut, renderError(err, io.Color))
	}
	return code
}

func renderError(err error, color bool) string {
	msg := err.Error()
	if !strings.Contains(msg, "error: ") && !strings.HasPrefix(msg, "Error") {
		msg = "error: " + msg
	}
	if color {
		return "\x1b[31m" + msg + "\x1b[0m"
	}
	return msg
}

// newLogger builds prov's log from PROV_LOG (trace|debug|info|warn|error; unset: off) and
// PROV_LOG_PATH (a file to append to; unset: stderr).
func newLogger(stderr io.Writer) (hclog.Logger, func(), error) {
	lvl := os.Getenv("PROV_LOG")
	if lvl == "" {
		return hclog.NewNullLogger(), func() {}, nil
	}
	level := hclog.LevelFromString(lvl)
	if level == hclog.NoLevel {
		return nil, nil, fmt.Errorf("PROV_LOG=%q: want trace, debug, info, warn or error", lvl)
	}
	out, closeFn := stderr, func() {}
	if path := os.Getenv("PROV_LOG_PATH"); path != "" {
		file, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, nil, fmt.Errorf("open PROV_LOG_PATH: %w", err)
		}
		out, closeFn = file, func() { file.Close() }
	}
	return hclog.New(&hclog.LoggerOptions{Name: "prov", Level: level, Output: out, JSONFormat: os.Getenv("PROV_LOG_JSON") != ""}), closeFn, nil
}

// NewRootCmd returns the root command with every subcommand mounted.
func NewRootCmd(f *cmdutil.Factory) *cobra.Command {
	var chdir string
	var noColor bool
	root := &cobra.Command{
		Use:   "prov",
		Short: "Plan and apply infrastructure described in Nickel",
		Long: `prov turns Nickel (or JSON) descriptions of servers, services and resources into a plan, and
applies it through provider and taskserv plugins, with a journal that lets an interrupted apply resume
or roll back.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       f.Version,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if noColor {
				f.IO.Color = false
			}
			dir, err := resolveDir(chdir)
			if err != nil {
				return err
			}
			f.Dir = dir
			if f.Env == "" {
				f.Env = os.Getenv("PROVISIONING_ENV")
			}
			return nil
		},
	}
	root.SetVersionTemplate("prov {{.Version}}\n")
	pf := root.PersistentFlags()
	pf.StringVar(&chdir, "chdir", "", "switch to `DIR` before doing anything else")
	pf.BoolVar(&noColor, "no-color", false, "do not colour the output")
	pf.StringVar(&f.Env, "env", "", "settings environment (config.`ENV`.toml); default $PROVISIONING_ENV")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &cmdutil.ExitError{Code: cmdutil.ExitFailure, Err: fmt.Errorf("%w\nRun '%s -help' for usage.", err, cmd.CommandPath())}
	})

	for _, c := range commands(f) {
		root.AddCommand(c)
	}
	return root
}

func resolveDir(chdir string) (string, error) {
	dir := "."
	if chdir != "" {
		dir = chdir
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("-chdir: %w", err)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("-chdir: %s is not a directory", chdir)
	}
	return abs, nil
}

// errUsage wraps a usage problem so it exits 1 with a hint.
func errUsage(cmd *cobra.Command, format string, args ...any) error {
	return &cmdutil.ExitError{Code: cmdutil.ExitFailure,
		Err: fmt.Errorf("%s\nRun '%s -help' for usage.", fmt.Sprintf(format, args...), cmd.CommandPath())}
}
