// Package conformance runs Nickel's own conformance corpus (integration tests, CLI export snapshots,
// standard library doc tests and user-manual snippets) against prov's evaluator and reports, per suite,
// how many cases pass and why the others fail.
package conformance

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/provhq/prov/internal/nickel"
	"github.com/provhq/prov/internal/nickel/eval"
	"github.com/provhq/prov/internal/nickel/source"
	"github.com/provhq/prov/internal/nickel/token"
)

// Case is the outcome of one test case.
type Case struct {
	Name   string
	Passed bool
	Reason string
}

// Suite is the outcome of one suite.
type Suite struct {
	Name  string
	Cases []Case
}

// Counts returns the number of passed and failed cases.
func (s Suite) Counts() (passed, failed int) {
	for _, c := range s.Cases {
		if c.Passed {
			passed++
		} else {
			failed++
		}
	}
	return passed, failed
}

// Suites lists the suite names Run knows, in order.
var Suites = []string{"integration-pass", "integration-error", "cli-export", "stdlib-doctests", "manual-snippets"}

// Options limit a run.
type Options struct {
	// Limit, when positive, runs only every Limit-th case of each suite (a fast sample for go test).
	Limit int
	// Timeout bounds each case.
	Timeout time.Duration
}

// Run runs the named suites (all when names is empty) from the corpus directory.
func Run(corpus string, names []string, opts Options) ([]Suite, error) {
	if len(names) == 0 {
		names = Suites
	}
	if opts.Timeout == 0 {
		opts.Timeout = 10 * time.Second
	}
	var out []Suite
	for _, n := range names {
		var s Suite
		var err error
		switch n {
		case "integration-pass":
			s, err = integration(corpus, true, opts)
		case "integration-error":
			s, err = integration(corpus, false, opts)
		case "cli-export":
			s, err = cliExport(corpus, opts)
		case "stdlib-doctests":
			s, err = doctests(corpus, opts)
		case "manual-snippets":
			s, err = manual(corpus, opts)
		default:
			err = fmt.Errorf("unknown suite %q", n)
		}
		if err != nil {
			return nil, fmt.Errorf("conformance: %s: %w", n, err)
		}
		s.Name = n
		out = append(out, s)
	}
	return out, nil
}

// withTimeout runs fn, giving up after d.
func withTimeout(d time.Duration, fn func() Case) Case {
	ch := make(chan Case, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				ch <- Case{Reason: fmt.Sprintf("panic: %v", r)}
			}
		}()
		ch <- fn()
	}()
	select {
	case c := <-ch:
		return c
	case <-time.After(d):
		return Case{Reason: "timeout"}
	}
}

func sample(i int, opts Options) bool { return opts.Limit <= 1 || i%opts.Limit == 0 }

