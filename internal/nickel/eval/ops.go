package eval

import (
	"math/big"

	"github.com/provhq/prov/internal/nickel/ast"
	"github.com/provhq/prov/internal/nickel/source"
)

func (m *Machine) evalBinOp(n *ast.BinOp, env *Env) Value {
	switch n.Op {
	case "&&", "||":
		l := m.Eval(n.L, env)
		b, ok := l.(bool)
		if !ok {
			Failf("EvalError::NAryPrimopTypeError", n.L.Span(), "type error: `%s` expects a Bool, got %s", n.Op, TypeName(l))
		}
		if (n.Op == "&&") != b {
			return b
		}
		// like upstream, the second operand is the result as it is: `true && x` is x
		return m.Eval(n.R, env)
	case "|>":
		return m.Apply(m.Eval(n.R, env), m.thunk(n.L, env), n.Pos)
	case "&":
		l := m.Eval(n.L, env)
		r := m.Eval(n.R, env)
		return m.Merge(l, r, n.Pos, n.L.Span(), n.R.Span())
	}
	l := m.Eval(n.L, env)
	r := m.Eval(n.R, env)
	return m.BinOp(n.Op, l, r, n.Pos, n.L.Span(), n.R.Span())
}

// BinOp applies a strict binary operator.
func (m *Machine) BinOp(op string, l, r Value, at, lspan, rspan source.Span) Value {
	switch op {
	case "==":
		return m.Equal(l, r, at)
	case "!=":
		return !m.Equal(l, r, at)
	case "++":
		ls, ok1 := l.(string)
		rs, ok2 := r.(string)
		if !ok1 {
			typeErr(op, "String", l, lspan)
		}
		if !ok2 {
			typeErr(op, "String", r, rspan)
		}
		m.Charge((len(ls)+len(rs))/64, at)
		return ls + rs
	case "@":
		la, ok1 := l.(*Array)
		ra, ok2 := r.(*Array)
		if !ok1 {
			typeErr(op, "Array", l, lspan)
		}
		if !ok2 {
			typeErr(op, "Array", r, rspan)
		}
		m.Charge((len(la.Elems)+len(ra.Elems))/8, at)
		out := make([]*Thunk, 0, len(la.Elems)+len(ra.Elems))
		return &Array{Elems: append(append(out, la.Elems...), ra.Elems...)}
	}
	x, ok1 := l.(*big.Rat)
	y, ok2 := r.(*big.Rat)
	if !ok1 {
		typeErr(op, "Number", l, lspan)
	}
	if !ok2 {
		typeErr(op, "Number", r, rspan)
	}
	if a, b, ok := smallInts(x, y); ok {
		switch op {
		case "+":
			return Int(a + b)
		case "-":
			return Int(a - b)
		case "*":
			return Int(a * b)
		case "%":
			if b != 0 {
				return Int(a % b)
			}
		case "<":
			return a < b
		case "<=":
			return a <= b
		case ">":
			return a > b
		case ">=":
			return a >= b
		}
	}
	switch op {
	case "+":
		return new(big.Rat).Add(x, y)
	case "-":
		return new(big.Rat).Sub(x, y)
	case "*":
		return new(big.Rat).Mul(x, y)
	case "/":
		if y.Sign() == 0 {
			Failf("EvalError::Other", at, "division by zero")
		}
		return new(big.Rat).Quo(x, y)
	case "%":
		if y.Sign() == 0 {
			Failf("EvalError::Other", at, "division by zero")
		}
		// x - y * trunc(x / y)
		q := new(big.Rat).Quo(x, y)
		t := new(big.Int).Quo(q.Num(), q.Denom())
		return new(big.Rat).Sub(x, new(big.Rat).Mul(y, new(big.Rat).SetInt(t)))
	case "<":
		return x.Cmp(y) < 0
	case "<=":
		return x.Cmp(y) <= 0
	case ">":
		return x.Cmp(y) > 0
	case ">=":
		return x.Cmp(y) >= 0
	}
	Failf("EvalError::Other", at, "unknown operator %s", op)
	return nil
}

var smallRats = func() (r [1024]*big.Rat) {
	for i := range r {
		r[i] = big.NewRat(int64(i), 1)
	}
	return r
}()

// Int returns n as a number. Small non-negative integers are shared: numbers are never modified in
// place.
func Int(n int64) *big.Rat {
	if n >= 0 && n < int64(len(smallRats)) {
		return smallRats[n]
	}
	return big.NewRat(n, 1)
}

