// Package eval evaluates Nickel syntax trees lazily. Values are computed on demand through thunks (a
// thunk being evaluated twice at once is infinite recursion, reported as an error); records keep each
// field's definition so that merging re-closes fields over the merged record, which is how Nickel's
// recursive override works; contracts are applied lazily as wrappers around thunks. Evaluation depth is
// bounded, so runaway recursion ends in a diagnostic, never a Go stack overflow.
package eval

import (
	"fmt"
	"io"
	"math/big"
	"strings"

	"github.com/provhq/prov/internal/nickel/ast"
	"github.com/provhq/prov/internal/nickel/source"
)

// MaxDepth bounds the nesting of evaluation.
const MaxDepth = 100000

// Env is a lexical environment: a chain of frames, each one binding or a record's recursive scope.
type Env struct {
	parent *Env
	name   string
	val    *Thunk
	rec    map[string]*Thunk
	self   *Record   // a record's recursive scope
	scope  *scopeSet // names of self visible in this frame; nil means all
}

// Bind returns env extended with name = t.
func (e *Env) Bind(name string, t *Thunk) *Env {
	return &Env{parent: e, name: name, val: t}
}

// BindAll returns env extended with all bindings of m.
func (e *Env) BindAll(m map[string]*Thunk) *Env {
	return &Env{parent: e, rec: m}
}

func (e *Env) lookup(name string) *Thunk {
	for f := e; f != nil; f = f.parent {
		if f.self != nil {
			if f.scope != nil && !f.scope.names[name] {
				continue
			}
			if fl, ok := f.self.Fields[name]; ok {
				if fl.Val == nil {
					return missingDef(name, fl.Span)
				}
				return fl.Val
			}
			continue
		}
		if f.rec != nil {
			if f.scope != nil && !f.scope.names[name] {
				continue
			}
			if t, ok := f.rec[name]; ok {
				return t
			}
			continue
		}
		if f.name == name {
			return f.val
		}
	}
	return nil
}

// missingDef is the value of a field that has no definition: using it is an error.
func missingDef(name string, span source.Span) *Thunk {
	return Lazy(span, func() Value {
		Failf("EvalError::MissingFieldDef", span, "missing definition for `%s`", name)
		return nil
	})
}

// Thunk is a lazily computed value.
type Thunk struct {
	state uint8 // 0 pending, 1 running, 2 done
	expr  ast.Node
	env   *Env
	fn    func() Value
	val   Value
	// Span is where the value was written, for blame.
	Span source.Span
}

// Ready returns an evaluated thunk.
func Ready(v Value) *Thunk { return &Thunk{state: 2, val: v} }

// Lazy returns a thunk computed by fn on first use.
func Lazy(span source.Span, fn func() Value) *Thunk { return &Thunk{fn: fn, Span: span} }

// Value returns the thunk's value if it has been computed, else nil.
func (t *Thunk) Value() Value {
	if t.state == 2 {
		return t.val
	}
	return nil
}

// NewThunk returns a thunk evaluating n in env.
func NewThunk(n ast.Node, env *Env) *Thunk {
	return &Thunk{expr: n, env: env, Span: n.Span()}
}

// Machine evaluates programs.
type Machine struct {
	depth int
	steps int
	// scopes caches the recursive scope of each record literal, mentioned whether an expression
	// refers to its record's scope.
	scopes    map[*ast.Record]*scopeSet
	mentioned map[scopedNode]bool
	// MaxSteps, when positive, bounds the number of evaluation steps (a budget for untrusted input).
	MaxSteps int
	Globals  *Env
	Importer Importer
	// Stderr receives std.trace output.
	Stderr io.Writer
	// Warnings are non-fatal problems found while evaluating (Class "Warning").
	Warnings []*source.Error
	warned   map[[2]int]bool
}

// Warn records a warning once per (primary, secondary) position.
func (m *Machine) Warn(w *source.Error) {
	key := [2]int{w.Span.Start, -1}
	if len(w.Extra) > 0 {
		key[1] = w.Extra[0].Span.Start
	}
	if m.warned == nil {
		m.warned = map[[2]int]bool{}
	}
	if m.warned[key] {
		return
	}
	m.warned[key] = true
	m.Warnings = append(m.Warnings, w)
}