type manifestEntry struct {
	Path       string   `json:"path"`
	Type       string   `json:"type"`
	Error      string   `json:"error"`
	Eval       string   `json:"eval"`
	NickelPath []string `json:"nickel_path"`
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func errText(err error) string {
	if e, ok := err.(*nickel.Error); ok {
		return e.Class + ": " + e.Message
	}
	return firstLine(err.Error())
}

func integration(corpus string, pass bool, opts Options) (Suite, error) {
	var entries []manifestEntry
	if err := readJSON(filepath.Join(corpus, "INTEGRATION_MANIFEST.json"), &entries); err != nil {
		return Suite{}, err
	}
	var s Suite
	i := 0
	for _, e := range entries {
		if pass != (e.Type == "pass") || e.Type == "skip" {
			continue
		}
		if pass && (e.Eval == "typecheck" || e.Eval == "typecheck_strict") {
			continue
		}
		if !pass && !(strings.HasPrefix(e.Error, "EvalError") || strings.HasPrefix(e.Error, "ParseError") ||
			strings.HasPrefix(e.Error, "ImportError") || strings.HasPrefix(e.Error, "ExportError")) {
			continue
		}
		i++
		if !sample(i, opts) {
			continue
		}
		e := e
		c := withTimeout(opts.Timeout, func() Case {
			file := filepath.Join(corpus, e.Path)
			src, err := os.ReadFile(file)
			if err != nil {
				return Case{Reason: err.Error()}
			}
			var paths []string
			for _, p := range e.NickelPath {
				paths = append(paths, filepath.Join(corpus, "core", p))
			}
			sess, err := nickel.NewSession(nickel.Options{ImportPaths: paths})
			if err != nil {
				return Case{Reason: err.Error()}
			}
			v, err := sess.EvalSource(file, string(src), e.Eval == "full" || !pass)
			if pass {
				if err != nil {
					return Case{Reason: errText(err)}
				}
				if b, ok := v.(bool); !ok || !b {
					return Case{Reason: fmt.Sprintf("evaluated to %s, not true", nickel.Pretty(sess.Machine(), v))}
				}
				return Case{Passed: true}
			}
			if err == nil {
				return Case{Reason: "evaluated without error, want " + e.Error}
			}
			ne, ok := err.(*nickel.Error)
			if !ok {
				return Case{Reason: err.Error()}
			}
			if !strings.HasPrefix(ne.Class, e.Error) {
				return Case{Reason: fmt.Sprintf("got %s (%s), want %s", ne.Class, ne.Message, e.Error)}
			}
			return Case{Passed: true}
		})
		c.Name = strings.TrimPrefix(e.Path, "core/tests/integration/inputs/")
		s.Cases = append(s.Cases, c)
	}
	return s, nil
}

type snapshotEntry struct {
	Input     string   `json:"input"`
	Command   []string `json:"command"`
	ExtraArgs []string `json:"extra_args"`
	Capture   string   `json:"capture"`
	Snapshots []string `json:"snapshots"`
}

// snapshotBody returns the verbatim output recorded in an insta snapshot file.
func snapshotBody(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := string(b)
	if strings.HasPrefix(s, "---\n") {
		if i := strings.Index(s[4:], "\n---\n"); i >= 0 {
			s = s[4+i+5:]
		}
	}
	return s, nil
}

func cliExport(corpus string, opts Options) (Suite, error) {
	base := filepath.Join(corpus, "cli", "tests", "snapshot")
	var entries []snapshotEntry
	if err := readJSON(filepath.Join(corpus, "SNAPSHOT_MANIFEST.json"), &entries); err != nil {
		return Suite{}, err
	}
	var s Suite
	for i, e := range entries {
		if len(e.Command) == 0 || e.Command[0] != "export" || !sample(i, opts) {
			continue
		}
		e := e
		c := withTimeout(opts.Timeout, func() Case { return runSnapshot(base, e) })
		c.Name = e.Input
		s.Cases = append(s.Cases, c)
	}
	// the multi-file integration case
	c := withTimeout(opts.Timeout, func() Case {
		dir := filepath.Join(corpus, "cli", "tests", "integration", "inputs")
		want, err := os.ReadFile(filepath.Join(dir, "EXPECTED_export_mixed.ncl+mixed.json+mixed.toml--apply-contract_mixed_contract.ncl.json"))
		if err != nil {
			return Case{Reason: err.Error()}
		}
		got, err := nickel.Export([]string{filepath.Join(dir, "mixed.ncl"), filepath.Join(dir, "mixed.json"), filepath.Join(dir, "mixed.toml")},
			nickel.Options{ApplyContract: filepath.Join(dir, "mixed_contract.ncl")})
		if err != nil {
			return Case{Reason: errText(err)}
		}
		if string(got) != string(want) {
			return Case{Reason: fmt.Sprintf("output differs:\n%s", got)}
		}
		return Case{Passed: true}
	})
	c.Name = "integration/mixed"
	s.Cases = append(s.Cases, c)
	return s, nil
}

func runSnapshot(base string, e snapshotEntry) Case {
	input := filepath.Join(base, e.Input)
	opts := nickel.Options{Format: "json"}
	args := e.ExtraArgs
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "--format":
			i++
			opts.Format = args[i]
		case "--field":
			i++
			opts.Field = args[i]
		case "--":
			opts.Overrides = append(opts.Overrides, args[i+1:]...)
			i = len(args)
			if os.Getenv("CARGO_PKG_NAME") == "" {
				// upstream runs its snapshots under cargo, which sets this
				os.Setenv("CARGO_PKG_NAME", "nickel-lang-cli")
			}
		default:
			return Case{Reason: "unsupported CLI arguments " + strings.Join(args, " ")}
		}
	}
	var stderr strings.Builder
	opts.Stderr = &stderr
	out, err := nickel.Export([]string{input}, opts)
	for _, snap := range e.Snapshots {
		want, rerr := snapshotBody(filepath.Join(base, snap))
		if rerr != nil {
			return Case{Reason: rerr.Error()}
		}
		var got string
		if strings.Contains(snap, "_stdout_") {
			if err != nil {
				return Case{Reason: "error: " + errText(err)}
			}
			got = string(out)
		} else {
			got = stderr.String()
			if err != nil {
				got += nickel.Render(err)
			}
			got = strings.ReplaceAll(got, filepath.Join(base, "inputs"), "[INPUTS_PATH]")
		}
		if strings.TrimRight(got, "\n") != strings.TrimRight(want, "\n") {
			return Case{Reason: fmt.Sprintf("%s differs: got %q", filepath.Base(snap), truncate(got, 300))}
		}
	}
	return Case{Passed: true}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

