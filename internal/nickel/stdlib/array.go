package stdlib

import (
	"math/big"
	"sort"

	"github.com/provhq/prov/internal/nickel/eval"
	"github.com/provhq/prov/internal/nickel/source"
)

func arrayLib() lib {
	return lib{
		"length": builtin("std.array.length", 1, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			return num(len(m.Arr(a[0], "std.array.length", at).Elems))
		}),
		"map": builtin("std.array.map", 2, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			f := m.Fun(a[0], "std.array.map", at)
			arr := m.Arr(a[1], "std.array.map", at)
			out := &eval.Array{Elems: make([]*eval.Thunk, len(arr.Elems))}
			for i, e := range arr.Elems {
				e := e
				out.Elems[i] = eval.Lazy(at, func() eval.Value { return m.Apply(f, e, at) })
			}
			return out
		}),
		"map_with_index": builtin("std.array.map_with_index", 2, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			f := m.Fun(a[0], "std.array.map_with_index", at)
			arr := m.Arr(a[1], "std.array.map_with_index", at)
			out := &eval.Array{Elems: make([]*eval.Thunk, len(arr.Elems))}
			for i, e := range arr.Elems {
				i, e := i, e
				out.Elems[i] = eval.Lazy(at, func() eval.Value { return m.ApplyN(f, at, eval.Ready(num(i)), e) })
			}
			return out
		}),
		"filter": builtin("std.array.filter", 2, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			f := m.Fun(a[0], "std.array.filter", at)
			arr := m.Arr(a[1], "std.array.filter", at)
			out := &eval.Array{}
			for _, e := range arr.Elems {
				if predicate(m, f, e, "std.array.filter", at) {
					out.Elems = append(out.Elems, e)
				}
			}
			return out
		}),
		"fold_left": builtin("std.array.fold_left", 3, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			f := m.Fun(a[0], "std.array.fold_left", at)
			acc := a[1]
			for _, e := range m.Arr(a[2], "std.array.fold_left", at).Elems {
				acc = eval.Ready(m.ApplyN(f, at, acc, e))
			}
			return m.Force(acc)
		}),
		"fold_right": builtin("std.array.fold_right", 3, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			f := m.Fun(a[0], "std.array.fold_right", at)
			acc := a[1]
			elems := m.Arr(a[2], "std.array.fold_right", at).Elems
			for i := len(elems) - 1; i >= 0; i-- {
				acc = eval.Ready(m.ApplyN(f, at, elems[i], acc))
			}
			return m.Force(acc)
		}),
		"at": builtin("std.array.at", 2, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			i := intArg(m, a[0], "std.array.at", at)
			arr := m.Arr(a[1], "std.array.at", at)
			if i < 0 || i >= len(arr.Elems) {
				eval.Failf("EvalError::Other", at, "invalid array indexing: index %d out of bounds for an array of length %d", i, len(arr.Elems))
			}
			return m.Force(arr.Elems[i])
		}),
		"concat": builtin("std.array.concat", 2, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			x := m.Arr(a[0], "std.array.concat", at)
			y := m.Arr(a[1], "std.array.concat", at)
			return &eval.Array{Elems: append(append([]*eval.Thunk{}, x.Elems...), y.Elems...)}
		}),
		"flatten": builtin("std.array.flatten", 1, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			out := &eval.Array{}
			for _, e := range m.Arr(a[0], "std.array.flatten", at).Elems {
				out.Elems = append(out.Elems, m.Arr(e, "std.array.flatten", at).Elems...)
			}
			return out
		}),
		"generate": builtin("std.array.generate", 2, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			f := m.Fun(a[0], "std.array.generate", at)
			n := intArg(m, a[1], "std.array.generate", at)
			if n < 0 {
				eval.Failf("EvalError::BlameError", at, "contract broken by the caller of `generate`")
			}
			m.Charge(n, at)
			out := &eval.Array{Elems: make([]*eval.Thunk, n)}
			for i := range n {
				i := i
				out.Elems[i] = eval.Lazy(at, func() eval.Value { return m.Apply(f, eval.Ready(num(i)), at) })
			}
			return out
		}),
		"range_step": builtin("std.array.range_step", 3, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			return rangeStep(m, m.Num(a[0], "std.array.range_step", at), m.Num(a[1], "std.array.range_step", at), m.Num(a[2], "std.array.range_step", at), at)
		}),
		"range": builtin("std.array.range", 2, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			return rangeStep(m, m.Num(a[0], "std.array.range", at), m.Num(a[1], "std.array.range", at), big.NewRat(1, 1), at)
		}),
		"slice": builtin("std.array.slice", 3, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			s := intArg(m, a[0], "std.array.slice", at)
			e := intArg(m, a[1], "std.array.slice", at)
			arr := m.Arr(a[2], "std.array.slice", at)
			if s < 0 || e > len(arr.Elems) || s > e {
				eval.Failf("EvalError::Other", at, "invalid array slice [%d, %d) of an array of length %d", s, e, len(arr.Elems))
			}
			return &eval.Array{Elems: arr.Elems[s:e:e]}
		}),
		"sort": builtin("std.array.sort", 2, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			f := m.Fun(a[0], "std.array.sort", at)
			arr := m.Arr(a[1], "std.array.sort", at)
			elems := append([]*eval.Thunk{}, arr.Elems...)
			sort.SliceStable(elems, func(i, j int) bool {
				r := m.ApplyN(f, at, elems[i], elems[j])
				e, ok := r.(*eval.Enum)
				if !ok {
					eval.Failf("EvalError::BlameError", at, "contract broken by the caller of `sort`: the ordering function must return 'Lesser, 'Equal or 'Greater")
				}
				return e.Tag == "Lesser"
			})
			return &eval.Array{Elems: elems}
		}),
		"zip_with": builtin("std.array.zip_with", 3, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			f := m.Fun(a[0], "std.array.zip_with", at)
			x := m.Arr(a[1], "std.array.zip_with", at)
			y := m.Arr(a[2], "std.array.zip_with", at)
			n := min(len(x.Elems), len(y.Elems))
			out := &eval.Array{Elems: make([]*eval.Thunk, n)}
			for i := range n {
				xe, ye := x.Elems[i], y.Elems[i]
				out.Elems[i] = eval.Lazy(at, func() eval.Value { return m.ApplyN(f, at, xe, ye) })
			}
			return out
		}),
		"reverse": builtin("std.array.reverse", 1, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			arr := m.Arr(a[0], "std.array.reverse", at)
			out := &eval.Array{Elems: make([]*eval.Thunk, len(arr.Elems))}
			for i, e := range arr.Elems {
				out.Elems[len(arr.Elems)-1-i] = e
			}
			return out
		}),
	}
}

func predicate(m *eval.Machine, f eval.Value, e *eval.Thunk, name string, at source.Span) bool {
	r := m.Apply(f, e, at)
	b, ok := r.(bool)
	if !ok {
		eval.Failf("EvalError::BlameError", at, "contract broken by the caller of `%s`: the predicate must return a Bool, got %s", eval.ShortName(name), eval.TypeName(r))
	}
	return b
}

func rangeStep(m *eval.Machine, start, end, step *big.Rat, at source.Span) eval.Value {
	if step.Sign() <= 0 {
		eval.Failf("EvalError::BlameError", at, "contract broken by the caller of `range_step`: the step must be positive")
	}
	out := &eval.Array{}
	for x := new(big.Rat).Set(start); x.Cmp(end) < 0; x = new(big.Rat).Add(x, step) {
		m.Charge(1, at)
		out.Elems = append(out.Elems, eval.Ready(x))
	}
	return out
}
