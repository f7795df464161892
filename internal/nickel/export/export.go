// Package export serialises fully evaluated Nickel values the way `nickel export` does: JSON (keys in
// byte order, two-space indentation, serde_json's number formatting and string escaping), YAML, TOML and
// raw text. Data converts a lazy value into a plain tree first, forcing it, skipping not_exported fields
// and recording where each exported field was defined.
package export

import (
	"bytes"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/provhq/prov/internal/nickel/eval"
	"github.com/provhq/prov/internal/nickel/source"
	"github.com/provhq/prov/internal/value"
)

// Object is an exported record: keys in byte order with their values.
type Object struct {
	Keys []string
	Vals []any
}

// MaxNesting bounds how deeply nested an exported value may be. Nothing real comes close (Nickel's own
// JSON reader stops at 128 levels); a value nested deeper is one without end, such as a record built by
// a function that calls itself without a base case, and is reported as infinite recursion.
const MaxNesting = 1000

// Data forces v completely and converts it to a tree of nil, bool, *big.Rat, string, []any and *Object.
// onField, when not nil, is called with the data path and definition span of every exported field.
//
// A value that contains itself (`{ a = { b = a } }`) or is nested more than MaxNesting levels deep is
// an EvalError::InfiniteRecursion naming the data path, found without walking it to the evaluator's
// depth limit.
func Data(m *eval.Machine, v eval.Value, onField func(p value.Path, span source.Span)) (out any, err error) {
	w := &walker{m: m, onField: onField, open: map[any]*step{}}
	err = m.Run(func() { out = w.data(v, nil, 0, source.Span{}) })
	return out, err
}

// walker converts one value; open maps each record and array being converted to its data path, so
// that meeting one again inside itself reports the cycle.
type walker struct {
	m       *eval.Machine
	onField func(value.Path, source.Span)
	open    map[any]*step
}

// step is one step of the data path being exported, linked to its parent; the value.Path is only
// built when needed (for an error or a position).
type step struct {
	parent *step
	key    string
	index  int
	isIdx  bool
}

func (s *step) Key(k string) *step { return &step{parent: s, key: k} }
func (s *step) Index(i int) *step  { return &step{parent: s, index: i, isIdx: true} }
func (s *step) String() string     { return s.Path().String() }

