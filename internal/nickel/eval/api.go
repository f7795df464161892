package eval

import (
	"math/big"
	"strings"

	"github.com/provhq/prov/internal/nickel/source"
)

// Helpers used by the standard library to check argument types. A wrong argument is blamed on the caller
// of the named function, as upstream's typed standard library does.

func (m *Machine) argErr(fn, want string, got Value, at source.Span) {
	checkSealed(got, at)
	e := source.Errorf("EvalError::BlameError", at, "contract broken by the caller of `%s`", ShortName(fn))
	e.Notes = append(e.Notes, "expected a "+want+", got a "+TypeName(got))
	Fail(e)
}

// Num forces t as a number argument of fn.
func (m *Machine) Num(t *Thunk, fn string, at source.Span) *big.Rat {
	v := m.Force(t)
	r, ok := v.(*big.Rat)
	if !ok {
		m.argErr(fn, "Number", v, at)
	}
	return r
}

// Str forces t as a string argument of fn.
func (m *Machine) Str(t *Thunk, fn string, at source.Span) string {
	v := m.Force(t)
	s, ok := v.(string)
	if !ok {
		m.argErr(fn, "String", v, at)
	}
	return s
}

// Bool forces t as a boolean argument of fn.
func (m *Machine) Bool(t *Thunk, fn string, at source.Span) bool {
	v := m.Force(t)
	b, ok := v.(bool)
	if !ok {
		m.argErr(fn, "Bool", v, at)
	}
	return b
}

// Arr forces t as an array argument of fn.
func (m *Machine) Arr(t *Thunk, fn string, at source.Span) *Array {
	v := m.Force(t)
	a, ok := v.(*Array)
	if !ok {
		m.argErr(fn, "Array", v, at)
	}
	return a
}

// Rec forces t as a record argument of fn.
func (m *Machine) Rec(t *Thunk, fn string, at source.Span) *Record {
	v := m.Force(t)
	r, ok := v.(*Record)
	if !ok {
		m.argErr(fn, "Record", v, at)
	}
	return r
}

// Fun forces t as a function argument of fn.
func (m *Machine) Fun(t *Thunk, fn string, at source.Span) Value {
	v := m.Force(t)
	if !isFunc(v) {
		m.argErr(fn, "Function", v, at)
	}
	return v
}

// Call applies f to args and forces the result.
func (m *Machine) Call(f Value, at source.Span, args ...*Thunk) Value {
	return m.ApplyN(f, at, args...)
}

// FieldVal returns the value thunk of field k of r, failing like a field access when it is missing.
func (m *Machine) FieldVal(r *Record, k string, at source.Span) *Thunk {
	return m.selectField(r, k, at, at)
}

// ShortName is the name a blame message gives the standard library function fn ("std.array.filter"):
// upstream names the field, "filter".
func ShortName(fn string) string { return fn[strings.LastIndex(fn, ".")+1:] }

// IsFunc reports whether v is a function.
func IsFunc(v Value) bool { return isFunc(v) }
