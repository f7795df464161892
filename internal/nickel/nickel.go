// Package nickel is prov's pure-Go implementation of the Nickel configuration language: evaluate .ncl
// files (and .json/.yaml/.toml/.txt inputs) and export them as `nickel export` does. The stages live in
// sub-packages (token, scanner, parser, ast, eval, stdlib, export); this package ties them together for
// the rest of prov: Export and ExportDocument for the document loader, Eval and Query for the CLI, and
// ExternalExport for running a real `nickel` binary instead. Errors are *Error values carrying the
// upstream error class, a source position and the data path; diag.FromError-style conversion is
// available through Diagnostics.
package nickel

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/nickel/eval"
	"github.com/provhq/prov/internal/nickel/export"
	"github.com/provhq/prov/internal/nickel/parser"
	"github.com/provhq/prov/internal/nickel/source"
	"github.com/provhq/prov/internal/nickel/stdlib"
	"github.com/provhq/prov/internal/value"
)

// Error is a Nickel parse, import, evaluation or export error. Class is the upstream error class
// (e.g. "EvalError::BlameError").
type Error = source.Error

// Options configure evaluation and export.
type Options struct {
	// Format is json (default), yaml, yaml-documents, toml, text or raw.
	Format string
	// Field selects a sub-value to export, as a dotted path ("servers.web").
	Field string
	// ImportPaths are searched for imports not found relative to the importing file (like -I).
	ImportPaths []string
	// ApplyContract names a .ncl file whose value is applied as a contract to the result.
	ApplyContract string
	// Overrides are customize-mode arguments, as after `--` on the nickel command line:
	// "field.path=value" assigns an input field (one without a value or with a default),
	// "--override field.path=value" overrides any field with force priority; a value is Nickel syntax
	// or a sigil such as @env:NAME. "list" and "--help" make Export return that text instead.
	Overrides []string
	// EmbeddedFS holds prov's schema library, importable as "prov/…".
	EmbeddedFS fs.FS
	// Stderr receives std.trace output; nil discards it.
	Stderr io.Writer
	// Binary, when set, names a real `nickel` binary to run instead of the built-in evaluator (see
	// ExternalExport); when empty the PROV_NICKEL environment variable is consulted.
	Binary string
}

// Diagnostics converts an error returned by this package into diagnostics.
func Diagnostics(err error) diag.Diagnostics {
	if err == nil {
		return nil
	}
	if e, ok := err.(*Error); ok {
		return e.Diagnostics()
	}
	if e, ok := err.(*ExternalError); ok {
		return e.Diagnostics()
	}
	return diag.FromError(err)
}

// session is one evaluation: a machine with std installed and an importer.
type session struct {
	m  *eval.Machine
	im *importer
	// text replaces the export when customize mode asked for `list` or `--help`.
	text string
	// root is where the exported value was written, for errors about the value as a whole.
	root source.Span
}

func newSession(opts Options) (*session, error) {
	m := eval.New()
	if opts.Stderr != nil {
		m.Stderr = opts.Stderr
	}
	if err := stdlib.Install(m); err != nil {
		return nil, fmt.Errorf("nickel: load standard library: %w", err)
	}
	im := newImporter(opts)
	m.Importer = im
	return &session{m: m, im: im}, nil
}

// flushWarnings writes the warnings found during evaluation to opts.Stderr.
func (s *session) flushWarnings(opts Options) {
	if opts.Stderr == nil {
		return
	}
	for _, w := range s.m.Warnings {
		fmt.Fprint(opts.Stderr, Render(w))
	}
}

// load evaluates the inputs merged together, with overrides, contract and field selection applied.
func (s *session) load(files []string, opts Options) (v eval.Value, err error) {
	if len(files) == 0 {
		return nil, fmt.Errorf("nickel: no input files")
	}
	err = s.m.Run(func() {
		for i, f := range files {
			t := s.im.Import(s.m, f, "", source.Span{})
			s.root = t.Span
			if i == 0 {
				v = s.m.Force(t)
				continue
			}
			v = s.m.Merge(v, s.m.Force(t), source.Span{}, source.Span{}, t.Span)
		}
		if len(opts.Overrides) > 0 {
			v, s.text = s.customize(v, opts.Overrides)
			if s.text != "" {
				return
			}
		}
		if opts.ApplyContract != "" {
			ct := s.im.Import(s.m, opts.ApplyContract, "", source.Span{})
			c := s.m.Force(ct)
			lbl := &eval.Label{Span: ct.Span, TypeText: opts.ApplyContract}
			v = s.m.Force(s.m.ApplyContract(c, lbl, eval.Ready(v)))
		}
		if opts.Field != "" {
			v = s.selectPath(v, opts.Field)
		}
	})
	return v, err
}

func (s *session) selectPath(v eval.Value, field string) eval.Value {
	f := source.NewFile("<field>", field)
	n, err := parser.Parse(source.NewFile("<field>", "x."+field))
	if err != nil {
		eval.Failf("ParseError::UnexpectedToken", source.Span{File: f, End: len(field)}, "invalid field path %q", field)
	}
	root := eval.Ready(v)
	env := (&eval.Env{}).Bind("x", root)
	return s.m.Eval(n, env)
}

