// Package parser builds the syntax tree of a Nickel program from its tokens: a recursive-descent parser
// with precedence climbing for the infix operators. Multiline strings have their indentation stripped
// here, so later stages see plain text.
package parser

import (
	"math/big"
	"strings"

	"github.com/provhq/prov/internal/nickel/ast"
	"github.com/provhq/prov/internal/nickel/scanner"
	"github.com/provhq/prov/internal/nickel/source"
	"github.com/provhq/prov/internal/nickel/token"
)

// Parse parses the whole file f as one expression.
func Parse(f *source.File) (ast.Node, error) {
	toks, err := scanner.New(f).All()
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, file: f}
	var n ast.Node
	err = p.catch(func() {
		n = p.expr()
		if p.tok().Kind != token.EOF {
			p.fail(p.tok(), "unexpected token")
		}
	})
	return n, err
}

type parser struct {
	toks  []token.Token
	i     int
	file  *source.File
	depth int
}

// maxNesting bounds how deeply expressions may nest, so hostile input cannot exhaust the stack.
const maxNesting = 1000

func (p *parser) nest() {
	p.depth++
	if p.depth > maxNesting {
		panic(bailout{source.Errorf("ParseError::UnexpectedToken", p.tok().Span, "expression nested too deeply")})
	}
}

type bailout struct{ err *source.Error }

func (p *parser) catch(fn func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bailout)
			if !ok {
				panic(r)
			}
			err = b.err
		}
	}()
	fn()
	return nil
}

func (p *parser) tok() token.Token { return p.toks[p.i] }

func (p *parser) peek(n int) token.Token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token.Token {
	t := p.toks[p.i]
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}

func (p *parser) fail(t token.Token, msg string) {
	class := "ParseError::UnexpectedToken"
	if t.Kind == token.EOF {
		class = "ParseError::UnexpectedEOF"
		msg = "unexpected end of file"
	} else if t.Text != "" && t.Kind != token.StrChunk {
		msg += " " + t.Text
	}
	panic(bailout{source.Errorf(class, t.Span, "%s", msg)})
}

func (p *parser) is(text string) bool { return p.tok().Is(text) }

func (p *parser) accept(text string) bool {
	if p.is(text) {
		p.next()
		return true
	}
	return false
}

func (p *parser) expect(text string) token.Token {
	if !p.is(text) {
		p.fail(p.tok(), "expected "+text+", found")
	}
	return p.next()
}

func (p *parser) spanFrom(start source.Span) source.Span {
	prev := p.toks[max(p.i-1, 0)].Span
	return start.To(prev)
}

// expr parses a full expression, including let/fun/if and annotations.
func (p *parser) expr() ast.Node {
	p.nest()
	defer func() { p.depth-- }()
	t := p.tok()
	switch {
	case t.Is("let"):
		return p.let()
	case t.Is("fun"):
		p.next()
		var params []ast.Pattern
		for !p.is("=>") {
			params = append(params, p.atomPattern())
		}
		if len(params) == 0 {
			p.fail(p.tok(), "expected a parameter, found")
		}
		p.expect("=>")
		body := p.expr()
		for i := len(params) - 1; i >= 0; i-- {
			start := params[i].Span()
			if i == 0 {
				start = t.Span
			}
			body = &ast.Fun{At: ast.At{Pos: start.To(body.Span())}, Param: params[i], Body: body}
		}
		return body
	case t.Is("if"):
		p.next()
		c := p.expr()
		p.expect("then")
		th := p.expr()
		p.expect("else")
		el := p.expr()
		return &ast.If{At: ast.At{Pos: t.Span.To(el.Span())}, Cond: c, Then: th, Else: el}
	case t.Is("forall"):
		p.next()
		var vars []string
		for p.tok().Kind == token.Ident {
			vars = append(vars, p.next().Text)
		}
		p.expect(".")
		body := p.expr()
		return &ast.Forall{At: ast.At{Pos: t.Span.To(body.Span())}, Vars: vars, Body: body}
	}
	x := p.infix(0)
	if p.is("|") || p.is(":") {
		a := p.annot(false)
		return &ast.Annotated{At: ast.At{Pos: p.spanFrom(x.Span())}, X: x, Annot: a}
	}
	return x
}

