package eval

import (
	"fmt"
	"math/big"
	"sort"
	"strings"

	"github.com/provhq/prov/internal/nickel/source"
)

// ApplyContract returns t checked by contract c; the check runs when the result is forced, and for
// arrays, records and functions it is pushed down lazily to elements, fields and results.
func (m *Machine) ApplyContract(c Value, l *Label, t *Thunk) *Thunk {
	switch c := c.(type) {
	case *Contract:
		return m.applyBuiltinContract(c, l, t)
	case *Record:
		return Lazy(t.Span, func() Value { return m.applyRecordContract(c, l, t) })
	case *Closure, *MatchFn, *Builtin:
		if cl, ok := c.(*Closure); ok && cl.Span.IsValid() && t.Span.IsValid() {
			w := source.Errorf("Warning", t.Span, "plain functions as contracts are deprecated")
			w.Label = "applied to this term"
			w.Extra = []source.Note{{Span: cl.Span, Message: "this function"}}
			w.Notes = []string{"wrap this function using one of the constructors in `std.contract` instead, like `std.contract.from_validator` or `std.contract.custom`"}
			m.Warn(w)
		}
		return Lazy(t.Span, func() Value { return m.Apply(m.Apply(c, Ready(l), l.Span), t, l.Span) })
	case *Label:
		// a label is not a contract, but std.contract.apply may pass one around
	}
	Failf("EvalError::TypeError", l.Span, "type error: expected a contract, got %s", TypeName(c))
	return nil
}

// Blame aborts evaluation with a contract violation.
func (m *Machine) Blame(l *Label, at source.Span, detail string) {
	msg := "contract broken by a value"
	path := l.DataPath()
	if l.Negative {
		msg = "contract broken by the caller"
		if path != "" {
			msg = fmt.Sprintf("contract broken by the caller of `%s`", path)
		}
	} else if path != "" {
		msg = fmt.Sprintf("contract broken by the value of `%s`", path)
	}
	e := source.Errorf("EvalError::BlameError", at, "%s", msg)
	e.Reason = l.Message
	if !at.IsValid() {
		e.Span = l.ValueSpan
	}
	e.Extra = append(e.Extra, source.Note{Span: l.Span, Message: "expected type " + l.TypeText})
	if detail != "" {
		e.Notes = append(e.Notes, detail)
	}
	e.Notes = append(e.Notes, l.Notes...)
	Fail(e)
}

