// Package token defines the lexical tokens of the Nickel language.
package token

import "github.com/provhq/prov/internal/nickel/source"

// Kind is the kind of a token.
type Kind int

// Token kinds.
const (
	EOF Kind = iota
	Ident
	Number
	EnumTag    // 'foo or '"foo bar"; Text is the tag name
	StrStart   // " or m%"; Text is "" for a plain string, "m" for multiline, the prefix for symbolic strings
	StrChunk   // literal text inside a string (escapes resolved)
	StrEnd     // closing quote
	InterpOpen // %{ inside a string
	InterpClose
	Keyword
	Punct // operators and punctuation; Text holds the symbol
	Raw   // a %primop% name; Text is the name
)

// Token is one lexical token.
type Token struct {
	Kind Kind
	Text string
	Span source.Span
	// Percents is the number of % signs of a multiline/symbolic string delimiter.
	Percents int
}

// Keywords of the language.
var Keywords = map[string]bool{
	"let": true, "rec": true, "in": true, "fun": true, "if": true, "then": true, "else": true,
	"match": true, "true": true, "false": true, "null": true, "import": true, "forall": true,
	"default": true, "doc": true, "force": true, "priority": true, "optional": true, "not_exported": true,
}

// Is reports whether t is the punctuation or keyword text.
func (t Token) Is(text string) bool {
	return (t.Kind == Punct || t.Kind == Keyword) && t.Text == text
}