type doctest struct {
	StdPath      string `json:"std_path"`
	Line         int    `json:"line"`
	Code         string `json:"code"`
	ExpectedKind string `json:"expected_kind"`
	Expected     string `json:"expected"`
}

func doctests(corpus string, opts Options) (Suite, error) {
	var tests []doctest
	if err := readJSON(filepath.Join(corpus, "STDLIB_DOCTESTS.json"), &tests); err != nil {
		return Suite{}, err
	}
	var s Suite
	for i, t := range tests {
		if !sample(i, opts) {
			continue
		}
		t := t
		c := withTimeout(opts.Timeout, func() Case {
			sess, err := nickel.NewSession(nickel.Options{})
			if err != nil {
				return Case{Reason: err.Error()}
			}
			name := fmt.Sprintf("<%s:%d>", t.StdPath, t.Line)
			t.Code = inScope(sess, t.StdPath, t.Code)
			switch t.ExpectedKind {
			case "value":
				src := "(\n" + t.Code + "\n) == (\n" + t.Expected + "\n)"
				v, err := sess.EvalSource(name, src, true)
				if err != nil {
					return Case{Reason: errText(err)}
				}
				if b, ok := v.(bool); !ok || !b {
					got, _ := sess.EvalSource(name, t.Code, true)
					return Case{Reason: fmt.Sprintf("got %s, want %s", nickel.Pretty(sess.Machine(), got), strings.TrimSpace(t.Expected))}
				}
			case "error":
				if _, err := sess.EvalSource(name, t.Code, true); err == nil {
					return Case{Reason: "evaluated without error, want " + t.Expected}
				}
			default:
				if _, err := sess.EvalSource(name, t.Code, true); err != nil {
					return Case{Reason: errText(err)}
				}
			}
			return Case{Passed: true}
		})
		c.Name = fmt.Sprintf("%s (line %d)", t.StdPath, t.Line)
		s.Cases = append(s.Cases, c)
	}
	return s, nil
}

// identifier matches the names an example may use.
var identifier = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_'-]*`)

// inScope returns an example of the standard library item at stdPath (std.array.fold_left) preceded by
// bindings for the names it uses unqualified. Upstream's `nickel test` inserts every example into the
// record next to the field it documents, "for the test to be evaluated in the same environment as the
// field that declares it" (doctest_transform in cli/src/doctest.rs of nickel-lang/nickel): the fields
// of its module (fold_left, map, …) and of every enclosing record (std's own: array, string, is_number,
// …) are in scope, the innermost record's shadowing the outer ones'. Only those names are bound.
func inScope(sess *nickel.Session, stdPath, code string) string {
	used := map[string]bool{}
	for _, w := range identifier.FindAllString(code, -1) {
		used[w] = true
	}
	bound := map[string]bool{}
	var lets []string
	parts := strings.Split(stdPath, ".")
	// innermost record first: its names shadow the enclosing ones
	for i := len(parts) - 1; i >= 1; i-- {
		record := strings.Join(parts[:i], ".")
		v, err := sess.EvalSource("<scope>", "std.record.fields "+record, true)
		if err != nil {
			continue
		}
		a, ok := v.(*eval.Array)
		if !ok {
			continue
		}
		for _, e := range a.Elems {
			f, ok := e.Value().(string)
			if !ok || !used[f] || bound[f] || token.Keywords[f] || f == "std" {
				continue
			}
			bound[f] = true
			lets = append(lets, fmt.Sprintf("let %s = %s.%s in\n", f, record, f))
		}
	}
	return strings.Join(lets, "") + code
}

type snippet struct {
	File         string `json:"file"`
	Line         int    `json:"line"`
	Block        string `json:"block"`
	Input        string `json:"input"`
	ExpectedKind string `json:"expected_kind"`
	Expected     string `json:"expected"`
}

func manual(corpus string, opts Options) (Suite, error) {
	var snippets []snippet
	if err := readJSON(filepath.Join(corpus, "MANUAL_SNIPPETS.json"), &snippets); err != nil {
		return Suite{}, err
	}
	// REPL bindings (`let x = …` without `in`) accumulate per file, in order
	bindings := map[string][]string{}
	var s Suite
	for i, sn := range snippets {
		prelude := strings.Join(bindings[sn.File], "")
		if sn.ExpectedKind == "bound" {
			bindings[sn.File] = append(bindings[sn.File], strings.TrimSpace(sn.Input)+" in\n")
		}
		if !sample(i, opts) {
			continue
		}
		sn := sn
		c := withTimeout(opts.Timeout, func() Case { return runSnippet(corpus, sn, prelude) })
		c.Name = fmt.Sprintf("%s:%d", sn.File, sn.Line)
		s.Cases = append(s.Cases, c)
	}
	return s, nil
}

