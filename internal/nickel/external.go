package nickel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"

	"github.com/provhq/prov/internal/diag"
)

// BinaryEnv names the environment variable that selects a real `nickel` binary (external mode).
const BinaryEnv = "PROV_NICKEL"

// binary returns the external nickel binary to use, or "" for the built-in evaluator.
func (o Options) binary() string {
	if o.Binary != "" {
		return o.Binary
	}
	return os.Getenv(BinaryEnv)
}

// ExternalError is a failure reported by an external nickel binary.
type ExternalError struct {
	// Class is "External" plus, when nickel printed one, the first line of its message.
	Summary string
	Pos     diag.Pos
	Stderr  string
	Code    int
}

func (e *ExternalError) Error() string {
	p := ""
	if e.Pos.IsValid() {
		p = e.Pos.String() + ": "
	}
	return fmt.Sprintf("%serror: %s", p, e.Summary)
}

// Diagnostics converts the failure into diagnostics, keeping nickel's full report as the detail.
func (e *ExternalError) Diagnostics() diag.Diagnostics {
	return diag.Diagnostics{{Severity: diag.Error, Summary: e.Summary, Detail: strings.TrimSpace(e.Stderr), Pos: e.Pos}}
}

var (
	ansi     = regexp.MustCompile(`\x1b\[[0-9;]*m`)
	location = regexp.MustCompile(`(?m)^\s*[┌╭]─\s+(.+?):(\d+):(\d+)\s*$`)
)

// ExternalExport runs `binary export --format FORMAT` on files (with the same options as Export) and
// returns its standard output. A failure is an *ExternalError carrying nickel's report and the first
// source location it names.
func ExternalExport(ctx context.Context, binary string, files []string, opts Options) ([]byte, error) {
	format := opts.Format
	if format == "" {
		format = "json"
	}
	args := []string{"export", "--format", format}
	if opts.Field != "" {
		args = append(args, "--field", opts.Field)
	}
	for _, dir := range opts.ImportPaths {
		args = append(args, "--import-path", dir)
	}
	if opts.ApplyContract != "" {
		args = append(args, "--apply-contract", opts.ApplyContract)
	}
	args = append(args, files...)
	if len(opts.Overrides) > 0 {
		args = append(append(args, "--"), opts.Overrides...)
	}
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err == nil {
		return stdout.Bytes(), nil
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return nil, fmt.Errorf("nickel: run %s: %w", binary, err)
	}
	report := ansi.ReplaceAllString(stderr.String(), "")
	xe := &ExternalError{Stderr: report, Code: ee.ExitCode(), Summary: "nickel export failed"}
	for _, line := range strings.Split(report, "\n") {
		if s, ok := strings.CutPrefix(strings.TrimSpace(line), "error: "); ok {
			xe.Summary = s
			break
		}
	}
	if m := location.FindStringSubmatch(report); m != nil {
		l, _ := strconv.Atoi(m[2])
		c, _ := strconv.Atoi(m[3])
		xe.Pos = diag.Pos{File: m[1], Line: l, Col: c}
	}
	return nil, xe
}
