package eval

import (
	"fmt"
	"sort"

	"github.com/provhq/prov/internal/nickel/ast"
	"github.com/provhq/prov/internal/nickel/source"
)

// Polymorphic contracts are enforced by sealing, as upstream does. Applying `forall a. T` makes a fresh
// key for each variable; inside T, the contract of `a` seals a value that flows in (negative polarity:
// a function's argument) and unseals one that flows out (positive: its result), blaming the function if
// what comes out was not sealed with that key, that is if the function made it up. A sealed value is
// opaque: a function that looks inside one (adds to it, compares it, calls it) is blamed. A record type
// with a row variable as its tail ({ a : Number; r }) seals the fields it does not name in the same
// way; touching them (reading, removing, mapping, merging) is an IllegalPolymorphicTailAccess.

// sealKey is one instantiation of a type variable.
type sealKey struct {
	name string
	// negative is the polarity the forall was applied with: the variable's contract seals where its
	// polarity differs from it (values flowing in) and unseals where it is the same (flowing out).
	negative bool
	// excluded are the fields a row variable cannot contain: those named next to it in the type
	// ({ y : Number; r } rules y out of r).
	excluded map[string]bool
}

// forallType is the body of `forall vars. body`, instantiated each time the contract is applied.
type forallType struct {
	vars []string
	body ast.Node
	env  *Env
}

// Sealed is a value of a polymorphic type inside the function that declared the type: opaque until
// the contract of the same variable unseals it on the way out.
type Sealed struct {
	key   *sealKey
	inner *Thunk
	label *Label
}

// sealedTail holds the fields of a record that a row variable of its type sealed away.
type sealedTail struct {
	key    *sealKey
	fields map[string]*Field
}

// applyForall instantiates the polymorphic type c with fresh keys and applies it.
func (m *Machine) applyForall(c *Contract, l *Label, t *Thunk) *Thunk {
	env := c.forall.env
	for _, v := range c.forall.vars {
		k := &sealKey{name: v, negative: l.Negative, excluded: map[string]bool{}}
		rowConstraints(c.forall.body, v, k.excluded)
		env = env.Bind(v, Ready(&Contract{Kind: "Var", key: k, Span: c.Span, Text: v}))
	}
	return m.ApplyContract(m.Eval(c.forall.body, env), l, t)
}

// applyVar seals (negative polarity) or unseals (positive) the value of a type variable.
func (m *Machine) applyVar(c *Contract, l *Label, t *Thunk) *Thunk {
	if l.Negative != c.key.negative {
		return &Thunk{state: 2, val: &Sealed{key: c.key, inner: t, label: l}, Span: t.Span}
	}
	return Lazy(t.Span, func() Value {
		v := m.Force(t)
		s, ok := v.(*Sealed)
		if !ok || s.key != c.key {
			m.Blame(l, t.Span, fmt.Sprintf("expected the value of type `%s` that was passed in, got a value the function made up", c.key.name))
		}
		return m.Force(s.inner)
	})
}

// checkSealed blames the function that looks inside a sealed value v.
func checkSealed(v Value, at source.Span) {
	s, ok := v.(*Sealed)
	if !ok {
		return
	}
	l := s.label.clone()
	l.Negative, l.function = false, true
	if !at.IsValid() {
		at = s.inner.Span
	}
	blame(l, at, fmt.Sprintf("a value of the polymorphic type `%s` was used as a value of a specific type: the function must pass it along untouched", s.key.name))
}

// sealTail seals away the fields of r that the record type c does not name, after checking that none
// of them is ruled out of the row variable.
func (m *Machine) sealTail(c *Record, l *Label, t *Thunk, r *Record) *Record {
	k := c.tail
	var names []string
	for name := range r.Fields {
		if _, ok := c.Fields[name]; !ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	del := make(map[string]bool, len(names))
	tail := &sealedTail{key: k, fields: make(map[string]*Field, len(names))}
	for _, name := range names {
		if k.excluded[name] {
			lbl := l.clone()
			lbl.Message = fmt.Sprintf("field `%s` is not allowed in the tail `%s`: the type names it elsewhere", name, k.name)
			m.Blame(lbl, t.Span, "")
		}
		del[name] = true
		f := *r.Fields[name]
		if f.Val != nil {
			f.Def, f.Type, f.Contracts = valueDef{f.Val}, nil, nil
		}
		tail.fields[name] = &f
	}
	out := m.WithFields(r, nil, del)
	out.sealed = tail
	return out
}

// unsealTail returns res with the fields sealed away in r put back, blaming the function when r's tail
// is not the one sealed by c's row variable.
func (m *Machine) unsealTail(c *Record, l *Label, t *Thunk, r, res *Record) *Record {
	if r.sealed == nil || r.sealed.key != c.tail {
		m.Blame(l, t.Span, fmt.Sprintf("expected the record's tail `%s` that was passed in: the function returned a record without it", c.tail.name))
	}
	set := make(map[string]*Thunk, len(r.sealed.fields))
	for name, f := range r.sealed.fields {
		if f.Val != nil {
			set[name] = f.Val
		}
	}
	plain := *res
	plain.sealed = nil
	return m.WithFields(&plain, set, nil)
}

// tailAccess fails when field name of r is sealed away in its tail.
func tailAccess(r *Record, name string, at source.Span) {
	if r.sealed == nil {
		return
	}
	if _, ok := r.sealed.fields[name]; ok {
		Failf("EvalError::IllegalPolymorphicTailAccess", at, "cannot access field `%s`: it is in the sealed polymorphic tail `%s` of this record", name, r.sealed.key.name)
	}
}

// CheckTailAccess fails when field name of r is sealed away in a polymorphic tail.
func (m *Machine) CheckTailAccess(r *Record, name string, at source.Span) { tailAccess(r, name, at) }

// CheckNoSealedTail fails when r has a sealed polymorphic tail, which operations on the whole record
// (mapping, merging) must not see into.
func (m *Machine) CheckNoSealedTail(r *Record, at source.Span) {
	if r.sealed != nil {
		Failf("EvalError::IllegalPolymorphicTailAccess", at, "cannot use this record as a whole: part of it is the sealed polymorphic tail `%s`", r.sealed.key.name)
	}
}

// rowConstraints adds to excluded the fields named next to the row variable v in the type n.
func rowConstraints(n ast.Node, v string, excluded map[string]bool) {
	switch n := n.(type) {
	case *ast.Record:
		if n.Tail == v {
			for _, f := range n.Fields {
				if lit, ok := f.Path[0].(*ast.StrLit); ok && len(f.Path) == 1 {
					excluded[lit.Text] = true
				}
			}
		}
		for _, f := range n.Fields {
			if f.Annot != nil {
				if f.Annot.Type != nil {
					rowConstraints(f.Annot.Type, v, excluded)
				}
				for _, c := range f.Annot.Contracts {
					rowConstraints(c, v, excluded)
				}
			}
		}
	case *ast.Arrow:
		rowConstraints(n.Dom, v, excluded)
		rowConstraints(n.Cod, v, excluded)
	case *ast.Dict:
		rowConstraints(n.Elem, v, excluded)
	case *ast.App:
		rowConstraints(n.Fn, v, excluded)
		rowConstraints(n.Arg, v, excluded)
	case *ast.EnumRows:
		for _, r := range n.Rows {
			if r.Arg != nil {
				rowConstraints(r.Arg, v, excluded)
			}
		}
	case *ast.Forall:
		for _, w := range n.Vars {
			if w == v {
				return // shadowed
			}
		}
		rowConstraints(n.Body, v, excluded)
	}
}