func (p *parser) let() ast.Node {
	start := p.next().Span
	l := &ast.Let{Rec: p.accept("rec")}
	for {
		b := &ast.Binding{}
		b.Pat = p.pattern(false)
		var params []ast.Pattern
		for !p.is("=") && !p.is("|") && !p.is(":") {
			params = append(params, p.atomPattern())
		}
		if p.is("|") || p.is(":") {
			b.Annot = p.annot(false)
		}
		p.expect("=")
		b.Value = p.expr()
		for i := len(params) - 1; i >= 0; i-- {
			b.Value = &ast.Fun{At: ast.At{Pos: params[i].Span().To(b.Value.Span())}, Param: params[i], Body: b.Value}
		}
		l.Bindings = append(l.Bindings, b)
		if !p.accept(",") {
			break
		}
		if p.is("in") {
			break
		}
	}
	p.expect("in")
	l.Body = p.expr()
	l.Pos = start.To(l.Body.Span())
	return l
}

// annot parses a sequence of `| meta` and `: Type`. In a record field, a value may follow with '='.
func (p *parser) annot(field bool) *ast.Annot {
	a := &ast.Annot{}
	for {
		switch {
		case p.accept(":"):
			if a.Type != nil {
				p.fail(p.toks[p.i-1], "duplicate type annotation")
			}
			a.Type = p.typ()
		case p.accept("|"):
			t := p.tok()
			switch {
			case t.Is("doc"):
				p.next()
				s := p.tok()
				if s.Kind != token.StrStart {
					p.fail(s, "expected a string after doc, found")
				}
				str := p.str()
				text, ok := staticString(str)
				if !ok {
					p.fail(s, "documentation must be a static string")
				}
				a.Doc = &text
			case t.Is("default"):
				p.next()
				a.Default = true
			case t.Is("force"):
				p.next()
				a.Force = true
			case t.Is("rec"):
				p.next()
				if p.accept("default") {
					a.Default = true
				} else {
					p.expect("force")
					a.Force = true
				}
			case t.Is("priority"):
				p.next()
				neg := p.accept("-")
				n := p.tok()
				if n.Kind != token.Number {
					p.fail(n, "expected a number after priority, found")
				}
				p.next()
				r := parseNumber(p, n)
				if neg {
					r.Neg(r)
				}
				a.Priority = r
			case t.Is("optional"):
				p.next()
				a.Optional = true
			case t.Is("not_exported"):
				p.next()
				a.NotExported = true
			default:
				a.Contracts = append(a.Contracts, p.typ())
			}
		default:
			return a
		}
	}
}

// typ parses a type or contract: an infix expression where arrows are allowed.
func (p *parser) typ() ast.Node {
	if p.is("forall") {
		return p.expr()
	}
	return p.infix(0)
}

type opInfo struct {
	prec  int
	right bool
}

var binops = map[string]opInfo{
	"->": {1, true},
	"|>": {7, false},
	"||": {3, false},
	"&&": {4, false},
	"==": {5, false}, "!=": {5, false},
	"<": {6, false}, "<=": {6, false}, ">": {6, false}, ">=": {6, false},
	"&": {7, false},
	"+": {9, false}, "-": {9, false},
	"*": {10, false}, "/": {10, false}, "%": {10, false},
	"++": {11, false}, "@": {11, false},
}

func (p *parser) infix(minPrec int) ast.Node {
	p.nest()
	defer func() { p.depth-- }()
	var x ast.Node
	t := p.tok()
	switch {
	case t.Is("!"):
		p.next()
		arg := p.infix(8)
		x = &ast.UnOp{At: ast.At{Pos: t.Span.To(arg.Span())}, Op: "!", X: arg}
	case t.Is("-"):
		p.next()
		arg := p.infix(12)
		x = &ast.UnOp{At: ast.At{Pos: t.Span.To(arg.Span())}, Op: "-", X: arg}
	case t.Is("let") || t.Is("fun") || t.Is("if") || t.Is("forall"):
		return p.expr()
	default:
		x = p.app()
	}
	for {
		t := p.tok()
		if t.Kind != token.Punct {
			return x
		}
		op, ok := binops[t.Text]
		if !ok || op.prec < minPrec {
			return x
		}
		p.next()
		next := op.prec + 1
		if op.right {
			next = op.prec
		}
		r := p.infix(next)
		sp := x.Span().To(r.Span())
		if t.Text == "->" {
			x = &ast.Arrow{At: ast.At{Pos: sp}, Dom: x, Cod: r}
		} else {
			x = &ast.BinOp{At: ast.At{Pos: sp}, Op: t.Text, L: x, R: r}
		}
	}
}

