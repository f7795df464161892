package parser

import (
	"strings"

	"github.com/provhq/prov/internal/nickel/ast"
)

// dedent applies the multiline string rules: drop the first line if blank, the last line if blank, and
// remove the common indentation of the literal lines. An interpolated expression that spans several lines
// is re-indented to the column it sits at (an "indent:" primop wraps it; the evaluator applies it).
func dedent(parts []ast.Node) []ast.Node {
	// Split into lines of parts.
	type line struct{ parts []ast.Node }
	var lines []line
	cur := line{}
	for _, part := range parts {
		lit, ok := part.(*ast.StrLit)
		if !ok {
			cur.parts = append(cur.parts, part)
			continue
		}
		segs := strings.Split(lit.Text, "\n")
		for i, seg := range segs {
			if i > 0 {
				lines = append(lines, cur)
				cur = line{}
			}
			if seg != "" {
				cur.parts = append(cur.parts, &ast.StrLit{At: lit.At, Text: seg})
			}
		}
	}
	lines = append(lines, cur)
	blank := func(l line) bool {
		for _, part := range l.parts {
			lit, ok := part.(*ast.StrLit)
			if !ok || strings.Trim(lit.Text, " \t") != "" {
				return false
			}
		}
		return true
	}
	if len(lines) > 1 && blank(lines[0]) {
		lines = lines[1:]
	}
	if len(lines) > 1 && blank(lines[len(lines)-1]) {
		lines = lines[:len(lines)-1]
	}
	minIndent := -1
	for _, l := range lines {
		if blank(l) && len(l.parts) <= 1 {
			if len(l.parts) == 0 {
				continue
			}
			// whitespace-only lines count only when they end in an interpolation, so skip
			continue
		}
		ind := 0
		if lit, ok := l.parts[0].(*ast.StrLit); ok {
			ind = len(lit.Text) - len(strings.TrimLeft(lit.Text, " \t"))
		}
		if minIndent < 0 || ind < minIndent {
			minIndent = ind
		}
	}
	if minIndent < 0 {
		minIndent = 0
	}
	var out []ast.Node
	addText := func(text string, at ast.At) {
		if n := len(out); n > 0 {
			if prev, ok := out[n-1].(*ast.StrLit); ok {
				out[n-1] = &ast.StrLit{At: prev.At, Text: prev.Text + text}
				return
			}
		}
		out = append(out, &ast.StrLit{At: at, Text: text})
	}
	for i, l := range lines {
		if i > 0 {
			addText("\n", ast.At{})
		}
		indent := ""
		for j, part := range l.parts {
			if lit, ok := part.(*ast.StrLit); ok {
				text := lit.Text
				if j == 0 {
					cut := min(minIndent, len(text)-len(strings.TrimLeft(text, " \t")))
					text = text[cut:]
					if blank(l) {
						text = strings.TrimLeft(text, " \t")
					}
					indent = text[:len(text)-len(strings.TrimLeft(text, " \t"))]
				}
				addText(text, lit.At)
				continue
			}
			if j == 0 {
				out = append(out, part)
				continue
			}
			// an interpolation preceded only by whitespace gets that indentation for its inner lines
			if onlyIndent(l.parts[:j]) && indent != "" {
				out = append(out, &ast.App{At: ast.At{Pos: part.Span()}, Fn: &ast.Primop{At: ast.At{Pos: part.Span()}, Name: "indent:" + indent}, Arg: part})
				continue
			}
			out = append(out, part)
		}
	}
	return out
}

func onlyIndent(parts []ast.Node) bool {
	for _, part := range parts {
		lit, ok := part.(*ast.StrLit)
		if !ok || strings.Trim(lit.Text, " \t") != "" {
			return false
		}
	}
	return true
}
