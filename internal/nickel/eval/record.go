package eval

import (
	"math/big"
	"strconv"

	"github.com/provhq/prov/internal/nickel/ast"
	"github.com/provhq/prov/internal/nickel/source"
)

func formatFloatPlain(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// evalRecord builds a record from a literal: fields become definitions closed over the record itself.
func (m *Machine) evalRecord(n *ast.Record, env *Env) Value {
	fields := make(map[string]*Field, len(n.Fields))
	// the record's own static top-level names are in scope for every field
	var scope *scopeSet
	if !n.Nested {
		scope = m.scopes[n]
		if scope == nil {
			scope = &scopeSet{names: make(map[string]bool, len(n.Fields))}
			for _, f := range n.Fields {
				if lit, ok := f.Path[0].(*ast.StrLit); ok {
					scope.names[lit.Text] = true
				}
			}
			if m.scopes == nil {
				m.scopes = map[*ast.Record]*scopeSet{}
			}
			m.scopes[n] = scope
		}
	}
	// static names first: like upstream, fields with computed names are then inserted into the record
	// the others make, and must be new
	for _, f := range n.Fields {
		if _, ok := f.Path[0].(*ast.StrLit); ok {
			m.recordField(fields, f, m.fieldName(f.Path[0], env), env, scope)
		}
	}
	for _, f := range n.Fields {
		if _, ok := f.Path[0].(*ast.StrLit); ok {
			continue
		}
		name := m.fieldName(f.Path[0], env)
		if _, ok := fields[name]; ok {
			Failf("EvalError::Other", f.Path[0].Span(), "record/insert: tried to insert field `%s`, but it already exists", name)
		}
		m.recordField(fields, f, name, env, scope)
	}
	r := m.close(fields)
	r.Open = n.Open
	if n.Tail != "" && n.Tail != "Dyn" {
		// a row variable: the record type seals (or unseals) the fields it does not name
		if t := env.lookup(n.Tail); t != nil {
			if c, ok := m.Force(t).(*Contract); ok && c.Kind == "Var" {
				r.tail, r.Open = c.key, false
			}
		}
	}
	return r
}

// recordField adds the definition of field f of a record literal, named name.
func (m *Machine) recordField(fields map[string]*Field, f *ast.Field, name string, env *Env, scope *scopeSet) {
	if len(f.Path) == 1 {
		m.addField(fields, name, m.fieldFromAST(f, env, scope), f.Pos)
		return
	}
	// a.b.c = v is a = { b.c = v }, merged with the other definitions of a
	inner := &ast.Record{At: f.At, Nested: true, Fields: []*ast.Field{{At: f.At, Path: f.Path[1:], Annot: f.Annot, Value: f.Value}}}
	m.addField(fields, name, &Field{
		Def:      exprDef{Expr: inner, Env: env, Scope: scope},
		Span:     f.Path[0].Span(),
		Priority: Priority{Kind: PrioNumeric},
	}, f.Pos)
}

// addField adds a field definition, merging piecewise definitions of the same name.
func (m *Machine) addField(fields map[string]*Field, name string, f *Field, at source.Span) {
	if prev, ok := fields[name]; ok {
		fields[name] = m.mergeFields(prev, f, at)
		return
	}
	fields[name] = f
}

func (m *Machine) fieldFromAST(f *ast.Field, env *Env, scope *scopeSet) *Field {
	out := &Field{Span: f.Pos, Priority: Priority{Kind: PrioNumeric}}
	if f.Value != nil {
		out.Def = exprDef{Expr: f.Value, Env: env, Scope: scope}
		if f.Include {
			out.Def = exprDef{Expr: f.Value, Env: env}
		}
	}
	a := f.Annot
	if a == nil {
		return out
	}
	out.Doc = a.Doc
	out.Optional = a.Optional
	out.NotExported = a.NotExported
	switch {
	case a.Default:
		out.Priority = Priority{Kind: PrioDefault}
	case a.Force:
		out.Priority = Priority{Kind: PrioForce}
	case a.Priority != nil:
		out.Priority = Priority{Kind: PrioNumeric, N: a.Priority}
	}
	name := ""
	if lit, ok := f.Path[len(f.Path)-1].(*ast.StrLit); ok {
		name = lit.Text
	}
	if a.Type != nil {
		out.Type = m.pendingContract(a.Type, env, scope, name, valueSpan(f))
	}
	for _, c := range a.Contracts {
		out.Contracts = append(out.Contracts, m.pendingContract(c, env, scope, name, valueSpan(f)))
	}
	return out
}

// pendingContract makes the contract annotation c of field name. A contract that mentions none of
// its record's fields is evaluated once, not once per record it ends up in.
func (m *Machine) pendingContract(c ast.Node, env *Env, scope *scopeSet, name string, vspan source.Span) *PendingContract {
	pc := &PendingContract{Def: exprDef{Expr: c, Env: env, Scope: scope},
		Label: &Label{Span: c.Span(), TypeText: c.Span().Text(), path: pathOf(name), ValueSpan: vspan}}
	pc.static = scope == nil || !mentions(c, scope.names)
	return pc
}

// contractValue evaluates a pending contract against record self.
func (m *Machine) contractValue(c *PendingContract, self *Record, cache *envCache) Value {
	if c.static {
		if c.value == nil {
			c.value = m.Force(m.closeDef(c.Def, self, cache, c.Label.Span))
		}
		return c.value
	}
	return m.Force(m.closeDef(c.Def, self, cache, c.Label.Span))
}

func valueSpan(f *ast.Field) source.Span {
	if f.Value != nil {
		return f.Value.Span()
	}
	return f.Pos
}

// mergeFields merges two definitions of one field (from a merge or piecewise definitions).
func (m *Machine) mergeFields(a, b *Field, at source.Span) *Field {
	out := &Field{
		Doc:         a.Doc,
		Optional:    a.Optional && b.Optional,
		NotExported: a.NotExported || b.NotExported,
		Type:        a.Type,
		Span:        a.Span,
	}
	if b.Doc != nil {
		out.Doc = b.Doc
	}
	if out.Type == nil {
		out.Type = b.Type
	} else if b.Type != nil {
		out.Contracts = append(out.Contracts, b.Type)
	}
	out.Contracts = append(append(out.Contracts, a.Contracts...), b.Contracts...)
	switch {
	case a.Def == nil:
		out.Def, out.Priority, out.Span = b.Def, b.Priority, b.Span
		if b.Def == nil {
			out.Priority = maxPrio(a.Priority, b.Priority)
			out.Span = a.Span
		}
	case b.Def == nil:
		out.Def, out.Priority = a.Def, a.Priority
	default:
		switch c := a.Priority.cmp(b.Priority); {
		case c > 0:
			out.Def, out.Priority = a.Def, a.Priority
		case c < 0:
			out.Def, out.Priority, out.Span = b.Def, b.Priority, b.Span
		default:
			out.Def, out.Priority = m.mergeDefs(a.Def, b.Def, at), a.Priority
		}
	}
	return out
}

// mergeDefs merges two definitions of equal priority. When neither depends on the record it ends up
// in (nested records merged piecewise: { a.b = 1 } & { a.c = 2 }), the values are merged once instead
// of again each time the field is closed over a new record, so folding many records into one field
// neither rebuilds a chain of merges at every step nor keeps every intermediate result alive.
func (m *Machine) mergeDefs(l, r Def, at source.Span) Def {
	lt, lok := m.fixedDef(l)
	rt, rok := m.fixedDef(r)
	if !lok || !rok {
		return mergeDef{L: l, R: r, At: at}
	}
	return valueDef{Lazy(at, func() Value { return m.Merge(m.Force(lt), m.Force(rt), at, lt.Span, rt.Span) })}
}

// fixedDef returns the value of d when it does not depend on the record d is closed over.
func (m *Machine) fixedDef(d Def) (*Thunk, bool) {
	switch d := d.(type) {
	case valueDef:
		return d.T, true
	case exprDef:
		if d.Scope != nil && m.mentionsScope(d.Expr, d.Scope) {
			return nil, false
		}
		return m.thunk(d.Expr, d.Env), true
	}
	return nil, false
}

// mentionsScope reports (once per expression) whether n may refer to a name of scope.
func (m *Machine) mentionsScope(n ast.Node, scope *scopeSet) bool {
	key := scopedNode{n, scope}
	if v, ok := m.mentioned[key]; ok {
		return v
	}
	if m.mentioned == nil {
		m.mentioned = map[scopedNode]bool{}
	}
	v := mentions(n, scope.names)
	m.mentioned[key] = v
	return v
}

// scopedNode is an expression in the recursive scope of a record literal.
type scopedNode struct {
	n     ast.Node
	scope *scopeSet
}

func maxPrio(a, b Priority) Priority {
	if a.cmp(b) >= 0 {
		return a
	}
	return b
}

// close makes a record from field definitions: every field value is computed against this record.
func (m *Machine) close(fields map[string]*Field) *Record {
	r := &Record{Fields: fields}
	var cache envCache
	for name, f := range fields {
		if f.Def != nil {
			f.Val = m.closeField(f, name, r, &cache)
		}
	}
	return r
}

// envCache remembers the recursive environments made while closing one record: fields from the same
// literal share one. Records merge few literals, so a short list beats a map.
type envCache []*Env

func (m *Machine) scopeEnv(d exprDef, self *Record, cache *envCache) *Env {
	if d.Scope == nil {
		return d.Env
	}
	for _, e := range *cache {
		if e.parent == d.Env && e.scope == d.Scope {
			return e
		}
	}
	e := &Env{parent: d.Env, self: self, scope: d.Scope}
	if len(*cache) < 8 {
		*cache = append(*cache, e)
	}
	return e
}

func (m *Machine) closeField(f *Field, name string, self *Record, cache *envCache) *Thunk {
	t := m.closeDef(f.Def, self, cache, f.Span)
	if f.Type == nil && len(f.Contracts) == 0 {
		return t
	}
	cs := f.Contracts
	if f.Type != nil {
		cs = append([]*PendingContract{f.Type}, cs...)
	}
	inner := t
	return Lazy(f.Span, func() Value {
		v := inner
		for _, c := range cs {
			lbl := c.Label
			if lbl.path == nil {
				lbl = lbl.clone()
				lbl.path = pathOf(name)
			}
			v = m.ApplyContract(m.contractValue(c, self, cache), lbl, v)
		}
		return m.Force(v)
	})
}

func (m *Machine) closeDef(d Def, self *Record, cache *envCache, span source.Span) *Thunk {
	switch d := d.(type) {
	case exprDef:
		// a variable must not be resolved now: the record's own fields are still being closed
		if _, ok := d.Expr.(*ast.Ident); ok {
			return NewThunk(d.Expr, m.scopeEnv(d, self, cache))
		}
		return m.thunk(d.Expr, m.scopeEnv(d, self, cache))
	case valueDef:
		return d.T
	case mergeDef:
		l := m.closeDef(d.L, self, cache, span)
		r := m.closeDef(d.R, self, cache, span)
		return Lazy(span, func() Value { return m.Merge(m.Force(l), m.Force(r), d.At, l.Span, r.Span) })
	case contractDef:
		inner := m.closeDef(d.D, self, cache, span)
		return Lazy(span, func() Value {
			v := inner
			for _, c := range d.C {
				v = m.ApplyContract(m.contractValue(c, self, cache), c.Label, v)
			}
			return m.Force(v)
		})
	}
	panic("eval: unknown definition")
}

// Merge merges two values (the & operator).
func (m *Machine) Merge(a, b Value, at, aSpan, bSpan source.Span) Value {
	switch x := a.(type) {
	case *Record:
		y, ok := b.(*Record)
		if !ok {
			break
		}
		return m.mergeRecords(x, y, at)
	case *Enum:
		y, ok := b.(*Enum)
		if !ok || x.Tag != y.Tag || (x.Arg == nil) != (y.Arg == nil) {
			break
		}
		if x.Arg == nil {
			return x
		}
		xa, ya := x.Arg, y.Arg
		return &Enum{Tag: x.Tag, Arg: Lazy(at, func() Value { return m.Merge(m.Force(xa), m.Force(ya), at, xa.Span, ya.Span) })}
	case *Array:
		y, ok := b.(*Array)
		if !ok || len(x.Elems) != len(y.Elems) {
			break
		}
		out := &Array{Elems: make([]*Thunk, len(x.Elems))}
		for i := range x.Elems {
			xe, ye := x.Elems[i], y.Elems[i]
			out.Elems[i] = Lazy(at, func() Value { return m.Merge(m.Force(xe), m.Force(ye), at, xe.Span, ye.Span) })
		}
		return out
	case *Contract, *Closure, *Builtin, *MatchFn:
	default:
		if isPrimitive(b) && m.equalPrim(a, b) {
			return a
		}
	}
	e := source.Errorf("EvalError::MergeIncompatibleArgs", at, "non mergeable terms")
	if aSpan.IsValid() {
		e.Extra = append(e.Extra, source.Note{Span: aSpan, Message: "cannot merge this expression"})
	}
	if bSpan.IsValid() {
		e.Extra = append(e.Extra, source.Note{Span: bSpan, Message: "with this expression"})
	}
	e.Notes = append(e.Notes, "Both values have the same merge priority but they can't be combined.",
		"Primitive values (Number, String, and Bool) or arrays can be merged only if they are equal.",
		"Functions can never be merged.")
	Fail(e)
	return nil
}

func isPrimitive(v Value) bool {
	switch v.(type) {
	case nil, bool, string, *big.Rat:
		return true
	}
	return false
}

func (m *Machine) equalPrim(a, b Value) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case *big.Rat:
		y, ok := b.(*big.Rat)
		return ok && x.Cmp(y) == 0
	}
	return false
}

