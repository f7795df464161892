package parser

import (
	"github.com/provhq/prov/internal/nickel/ast"
	"github.com/provhq/prov/internal/nickel/source"
	"github.com/provhq/prov/internal/nickel/token"
)

// pattern parses a full pattern; in a match, or-patterns are allowed.
func (p *parser) pattern(inMatch bool) ast.Pattern {
	pat := p.patternNoOr()
	if inMatch && p.isOr() {
		alts := []ast.Pattern{pat}
		for p.isOr() {
			p.next()
			alts = append(alts, p.patternNoOr())
		}
		return &ast.POr{At: ast.At{Pos: pat.Span().To(alts[len(alts)-1].Span())}, Alts: alts}
	}
	return pat
}

// isOr reports whether the current token is the `or` of an or-pattern (`or` is also a valid name).
func (p *parser) isOr() bool {
	if t := p.tok(); t.Kind != token.Ident || t.Text != "or" {
		return false
	}
	p.i++
	ok := p.startsPattern()
	p.i--
	return ok
}

func (p *parser) patternNoOr() ast.Pattern {
	p.nest()
	defer func() { p.depth-- }()
	t := p.tok()
	if t.Kind == token.EnumTag {
		p.next()
		e := &ast.PEnum{At: ast.At{Pos: t.Span}, Tag: t.Text}
		if p.startsPattern() {
			e.Arg = p.atomPattern()
			e.Pos = t.Span.To(e.Arg.Span())
		}
		return e
	}
	if t.Kind == token.Ident && p.peek(1).Is("@") {
		p.next()
		p.next()
		inner := p.patternNoOr()
		return &ast.PAlias{At: ast.At{Pos: t.Span.To(inner.Span())}, Name: t.Text, Pat: inner}
	}
	return p.atomPattern()
}

func (p *parser) startsPattern() bool {
	t := p.tok()
	switch t.Kind {
	case token.Ident, token.Number, token.StrStart, token.EnumTag:
		return !(t.Kind == token.Ident && t.Text == "or" && p.isOr())
	case token.Keyword:
		return t.Text == "true" || t.Text == "false" || t.Text == "null"
	case token.Punct:
		return t.Text == "{" || t.Text == "[" || t.Text == "(" || t.Text == "_" || t.Text == "-"
	}
	return false
}

func (p *parser) atomPattern() ast.Pattern {
	p.nest()
	defer func() { p.depth-- }()
	t := p.tok()
	switch t.Kind {
	case token.Ident:
		p.next()
		if p.is("@") {
			p.next()
			inner := p.atomPattern()
			return &ast.PAlias{At: ast.At{Pos: t.Span.To(inner.Span())}, Name: t.Text, Pat: inner}
		}
		return &ast.PVar{At: ast.At{Pos: t.Span}, Name: t.Text}
	case token.Number:
		p.next()
		return &ast.PLit{At: ast.At{Pos: t.Span}, Value: &ast.Num{At: ast.At{Pos: t.Span}, Value: parseNumber(p, t)}}
	case token.StrStart:
		s := p.str()
		return &ast.PLit{At: ast.At{Pos: s.Pos}, Value: s}
	case token.EnumTag:
		p.next()
		return &ast.PEnum{At: ast.At{Pos: t.Span}, Tag: t.Text}
	case token.Keyword:
		switch t.Text {
		case "true", "false":
			p.next()
			return &ast.PLit{At: ast.At{Pos: t.Span}, Value: &ast.Bool{At: ast.At{Pos: t.Span}, Value: t.Text == "true"}}
		case "null":
			p.next()
			return &ast.PLit{At: ast.At{Pos: t.Span}, Value: &ast.Null{At: ast.At{Pos: t.Span}}}
		}
	case token.Punct:
		switch t.Text {
		case "-":
			p.next()
			n := p.tok()
			if n.Kind != token.Number {
				p.fail(n, "expected a number, found")
			}
			p.next()
			v := parseNumber(p, n)
			v.Neg(v)
			return &ast.PLit{At: ast.At{Pos: t.Span.To(n.Span)}, Value: &ast.Num{At: ast.At{Pos: n.Span}, Value: v}}
		case "_":
			p.next()
			return &ast.PVar{At: ast.At{Pos: t.Span}, Name: "_"}
		case "(":
			p.next()
			pat := p.pattern(true)
			p.expect(")")
			return pat
		case "[":
			p.next()
			a := &ast.PArray{}
			for !p.is("]") {
				if p.accept("..") {
					a.HasRest = true
					if p.tok().Kind == token.Ident {
						a.Rest = p.next().Text
					}
					break
				}
				a.Elems = append(a.Elems, p.pattern(true))
				if !p.accept(",") {
					break
				}
			}
			p.expect("]")
			a.Pos = p.spanFrom(t.Span)
			return a
		case "{":
			p.next()
			r := &ast.PRecord{}
			for !p.is("}") {
				if p.accept("..") {
					r.Open = true
					if p.tok().Kind == token.Ident {
						r.Rest = p.next().Text
					}
					break
				}
				ft := p.tok()
				if ft.Kind != token.Ident && ft.Kind != token.Keyword && ft.Kind != token.StrStart {
					p.fail(ft, "expected a field name, found")
				}
				name := p.fieldName().(ast.Node)
				lit, ok := name.(*ast.StrLit)
				if !ok {
					p.fail(ft, "field patterns must be static")
				}
				f := &ast.PField{At: ast.At{Pos: ft.Span}, Name: lit.Text}
				if p.is("|") || p.is(":") {
					f.Annot = p.annot(false)
				}
				if p.accept("?") {
					f.Default = p.infix(0)
				}
				if p.accept("=") {
					f.Pat = p.pattern(true)
				}
				r.Fields = append(r.Fields, f)
				if !p.accept(",") {
					break
				}
			}
			p.expect("}")
			r.Pos = p.spanFrom(t.Span)
			seen := map[string]bool{}
			for _, f := range r.Fields {
				if seen[f.Name] {
					panic(bailout{source.Errorf("ParseError::DuplicateIdentInRecordPattern", f.Pos, "duplicate identifier `%s` in record pattern", f.Name)})
				}
				seen[f.Name] = true
			}
			return r
		}
	}
	p.fail(t, "expected a pattern, found")
	return nil
}
