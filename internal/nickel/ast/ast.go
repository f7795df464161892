// Package ast declares the syntax tree of Nickel programs. Every node records the source span it was
// parsed from; types are ordinary expressions (Nickel types are first-class contracts), so the few
// type-only forms (arrows, dictionaries, enum rows, forall) are nodes here too.
package ast

import (
	"math/big"

	"github.com/provhq/prov/internal/nickel/source"
)

// Node is any expression.
type Node interface {
	Span() source.Span
}

// At is embedded in every node to record its span.
type At struct{ Pos source.Span }

// Span returns the node's source span.
func (a At) Span() source.Span { return a.Pos }

type (
	// Null is the null literal.
	Null struct{ At }
	// Bool is true or false.
	Bool struct {
		At
		Value bool
	}
	// Num is an exact number literal.
	Num struct {
		At
		Value *big.Rat
	}
	// Str is a string literal, possibly with interpolations. Parts are *StrLit or expressions.
	Str struct {
		At
		Parts []Node
		// Symbolic is the prefix of a symbolic string (foo-s%"…"%), "" otherwise.
		Symbolic string
	}
	// StrLit is a literal chunk of a Str.
	StrLit struct {
		At
		Text string
	}
	// Ident is a variable reference.
	Ident struct {
		At
		Name string
	}
	// EnumTag is 'Tag, or a variant 'Tag arg when Arg is set.
	EnumTag struct {
		At
		Tag string
		Arg Node
	}
	// Record is a record literal.
	Record struct {
		At
		Fields []*Field
		Open   bool // ends with .. or a row tail
		// Tail is the row tail of a record type ({ a : T; r }): a type variable, or Dyn.
		Tail string
		// Nested is set on the records a dotted field path desugars to: their fields do not enter
		// the recursive scope (only the enclosing literal's top-level fields do).
		Nested bool
	}
	// Array is an array literal.
	Array struct {
		At
		Elems []Node
	}
	// Let binds patterns to values in Body.
	Let struct {
		At
		Rec      bool
		Bindings []*Binding
		Body     Node
	}
	// Fun is a one-parameter function.
	Fun struct {
		At
		Param Pattern
		Body  Node
	}
	// App is function application.
	App struct {
		At
		Fn, Arg Node
	}
	// If is a conditional.
	If struct {
		At
		Cond, Then, Else Node
	}
	// Match is a match function.
	Match struct {
		At
		Cases []*MatchCase
	}
	// BinOp is an infix operator application.
	BinOp struct {
		At
		Op   string
		L, R Node
	}
	// UnOp is a prefix operator application.
	UnOp struct {
		At
		Op string
		X  Node
	}
	// Select is field access X.Name (Name is *StrLit for a static field or an expression).
	Select struct {
		At
		X    Node
		Name Node
	}
	// Annotated is X with contract and type annotations.
	Annotated struct {
		At
		X     Node
		Annot *Annot
	}
	// Import loads another file.
	Import struct {
		At
		Path   string
		Format string // "" (from extension) or Nickel/Json/Yaml/Toml/Text
	}
	// Arrow is the function type Dom -> Cod.
	Arrow struct {
		At
		Dom, Cod Node
	}
	// Dict is {_ : T} (Contract false) or {_ | T} (Contract true).
	Dict struct {
		At
		Elem     Node
		Contract bool
	}
	// EnumRows is an enum type [| 'a, 'b T |].
	EnumRows struct {
		At
		Rows []*EnumTag
		Open bool
	}
	// Forall is a polymorphic type.
	Forall struct {
		At
		Vars []string
		Body Node
	}
	// Primop is a primitive operation %name% applied to arguments.
	Primop struct {
		At
		Name string
	}
)

// Field is one field definition in a record literal: a dotted path, metadata and an optional value.
type Field struct {
	At
	// Path segments are *StrLit (static) or *Str (interpolated).
	Path  []Node
	Annot *Annot
	Value Node
	// Include marks `include x`: Value is x, looked up outside the record.
	Include bool
}

// Annot is field or expression metadata.
type Annot struct {
	Doc         *string
	Default     bool
	Force       bool
	Priority    *big.Rat
	Optional    bool
	NotExported bool
	Type        Node
	Contracts   []Node
}

// Empty reports whether a has no metadata at all.
func (a *Annot) Empty() bool {
	return a == nil || (a.Doc == nil && !a.Default && !a.Force && a.Priority == nil && !a.Optional &&
		!a.NotExported && a.Type == nil && len(a.Contracts) == 0)
}

// Binding is one pattern = value of a let.
type Binding struct {
	Pat   Pattern
	Annot *Annot
	Value Node
}

// MatchCase is one arm of a match.
type MatchCase struct {
	Pat   Pattern
	Guard Node
	Body  Node
}

// Pattern is a destructuring pattern.
type Pattern interface {
	Span() source.Span
}

type (
	// PVar binds the whole value to Name (Name "_" binds nothing).
	PVar struct {
		At
		Name string
	}
	// PAlias is Name @ Pat.
	PAlias struct {
		At
		Name string
		Pat  Pattern
	}
	// PLit matches a constant.
	PLit struct {
		At
		Value Node
	}
	// PEnum matches 'Tag or 'Tag arg.
	PEnum struct {
		At
		Tag string
		Arg Pattern
	}
	// PRecord matches a record.
	PRecord struct {
		At
		Fields []*PField
		Open   bool
		Rest   string
	}
	// PArray matches an array.
	PArray struct {
		At
		Elems   []Pattern
		HasRest bool
		Rest    string
	}
	// POr matches any of Alts.
	POr struct {
		At
		Alts []Pattern
	}
)

// PField is one field of a record pattern.
type PField struct {
	At
	Name    string
	Pat     Pattern // nil: bind Name
	Default Node
	Annot   *Annot
}
