package nickel

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/provhq/prov/internal/nickel/eval"
	"github.com/provhq/prov/internal/nickel/scanner"
	"github.com/provhq/prov/internal/nickel/source"
	"github.com/provhq/prov/internal/nickel/token"
)

// Customize mode: the arguments after `--` on the nickel command line. `path=expr` assigns an input
// field (one without a value, or with a default value) at normal priority; `--override path=expr`
// overrides any field with force priority; expr may be a sigil, `@env:NAME`. `list` prints the input
// and overridable fields, `--help` the usage.

const customizeHelp = `Customize a Nickel configuration through the command line

Usage: customize-mode [OPTIONS] [FIELD_PATH=NICKEL_EXPRESSION]... [COMMAND]

Commands:
  list  List the input fields and the overridable fields of the configuration
  help  Print this message or the help of the given subcommand(s)

Arguments:
  [FIELD_PATH=NICKEL_EXPRESSION]...
          Assign a valid Nickel expression to an input field of the configuration. The new value
          will be merged with the configuration with priority 0 (the one assigned by default in
          Nickel when no explicit merge priority is provided).
          
          Assignment can only set input fields, that is fields without definition or fields with a
          default value. To override an existing value, use ` + "`" + `--override` + "`" + ` instead.
          
          Note that you might have to escape special characters or enclose assignments in quotes to
          prevent shell interpretation.
          
          Example: ` + "`" + `nickel eval config.ncl -- 'http.enabled="yes"' protocol=\'ftp` + "`" + `
          
          In addition to Nickel values, the left hand side of the assignment can be a special
          expression introduced by the ` + "`" + `@` + "`" + ` sigil, with the syntax
          ` + "`" + `@<selector>[/<attribute>]:<argument>` + "`" + `.
          
          Example: ` + "`" + `nickel eval config.ncl -- vars.home=@env:HOME vars.path=@env:PATH` + "`" + `

Options:
      --override <FIELD_PATH=NICKEL_EXPRESSION>
          Override any field of the configuration with a valid Nickel expression. The new value will
          be merged with the configuration with a ` + "`" + `force` + "`" + ` priority.
          
          Note that you might have to escape special characters or enclose assignments in quotes to
          prevent shell interpretation.
          
          Example: ` + "`" + `-- input.value=false --override m.count=2 --override m.type=\'server` + "`" + `

  -h, --help
          Print help (see a summary with '-h')

WARNING: Customize mode is experimental. Its interface is subject to breaking changes.
`

const assignmentHelp = "note: when parsing a field assignment on the command line\n" +
	" = A field assignment must be of the form `<field path>=<value>`, where `<field path>` is a dot-separated list of fields and `<value>` is a valid Nickel expression.\n" +
	" = For example: `config.database.\"$port\"=8080`\n"

type assignment struct {
	path     []string
	pathText string
	value    string
	force    bool
}

// parseAssignment splits "field.path=value" into the field path and the value's source.
func parseAssignment(arg string, force bool) (assignment, error) {
	f := source.NewFile("<cli-assignment>", arg)
	sc := scanner.New(f)
	a := assignment{force: force}
	fail := func(t token.Token) error {
		e := source.Errorf("ParseError::UnexpectedToken", t.Span, "unexpected token")
		e.Trailer = assignmentHelp
		return e
	}
	for {
		t, err := sc.Next()
		if err != nil {
			return a, err
		}
		switch t.Kind {
		case token.Ident, token.Keyword:
			a.path = append(a.path, t.Text)
		case token.StrStart:
			var name strings.Builder
			for {
				c, err := sc.Next()
				if err != nil {
					return a, err
				}
				if c.Kind == token.StrEnd {
					break
				}
				if c.Kind != token.StrChunk {
					return a, fail(c)
				}
				name.WriteString(c.Text)
			}
			a.path = append(a.path, name.String())
		default:
			return a, fail(t)
		}
		t, err = sc.Next()
		if err != nil {
			return a, err
		}
		if t.Is("=") {
			a.pathText = strings.TrimSpace(arg[:t.Span.Start])
			a.value = arg[t.Span.End:]
			return a, nil
		}
		if !t.Is(".") {
			return a, fail(t)
		}
	}
}

// sigil evaluates a `@selector[/attribute]:argument` value.
func sigil(a assignment) (string, error) {
	f := source.NewFile("<override "+a.pathText+">", a.value)
	body := a.value[1:]
	head, arg, ok := strings.Cut(body, ":")
	if !ok {
		e := source.Errorf("CliError::Sigil", source.Span{File: f, Start: 0, End: len(a.value)}, "missing sigil expression separator `:`")
		e.Notes = []string{"The CLI sigil expression syntax is `@<selector>:<argument>` or `@<selector>/<attribute>:<argument>`",
			"The provided sigil expression is missing the `:` separator."}
		return "", e
	}
	selector, attr, hasAttr := strings.Cut(head, "/")
	if selector != "env" {
		e := source.Errorf("CliError::Sigil", source.Span{File: f, Start: 1, End: 1 + len(selector)}, "unknown sigil selector `%s`", selector)
		e.Notes = []string{"Available selectors are currently: `env`"}
		return "", e
	}
	if hasAttr {
		start := 1 + len(selector) + 1
		e := source.Errorf("CliError::Sigil", source.Span{File: f, Start: start, End: start + len(attr)}, "unknown sigil attribute `%s`", attr)
		e.Label = "unknown attribute for sigil selector `env`"
		e.Notes = []string{"No attributes are available for sigil selector `env`. Use the selector directly as in `@env:<argument>`"}
		return "", e
	}
	v, ok := os.LookupEnv(arg)
	if !ok {
		return "", source.Errorf("CliError::Sigil", source.Span{File: f, Start: 0, End: len(a.value)}, "environment variable `%s` is not set", arg)
	}
	return v, nil
}

