package nickel

import (
	"math/big"
	"strings"

	"github.com/provhq/prov/internal/nickel/eval"
	"github.com/provhq/prov/internal/nickel/source"
)

// Pretty prints a deeply evaluated value in Nickel syntax, as `nickel eval` does.
func Pretty(m *eval.Machine, v eval.Value) string {
	var b strings.Builder
	pretty(&b, m, v)
	return b.String()
}

func quoteNickel(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		case '%':
			b.WriteString(`%`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return strings.ReplaceAll(b.String(), "%{", `\%{`)
}

func identOK(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '-' || r == '\''):
		default:
			return false
		}
	}
	return true
}

func pretty(b *strings.Builder, m *eval.Machine, v eval.Value) {
	m.Enter(source.Span{})
	defer m.Leave()
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if v {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case *big.Rat:
		if v.IsInt() {
			b.WriteString(v.Num().String())
		} else {
			b.WriteString(eval.FormatNumber(v))
		}
	case string:
		b.WriteString(quoteNickel(v))
	case *eval.Enum:
		b.WriteByte('\'')
		if identOK(v.Tag) {
			b.WriteString(v.Tag)
		} else {
			b.WriteString(quoteNickel(v.Tag))
		}
		if v.Arg != nil {
			b.WriteByte(' ')
			arg := m.Force(v.Arg)
			_, isEnum := arg.(*eval.Enum)
			if isEnum {
				b.WriteByte('(')
			}
			pretty(b, m, arg)
			if isEnum {
				b.WriteByte(')')
			}
		}
	case *eval.Array:
		if len(v.Elems) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteString("[ ")
		for i, e := range v.Elems {
			if i > 0 {
				b.WriteString(", ")
			}
			pretty(b, m, m.Force(e))
		}
		b.WriteString(" ]")
	case *eval.Record:
		keys := v.VisibleKeys()
		if len(keys) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteString("{ ")
		for _, k := range keys {
			f := v.Fields[k]
			if identOK(k) {
				b.WriteString(k)
			} else {
				b.WriteString(quoteNickel(k))
			}
			if f.Type != nil {
				b.WriteString(" : " + f.Type.Label.TypeText)
			}
			for _, c := range f.Contracts {
				b.WriteString(" | " + c.Label.TypeText)
			}
			if f.Val != nil {
				b.WriteString(" = ")
				pretty(b, m, m.Force(f.Val))
			}
			b.WriteString(", ")
		}
		b.WriteString("}")
	case *eval.Label:
		b.WriteString("<label>")
	case *eval.Contract:
		if v.Text != "" {
			b.WriteString(v.Text)
		} else {
			b.WriteString("<contract>")
		}
	default:
		b.WriteString("<function>")
	}
}
