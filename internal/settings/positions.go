package settings

import (
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// keyLines maps each key a TOML document sets ("section.key", or "section" for a top-level key) to
// the line and column where it is written, so diagnostics can point at it. It is best effort: a
// document that does not parse gives what was found before the error.
func keyLines(data []byte) map[string][2]int {
	out := map[string][2]int{}
	var p unstable.Parser
	p.Reset(data)
	var table []string
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = table[:0]
			it := e.Key()
			for it.Next() {
				table = append(table, string(it.Node().Data))
			}
		case unstable.KeyValue:
			parts := append([]string{}, table...)
			var first *unstable.Node
			it := e.Key()
			for it.Next() {
				if first == nil {
					first = it.Node()
				}
				parts = append(parts, string(it.Node().Data))
			}
			if first == nil || first.Raw.Length == 0 {
				continue
			}
			s := p.Shape(first.Raw).Start
			key := strings.Join(parts, ".")
			if _, seen := out[key]; !seen {
				out[key] = [2]int{s.Line, s.Column}
			}
		}
	}
	return out
}