func pathString(path []string) string {
	var parts []string
	for _, p := range path {
		if identOK(p) {
			parts = append(parts, p)
		} else {
			parts = append(parts, quoteNickel(p))
		}
	}
	return strings.Join(parts, ".")
}

// customize applies customize-mode arguments to v. It returns the text to print instead of exporting
// when the arguments ask for `list` or `--help`.
func (s *session) customize(v eval.Value, args []string) (eval.Value, string) {
	var list []assignment
	for i := 0; i < len(args); i++ {
		switch arg := args[i]; {
		case arg == "--help" || arg == "-h" || arg == "help":
			return v, customizeHelp
		case arg == "list":
			return v, s.listFields(v)
		case arg == "--override" && i+1 < len(args):
			i++
			a, err := parseAssignment(args[i], true)
			if err != nil {
				eval.Fail(err.(*source.Error))
			}
			list = append(list, a)
		case strings.HasPrefix(arg, "--override="):
			a, err := parseAssignment(strings.TrimPrefix(arg, "--override="), true)
			if err != nil {
				eval.Fail(err.(*source.Error))
			}
			list = append(list, a)
		default:
			a, err := parseAssignment(arg, false)
			if err != nil {
				eval.Fail(err.(*source.Error))
			}
			list = append(list, a)
		}
	}
	for _, a := range list {
		v = s.assign(v, a)
	}
	return v, ""
}

func (s *session) assign(v eval.Value, a assignment) eval.Value {
	m := s.m
	p := pathString(a.path)
	// find the field, checking it may be assigned
	cur := v
	for i, name := range a.path {
		r, ok := cur.(*eval.Record)
		var f *eval.Field
		if ok {
			f, ok = r.Fields[name]
		}
		if !ok {
			e := source.Errorf("CliError::UnknownField", source.Span{}, "invalid override: unknown field `%s`", p)
			e.Notes = []string{fmt.Sprintf("`%s` doesn't refer to a record field accessible from the root of the configuration.", p),
				"Use `nickel <COMMAND> [OPTIONS] -- list` to show a list of available fields."}
			eval.Fail(e)
		}
		if i == len(a.path)-1 {
			if !a.force && f.Def != nil && f.Priority.Kind != eval.PrioDefault {
				e := source.Errorf("CliError::NotAnInput", source.Span{}, "invalid assignment: `%s` isn't an input", p)
				e.Notes = []string{fmt.Sprintf("`%s` already has a value and thus can't be assigned without `--override`.", p),
					fmt.Sprintf("If you really want to override this field, please use `--override '%s=%s'` instead.", p, a.value)}
				eval.Fail(e)
			}
			break
		}
		if f.Val == nil {
			cur = nil
			continue
		}
		cur = m.Force(f.Val)
	}
	var val *eval.Thunk
	if strings.HasPrefix(strings.TrimSpace(a.value), "@") {
		a.value = strings.TrimSpace(a.value)
		str, err := sigil(a)
		if err != nil {
			eval.Fail(err.(*source.Error))
		}
		val = eval.Ready(str)
	} else {
		sess := &Session{s: s}
		x, err := sess.EvalSource("<override "+a.pathText+">", a.value, false)
		if err != nil {
			eval.Fail(err.(*source.Error))
		}
		val = eval.Ready(x)
	}
	prio := eval.Priority{Kind: eval.PrioNumeric}
	if a.force {
		prio = eval.Priority{Kind: eval.PrioForce}
	}
	return m.Merge(v, eval.PathRecord(a.path, val, prio), source.Span{}, source.Span{}, source.Span{})
}

// listFields renders the input and overridable fields of v.
func (s *session) listFields(v eval.Value) string {
	var inputs, overridable []string
	var walk func(r *eval.Record, prefix string)
	walk = func(r *eval.Record, prefix string) {
		for _, k := range r.Keys() {
			f := r.Fields[k]
			p := k
			if !identOK(k) {
				p = quoteNickel(k)
			}
			if prefix != "" {
				p = prefix + "." + p
			}
			if f.Val == nil || f.Priority.Kind == eval.PrioDefault {
				var cs []string
				if f.Type != nil {
					cs = append(cs, f.Type.Label.TypeText)
				}
				for _, c := range f.Contracts {
					cs = append(cs, c.Label.TypeText)
				}
				if len(cs) > 0 {
					p += ": <" + strings.Join(cs, ", ") + ">"
				}
				inputs = append(inputs, p)
				continue
			}
			var fv eval.Value
			if s.m.Catch(func() { fv = s.m.Force(f.Val) }) != nil {
				overridable = append(overridable, p)
				continue
			}
			if sub, ok := fv.(*eval.Record); ok && len(sub.Fields) > 0 {
				walk(sub, p)
				continue
			}
			overridable = append(overridable, p)
		}
	}
	if r, ok := v.(*eval.Record); ok {
		walk(r, "")
	}
	sort.Strings(inputs)
	sort.Strings(overridable)
	var b strings.Builder
	b.WriteString("Input fields:\n")
	for _, p := range inputs {
		b.WriteString("- " + p + "\n")
	}
	b.WriteString("\nOverridable fields (require `--override`):\n")
	for _, p := range overridable {
		b.WriteString("- " + p + "\n")
	}
	b.WriteString("\nUse the `query` subcommand to print a detailed description of a specific field. See `nickel help query`.\n")
	return b.String()
}
