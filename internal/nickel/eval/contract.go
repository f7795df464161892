package eval

import (
	"fmt"
	"math/big"
	"sort"
	"strings"

	"github.com/provhq/prov/internal/nickel/source"
	"github.com/provhq/prov/internal/suggest"
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
func (m *Machine) Blame(l *Label, at source.Span, detail string) { blame(l, at, detail) }

func blame(l *Label, at source.Span, detail string) {
	msg := "contract broken by a value"
	if l.function {
		msg = "contract broken by a function"
	}
	path := l.DataPath()
	if l.Negative {
		msg = "contract broken by the caller"
		if path != "" {
			msg = fmt.Sprintf("contract broken by the caller of `%s`", path)
		}
	} else if path != "" && !l.function {
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
	case "Forall":
		return m.applyForall(c, l, t)
	case "Var":
		return m.applyVar(c, l, t)
	case "Number":
		return check(func(v Value) bool { _, ok := v.(*big.Rat); return ok }, "Number")
	case "String":
		return check(func(v Value) bool { _, ok := v.(string); return ok }, "String")
	case "Bool":
		return check(func(v Value) bool { _, ok := v.(bool); return ok }, "Bool")
	case "ArrayCtor":
		return check(func(v Value) bool { _, ok := v.(*Array); return ok }, "Array")
	case "Array":
		return Lazy(t.Span, func() Value {
			elem := m.element(c)
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
		return Lazy(t.Span, func() Value {
			elem := m.element(c)
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
			neg.Negative, neg.function = !l.Negative, true
			pos := l.clone()
			pos.function = true
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
			argC, known := c.Rows[rowKey(e.Tag, e.Arg != nil)]
			if !known {
				if c.OpenRows {
					return e
				}
				if _, other := c.Rows[rowKey(e.Tag, e.Arg == nil)]; other {
					m.Blame(l, t.Span, fmt.Sprintf("unexpected argument shape for '%s", e.Tag))
				}
				m.Blame(l, t.Span, fmt.Sprintf("the tag '%s is not one of the expected tags", e.Tag))
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

// element returns the element contract of an Array or Dict contract.
func (m *Machine) element(c *Contract) Value {
	if c.elem != nil {
		return m.Force(c.elem)
	}
	return c.Args[0]
}

// rowKey is the key of an enum row in Contract.Rows: a bare tag 'Foo and a variant 'Foo x are
// different rows.
func rowKey(tag string, variant bool) string {
	if variant {
		return tag + "\x00"
	}
	return tag
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
		at := t.Span
		if e.Arg != nil {
			if rec, ok := m.Force(e.Arg).(*Record); ok {
				if f, ok := rec.Fields["blame_location"]; ok && f.Val != nil {
					if loc, ok := m.Force(f.Val).(*Label); ok && loc.ValueSpan.IsValid() {
						at = loc.ValueSpan
					}
				}
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
		m.Blame(lbl, at, "")
	}
	Failf("EvalError::TypeError", l.Span, "type error: a contract must return 'Ok or 'Error, got '%s", e.Tag)
	return nil
}

func (m *Machine) applyRecordContract(c *Record, l *Label, t *Thunk) Value {
	v := m.Force(t)
	r, ok := v.(*Record)
	if !ok {
		checkSealed(v, t.Span)
		m.Blame(l, t.Span, "expected a Record, got a "+TypeName(v))
	}
	// a row variable tail seals away the fields the type does not name, or puts them back
	var unseal *Record
	if c.tail != nil {
		if l.Negative != c.tail.negative {
			r = m.sealTail(c, l, t, r)
		} else {
			unseal = r
		}
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
			detail := "Have you misspelled a field?"
			if len(extra) == 1 {
				var unset []string // the contract's fields the record lacks: what a typo meant
				for _, k := range c.Keys() {
					if _, ok := r.Fields[k]; !ok {
						unset = append(unset, k)
					}
				}
				if near := suggest.Closest(extra[0], unset); near != "" {
					detail += fmt.Sprintf(" The closest field is `%s`.", near)
				}
			}
			m.Blame(lbl, sp, detail)
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
	sealed := r.sealed
	if sealed != nil {
		plain := *r
		plain.sealed = nil
		r = &plain
	}
	var res *Record
	cc := c
	if isRecordType(c) {
		res = m.applyRecordType(c, l, r)
	} else if l.path != nil || l.Negative || l.function {
		// field labels get the data path of the checked record and the polarity of its label
		fields := make(map[string]*Field, len(c.Fields))
		for k, f := range c.Fields {
			nf := f.reopen()
			nf.Contracts = relabel(nf.Contracts, l, k)
			if nf.Type != nil {
				nf.Type = relabel([]*PendingContract{nf.Type}, l, k)[0]
			}
			fields[k] = nf
		}
		cc = &Record{Fields: fields, Open: c.Open}
	}
	if res == nil {
		res = m.mergeRecords(r, cc, l.Span)
	}
	if unseal != nil {
		return m.unsealTail(c, l, t, unseal, res)
	}
	res.sealed = sealed
	return res
}

// isRecordType reports whether the record contract c is a record type ({ a : T, b : U; r }): fields
// with a type and nothing else.
func isRecordType(c *Record) bool {
	if len(c.Fields) == 0 && c.tail == nil {
		return false
	}
	for _, f := range c.Fields {
		if f.Type == nil || f.Def != nil || len(f.Contracts) > 0 || f.Optional || f.Doc != nil {
			return false
		}
	}
	return true
}

// applyRecordType checks the fields of r against the record type c. Unlike a record contract, a type
// checks the definitions r has now: like upstream's, it does not become part of the fields' metadata,
// so a definition that later overrides one of them is not checked by it.
func (m *Machine) applyRecordType(c *Record, l *Label, r *Record) *Record {
	var cache envCache
	fields := make(map[string]*Field, len(r.Fields))
	for k, f := range r.Fields {
		nf := f.reopen()
		if cf, ok := c.Fields[k]; ok && f.Def != nil {
			cv := m.contractValue(cf.Type, c, &cache)
			typ := &PendingContract{Def: valueDef{Ready(cv)}, Label: relabel([]*PendingContract{cf.Type}, l, k)[0].Label, static: true, value: cv}
			nf.Def = contractDef{D: f.Def, C: []*PendingContract{typ}}
		}
		fields[k] = nf
	}
	out := m.close(fields)
	out.Open = r.Open
	return out
}

// relabel gives the contracts of field k of a record contract applied with label parent the field's
// data path and parent's polarity.
func relabel(cs []*PendingContract, parent *Label, k string) []*PendingContract {
	out := make([]*PendingContract, len(cs))
	for i, c := range cs {
		l := c.Label.clone()
		l.path = parent.path.child(k)
		l.Negative, l.function = parent.Negative, parent.function
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