func (m *Machine) mergeRecords(x, y *Record, at source.Span) *Record {
	m.CheckNoSealedTail(x, at)
	m.CheckNoSealedTail(y, at)
	fields := make(map[string]*Field, len(x.Fields)+len(y.Fields))
	for k, f := range x.Fields {
		fields[k] = f.reopen()
	}
	for k, f := range y.Fields {
		if prev, ok := fields[k]; ok {
			fields[k] = m.mergeFields(prev, f.reopen(), at)
		} else {
			fields[k] = f.reopen()
		}
	}
	r := m.close(fields)
	r.Open = x.Open || y.Open
	return r
}

// reopen returns a copy of f without its closed value, ready to be closed over another record.
func (f *Field) reopen() *Field {
	c := *f
	c.Val = nil
	return &c
}

// NewRecord builds a record whose fields are the given fixed thunks (not recursive).
func NewRecord(fields map[string]*Thunk) *Record {
	r := &Record{Fields: make(map[string]*Field, len(fields))}
	for k, t := range fields {
		r.Fields[k] = &Field{Def: valueDef{t}, Val: t, Priority: Priority{Kind: PrioNumeric}, Span: t.Span}
	}
	return r
}

// WithFields returns a frozen copy of r (every field fixed to its current value, so later merges no
// longer recompute it) with the fields in set replaced or added and the fields in del removed.
func (m *Machine) WithFields(r *Record, set map[string]*Thunk, del map[string]bool) *Record {
	fields := make(map[string]*Field, len(r.Fields)+len(set))
	for k := range del {
		tailAccess(r, k, source.Span{})
	}
	for k, f := range r.Fields {
		if del[k] {
			continue
		}
		c := *f
		if f.Val != nil {
			c.Def, c.Type, c.Contracts = valueDef{f.Val}, nil, nil
		}
		c.Val = nil
		fields[k] = &c
	}
	for k, t := range set {
		fields[k] = &Field{Def: valueDef{t}, Priority: Priority{Kind: PrioNumeric}, Span: t.Span}
	}
	out := m.close(fields)
	out.sealed = r.sealed
	return out
}

// PathRecord returns the record {a.b.c = t} for path [a b c], with the innermost field at priority p.
func PathRecord(path []string, t *Thunk, p Priority) *Record {
	r := &Record{Fields: map[string]*Field{path[len(path)-1]: {Def: valueDef{t}, Val: t, Priority: p}}}
	for i := len(path) - 2; i >= 0; i-- {
		inner := Ready(r)
		r = &Record{Fields: map[string]*Field{path[i]: {Def: valueDef{inner}, Val: inner, Priority: Priority{Kind: PrioNumeric}}}}
	}
	return r
}
