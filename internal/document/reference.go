package document

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/value"
)

// A string in a configuration is a template: literal text and ${…} references. "$${" is a literal "${".

type part struct {
	lit string
	ref *refExpr // nil for a literal
}

// refExpr is a parsed reference: dot-separated segments, each a name with optional [n] indexes.
type refExpr struct {
	text  string     // as written between ${ and }
	steps value.Path // every step: keys and indexes
	// keys is the number of leading key steps (the candidates for the resource address), and ends[k-1]
	// the length of the text that spells the first k of them, so candidate addresses cost nothing.
	keys int
	ends []int
}

const escapeHint = "to write a literal ${, escape it as $${"

// parseTemplate splits s into parts. Strings without "${" never get here.
func parseTemplate(s string) ([]part, error) {
	var parts []part
	var lit strings.Builder
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			lit.WriteString("${")
			i += 3
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return nil, fmt.Errorf("unclosed ${ (%s)", escapeHint)
			}
			ref, err := parseRef(s[i+2 : i+2+end])
			if err != nil {
				return nil, err
			}
			if lit.Len() > 0 {
				parts = append(parts, part{lit: lit.String()})
				lit.Reset()
			}
			parts = append(parts, part{ref: ref})
			i += 2 + end + 1
		default:
			j := strings.IndexByte(s[i+1:], '$')
			if j < 0 {
				j = len(s)
			} else {
				j += i + 1
			}
			lit.WriteString(s[i:j])
			i = j
		}
	}
	if lit.Len() > 0 || len(parts) == 0 {
		parts = append(parts, part{lit: lit.String()})
	}
	return parts, nil
}