func (p *parser) startsAtom() bool {
	t := p.tok()
	switch t.Kind {
	case token.Ident, token.Number, token.EnumTag, token.StrStart, token.Raw:
		return true
	case token.Keyword:
		switch t.Text {
		case "true", "false", "null", "import", "match":
			return true
		}
	case token.Punct:
		switch t.Text {
		case "(", "[", "{", "[|", "_":
			return true
		}
	}
	return false
}

// app parses function application: a sequence of atoms.
func (p *parser) app() ast.Node {
	if !p.startsAtom() {
		p.fail(p.tok(), "unexpected token")
	}
	x := p.atom()
	if tag, ok := x.(*ast.EnumTag); ok && tag.Arg == nil && p.startsAtom() {
		arg := p.atom()
		x = &ast.EnumTag{At: ast.At{Pos: tag.Pos.To(arg.Span())}, Tag: tag.Tag, Arg: arg}
	}
	for p.startsAtom() {
		arg := p.atom()
		x = &ast.App{At: ast.At{Pos: x.Span().To(arg.Span())}, Fn: x, Arg: arg}
	}
	return x
}

func (p *parser) atom() ast.Node {
	x := p.primary()
	for p.is(".") {
		p.next()
		name := p.fieldName()
		x = &ast.Select{At: ast.At{Pos: x.Span().To(name.Span())}, X: x, Name: name}
	}
	return x
}

// fieldName parses an identifier or a (possibly interpolated) string used as a field name.
func (p *parser) fieldName() ast.Node {
	t := p.tok()
	switch t.Kind {
	case token.Ident, token.Keyword:
		p.next()
		return &ast.StrLit{At: ast.At{Pos: t.Span}, Text: t.Text}
	case token.StrStart:
		s := p.str()
		if text, ok := staticString(s); ok {
			return &ast.StrLit{At: ast.At{Pos: s.Pos}, Text: text}
		}
		return s
	}
	p.fail(t, "expected a field name, found")
	return nil
}

func staticString(s *ast.Str) (string, bool) {
	var b strings.Builder
	for _, part := range s.Parts {
		lit, ok := part.(*ast.StrLit)
		if !ok {
			return "", false
		}
		b.WriteString(lit.Text)
	}
	return b.String(), true
}

func parseNumber(p *parser, t token.Token) *big.Rat {
	r := new(big.Rat)
	text := t.Text
	if len(text) > 1 && text[0] == '0' && strings.ContainsRune("xXoObB", rune(text[1])) {
		i, ok := new(big.Int).SetString(text, 0)
		if !ok {
			p.fail(t, "invalid number literal")
		}
		return r.SetInt(i)
	}
	if _, ok := r.SetString(text); !ok {
		p.fail(t, "invalid number literal")
	}
	return r
}