// Path converts the chain into a value.Path.
func (s *step) Path() value.Path {
	var p value.Path
	for x := s; x != nil; x = x.parent {
		p = append(p, value.Step{Key: x.key, Index: x.index, IsIndex: x.isIdx})
	}
	for i, j := 0, len(p)-1; i < j; i, j = i+1, j-1 {
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// enter marks the record or array v open at path, failing if it already is (v contains itself) or if
// the value is nested too deeply; the returned function closes it again.
func (w *walker) enter(v any, path *step, depth int, span source.Span) {
	if at, ok := w.open[v]; ok {
		where := "the whole value"
		if at != nil {
			where = "`" + shorten(at.String()) + "`"
		}
		e := source.Errorf("EvalError::InfiniteRecursion", span, "infinite recursion: the value of `%s` contains itself: it is %s again", shorten(path.String()), where)
		e.Path = shorten(path.String())
		e.Notes = []string{"A value that contains itself has no end and cannot be exported. Did a field refer to its own record by mistake (a recursive field shadows a `let` of the same name)?"}
		eval.Fail(e)
	}
	w.deep(path, depth, span)
	w.open[v] = path
}

// deep fails if a value at depth is nested too deeply.
func (w *walker) deep(path *step, depth int, span source.Span) {
	if depth > MaxNesting {
		e := source.Errorf("EvalError::InfiniteRecursion", span, "infinite recursion: the value is nested more than %d levels deep at `%s`", MaxNesting, shorten(path.String()))
		e.Path = shorten(path.String())
		e.Notes = []string{"Is it infinite? A function that builds a record or array by calling itself without a base case never ends."}
		eval.Fail(e)
	}
}

// data converts v, found at path depth levels down, written at span.
func (w *walker) data(v eval.Value, path *step, depth int, span source.Span) any {
	m := w.m
	switch v := v.(type) {
	case *big.Rat:
		if _, err := Number(v); err != nil {
			e := *err.(*source.Error)
			e.Path = path.String()
			eval.Fail(&e)
		}
		return v
	case nil, bool, string:
		return v
	case *eval.Enum:
		if v.Arg == nil {
			return v.Tag
		}
		w.deep(path, depth, span)
		p := path.Key("value")
		return &Object{Keys: []string{"tag", "value"}, Vals: []any{v.Tag, w.data(force(m, v.Arg, p), p, depth+1, v.Arg.Span)}}
	case *eval.Array:
		w.enter(v, path, depth, span)
		out := make([]any, len(v.Elems))
		for i, e := range v.Elems {
			p := path.Index(i)
			out[i] = w.data(force(m, e, p), p, depth+1, e.Span)
		}
		delete(w.open, v)
		return out
	case *eval.Record:
		keys := v.VisibleKeys()
		o := &Object{Keys: make([]string, 0, len(keys)), Vals: make([]any, 0, len(keys))}
		w.enter(v, path, depth, span)
		for _, k := range keys {
			f := v.Fields[k]
			if f.NotExported {
				continue
			}
			p := path.Key(k)
			if f.Val == nil {
				e := source.Errorf("EvalError::MissingFieldDef", f.Span, "missing definition for `%s`", k)
				e.Path = p.String()
				eval.Fail(e)
			}
			if w.onField != nil {
				w.onField(p.Path(), f.Span)
			}
			o.Keys = append(o.Keys, k)
			o.Vals = append(o.Vals, w.data(force(m, f.Val, p), p, depth+1, f.Span))
		}
		delete(w.open, v)
		return o
	}
	var at source.Span
	if c, ok := v.(*eval.Closure); ok {
		at = c.Body.Span()
		if c.Param != nil {
			at = c.Param.Span().To(at)
		}
	}
	e := source.Errorf("ExportError::NonSerializable", at, "non serializable term")
	e.Path = path.String()
	e.Notes = []string{
		"Nickel only supports serializing to and from strings, booleans, numbers, enum tags, `null` (depending on the format), as well as records and arrays of serializable values.",
		"Functions and special values (such as contract labels) aren't serializable.",
		"If you want serialization to ignore a specific value, please use the `not_exported` metadata.",
	}
	eval.Fail(e)
	return nil
}

// force evaluates t, attaching path to an error that has none.
func force(m *eval.Machine, t *eval.Thunk, path *step) eval.Value {
	if v := t.Value(); v != nil {
		return v
	}
	defer func() {
		if r := recover(); r != nil {
			if err, ok := eval.AsError(r); ok && (err.Path == "" || !err.Span.IsValid()) {
				e := *err
				if e.Path == "" {
					e.Path = shorten(path.String())
				}
				if !e.Span.IsValid() {
					e.Span = t.Span
				}
				eval.Fail(&e)
			}
			panic(r)
		}
	}()
	return m.Force(t)
}

// shorten elides the middle of very long data paths (values nested thousands deep).
func shorten(p string) string {
	if len(p) <= 240 {
		return p
	}
	return p[:120] + "…" + p[len(p)-100:]
}

// JSON writes d as nickel export does.
func JSON(d any) ([]byte, error) {
	var b bytes.Buffer
	if err := writeJSON(&b, d, 0); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

func indent(b *bytes.Buffer, n int) {
	for i := 0; i < n; i++ {
		b.WriteString("  ")
	}
}

func writeJSON(b *bytes.Buffer, d any, depth int) error {
	switch d := d.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(d))
	case string:
		QuoteJSON(b, d)
	case *big.Rat:
		s, err := Number(d)
		if err != nil {
			return err
		}
		b.WriteString(s)
	case []any:
		if len(d) == 0 {
			b.WriteString("[]")
			return nil
		}
		b.WriteString("[\n")
		for i, e := range d {
			indent(b, depth+1)
			if err := writeJSON(b, e, depth+1); err != nil {
				return err
			}
			if i < len(d)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		indent(b, depth)
		b.WriteByte(']')
	case *Object:
		if len(d.Keys) == 0 {
			b.WriteString("{}")
			return nil
		}
		b.WriteString("{\n")
		for i, k := range d.Keys {
			indent(b, depth+1)
			QuoteJSON(b, k)
			b.WriteString(": ")
			if err := writeJSON(b, d.Vals[i], depth+1); err != nil {
				return err
			}
			if i < len(d.Keys)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		indent(b, depth)
		b.WriteByte('}')
	}
	return nil
}

// QuoteJSON writes s as a JSON string with serde_json's escaping.
func QuoteJSON(b *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"':
			b.WriteString(`\"`)
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\b':
			b.WriteString(`\b`)
		case c == '\f':
			b.WriteString(`\f`)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		default:
			if c < utf8.RuneSelf {
				b.WriteByte(c)
			} else {
				_, size := utf8.DecodeRuneInString(s[i:])
				b.WriteString(s[i : i+size])
				i += size
				continue
			}
		}
		i++
	}
	b.WriteByte('"')
}

// ErrNumberOutOfRange is returned for a number that does not fit a 64-bit float.
var ErrNumberOutOfRange = fmt.Errorf("number out of range")

// Number formats r as nickel export does: integers that fit 64 bits exactly, anything else as the
// nearest 64-bit float in serde_json's (ryu) notation.
func Number(r *big.Rat) (string, error) {
	if r.IsInt() {
		n := r.Num()
		if n.IsInt64() || n.IsUint64() {
			return n.String(), nil
		}
	}
	f, _ := r.Float64()
	if math.IsInf(f, 0) {
		e := source.Errorf("ExportError::NumberOutOfRange", source.Span{}, "The number %s is too large (in absolute value) to be serialized.", Scientific(r))
		e.Notes = []string{"Only numbers in the range -1.7976931348623157e308 to 1.7976931348623157e308 can be portably serialized"}
		return "", e
	}
	return Ryu(f), nil
}

// Scientific writes a large number as d.ddde±N with the shortest exact mantissa (10^400 is 1e400).
func Scientific(r *big.Rat) string {
	f := new(big.Float).SetPrec(200).SetRat(r)
	s := f.Text('e', -1)
	mant, exp, _ := strings.Cut(s, "e")
	if strings.Contains(mant, ".") {
		mant = strings.TrimRight(strings.TrimRight(mant, "0"), ".")
	}
	return mant + "e" + strings.TrimPrefix(exp, "+")
}

// Ryu formats f like Rust's ryu crate (used by serde_json and serde_yaml).
func Ryu(f float64) string {
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	sign := ""
	if f < 0 {
		sign = "-"
		f = -f
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, expS, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	exp, _ := strconv.Atoi(expS)
	length := len(digits)
	kk := exp + 1 // position of the decimal point relative to the digits
	var out string
	switch {
	case length <= kk && kk <= 16:
		out = digits + strings.Repeat("0", kk-length) + ".0"
	case 0 < kk && kk <= 16:
		out = digits[:kk] + "." + digits[kk:]
	case -5 < kk && kk <= 0:
		out = "0." + strings.Repeat("0", -kk) + digits
	case length == 1:
		out = digits + "e" + strconv.Itoa(kk-1)
	default:
		out = digits[:1] + "." + digits[1:] + "e" + strconv.Itoa(kk-1)
	}
	return sign + out
}