func nameByte(c byte) bool {
	return c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func parseRef(text string) (*refExpr, error) {
	r := &refExpr{text: text}
	bad := func(why string) error {
		return fmt.Errorf("bad reference ${%s}: %s (%s)", text, why, escapeHint)
	}
	indexed := false
	for i := 0; ; {
		j := i
		for j < len(text) && nameByte(text[j]) {
			j++
		}
		if j == i {
			return nil, bad("expected a name of letters, digits, _ or -")
		}
		r.steps = append(r.steps, value.Step{Key: text[i:j]})
		if !indexed {
			r.keys++
			r.ends = append(r.ends, j)
		}
		for j < len(text) && text[j] == '[' {
			k := strings.IndexByte(text[j:], ']')
			if k < 0 {
				return nil, bad("unclosed [")
			}
			n, err := strconv.Atoi(text[j+1 : j+k])
			if err != nil || n < 0 {
				return nil, bad(fmt.Sprintf("index %q is not a number", text[j+1:j+k]))
			}
			r.steps = append(r.steps, value.Step{Index: n, IsIndex: true})
			indexed = true
			j += k + 1
		}
		if j == len(text) {
			return r, nil
		}
		if text[j] != '.' {
			return nil, bad(fmt.Sprintf("unexpected %q", text[j]))
		}
		i = j + 1
	}
}

// resolveAddr finds the longest prefix of r's leading names that has accepts as a resource address, and returns
// it with the rest of the path.
func (r *refExpr) resolveAddr(has func(addr string) bool) (addr string, rest value.Path, ok bool) {
	for k := r.keys; k >= 1; k-- {
		if a := r.text[:r.ends[k-1]]; has(a) {
			return a, r.steps[k:], true
		}
	}
	return "", nil, false
}

// findReferences returns the references in every string inside v (depth first, keys in order), with
// diagnostics at path prefix+… for bad syntax and for references to resources that has does not know.
func findReferences(v any, prefix value.Path, has func(string) bool) ([]Reference, diag.Diagnostics) {
	var refs []Reference
	var ds diag.Diagnostics
	value.Walk(v, func(p value.Path, x any) bool {
		s, ok := x.(string)
		if !ok || !strings.Contains(s, "${") {
			return true
		}
		at := append(slices.Clip(prefix), p...)
		parts, err := parseTemplate(s)
		if err != nil {
			ds = append(ds, diag.Errorf(Display(at), "%v", err))
			return true
		}
		for _, pt := range parts {
			if pt.ref == nil {
				continue
			}
			addr, rest, ok := pt.ref.resolveAddr(has)
			if !ok {
				d := diag.Errorf(Display(at), "reference to undeclared resource: ${%s}", pt.ref.text)
				d.Detail = "No prefix of " + strconv.Quote(pt.ref.text) + " names a resource in this configuration; " + escapeHint + "."
				ds = append(ds, d)
				continue
			}
			refs = append(refs, Reference{Addr: addr, Path: slices.Clone(rest), Text: pt.ref.text})
		}
		return true
	})
	return refs, ds
}

// Resolve returns v with every ${…} reference in its strings substituted, and every $${ unescaped.
// lookup returns a resource's attributes by address; a reference names the longest prefix of its
// dot-separated names for which lookup answers ok, and the rest is a path inside the attributes.
//
// A string that is exactly one reference takes the referenced value, whatever its type. In a longer
// string numbers and bools are written as in JSON; null, lists and records are errors. A reference to
// an unknown value (or into one) gives value.Unknown: the value itself for a whole-string reference,
// the whole string otherwise. A missing record key reads as null.
//
// v is not modified; containers are copied only where something changed, and strings without "${" cost
// nothing. Diagnostic paths are relative to v.
func Resolve(v any, lookup func(addr string) (attrs any, ok bool)) (any, diag.Diagnostics) {
	r := resolver{lookup: lookup}
	out, _ := r.resolve(make(value.Path, 0, 8), v)
	slices.SortStableFunc(r.diags, func(a, b diag.Diagnostic) int { return cmp.Compare(a.Path, b.Path) })
	return out, r.diags
}

type resolver struct {
	lookup func(string) (any, bool)
	diags  diag.Diagnostics
}

func (r *resolver) errorf(p value.Path, format string, args ...any) {
	r.diags = append(r.diags, diag.Errorf(Display(p), format, args...))
}

// resolve returns v resolved and whether it differs from v. p is a scratch stack: it is only read
// during the call.
func (r *resolver) resolve(p value.Path, v any) (any, bool) {
	switch c := v.(type) {
	case string:
		if !strings.Contains(c, "${") {
			return v, false // not c: boxing it again would allocate
		}
		return r.str(p, c), true
	case map[string]any:
		var out map[string]any
		for k, e := range c {
			ne, changed := r.resolve(append(p, value.Step{Key: k}), e)
			if changed {
				if out == nil {
					out = maps.Clone(c)
				}
				out[k] = ne
			}
		}
		if out != nil {
			return out, true
		}
	case []any:
		var out []any
		for i, e := range c {
			ne, changed := r.resolve(append(p, value.Step{Index: i, IsIndex: true}), e)
			if changed {
				if out == nil {
					out = slices.Clone(c)
				}
				out[i] = ne
			}
		}
		if out != nil {
			return out, true
		}
	}
	return v, false
}

func (r *resolver) str(p value.Path, s string) any {
	parts, err := parseTemplate(s)
	if err != nil {
		r.errorf(p, "%v", err)
		return s
	}
	if len(parts) == 1 && parts[0].ref != nil {
		v, _ := r.ref(p, parts[0].ref)
		return v
	}
	var b strings.Builder
	unknown := false
	for _, pt := range parts {
		if pt.ref == nil {
			b.WriteString(pt.lit)
			continue
		}
		v, ok := r.ref(p, pt.ref)
		if !ok {
			continue
		}
		switch x := v.(type) {
		case string:
			b.WriteString(x)
		case bool:
			b.WriteString(strconv.FormatBool(x))
		case float64:
			num, _ := json.Marshal(x)
			b.Write(num)
		default:
			if value.HasUnknown(v) {
				unknown = true
				continue
			}
			kind := "null"
			switch v.(type) {
			case []any:
				kind = "a list"
			case map[string]any:
				kind = "a record"
			}
			r.errorf(p, "${%s} is %s, which cannot be written into a string", pt.ref.text, kind)
		}
	}
	if unknown {
		return value.Unknown
	}
	return b.String()
}

// ref evaluates one reference; ok is false when it is an error (reported).
func (r *resolver) ref(p value.Path, ref *refExpr) (any, bool) {
	var attrs any
	addr, rest, ok := ref.resolveAddr(func(a string) bool {
		var found bool
		attrs, found = r.lookup(a)
		return found
	})
	if !ok {
		r.errorf(p, "reference to undeclared resource: ${%s}", ref.text)
		return nil, false
	}
	v := attrs
	for i, s := range rest {
		if value.IsUnknown(v) {
			return value.Unknown, true
		}
		switch c := v.(type) {
		case map[string]any:
			if !s.IsIndex {
				v = c[s.Key] // a missing key is null, like an unset optional attribute
				continue
			}
		case []any:
			if s.IsIndex && s.Index < len(c) {
				v = c[s.Index]
				continue
			}
			if s.IsIndex {
				r.errorf(p, "${%s}: %s has no element [%d] (length %d)", ref.text, Display(append(value.Path{{Key: addr}}, rest[:i]...)), s.Index, len(c))
				return nil, false
			}
		}
		r.errorf(p, "${%s}: %s has no %s", ref.text, Display(append(value.Path{{Key: addr}}, rest[:i]...)), stepName(s))
		return nil, false
	}
	return v, true
}

func stepName(s value.Step) string {
	if s.IsIndex {
		return fmt.Sprintf("element [%d]", s.Index)
	}
	return fmt.Sprintf("attribute %q", s.Key)
}