func runSnippet(corpus string, sn snippet, prelude string) Case {
	sess, err := nickel.NewSession(nickel.Options{})
	if err != nil {
		return Case{Reason: err.Error()}
	}
	name := filepath.Join(corpus, sn.File)
	evalOK := func(src string) error {
		_, err := sess.EvalSource(name, prelude+src, true)
		return err
	}
	switch sn.ExpectedKind {
	case "bound":
		if err := evalOK(strings.TrimSpace(sn.Input) + " in null"); err != nil {
			return Case{Reason: errText(err)}
		}
	case "parse_ok":
		if err := nickel.ParseOnly(name, sn.Input); err != nil {
			return Case{Reason: errText(err)}
		}
	case "eval_ok":
		if err := evalOK(sn.Input); err != nil {
			return Case{Reason: errText(err)}
		}
	case "each_line_eval_ok":
		for _, line := range strings.Split(strings.TrimSpace(sn.Input), "\n") {
			if err := evalOK(line); err != nil {
				return Case{Reason: line + ": " + errText(err)}
			}
		}
	case "value":
		v, err := sess.EvalSource(name, prelude+sn.Input, true)
		if err != nil {
			return Case{Reason: errText(err)}
		}
		got := nickel.Pretty(sess.Machine(), v)
		want := strings.TrimSpace(sn.Expected)
		if normalize(got) == normalize(want) {
			return Case{Passed: true}
		}
		w, err := sess.EvalSource(name, want, true)
		if err == nil {
			var eq bool
			if sess.Machine().Run(func() { eq = sess.Machine().Equal(v, w, source.Span{}) }) == nil && eq {
				return Case{Passed: true}
			}
		}
		return Case{Reason: fmt.Sprintf("got %s, want %s", got, want)}
	case "error_abridged", "error_full":
		_, err := sess.EvalSource(name, prelude+sn.Input, true)
		if err == nil {
			return Case{Reason: "evaluated without error, want " + firstLine(sn.Expected)}
		}
		want := strings.TrimPrefix(firstLine(sn.Expected), "error: ")
		got := err.Error()
		if e, ok := err.(*nickel.Error); ok {
			got = e.Message
		}
		if !strings.HasPrefix(got, want) {
			return Case{Reason: fmt.Sprintf("error %q, want %q", got, want)}
		}
	default:
		return Case{Reason: "unknown snippet kind " + sn.ExpectedKind}
	}
	return Case{Passed: true}
}

func normalize(s string) string { return strings.Join(strings.Fields(s), " ") }

// notes explain how the suites are run where that is not obvious.
const notes = `
Notes:

- **stdlib-doctests** run each example as upstream's ` + "`nickel test`" + ` does: in the environment of the
  field it documents (upstream inserts the example into the record next to that field; see
  ` + "`doctest_transform`" + ` in ` + "`cli/src/doctest.rs`" + `), so the names of its module and of ` + "`std`" + ` itself
  (` + "`fold_left`, `array`" + `) are in scope. Some corpus entries (` + "`std.enum.Enum`" + ` and
  ` + "`std.record.has_field_with_opts`" + `) are not examples at all: the corpus extractor ran past the end of a
  code block into the documentation's prose and source. They are counted as failures all the same.
- **integration-pass** leaves out the tests run in typecheck mode and **integration-error** the tests
  whose expected class is not an evaluation, parse, import or export error: static type errors wait for
  a typechecker.
`

// Markdown renders the failing cases of suites.
func Markdown(suites []Suite) string {
	var b strings.Builder
	b.WriteString("# Nickel conformance\n\nGenerated by `go run ./internal/nickel/cmd/conformance` against `../shared/nickel-corpus`.\n\n")
	b.WriteString("| suite | passed | failed |\n|---|---|---|\n")
	for _, s := range suites {
		p, f := s.Counts()
		fmt.Fprintf(&b, "| %s | %d | %d |\n", s.Name, p, f)
	}
	b.WriteString(notes)
	for _, s := range suites {
		var failed []Case
		for _, c := range s.Cases {
			if !c.Passed {
				failed = append(failed, c)
			}
		}
		if len(failed) == 0 {
			continue
		}
		sort.Slice(failed, func(i, j int) bool { return failed[i].Name < failed[j].Name })
		fmt.Fprintf(&b, "\n## %s — failing cases\n\n", s.Name)
		for _, c := range failed {
			fmt.Fprintf(&b, "- `%s`: %s\n", c.Name, strings.ReplaceAll(truncate(c.Reason, 400), "\n", " "))
		}
	}
	return b.String()
}