// Importer loads imported files.
type Importer interface {
	// Import returns the value of path imported from the file named by from.
	Import(m *Machine, path, format string, from source.Span) *Thunk
}

// New returns a Machine with no globals.
func New() *Machine { return &Machine{Globals: &Env{}, Stderr: io.Discard} }

type evalPanic struct{ err *source.Error }

// AsError returns the evaluation error carried by a recovered panic value.
func AsError(r any) (*source.Error, bool) {
	p, ok := r.(evalPanic)
	if !ok {
		return nil, false
	}
	return p.err, true
}

// Fail aborts evaluation with err.
func Fail(err *source.Error) { panic(evalPanic{err}) }

// Failf aborts evaluation with an error of class at span.
func Failf(class string, span source.Span, format string, args ...any) {
	Fail(source.Errorf(class, span, format, args...))
}

// Run runs fn, converting evaluation failures into errors.
func (m *Machine) Run(fn func()) (err error) {
	depth := m.depth
	defer func() {
		if r := recover(); r != nil {
			p, ok := r.(evalPanic)
			if !ok {
				panic(r)
			}
			m.depth = depth
			err = p.err
		}
	}()
	fn()
	return nil
}

// Catch runs fn and returns the evaluation error it raised, if any.
func (m *Machine) Catch(fn func()) *source.Error {
	err := m.Run(fn)
	if err == nil {
		return nil
	}
	return err.(*source.Error)
}

// Force evaluates t to weak head normal form.
func (m *Machine) Force(t *Thunk) Value {
	switch t.state {
	case 2:
		return t.val
	case 1:
		Failf("EvalError::InfiniteRecursion", t.Span, "infinite recursion")
	}
	t.state = 1
	// if evaluation fails the thunk is left pending again: forcing it later re-raises the error
	defer func() {
		if t.state == 1 {
			t.state = 0
		}
	}()
	var v Value
	if t.fn != nil {
		// a chain of suspended computations (contracts wrapping contracts, merges of merges) nests
		// without going through Eval: count it too
		m.enter(t.Span)
		v = t.fn()
		m.depth--
	} else {
		v = m.Eval(t.expr, t.env)
	}
	t.state, t.val, t.fn, t.expr, t.env = 2, v, nil, nil, nil
	return v
}

// Charge counts n steps of work against MaxSteps (builtins that build large values call it, so a
// budget also bounds memory).
func (m *Machine) Charge(n int, span source.Span) {
	if m.MaxSteps <= 0 {
		return
	}
	m.steps += n
	if m.steps > m.MaxSteps || n > m.MaxSteps {
		m.steps = 0
		Failf("EvalError::Other", span, "evaluation budget of %d steps exhausted", m.MaxSteps)
	}
}

// Enter records one more level of nesting (of evaluation or of a walk over a value), failing with
// InfiniteRecursion beyond MaxDepth; Leave undoes it.
func (m *Machine) Enter(span source.Span) { m.enter(span) }

// Leave undoes Enter.
func (m *Machine) Leave() { m.depth-- }

func (m *Machine) enter(span source.Span) {
	m.depth++
	if m.MaxSteps > 0 {
		m.steps++
		if m.steps > m.MaxSteps {
			m.steps = 0
			Failf("EvalError::Other", span, "evaluation budget of %d steps exhausted", m.MaxSteps)
		}
	}
	if m.depth > MaxDepth {
		m.depth = 0
		Failf("EvalError::InfiniteRecursion", span, "infinite recursion: evaluation nested too deeply")
	}
}