func (m *Machine) applyBuiltinContract(c *Contract, l *Label, t *Thunk) *Thunk {
	check := func(ok func(Value) bool, want string) *Thunk {
		return Lazy(t.Span, func() Value {
			v := m.Force(t)
			if !ok(v) {
				m.Blame(l, t.Span, fmt.Sprintf("expected a %s, got a %s", want, TypeName(v)))
			}
			return v
		})
	}
	switch c.Kind {
	case "Dyn":
		return t
	case "Number":
		return check(func(v Value) bool { _, ok := v.(*big.Rat); return ok }, "Number")
	case "String":
		return check(func(v Value) bool { _, ok := v.(string); return ok }, "String")
	case "Bool":
		return check(func(v Value) bool { _, ok := v.(bool); return ok }, "Bool")
	case "ArrayCtor":
		return check(func(v Value) bool { _, ok := v.(*Array); return ok }, "Array")
	case "Array":
		elem := c.Args[0]
		return Lazy(t.Span, func() Value {
			v := m.Force(t)
			a, ok := v.(*Array)
			if !ok {
				m.Blame(l, t.Span, "expected an Array, got a "+TypeName(v))
			}
			if ec, ok := elem.(*Contract); ok && ec.Kind == "Dyn" {
				return a
			}
			el := l.clone()
			out := &Array{Elems: make([]*Thunk, len(a.Elems))}
			for i, e := range a.Elems {
				out.Elems[i] = m.ApplyContract(elem, el, e)
			}
			return out
		})
	case "Dict":
		elem := c.Args[0]
		return Lazy(t.Span, func() Value {
			v := m.Force(t)
			r, ok := v.(*Record)
			if !ok {
				m.Blame(l, t.Span, "expected a Record, got a "+TypeName(v))
			}
			fields := make(map[string]*Field, len(r.Fields))
			for k, f := range r.Fields {
				fl := l.clone()
				fl.path = l.path.child(k)
				if !c.Open {
					// a dictionary type checks the current values; it does not travel through merges
					if f.Val == nil {
						fields[k] = f.reopen()
						continue
					}
					fields[k] = &Field{Def: valueDef{m.ApplyContract(elem, fl, f.Val)}, Priority: f.Priority,
						Optional: f.Optional, NotExported: f.NotExported, Doc: f.Doc, Span: f.Span}
					continue
				}
				nf := f.reopen()
				nf.Contracts = append(append([]*PendingContract(nil), f.Contracts...), &PendingContract{Def: valueDef{Ready(elem)}, Label: fl, static: true, value: elem})
				fields[k] = nf
			}
			return m.close(fields)
		})
	case "Arrow":
		dom, cod := c.Args[0], c.Args[1]
		return Lazy(t.Span, func() Value {
			v := m.Force(t)
			switch v.(type) {
			case *Closure, *MatchFn, *Builtin:
			default:
				m.Blame(l, t.Span, "expected a function, got a "+TypeName(v))
			}
			neg := l.clone()
			neg.Negative = !l.Negative
			pos := l.clone()
			return &Builtin{Name: "contract", Arity: 1, Fn: func(m *Machine, args []*Thunk, at source.Span) Value {
				arg := m.ApplyContract(dom, neg, args[0])
				res := Lazy(at, func() Value { return m.Apply(v, arg, at) })
				return m.Force(m.ApplyContract(cod, pos, res))
			}}
		})
	case "Enum":
		return Lazy(t.Span, func() Value {
			v := m.Force(t)
			e, ok := v.(*Enum)
			if !ok {
				m.Blame(l, t.Span, "expected an enum, got a "+TypeName(v))
			}
			argC, known := c.Rows[e.Tag]
			if !known {
				if c.OpenRows {
					return e
				}
				m.Blame(l, t.Span, fmt.Sprintf("the tag '%s is not one of the expected tags", e.Tag))
			}
			if (argC == nil) != (e.Arg == nil) {
				m.Blame(l, t.Span, fmt.Sprintf("unexpected argument shape for '%s", e.Tag))
			}
			if argC == nil {
				return e
			}
			return &Enum{Tag: e.Tag, Arg: m.ApplyContract(argC, l.clone(), e.Arg)}
		})
	case "Predicate":
		return Lazy(t.Span, func() Value {
			r := m.Apply(c.Fn, t, l.Span)
			b, ok := r.(bool)
			if !ok {
				Failf("EvalError::TypeError", l.Span, "type error: a predicate contract must return a Bool, got %s", TypeName(r))
			}
			if !b {
				m.Blame(l, t.Span, "")
			}
			return m.Force(t)
		})
	case "Validator":
		return Lazy(t.Span, func() Value {
			r := m.Apply(c.Fn, t, l.Span)
			return m.contractResult(r, l, t, false)
		})
	case "Custom":
		return Lazy(t.Span, func() Value {
			r := m.ApplyN(c.Fn, l.Span, Ready(l), t)
			return m.contractResult(r, l, t, true)
		})
	case "Sequence":
		for _, sub := range c.Args {
			t = m.ApplyContract(sub, l, t)
		}
		return t
	case "Equal":
		want := c.Args[0]
		return Lazy(t.Span, func() Value {
			v := m.Force(t)
			if !m.Equal(want, v, l.Span) {
				m.Blame(l, t.Span, "")
			}
			return v
		})
	case "AnyOf", "Not":
		// like std.contract.check: only the immediate part of each contract decides; checks delayed
		// inside arrays, records and functions stay attached to the value that passed
		return Lazy(t.Span, func() Value {
			var v Value
			matched := false
			for _, sub := range c.Args {
				if m.Catch(func() { v = m.Force(m.ApplyContract(sub, l, t)) }) == nil {
					matched = true
					break
				}
			}
			if matched == (c.Kind == "Not") {
				m.Blame(l, t.Span, "")
			}
			if c.Kind == "Not" {
				return m.Force(t)
			}
			return v
		})
	case "AllOf":
		for _, sub := range c.Args {
			t = m.ApplyContract(sub, l, t)
		}
		return t
	}
	Failf("EvalError::TypeError", l.Span, "type error: unknown contract %s", c.Kind)
	return nil
}

