// Package stdlib is Nickel's standard library for prov's evaluator: the `std` record and the global
// contracts (Number, String, Bool, Dyn, Array). Primitive functions are Go builtins (this file and its
// siblings, one per std sub-record); functions that are naturally written in Nickel live in std.ncl,
// which is merged over the Go part.
package stdlib

import (
	_ "embed"
	"math/big"

	"github.com/provhq/prov/internal/nickel/eval"
	"github.com/provhq/prov/internal/nickel/parser"
	"github.com/provhq/prov/internal/nickel/source"
)

//go:embed std.ncl
var stdNcl string

type fn = func(m *eval.Machine, args []*eval.Thunk, at source.Span) eval.Value

// lib is a nested table of builtins and values.
type lib map[string]any

func builtin(name string, arity int, f fn) *eval.Builtin {
	return &eval.Builtin{Name: name, Arity: arity, Fn: f}
}

func (l lib) record(prefix string) *eval.Record {
	fields := make(map[string]*eval.Thunk, len(l))
	for k, v := range l {
		name := prefix + "." + k
		switch v := v.(type) {
		case lib:
			fields[k] = eval.Ready(v.record(name))
		case *eval.Builtin:
			fields[k] = eval.Ready(v)
		default:
			fields[k] = eval.Ready(v)
		}
	}
	return eval.NewRecord(fields)
}

// Install defines std and the global contracts in m.
func Install(m *eval.Machine) error {
	globals := map[string]*eval.Thunk{
		"Number": eval.Ready(&eval.Contract{Kind: "Number", Text: "Number"}),
		"String": eval.Ready(&eval.Contract{Kind: "String", Text: "String"}),
		"Bool":   eval.Ready(&eval.Contract{Kind: "Bool", Text: "Bool"}),
		"Dyn":    eval.Ready(&eval.Contract{Kind: "Dyn", Text: "Dyn"}),
		"Array":  eval.Ready(&eval.Contract{Kind: "ArrayCtor", Text: "Array"}),
	}
	goStd := std().record("std")
	f := source.NewFile("<stdlib>", stdNcl)
	n, err := parser.Parse(f)
	if err != nil {
		return err
	}
	var stdThunk *eval.Thunk
	stdThunk = eval.Lazy(source.Span{}, func() eval.Value {
		ncl := m.Eval(n, m.Globals)
		return m.Merge(goStd, ncl, source.Span{}, source.Span{}, source.Span{})
	})
	globals["std"] = stdThunk
	// the primitive operations themselves report type errors as upstream's primops do
	globals["%array/at_raw%"] = eval.Ready(builtin("%array/at%", 2, primArrayAt))
	globals["%array/slice_raw%"] = eval.Ready(builtin("%array/slice%", 3, primArraySlice))
	m.Globals = m.Globals.BindAll(globals)
	for name, src := range primops {
		f := source.NewFile("<primop "+name+">", src)
		n, err := parser.Parse(f)
		if err != nil {
			return err
		}
		globals["%"+name+"%"] = eval.NewThunk(n, m.Globals)
	}
	return nil
}

// primops are upstream's primitive operations (%name%), which some programs call directly, expressed
// with the standard library.
var primops = map[string]string{
	// upstream's seq and deep_seq are unary: they force their argument as soon as they get it
	"deep_seq":         "fun x => std.deep_seq x (fun y => y)",
	"seq":              "fun x => std.seq x (fun y => y)",
	"force":            "fun x => std.deep_seq x x",
	"typeof":           "std.typeof",
	"to_string":        "std.to_string",
	"blame":            "std.contract.blame",
	"serialize":        "std.serialize",
	"deserialize":      "std.deserialize",
	"array/at":         "%array/at_raw%",
	"array/length":     "std.array.length",
	"array/slice":      "%array/slice_raw%",
	"array/map":        "fun a f => std.array.map f a",
	"record/insert":    "fun field r value => std.record.insert field value r",
	"record/remove":    "std.record.remove",
	"record/has_field": "std.record.has_field",
	"record/fields":    "std.record.fields",
	"record/freeze":    "std.record.freeze",
	"record/map":       "fun r f => std.record.map f r",
	"enum/is_variant":  "std.enum.is_enum_variant",
	"enum/get_tag":     "fun e => std.string.to_enum (std.enum.to_tag_and_arg e).tag",
	"enum/get_arg":     "fun e => (std.enum.to_tag_and_arg e).arg",
	"enum/embed":       "fun e => e",
}

func num(i int) *big.Rat { return new(big.Rat).SetInt64(int64(i)) }

func intArg(m *eval.Machine, t *eval.Thunk, fname string, at source.Span) int {
	r := m.Num(t, fname, at)
	if !r.IsInt() || !r.Num().IsInt64() {
		e := source.Errorf("EvalError::BlameError", at, "contract broken by the caller of `%s`", eval.ShortName(fname))
		e.Notes = append(e.Notes, "expected an integer, got "+eval.FormatNumber(r))
		eval.Fail(e)
	}
	return int(r.Num().Int64())
}

func arrayOf(vals []eval.Value) *eval.Array {
	a := &eval.Array{Elems: make([]*eval.Thunk, len(vals))}
	for i, v := range vals {
		a.Elems[i] = eval.Ready(v)
	}
	return a
}

func primArray(m *eval.Machine, t *eval.Thunk, op string) *eval.Array {
	v := m.Force(t)
	a, ok := v.(*eval.Array)
	if !ok {
		eval.Failf("EvalError::NAryPrimopTypeError", t.Span, "type error: %s expects an Array, got %s", op, eval.TypeName(v))
	}
	return a
}

func primIndex(m *eval.Machine, t *eval.Thunk, op string) int {
	v := m.Force(t)
	r, ok := v.(*big.Rat)
	if !ok {
		eval.Failf("EvalError::NAryPrimopTypeError", t.Span, "type error: %s expects a Number, got %s", op, eval.TypeName(v))
	}
	if !r.IsInt() || !r.Num().IsInt64() {
		eval.Failf("EvalError::Other", t.Span, "%s expects an integer index, got %s", op, eval.FormatNumber(r))
	}
	return int(r.Num().Int64())
}

func primArrayAt(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
	arr := primArray(m, a[0], "%array/at%")
	i := primIndex(m, a[1], "%array/at%")
	if i < 0 || i >= len(arr.Elems) {
		eval.Failf("EvalError::Other", at, "invalid array indexing: index %d out of bounds for an array of length %d", i, len(arr.Elems))
	}
	return m.Force(arr.Elems[i])
}

func primArraySlice(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
	start := primIndex(m, a[0], "%array/slice%")
	end := primIndex(m, a[1], "%array/slice%")
	arr := primArray(m, a[2], "%array/slice%")
	if start < 0 || end > len(arr.Elems) || start > end {
		eval.Failf("EvalError::Other", at, "invalid array slice [%d, %d) of an array of length %d", start, end, len(arr.Elems))
	}
	return &eval.Array{Elems: arr.Elems[start:end:end]}
}