// Eval evaluates n in env to weak head normal form.
func (m *Machine) Eval(n ast.Node, env *Env) Value {
	m.enter(n.Span())
	defer func() { m.depth-- }()
	switch n := n.(type) {
	case *ast.Null:
		return nil
	case *ast.Bool:
		return n.Value
	case *ast.Num:
		return n.Value
	case *ast.Str:
		return m.evalStr(n, env)
	case *ast.StrLit:
		return n.Text
	case *ast.Ident:
		t := env.lookup(n.Name)
		if t == nil {
			t = m.Globals.lookup(n.Name)
		}
		if t == nil {
			Failf("EvalError::UnboundIdentifier", n.Pos, "unbound identifier `%s`", n.Name)
		}
		return m.Force(t)
	case *ast.EnumTag:
		if n.Arg == nil {
			return &Enum{Tag: n.Tag}
		}
		return &Enum{Tag: n.Tag, Arg: NewThunk(n.Arg, env)}
	case *ast.Array:
		a := &Array{Elems: make([]*Thunk, len(n.Elems))}
		for i, e := range n.Elems {
			a.Elems[i] = m.thunk(e, env)
		}
		return a
	case *ast.Record:
		return m.evalRecord(n, env)
	case *ast.Let:
		return m.evalLet(n, env)
	case *ast.Fun:
		return &Closure{Param: n.Param, Body: n.Body, Env: env, Span: n.Pos}
	case *ast.Match:
		return &MatchFn{Node: n, Env: env}
	case *ast.App:
		f := m.Eval(n.Fn, env)
		return m.Apply(f, m.thunk(n.Arg, env), n.Pos)
	case *ast.If:
		c := m.Eval(n.Cond, env)
		b, ok := c.(bool)
		if !ok {
			checkSealed(c, n.Cond.Span())
			Failf("EvalError::TypeError", n.Cond.Span(), "type error: expected a Bool in the condition of an if, got %s", TypeName(c))
		}
		if b {
			return m.Eval(n.Then, env)
		}
		return m.Eval(n.Else, env)
	case *ast.BinOp:
		return m.evalBinOp(n, env)
	case *ast.UnOp:
		x := m.Eval(n.X, env)
		checkSealed(x, n.X.Span())
		switch n.Op {
		case "!":
			b, ok := x.(bool)
			if !ok {
				Failf("EvalError::NAryPrimopTypeError", n.X.Span(), "type error: `!` expects a Bool, got %s", TypeName(x))
			}
			return !b
		default:
			r, ok := x.(*big.Rat)
			if !ok {
				Failf("EvalError::NAryPrimopTypeError", n.X.Span(), "type error: `-` expects a Number, got %s", TypeName(x))
			}
			return new(big.Rat).Neg(r)
		}
	case *ast.Select:
		x := m.Eval(n.X, env)
		name := m.fieldName(n.Name, env)
		return m.Force(m.selectField(x, name, n.Pos, n.X.Span()))
	case *ast.Annotated:
		return m.Force(m.annotate(n, env))
	case *ast.Import:
		if m.Importer == nil {
			Failf("ImportError::IoError", n.Pos, "imports are not available here")
		}
		return m.Force(m.Importer.Import(m, n.Path, n.Format, n.Pos))
	case *ast.Arrow:
		dom := m.Eval(n.Dom, env)
		cod := m.Eval(n.Cod, env)
		return &Contract{Kind: "Arrow", Args: []Value{dom, cod}, Span: n.Pos, Text: n.Pos.Text()}
	case *ast.Dict:
		// Open marks the contract form {_ | T}, which propagates through merges like field contracts
		return &Contract{Kind: "Dict", elem: m.thunk(n.Elem, env), OpenRows: n.Contract, Open: n.Contract, Span: n.Pos, Text: n.Pos.Text()}
	case *ast.EnumRows:
		c := &Contract{Kind: "Enum", Rows: map[string]Value{}, OpenRows: n.Open, Span: n.Pos, Text: n.Pos.Text()}
		for _, r := range n.Rows {
			var arg Value
			if r.Arg != nil {
				arg = m.Eval(r.Arg, env)
			}
			c.Rows[rowKey(r.Tag, arg != nil)] = arg
		}
		return c
	case *ast.Forall:
		return &Contract{Kind: "Forall", forall: &forallType{vars: n.Vars, body: n.Body, env: env}, Span: n.Pos, Text: n.Pos.Text()}
	case *ast.Primop:
		if strings.HasPrefix(n.Name, "indent:") {
			indent := strings.TrimPrefix(n.Name, "indent:")
			return &Builtin{Name: "indent", Arity: 1, Fn: func(m *Machine, args []*Thunk, at source.Span) Value {
				s := m.interpString(m.Force(args[0]), at)
				return strings.ReplaceAll(s, "\n", "\n"+indent)
			}}
		}
		t := m.Globals.lookup("%" + n.Name + "%")
		if t == nil {
			Failf("ParseError::UnexpectedToken", n.Pos, "unknown primitive operation %%%s%%", n.Name)
		}
		return m.Force(t)
	}
	panic(fmt.Sprintf("eval: unknown node %T", n))
}