// Export evaluates files (merged together, like `nickel export a.ncl b.ncl`) and serialises the result.
// When opts.Binary or $PROV_NICKEL names a nickel binary, that binary does the work instead.
func Export(files []string, opts Options) ([]byte, error) {
	if bin := opts.binary(); bin != "" {
		return ExternalExport(context.Background(), bin, files, opts)
	}
	s, err := newSession(opts)
	if err != nil {
		return nil, err
	}
	defer s.flushWarnings(opts)
	v, err := s.load(files, opts)
	if err != nil {
		return nil, err
	}
	if s.text != "" {
		return []byte(s.text), nil
	}
	d, err := export.Data(s.m, v, nil)
	if err != nil {
		if e, ok := err.(*Error); ok && !e.Span.IsValid() {
			e.Span = s.root
		}
		return nil, err
	}
	out, err := export.Format(d, opts.Format)
	if e, ok := err.(*Error); ok && !e.Span.IsValid() {
		e.Span = s.root
	}
	return out, err
}

// ExportDocument exports the configuration at path as JSON for prov's document loader. positions maps
// every exported data path (value.Path string form, e.g. "servers.web-01.zone", "tags[0]") that is a
// record field to where that field is defined in the source.
// In external mode (opts.Binary or $PROV_NICKEL) positions is empty: nickel does not report them.
func ExportDocument(path string, opts Options) ([]byte, map[string]diag.Pos, error) {
	if bin := opts.binary(); bin != "" {
		opts.Format = "json"
		out, err := ExternalExport(context.Background(), bin, []string{path}, opts)
		return out, map[string]diag.Pos{}, err
	}
	s, err := newSession(opts)
	if err != nil {
		return nil, nil, err
	}
	v, err := s.load([]string{path}, opts)
	if err != nil {
		return nil, nil, err
	}
	positions := map[string]diag.Pos{}
	d, err := export.Data(s.m, v, func(p value.Path, span source.Span) {
		if span.IsValid() {
			positions[p.String()] = span.Pos()
		}
	})
	if err != nil {
		return nil, nil, err
	}
	out, err := export.JSON(d)
	if err != nil {
		return nil, nil, err
	}
	return out, positions, nil
}

// Eval evaluates files fully and returns the value printed in Nickel syntax (like `nickel eval`).
func Eval(files []string, opts Options) (string, error) {
	s, err := newSession(opts)
	if err != nil {
		return "", err
	}
	v, err := s.load(files, opts)
	if err != nil {
		return "", err
	}
	var out string
	err = s.m.Run(func() {
		s.m.DeepForce(v)
		out = Pretty(s.m, v)
	})
	return out, err
}

// FieldInfo is the metadata of a record field, as shown by `prov nickel query`.
type FieldInfo struct {
	Doc       string
	Type      string
	Contracts []string
	Default   string
	Value     string
	Optional  bool
	Fields    []string
}

// Query returns the metadata of the field at opts.Field in files.
func Query(files []string, opts Options) (FieldInfo, error) {
	var info FieldInfo
	s, err := newSession(opts)
	if err != nil {
		return info, err
	}
	field := opts.Field
	opts.Field = ""
	v, err := s.load(files, opts)
	if err != nil {
		return info, err
	}
	err = s.m.Run(func() {
		parent, name := v, ""
		if field != "" {
			i := strings.LastIndex(field, ".")
			if i >= 0 {
				parent = s.selectPath(v, field[:i])
			}
			name = field[i+1:]
		}
		var target eval.Value = parent
		if name != "" {
			r, ok := parent.(*eval.Record)
			if !ok {
				eval.Failf("EvalError::TypeError", source.Span{}, "%s is not a record field", field)
			}
			f, ok := r.Fields[name]
			if !ok {
				eval.Failf("EvalError::FieldMissing", source.Span{}, "missing field `%s`", field)
			}
			if f.Doc != nil {
				info.Doc = *f.Doc
			}
			if f.Type != nil {
				info.Type = f.Type.Label.TypeText
			}
			for _, c := range f.Contracts {
				info.Contracts = append(info.Contracts, c.Label.TypeText)
			}
			info.Optional = f.Optional
			target = nil
			if f.Val != nil {
				tv := s.m.Force(f.Val)
				target = tv
				if f.Priority.Kind == eval.PrioDefault {
					info.Default = Pretty(s.m, tv)
				} else if _, isRec := tv.(*eval.Record); !isRec {
					info.Value = Pretty(s.m, tv)
				}
			}
		}
		if r, ok := target.(*eval.Record); ok {
			info.Fields = append(info.Fields, r.Keys()...)
			sort.Strings(info.Fields)
		}
	})
	return info, err
}

// Session is a reusable evaluation context: the standard library and an importer configured by
// Options. The conformance harness and tools that evaluate many snippets use it.
type Session struct{ s *session }

// NewSession returns a Session for opts.
func NewSession(opts Options) (*Session, error) {
	s, err := newSession(opts)
	if err != nil {
		return nil, err
	}
	return &Session{s: s}, nil
}

// Machine returns the session's evaluator.
func (s *Session) Machine() *eval.Machine { return s.s.m }

// EvalSource parses and evaluates src (named name, for positions and relative imports); with deep set
// the whole value is forced, as export would.
func (s *Session) EvalSource(name, src string, deep bool) (eval.Value, error) {
	f := source.NewFile(name, src)
	n, err := parser.Parse(f)
	if err != nil {
		return nil, err
	}
	var v eval.Value
	err = s.s.m.Run(func() {
		v = s.s.m.Eval(n, &eval.Env{})
		if deep {
			s.s.m.DeepForce(v)
		}
	})
	return v, err
}

// Export serialises v in format after forcing it.
func (s *Session) Export(v eval.Value, format string) ([]byte, error) {
	d, err := export.Data(s.s.m, v, nil)
	if err != nil {
		return nil, err
	}
	return export.Format(d, format)
}

// ParseOnly parses src and reports a syntax error, if any.
func ParseOnly(name, src string) error {
	_, err := parser.Parse(source.NewFile(name, src))
	return err
}
