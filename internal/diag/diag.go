// Package diag is prov's user-facing problem report: a Diagnostic has a severity, a summary, an optional
// detail, a source range and a data path. Code collects Diagnostics instead of stopping at the first
// problem, and renders them in one form: "main.ncl:12:5: error: servers.web-01.zone: summary".
package diag

import (
	"errors"
	"fmt"
	"strings"
)

// Severity says whether a Diagnostic stops the operation.
type Severity int

const (
	// Error stops the operation.
	Error Severity = iota
	// Warning is shown but does not stop anything.
	Warning
)

func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// Pos is a position in a source file. Line and Col are 1-based; the zero Pos means "no position".
type Pos struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"col,omitempty"`
}

// IsValid reports whether p names a file.
func (p Pos) IsValid() bool { return p.File != "" }

func (p Pos) String() string {
	switch {
	case p.File == "":
		return ""
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Diagnostic is one problem found in the user's input or reported by a plugin.
type Diagnostic struct {
	Severity Severity `json:"-"`
	Summary  string   `json:"summary"`
	Detail   string   `json:"detail,omitempty"`
	// Path is the data path of the offending value, e.g. "servers.web-01.zone" or "tags[0]".
	Path string `json:"path,omitempty"`
	// Pos is where the value was written, when known.
	Pos Pos `json:"pos,omitzero"`
	// Address is the resource the problem belongs to, when there is one.
	Address string `json:"address,omitempty"`
}

func (d Diagnostic) String() string {
	var b strings.Builder
	if d.Pos.IsValid() {
		b.WriteString(d.Pos.String())
		b.WriteString(": ")
	}
	b.WriteString(d.Severity.String())
	b.WriteString(": ")
	if d.Address != "" && !strings.Contains(d.Path, d.Address) {
		b.WriteString(d.Address)
		b.WriteString(": ")
	}
	if d.Path != "" {
		b.WriteString(d.Path)
		b.WriteString(": ")
	}
	b.WriteString(d.Summary)
	if d.Detail != "" {
		b.WriteString("\n  ")
		b.WriteString(strings.ReplaceAll(d.Detail, "\n", "\n  "))
	}
	return b.String()
}

// Diagnostics is a list of problems, in the order found.
type Diagnostics []Diagnostic

// Errorf returns a single error Diagnostic at path.
func Errorf(path, format string, args ...any) Diagnostic {
	return Diagnostic{Severity: Error, Path: path, Summary: fmt.Sprintf(format, args...)}
}

// Warnf returns a single warning Diagnostic at path.
func Warnf(path, format string, args ...any) Diagnostic {
	return Diagnostic{Severity: Warning, Path: path, Summary: fmt.Sprintf(format, args...)}
}

// FromError turns a Go error into a Diagnostic; a nil error gives nil Diagnostics.
// An error that wraps Diagnostics (see Err) gives those back unchanged.
func FromError(err error) Diagnostics {
	if err == nil {
		return nil
	}
	var de *diagError
	if errors.As(err, &de) {
		return de.diags
	}
	return Diagnostics{{Severity: Error, Summary: err.Error()}}
}

// Append adds more diagnostics and returns the list, like the built-in append.
func (ds Diagnostics) Append(more ...Diagnostic) Diagnostics { return append(ds, more...) }

// HasErrors reports whether any Diagnostic is an Error.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Errors returns only the error-severity diagnostics.
func (ds Diagnostics) Errors() Diagnostics {
	var out Diagnostics
	for _, d := range ds {
		if d.Severity == Error {
			out = append(out, d)
		}
	}
	return out
}

// WithAddress sets Address on every diagnostic that has none.
func (ds Diagnostics) WithAddress(addr string) Diagnostics {
	for i := range ds {
		if ds[i].Address == "" {
			ds[i].Address = addr
		}
	}
	return ds
}

// Err returns nil when there are no errors, else an error whose message lists every diagnostic.
// FromError recovers the Diagnostics from it.
func (ds Diagnostics) Err() error {
	if !ds.HasErrors() {
		return nil
	}
	return &diagError{diags: ds}
}

func (ds Diagnostics) String() string {
	lines := make([]string, len(ds))
	for i, d := range ds {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

type diagError struct{ diags Diagnostics }

func (e *diagError) Error() string { return e.diags.String() }