// smallInts returns x and y as int64 when both are integers small enough that +, - and * cannot
// overflow.
func smallInts(x, y *big.Rat) (int64, int64, bool) {
	const limit = 1 << 31
	if !x.IsInt() || !y.IsInt() || !x.Num().IsInt64() || !y.Num().IsInt64() {
		return 0, 0, false
	}
	a, b := x.Num().Int64(), y.Num().Int64()
	if a <= -limit || a >= limit || b <= -limit || b >= limit {
		return 0, 0, false
	}
	return a, b, true
}

func typeErr(op, want string, got Value, at source.Span) {
	checkSealed(got, at)
	Failf("EvalError::NAryPrimopTypeError", at, "type error: `%s` expects a %s, got %s", op, want, TypeName(got))
}

// Equal compares two values structurally, forcing them as needed.
func (m *Machine) Equal(a, b Value, at source.Span) bool {
	m.enter(at)
	defer func() { m.depth-- }()
	checkSealed(a, at)
	checkSealed(b, at)
	switch x := a.(type) {
	case nil, bool, string, *big.Rat:
		return isPrimitive(b) && m.equalPrim(a, b)
	case *Enum:
		y, ok := b.(*Enum)
		if !ok || x.Tag != y.Tag || (x.Arg == nil) != (y.Arg == nil) {
			return false
		}
		return x.Arg == nil || m.Equal(m.Force(x.Arg), m.Force(y.Arg), at)
	case *Array:
		y, ok := b.(*Array)
		if !ok {
			return false
		}
		if len(x.Elems) != len(y.Elems) {
			return false
		}
		for i := range x.Elems {
			if !m.Equal(m.Force(x.Elems[i]), m.Force(y.Elems[i]), at) {
				return false
			}
		}
		return true
	case *Record:
		y, ok := b.(*Record)
		if !ok {
			return false
		}
		xk, yk := x.visibleKeys(), y.visibleKeys()
		if len(xk) != len(yk) {
			return false
		}
		for i, k := range xk {
			if yk[i] != k {
				return false
			}
			xv, yv := x.Fields[k].Val, y.Fields[k].Val
			if xv == nil || yv == nil {
				if xv != yv {
					m.Force(m.selectField(x, k, at, at))
					m.Force(m.selectField(y, k, at, at))
				}
				continue
			}
			if !m.Equal(m.Force(xv), m.Force(yv), at) {
				return false
			}
		}
		return true
	}
	if isFunc(a) && isFunc(b) {
		Failf("EvalError::IncomparableValues", at, "cannot compare values for equality: %s and %s", TypeName(a), TypeName(b))
	}
	return false
}

func isFunc(v Value) bool {
	switch v.(type) {
	case *Closure, *MatchFn, *Builtin, *Contract:
		return true
	}
	return false
}

// visibleKeys are the fields that count for equality and export: optional fields without a value are
// absent.
func (r *Record) visibleKeys() []string {
	keys := r.Keys()
	for _, k := range keys {
		if f := r.Fields[k]; f.Optional && f.Def == nil {
			out := make([]string, 0, len(keys))
			for _, k := range keys {
				if f := r.Fields[k]; !(f.Optional && f.Def == nil) {
					out = append(out, k)
				}
			}
			return out
		}
	}
	return keys
}

// VisibleKeys returns the field names that have a value or are required, in byte order: optional fields
// without a value are omitted.
func (r *Record) VisibleKeys() []string { return r.visibleKeys() }

// DeepForce evaluates v and everything inside it. A value that contains itself (`let rec x = { a = x }
// in x`) is an EvalError::InfiniteRecursion, reported as soon as the walk meets it again; a value
// shared in several places is walked once.
func (m *Machine) DeepForce(v Value) {
	d := deepForcer{m: m, seen: map[Value]bool{}}
	d.force(v, source.Span{})
}

// deepForcer walks one value; seen holds the records and arrays walked (true) or being walked (false).
type deepForcer struct {
	m    *Machine
	seen map[Value]bool
}

func (d *deepForcer) force(v Value, at source.Span) {
	m := d.m
	switch v.(type) {
	case *Array, *Record:
		done, ok := d.seen[v]
		if done {
			return
		}
		if ok {
			Failf("EvalError::InfiniteRecursion", at, "infinite recursion: this value contains itself")
		}
		d.seen[v] = false
		defer func() { d.seen[v] = true }()
	}
	m.enter(at)
	defer func() { m.depth-- }()
	switch v := v.(type) {
	case *Array:
		for _, e := range v.Elems {
			d.force(m.Force(e), e.Span)
		}
	case *Record:
		for _, k := range v.visibleKeys() {
			f := v.Fields[k]
			if f.Val == nil {
				m.Force(m.selectField(v, k, f.Span, f.Span))
			}
			d.force(m.Force(f.Val), f.Span)
		}
	case *Enum:
		if v.Arg != nil {
			d.force(m.Force(v.Arg), v.Arg.Span)
		}
	}
}