// thunk returns a thunk for n in env, skipping the allocation of a suspension for constants.
func (m *Machine) thunk(n ast.Node, env *Env) *Thunk {
	switch n := n.(type) {
	case *ast.Num:
		return &Thunk{state: 2, val: n.Value, Span: n.Pos}
	case *ast.StrLit:
		return &Thunk{state: 2, val: n.Text, Span: n.Pos}
	case *ast.Bool:
		return &Thunk{state: 2, val: n.Value, Span: n.Pos}
	case *ast.Ident:
		if t := env.lookup(n.Name); t != nil {
			return t
		}
	case *ast.Str:
		if len(n.Parts) == 1 && n.Symbolic == "" {
			if lit, ok := n.Parts[0].(*ast.StrLit); ok {
				return &Thunk{state: 2, val: lit.Text, Span: n.Pos}
			}
		}
		if len(n.Parts) == 0 && n.Symbolic == "" {
			return &Thunk{state: 2, val: "", Span: n.Pos}
		}
	}
	return NewThunk(n, env)
}

func (m *Machine) fieldName(n ast.Node, env *Env) string {
	if lit, ok := n.(*ast.StrLit); ok {
		return lit.Text
	}
	v := m.Eval(n, env)
	s, ok := v.(string)
	if !ok {
		Failf("EvalError::TypeError", n.Span(), "type error: a field name must be a String, got %s", TypeName(v))
	}
	return s
}

func (m *Machine) selectField(x Value, name string, at, recSpan source.Span) *Thunk {
	r, ok := x.(*Record)
	if !ok {
		checkSealed(x, recSpan)
		Failf("EvalError::TypeError", recSpan, "type error: tried to access field `%s` of a value that is not a record (%s)", name, TypeName(x))
	}
	f, ok := r.Fields[name]
	if !ok {
		tailAccess(r, name, at)
		Failf("EvalError::FieldMissing", at, "missing field `%s`", name)
	}
	if f.Val == nil {
		e := source.Errorf("EvalError::MissingFieldDef", at, "missing definition for `%s`", name)
		if f.Span.IsValid() {
			e.Extra = append(e.Extra, source.Note{Span: f.Span, Message: "defined here without a value"})
		}
		Fail(e)
	}
	return f.Val
}

// Apply applies the function value f to arg.
func (m *Machine) Apply(f Value, arg *Thunk, at source.Span) Value {
	m.enter(at)
	defer func() { m.depth-- }()
	switch f := f.(type) {
	case *Closure:
		env := m.bindPattern(f.Param, arg, f.Env, at)
		return m.Eval(f.Body, env)
	case *MatchFn:
		return m.match(f, arg, at)
	case *Builtin:
		args := make([]*Thunk, len(f.Args)+1)
		copy(args, f.Args)
		args[len(f.Args)] = arg
		if len(args) < f.Arity {
			return &Builtin{Name: f.Name, Arity: f.Arity, Fn: f.Fn, Args: args}
		}
		return f.Fn(m, args, at)
	case *Contract:
		// Array T / contract constructors used as functions
		if f.Kind == "ArrayCtor" {
			return &Contract{Kind: "Array", elem: arg, Span: at, Text: at.Text()}
		}
	}
	checkSealed(f, at)
	Failf("EvalError::NotAFunc", at, "this expression is not a function (it is %s)", TypeName(f))
	return nil
}

// ApplyN applies f to several arguments.
func (m *Machine) ApplyN(f Value, at source.Span, args ...*Thunk) Value {
	for _, a := range args {
		f = m.Apply(f, a, at)
	}
	return f
}

