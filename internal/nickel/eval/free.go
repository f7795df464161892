package eval

import "github.com/provhq/prov/internal/nickel/ast"

// mentions reports whether n may refer to one of names (over-approximating: any identifier with that
// name counts, whatever binds it). ok is false for nodes it does not know.
func mentions(n ast.Node, names map[string]bool) bool {
	switch n := n.(type) {
	case nil, *ast.Null, *ast.Bool, *ast.Num, *ast.StrLit, *ast.Import, *ast.Primop:
		return false
	case *ast.Ident:
		return names[n.Name]
	case *ast.Str:
		for _, p := range n.Parts {
			if mentions(p, names) {
				return true
			}
		}
		return false
	case *ast.EnumTag:
		return n.Arg != nil && mentions(n.Arg, names)
	case *ast.Array:
		for _, e := range n.Elems {
			if mentions(e, names) {
				return true
			}
		}
		return false
	case *ast.Record:
		for _, f := range n.Fields {
			for _, p := range f.Path {
				if mentions(p, names) {
					return true
				}
			}
			if f.Value != nil && mentions(f.Value, names) || annotMentions(f.Annot, names) {
				return true
			}
		}
		return false
	case *ast.App:
		return mentions(n.Fn, names) || mentions(n.Arg, names)
	case *ast.Select:
		return mentions(n.X, names) || mentions(n.Name, names)
	case *ast.BinOp:
		return mentions(n.L, names) || mentions(n.R, names)
	case *ast.UnOp:
		return mentions(n.X, names)
	case *ast.If:
		return mentions(n.Cond, names) || mentions(n.Then, names) || mentions(n.Else, names)
	case *ast.Annotated:
		return mentions(n.X, names) || annotMentions(n.Annot, names)
	case *ast.Arrow:
		return mentions(n.Dom, names) || mentions(n.Cod, names)
	case *ast.Dict:
		return mentions(n.Elem, names)
	case *ast.EnumRows:
		for _, r := range n.Rows {
			if r.Arg != nil && mentions(r.Arg, names) {
				return true
			}
		}
		return false
	case *ast.Forall:
		return mentions(n.Body, names)
	}
	// functions, lets and matches: be conservative
	return true
}

func annotMentions(a *ast.Annot, names map[string]bool) bool {
	if a == nil {
		return false
	}
	if a.Type != nil && mentions(a.Type, names) {
		return true
	}
	for _, c := range a.Contracts {
		if mentions(c, names) {
			return true
		}
	}
	return false
}
