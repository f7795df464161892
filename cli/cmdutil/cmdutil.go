// Package cmdutil holds what every prov command shares: the injected IO streams, the Factory that
// commands get their context from, and the typed errors that map to exit codes.
package cmdutil

import (
	"context"
	"errors"
	"io"

	"github.com/hashicorp/go-hclog"
)

// IOStreams are the command's standard streams. Tests inject buffers.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// IsTerminal says Out is a terminal (live progress, prompts).
	IsTerminal bool
	// Color says colour escapes may be written to Out (a terminal, and no -no-color / NO_COLOR).
	Color bool
}

// Factory is what a command needs from its surroundings. The root command fills it from global flags
// before any subcommand runs.
type Factory struct {
	IO *IOStreams
	// Dir is the working directory after -chdir.
	Dir string
	// Env is the settings environment chosen with --env or PROVISIONING_ENV ("" if none).
	Env string
	// Version is prov's version.
	Version string
	// Logger writes prov's own log (PROV_LOG, PROV_LOG_PATH); it discards everything by default.
	Logger hclog.Logger
	// HardStop is cancelled on the second interrupt: in-flight operations should stop at once. The
	// first interrupt cancels the command's own context (stop scheduling, finish what is in flight).
	HardStop context.Context
}

// Exit codes. Scripts rely on these; they are documented in the README.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitChanges = 2 // plan -detailed-exitcode: changes present
)

// ExitError makes the command exit with Code after printing Err (if non-nil) to stderr.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return ""
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// SilentExit returns an error that ends the command with code and prints nothing more; use it after
// the command has already reported the problem.
func SilentExit(code int) error { return &ExitError{Code: code} }

// ExitCode returns the exit code for err: 0 for nil, the code of an ExitError, else 1.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ExitFailure
}