func (p *parser) primary() ast.Node {
	t := p.tok()
	switch t.Kind {
	case token.Ident:
		p.next()
		return &ast.Ident{At: ast.At{Pos: t.Span}, Name: t.Text}
	case token.Number:
		p.next()
		return &ast.Num{At: ast.At{Pos: t.Span}, Value: parseNumber(p, t)}
	case token.EnumTag:
		p.next()
		return &ast.EnumTag{At: ast.At{Pos: t.Span}, Tag: t.Text}
	case token.StrStart:
		return p.str()
	case token.Raw:
		p.next()
		return &ast.Primop{At: ast.At{Pos: t.Span}, Name: t.Text}
	case token.Keyword:
		switch t.Text {
		case "true", "false":
			p.next()
			return &ast.Bool{At: ast.At{Pos: t.Span}, Value: t.Text == "true"}
		case "null":
			p.next()
			return &ast.Null{At: ast.At{Pos: t.Span}}
		case "import":
			p.next()
			s := p.tok()
			if s.Kind != token.StrStart {
				p.fail(s, "expected a file name after import, found")
			}
			str := p.str()
			path, ok := staticString(str)
			if !ok {
				p.fail(s, "import path must be a static string")
			}
			imp := &ast.Import{Path: path}
			if p.tok().Kind == token.Ident && p.tok().Text == "as" {
				p.next()
				f := p.tok()
				if f.Kind != token.EnumTag {
					p.fail(f, "expected an import format ('Json, 'Yaml, …), found")
				}
				p.next()
				switch f.Text {
				case "Nickel", "Json", "Yaml", "Toml", "Text":
				default:
					p.fail(f, "unknown import format")
				}
				imp.Format = f.Text
			}
			imp.Pos = p.spanFrom(t.Span)
			return imp
		case "match":
			p.next()
			p.expect("{")
			m := &ast.Match{}
			for !p.is("}") {
				c := &ast.MatchCase{Pat: p.pattern(true)}
				if p.accept("if") {
					c.Guard = p.expr()
				}
				p.expect("=>")
				c.Body = p.expr()
				m.Cases = append(m.Cases, c)
				if !p.accept(",") {
					break
				}
			}
			p.expect("}")
			m.Pos = p.spanFrom(t.Span)
			return m
		}
	case token.Punct:
		switch t.Text {
		case "(":
			p.next()
			if op := p.tok(); op.Kind == token.Punct && p.peek(1).Is(")") {
				if _, ok := binops[op.Text]; ok || op.Text == "." {
					p.next()
					p.next()
					return section(op, p.spanFrom(t.Span))
				}
			}
			x := p.expr()
			p.expect(")")
			return x
		case "_":
			p.next()
			return &ast.Ident{At: ast.At{Pos: t.Span}, Name: "Dyn"}
		case "[":
			p.next()
			a := &ast.Array{}
			for !p.is("]") {
				a.Elems = append(a.Elems, p.expr())
				if !p.accept(",") {
					break
				}
			}
			p.expect("]")
			a.Pos = p.spanFrom(t.Span)
			return a
		case "[|":
			p.next()
			e := &ast.EnumRows{}
			for !p.is("|]") {
				if p.accept(";") {
					if p.tok().Kind == token.Ident {
						p.next()
					}
					e.Open = true
					break
				}
				tt := p.tok()
				if tt.Kind != token.EnumTag {
					p.fail(tt, "expected an enum tag, found")
				}
				p.next()
				row := &ast.EnumTag{At: ast.At{Pos: tt.Span}, Tag: tt.Text}
				if !p.is(",") && !p.is("|]") && !p.is(";") {
					row.Arg = p.atom()
				}
				e.Rows = append(e.Rows, row)
				if !p.accept(",") {
					if p.is(";") {
						continue
					}
					break
				}
			}
			p.expect("|]")
			e.Pos = p.spanFrom(t.Span)
			return e
		case "{":
			return p.record()
		}
	}
	p.fail(t, "unexpected token")
	return nil
}

// section turns an operator in parentheses, like (+) or (.), into a two-argument function.
func section(op token.Token, span source.Span) ast.Node {
	at := ast.At{Pos: span}
	x := &ast.Ident{At: at, Name: "%x"}
	y := &ast.Ident{At: at, Name: "%y"}
	var body ast.Node
	switch op.Text {
	case ".":
		body = &ast.Select{At: at, X: x, Name: y}
	case "->":
		body = &ast.Arrow{At: at, Dom: x, Cod: y}
	default:
		body = &ast.BinOp{At: at, Op: op.Text, L: x, R: y}
	}
	return &ast.Fun{At: at, Param: &ast.PVar{At: at, Name: "%x"},
		Body: &ast.Fun{At: at, Param: &ast.PVar{At: at, Name: "%y"}, Body: body}}
}