func (m *Machine) evalLet(n *ast.Let, env *Env) Value {
	if n.Rec {
		// all bindings see each other
		frame := map[string]*Thunk{}
		inner := env.BindAll(frame)
		for _, b := range n.Bindings {
			t := m.bindingThunk(b, inner)
			if v, ok := b.Pat.(*ast.PVar); ok {
				frame[v.Name] = t
				continue
			}
			e := m.bindPattern(b.Pat, t, &Env{}, b.Value.Span())
			for f := e; f != nil; f = f.parent {
				if f.name != "" {
					frame[f.name] = f.val
				}
			}
		}
		return m.Eval(n.Body, inner)
	}
	inner := env
	for _, b := range n.Bindings {
		inner = m.bindPattern(b.Pat, m.bindingThunk(b, env), inner, b.Value.Span())
	}
	return m.Eval(n.Body, inner)
}

func (m *Machine) bindingThunk(b *ast.Binding, env *Env) *Thunk {
	t := m.thunk(b.Value, env)
	if b.Annot.Empty() {
		return t
	}
	// upstream names only record fields in blame messages, not let-bound variables
	return m.applyAnnot(b.Annot, t, env, b.Value.Span(), "")
}

func (m *Machine) annotate(n *ast.Annotated, env *Env) *Thunk {
	return m.applyAnnot(n.Annot, m.thunk(n.X, env), env, n.X.Span(), "")
}

// applyAnnot applies the type and contracts of a to t.
func (m *Machine) applyAnnot(a *ast.Annot, t *Thunk, env *Env, valueSpan source.Span, path string) *Thunk {
	cs := a.Contracts
	if a.Type != nil {
		cs = append([]ast.Node{a.Type}, cs...)
	}
	for _, c := range cs {
		lbl := &Label{Span: c.Span(), TypeText: c.Span().Text(), path: pathOf(path), ValueSpan: valueSpan}
		t = m.ApplyContract(m.Eval(c, env), lbl, t)
	}
	return t
}

func (m *Machine) evalStr(n *ast.Str, env *Env) Value {
	if n.Symbolic != "" {
		elems := make([]*Thunk, 0, len(n.Parts))
		for _, p := range n.Parts {
			elems = append(elems, m.thunk(p, env))
		}
		return NewRecord(map[string]*Thunk{
			"tag":       Ready(&Enum{Tag: "SymbolicString"}),
			"prefix":    Ready(&Enum{Tag: n.Symbolic}),
			"fragments": Ready(&Array{Elems: elems}),
		})
	}
	if len(n.Parts) == 1 {
		if lit, ok := n.Parts[0].(*ast.StrLit); ok {
			return lit.Text
		}
	}
	var b strings.Builder
	for _, p := range n.Parts {
		if lit, ok := p.(*ast.StrLit); ok {
			b.WriteString(lit.Text)
			continue
		}
		b.WriteString(m.interpString(m.Eval(p, env), p.Span()))
	}
	return b.String()
}

func (m *Machine) interpString(v Value, at source.Span) string {
	switch v := v.(type) {
	case string:
		return v
	case *big.Rat:
		return FormatNumber(v)
	case bool:
		if v {
			return "true"
		}
		return "false"
	case nil:
		return "null"
	case *Enum:
		if v.Arg == nil {
			return v.Tag
		}
	}
	checkSealed(v, at)
	Failf("EvalError::TypeError", at, "type error: cannot interpolate %s into a string", TypeName(v))
	return ""
}

// TypeName names the type of v as Nickel does in messages.
func TypeName(v Value) string {
	switch v := v.(type) {
	case nil:
		return "Null"
	case bool:
		return "Bool"
	case *big.Rat:
		return "Number"
	case string:
		return "String"
	case *Array:
		return "Array"
	case *Record:
		return "Record"
	case *Enum:
		if v.Arg != nil {
			return "EnumVariant"
		}
		return "Enum"
	case *Closure, *MatchFn, *Builtin:
		return "Function"
	case *Label:
		return "Label"
	case *Contract:
		return "Type"
	case *Sealed:
		return "Sealed"
	}
	return "Other"
}

// FormatNumber renders a number as Nickel prints it in strings: integers exactly, other numbers as the
// shortest decimal that round-trips through a 64-bit float.
func FormatNumber(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return formatFloatPlain(f)
}