// contractResult interprets 'Ok / 'Error {message, notes} (validators: true/false also accepted).
func (m *Machine) contractResult(r Value, l *Label, t *Thunk, custom bool) Value {
	e, ok := r.(*Enum)
	if !ok {
		if b, isBool := r.(bool); isBool && !custom {
			if !b {
				m.Blame(l, t.Span, "")
			}
			return m.Force(t)
		}
		Failf("EvalError::TypeError", l.Span, "type error: a contract must return 'Ok or 'Error, got %s", TypeName(r))
	}
	switch e.Tag {
	case "Ok":
		if e.Arg == nil {
			return m.Force(t)
		}
		return m.Force(e.Arg)
	case "Error":
		lbl := l.clone()
		if e.Arg != nil {
			if rec, ok := m.Force(e.Arg).(*Record); ok {
				if f, ok := rec.Fields["message"]; ok && f.Val != nil {
					if s, ok := m.Force(f.Val).(string); ok {
						lbl.Message = s
					}
				}
				if f, ok := rec.Fields["notes"]; ok && f.Val != nil {
					if a, ok := m.Force(f.Val).(*Array); ok {
						for _, n := range a.Elems {
							if s, ok := m.Force(n).(string); ok {
								lbl.Notes = append(lbl.Notes, s)
							}
						}
					}
				}
			}
		}
		m.Blame(lbl, t.Span, "")
	}
	Failf("EvalError::TypeError", l.Span, "type error: a contract must return 'Ok or 'Error, got '%s", e.Tag)
	return nil
}

func (m *Machine) applyRecordContract(c *Record, l *Label, t *Thunk) Value {
	v := m.Force(t)
	r, ok := v.(*Record)
	if !ok {
		m.Blame(l, t.Span, "expected a Record, got a "+TypeName(v))
	}
	if !c.Open {
		var extra []string
		for k := range r.Fields {
			if _, ok := c.Fields[k]; !ok {
				extra = append(extra, k)
			}
		}
		if len(extra) > 0 {
			sort.Strings(extra)
			lbl := l.clone()
			if len(extra) == 1 {
				lbl.Message = fmt.Sprintf("extra field `%s`", extra[0])
			} else {
				lbl.Message = "extra fields " + quoteAll(extra)
			}
			sp := t.Span
			if f := r.Fields[extra[0]]; f.Span.IsValid() {
				sp = f.Span
			}
			m.Blame(lbl, sp, "Have you misspelled a field?")
		}
	}
	// fields of a record type ({a : T}) must be present
	for _, k := range c.Keys() {
		cf := c.Fields[k]
		if _, ok := r.Fields[k]; !ok && cf.Def == nil && !cf.Optional && cf.Type != nil {
			lbl := l.clone()
			lbl.Message = fmt.Sprintf("missing field `%s`", k)
			m.Blame(lbl, t.Span, "")
		}
	}
	if l.path == nil {
		return m.mergeRecords(r, c, l.Span)
	}
	// field labels get the data path of the checked record
	fields := make(map[string]*Field, len(c.Fields))
	for k, f := range c.Fields {
		nf := f.reopen()
		nf.Contracts = relabel(nf.Contracts, l.path.child(k))
		if nf.Type != nil {
			nf.Type = relabel([]*PendingContract{nf.Type}, l.path.child(k))[0]
		}
		fields[k] = nf
	}
	cc := &Record{Fields: fields, Open: c.Open}
	return m.mergeRecords(r, cc, l.Span)
}

func relabel(cs []*PendingContract, path *dataPath) []*PendingContract {
	out := make([]*PendingContract, len(cs))
	for i, c := range cs {
		l := c.Label.clone()
		l.path = path
		out[i] = &PendingContract{Def: c.Def, Label: l, static: c.static, value: c.value}
	}
	return out
}

func quoteAll(ks []string) string {
	q := make([]string, len(ks))
	for i, k := range ks {
		q[i] = "`" + k + "`"
	}
	return strings.Join(q, ", ")
}