func (p *parser) record() ast.Node {
	start := p.expect("{").Span
	// dictionary type {_ : T} / {_ | T}
	if p.is("_") && (p.peek(1).Is(":") || p.peek(1).Is("|")) {
		p.next()
		contract := p.next().Text == "|"
		elem := p.typ()
		p.expect("}")
		return &ast.Dict{At: ast.At{Pos: p.spanFrom(start)}, Elem: elem, Contract: contract}
	}
	r := &ast.Record{}
	for !p.is("}") {
		if p.accept("..") {
			r.Open = true
			p.accept(",")
			break
		}
		if p.accept(";") {
			// a row tail in a record type: { a : T; r }
			if t := p.tok(); t.Kind == token.Ident {
				r.Tail = t.Text
				p.next()
			}
			r.Open = true
			break
		}
		if t := p.tok(); t.Kind == token.Ident && t.Text == "include" && (p.peek(1).Kind == token.Ident || p.peek(1).Is("[")) {
			p.next()
			list := p.accept("[")
			for {
				it := p.tok()
				if it.Kind != token.Ident {
					p.fail(it, "expected an identifier, found")
				}
				p.next()
				// include x is the field x = x, the right-hand x taken from the enclosing scope
				f := &ast.Field{At: ast.At{Pos: it.Span}, Include: true,
					Path:  []ast.Node{&ast.StrLit{At: ast.At{Pos: it.Span}, Text: it.Text}},
					Value: &ast.Ident{At: ast.At{Pos: it.Span}, Name: it.Text}}
				if !list && (p.is("|") || p.is(":")) {
					f.Annot = p.annot(true)
				}
				r.Fields = append(r.Fields, f)
				if !list || !p.accept(",") || p.is("]") {
					break
				}
			}
			if list {
				p.expect("]")
			}
			if !p.accept(",") {
				break
			}
			continue
		}
		f := &ast.Field{}
		fstart := p.tok().Span
		f.Path = append(f.Path, p.fieldName())
		for p.accept(".") {
			f.Path = append(f.Path, p.fieldName())
		}
		var params []ast.Pattern
		for !p.is("=") && !p.is("|") && !p.is(":") && !p.is(",") && !p.is("}") {
			params = append(params, p.atomPattern())
		}
		if p.is("|") || p.is(":") {
			f.Annot = p.annot(true)
		}
		if p.accept("=") {
			f.Value = p.expr()
			for i := len(params) - 1; i >= 0; i-- {
				f.Value = &ast.Fun{At: ast.At{Pos: params[i].Span().To(f.Value.Span())}, Param: params[i], Body: f.Value}
			}
		} else if len(params) > 0 {
			p.fail(p.tok(), "expected =, found")
		} else if len(f.Path) > 1 && f.Annot != nil && f.Annot.Type != nil {
			// { a.b : T } would be a typed field without a value, not a record type
			panic(bailout{source.Errorf("ParseError::TypedFieldWithoutDefinition", p.spanFrom(fstart), "statically typed field without a definition")})
		}
		f.Pos = p.spanFrom(fstart)
		r.Fields = append(r.Fields, f)
		if p.is(";") {
			continue
		}
		if !p.accept(",") {
			break
		}
	}
	p.expect("}")
	r.Pos = p.spanFrom(start)
	// a typed field needs a definition (possibly in another piece: { a : T, a = 1 }) unless the
	// literal is a record type
	defined := map[string]bool{}
	for _, f := range r.Fields {
		if lit, ok := f.Path[0].(*ast.StrLit); ok && (f.Value != nil || len(f.Path) > 1) {
			defined[lit.Text] = true
		}
	}
	for _, f := range r.Fields {
		lit, static := f.Path[0].(*ast.StrLit)
		if f.Value == nil && f.Annot != nil && f.Annot.Type != nil && !(static && defined[lit.Text]) && !recordType(r) {
			e := source.Errorf("ParseError::TypedFieldWithoutDefinition", f.Path[0].Span(), "statically typed field without a definition")
			e.Notes = []string{
				"A static type annotation must be attached to an expression but this field doesn't have a definition.",
				"Did you mean to use `|` instead of `:`, for example when defining a record contract?",
				"Typed fields without definitions are only allowed inside record types, but the enclosing record literal doesn't qualify as a record type.",
			}
			panic(bailout{e})
		}
	}
	return r
}

// recordType reports whether the literal r is a record type ({ a : T, b : U; r }): every field has a
// static name, a type and nothing else.
func recordType(r *ast.Record) bool {
	for _, f := range r.Fields {
		if _, static := f.Path[0].(*ast.StrLit); !static || len(f.Path) > 1 || f.Value != nil || f.Include {
			return false
		}
		a := f.Annot
		if a == nil || a.Type == nil || a.Doc != nil || a.Default || a.Force || a.Priority != nil ||
			a.Optional || a.NotExported || len(a.Contracts) > 0 {
			return false
		}
	}
	return true
}

// str parses a string literal; p.tok() is its StrStart.
func (p *parser) str() *ast.Str {
	open := p.next()
	s := &ast.Str{Symbolic: open.Text}
	if open.Text == "m" {
		s.Symbolic = ""
	}
	for {
		t := p.tok()
		switch t.Kind {
		case token.StrChunk:
			p.next()
			s.Parts = append(s.Parts, &ast.StrLit{At: ast.At{Pos: t.Span}, Text: t.Text})
		case token.InterpOpen:
			p.next()
			x := p.expr()
			if p.tok().Kind != token.InterpClose {
				p.fail(p.tok(), "expected } closing the interpolation, found")
			}
			p.next()
			s.Parts = append(s.Parts, x)
		case token.StrEnd:
			p.next()
			s.Pos = open.Span.To(t.Span)
			if open.Percents > 0 {
				s.Parts = dedent(s.Parts)
			}
			return s
		default:
			p.fail(t, "unexpected token in string")
		}
	}
}
