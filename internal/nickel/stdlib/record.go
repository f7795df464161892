package stdlib

import (
	"github.com/provhq/prov/internal/nickel/eval"
	"github.com/provhq/prov/internal/nickel/source"
)

func keysOf(r *eval.Record, withOpts bool) []string {
	if withOpts {
		return r.Keys()
	}
	return r.VisibleKeys()
}

func recordLib() lib {
	fields := func(name string, withOpts bool) *eval.Builtin {
		return builtin(name, 1, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			keys := keysOf(m.Rec(a[0], name, at), withOpts)
			vals := make([]eval.Value, len(keys))
			for i, k := range keys {
				vals[i] = k
			}
			return arrayOf(vals)
		})
	}
	hasField := func(name string, withOpts bool) *eval.Builtin {
		return builtin(name, 2, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			k := m.Str(a[0], name, at)
			r := m.Rec(a[1], name, at)
			f, ok := r.Fields[k]
			if !ok {
				return false
			}
			return withOpts || !(f.Optional && f.Def == nil)
		})
	}
	insert := func(name string, withOpts bool) *eval.Builtin {
		return builtin(name, 3, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			k := m.Str(a[0], name, at)
			r := m.Rec(a[2], name, at)
			if f, ok := r.Fields[k]; ok && (withOpts || !(f.Optional && f.Def == nil)) {
				eval.Failf("EvalError::Other", at, "%s: tried to insert field `%s`, but it already exists", name, k)
			}
			return m.WithFields(r, map[string]*eval.Thunk{k: a[1]}, nil)
		})
	}
	remove := func(name string, withOpts bool) *eval.Builtin {
		return builtin(name, 2, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			k := m.Str(a[0], name, at)
			r := m.Rec(a[1], name, at)
			if f, ok := r.Fields[k]; !ok || (!withOpts && f.Optional && f.Def == nil) {
				m.CheckTailAccess(r, k, at)
				eval.Failf("EvalError::FieldMissing", at, "%s: tried to remove field `%s`, but it does not exist", name, k)
			}
			return m.WithFields(r, nil, map[string]bool{k: true})
		})
	}
	return lib{
		"fields":              fields("std.record.fields", false),
		"fields_with_opts":    fields("std.record.fields_with_opts", true),
		"has_field":           hasField("std.record.has_field", false),
		"has_field_with_opts": hasField("std.record.has_field_with_opts", true),
		"insert":              insert("std.record.insert", false),
		"insert_with_opts":    insert("std.record.insert_with_opts", true),
		"remove":              remove("std.record.remove", false),
		"remove_with_opts":    remove("std.record.remove_with_opts", true),
		"has_value": builtin("std.record.has_value", 2, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			f, ok := m.Rec(a[1], "std.record.has_value", at).Fields[m.Str(a[0], "std.record.has_value", at)]
			return ok && f.Val != nil
		}),
		"values": builtin("std.record.values", 1, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			r := m.Rec(a[0], "std.record.values", at)
			out := &eval.Array{}
			for _, k := range r.VisibleKeys() {
				out.Elems = append(out.Elems, m.FieldVal(r, k, at))
			}
			return out
		}),
		"map": builtin("std.record.map", 2, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			f := m.Fun(a[0], "std.record.map", at)
			r := m.Rec(a[1], "std.record.map", at)
			m.CheckNoSealedTail(r, at)
			out := map[string]*eval.Thunk{}
			for _, k := range r.VisibleKeys() {
				k := k
				v := m.FieldVal(r, k, at)
				out[k] = eval.Lazy(at, func() eval.Value { return m.ApplyN(f, at, eval.Ready(k), v) })
			}
			return eval.NewRecord(out)
		}),
		"update": builtin("std.record.update", 3, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			k := m.Str(a[0], "std.record.update", at)
			r := m.Rec(a[2], "std.record.update", at)
			return m.WithFields(r, map[string]*eval.Thunk{k: a[1]}, map[string]bool{k: true})
		}),
		"filter": builtin("std.record.filter", 2, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			f := m.Fun(a[0], "std.record.filter", at)
			r := m.Rec(a[1], "std.record.filter", at)
			del := map[string]bool{}
			for _, k := range r.VisibleKeys() {
				res := m.ApplyN(f, at, eval.Ready(k), m.FieldVal(r, k, at))
				if b, ok := res.(bool); !ok || !b {
					del[k] = true
				}
			}
			for k := range r.Fields {
				if f := r.Fields[k]; f.Optional && f.Def == nil {
					del[k] = true
				}
			}
			return m.WithFields(r, nil, del)
		}),
		"to_array": builtin("std.record.to_array", 1, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			r := m.Rec(a[0], "std.record.to_array", at)
			out := &eval.Array{}
			for _, k := range r.VisibleKeys() {
				out.Elems = append(out.Elems, eval.Ready(eval.NewRecord(map[string]*eval.Thunk{
					"field": eval.Ready(k), "value": m.FieldVal(r, k, at)})))
			}
			return out
		}),
		"from_array": builtin("std.record.from_array", 1, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			out := map[string]*eval.Thunk{}
			for _, e := range m.Arr(a[0], "std.record.from_array", at).Elems {
				r := m.Rec(e, "std.record.from_array", at)
				k := m.Str(m.FieldVal(r, "field", at), "std.record.from_array", at)
				if _, dup := out[k]; dup {
					eval.Failf("EvalError::Other", at, "std.record.from_array: duplicate field `%s`", k)
				}
				out[k] = m.FieldVal(r, "value", at)
			}
			return eval.NewRecord(out)
		}),
		"length": builtin("std.record.length", 1, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			return num(len(m.Rec(a[0], "std.record.length", at).VisibleKeys()))
		}),
		"freeze": builtin("std.record.freeze", 1, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			return m.WithFields(m.Rec(a[0], "std.record.freeze", at), nil, nil)
		}),
	}
}
