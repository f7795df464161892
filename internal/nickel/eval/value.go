package eval

import (
	"math/big"
	"sort"
	"strings"

	"github.com/provhq/prov/internal/nickel/ast"
	"github.com/provhq/prov/internal/nickel/source"
)

// Value is an evaluated Nickel value in weak head normal form: nil (null), bool, *big.Rat, string,
// *Array, *Record, *Enum, *Closure, *MatchFn, *Builtin, *Label or *Contract. Sub-values are thunks.
type Value any

// Array is an array of lazily evaluated elements.
type Array struct {
	Elems []*Thunk
}

// Enum is an enum tag ('Foo) or variant ('Foo arg).
type Enum struct {
	Tag string
	Arg *Thunk // nil for a bare tag
}

// Closure is a one-parameter function.
type Closure struct {
	Param ast.Pattern
	Body  ast.Node
	Env   *Env
	// Span is the function's source (fun … => …).
	Span source.Span
}

// MatchFn is a match expression, a function of the matched value.
type MatchFn struct {
	Node *ast.Match
	Env  *Env
}

// Builtin is a function implemented in Go, possibly partially applied.
type Builtin struct {
	Name  string
	Arity int
	Fn    func(m *Machine, args []*Thunk, at source.Span) Value
	Args  []*Thunk
}

// Record is a recursive record. Fields keep their definitions so that merging can recompute them
// against the merged record (recursive override).
type Record struct {
	Fields map[string]*Field
	// Open is set on record literals ending with .., which as contracts accept extra fields.
	Open bool
	keys []string
	// tail is the row variable of a record type { a : T; r }.
	tail *sealKey
	// sealed holds the fields a row variable sealed away (see poly.go).
	sealed *sealedTail
}

// Keys returns the field names in byte order.
func (r *Record) Keys() []string {
	if r.keys == nil || len(r.keys) != len(r.Fields) {
		keys := make([]string, 0, len(r.Fields))
		for k := range r.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		r.keys = keys
	}
	return r.keys
}

// Priority kinds, in increasing strength.
const (
	PrioDefault = iota
	PrioNumeric
	PrioForce
)

// Priority is a field's merge priority.
type Priority struct {
	Kind int
	N    *big.Rat // for PrioNumeric; nil means 0
}

func (p Priority) cmp(q Priority) int {
	if p.Kind != q.Kind {
		if p.Kind < q.Kind {
			return -1
		}
		return 1
	}
	if p.Kind != PrioNumeric {
		return 0
	}
	a, b := p.N, q.N
	if a == nil {
		a = new(big.Rat)
	}
	if b == nil {
		b = new(big.Rat)
	}
	return a.Cmp(b)
}

// Field is one field of a record.
type Field struct {
	Doc         *string
	Priority    Priority
	Optional    bool
	NotExported bool
	Type        *PendingContract
	Contracts   []*PendingContract
	// Def computes the value against the record it belongs to; nil when the field has no value.
	Def Def
	// Val is Def closed over its record, with the contracts applied; nil when the field has no value.
	Val *Thunk
	// Span is where the field was defined.
	Span source.Span
}

// PendingContract is a contract annotation on a field, evaluated in the record's scope.
type PendingContract struct {
	Def   Def
	Label *Label
	// static is set when the contract cannot depend on its record: its value is then computed once.
	static bool
	value  Value
}

// Def is how a field value is computed given its record's recursive scope.
type Def interface{ isDef() }

type (
	// exprDef evaluates Expr in Env extended with the record's fields named in Scope.
	exprDef struct {
		Expr  ast.Node
		Env   *Env
		Scope *scopeSet
	}
	// valueDef is a fixed thunk that does not depend on the record.
	valueDef struct{ T *Thunk }
	// mergeDef is the merge of two definitions of equal priority.
	mergeDef struct {
		L, R Def
		At   source.Span
	}
	// contractDef is a definition with contracts applied (used by record contracts on values).
	contractDef struct {
		D Def
		C []*PendingContract
	}
)

func (exprDef) isDef()     {}
func (valueDef) isDef()    {}
func (mergeDef) isDef()    {}
func (contractDef) isDef() {}

// Label carries blame information for a contract.
type Label struct {
	// Span is the contract annotation.
	Span source.Span
	// TypeText is the contract as written.
	TypeText string
	// path is the data path of the checked value ("a.b"), when known.
	path *dataPath
	// Polarity false means the blame goes to the environment (function argument).
	Negative bool
	// Message and Notes are set by std.contract.label.with_message / with_notes.
	Message string
	Notes   []string
	// ArgSpan is where the checked value came from.
	ValueSpan source.Span
	// function is set once the contract has gone through a function type: a positive blame is then
	// the function's.
	function bool
}

func (l *Label) clone() *Label {
	c := *l
	c.Notes = append([]string(nil), l.Notes...)
	return &c
}

// DataPath returns the data path of the checked value ("servers.web.zone"), or "" when unknown.
func (l *Label) DataPath() string { return l.path.String() }

// dataPath is a data path as a chain of field names, rendered only when a contract blames: extending
// it costs the same however deep the checked value is, so contracts on deeply nested (or infinitely
// deep) values stay linear.
type dataPath struct {
	parent *dataPath
	key    string
}

// pathOf returns the one-step path name ("" gives no path).
func pathOf(name string) *dataPath {
	if name == "" {
		return nil
	}
	return &dataPath{key: name}
}

// child returns p extended with key.
func (p *dataPath) child(key string) *dataPath { return &dataPath{parent: p, key: key} }

// String renders the path with dots, eliding the middle of paths thousands of steps long.
func (p *dataPath) String() string {
	var keys []string
	for x := p; x != nil; x = x.parent {
		keys = append(keys, x.key)
	}
	if len(keys) > 40 {
		keys = append(append(keys[:20:20], "…"), keys[len(keys)-20:]...)
	}
	var b strings.Builder
	for i := len(keys) - 1; i >= 0; i-- {
		b.WriteString(keys[i])
		if i > 0 {
			b.WriteByte('.')
		}
	}
	return b.String()
}

// Contract is a built-in contract: a type or a constructed contract.
type Contract struct {
	Kind string // Dyn Number Bool String Array Dict Arrow Enum Predicate Validator Custom Forall Var
	Args []Value
	// Elem/Dom/Cod for composite types, Rows for enums.
	Rows     map[string]Value // enum tag -> argument contract (nil for none)
	OpenRows bool
	// Open is set on dictionary contracts {_ | T} (as opposed to the type {_ : T}).
	Open bool
	Fn   Value // predicate / validator / custom function
	Span source.Span
	Text string
	// elem is the element contract of Array T and {_ : T}, evaluated when first applied so that a
	// contract can refer to itself (let rec T = { _ | T }); Args[0] holds it when elem is nil.
	elem *Thunk
	// forall is the body of a Forall; key the instantiation of a Var (see poly.go).
	forall *forallType
	key    *sealKey
}

// scopeSet is the set of names a record literal's fields can see of their record.
type scopeSet struct{ names map[string]bool }
