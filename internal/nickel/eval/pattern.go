package eval

import (
	"github.com/provhq/prov/internal/nickel/ast"
	"github.com/provhq/prov/internal/nickel/source"
)

// bindPattern destructures t with pat, failing with FailedDestructuring when it does not match.
func (m *Machine) bindPattern(pat ast.Pattern, t *Thunk, env *Env, at source.Span) *Env {
	if v, ok := pat.(*ast.PVar); ok {
		if v.Name == "_" {
			return env
		}
		return env.Bind(v.Name, t)
	}
	out, ok := m.matchPattern(pat, t, env)
	if !ok {
		Failf("EvalError::FailedDestructuring", pat.Span(), "destructuring failed: the value does not match the pattern")
	}
	return out
}

// matchPattern tries to match t against pat, returning the extended environment.
func (m *Machine) matchPattern(pat ast.Pattern, t *Thunk, env *Env) (*Env, bool) {
	switch p := pat.(type) {
	case *ast.PVar:
		if p.Name == "_" {
			return env, true
		}
		return env.Bind(p.Name, t), true
	case *ast.PAlias:
		e, ok := m.matchPattern(p.Pat, t, env)
		if !ok {
			return env, false
		}
		return e.Bind(p.Name, t), true
	case *ast.PLit:
		want := m.Eval(p.Value, env)
		got := m.Force(t)
		if !isPrimitive(got) {
			return env, false
		}
		return env, m.equalPrim(want, got)
	case *ast.PEnum:
		e, ok := m.Force(t).(*Enum)
		if !ok || e.Tag != p.Tag || (e.Arg == nil) != (p.Arg == nil) {
			return env, false
		}
		if p.Arg == nil {
			return env, true
		}
		return m.matchPattern(p.Arg, e.Arg, env)
	case *ast.POr:
		for _, alt := range p.Alts {
			if e, ok := m.matchPattern(alt, t, env); ok {
				return e, true
			}
		}
		return env, false
	case *ast.PArray:
		a, ok := m.Force(t).(*Array)
		if !ok {
			return env, false
		}
		if len(a.Elems) < len(p.Elems) || (!p.HasRest && len(a.Elems) != len(p.Elems)) {
			return env, false
		}
		for i, sub := range p.Elems {
			if env, ok = m.matchPattern(sub, a.Elems[i], env); !ok {
				return env, false
			}
		}
		if p.Rest != "" {
			env = env.Bind(p.Rest, Ready(&Array{Elems: a.Elems[len(p.Elems):]}))
		}
		return env, true
	case *ast.PRecord:
		r, ok := m.Force(t).(*Record)
		if !ok {
			return env, false
		}
		seen := map[string]bool{}
		for _, f := range p.Fields {
			seen[f.Name] = true
			var ft *Thunk
			rf, has := r.Fields[f.Name]
			switch {
			case has && rf.Val != nil:
				ft = rf.Val
			case f.Default != nil:
				ft = m.thunk(f.Default, env)
				if has {
					// the record's contracts for the field also check the default
					for _, c := range rf.Contracts {
						ft = m.ApplyContract(m.Force(m.closeDef(c.Def, r, new(envCache), c.Label.Span)), c.Label, ft)
					}
				}
			default:
				return env, false
			}
			if !f.Annot.Empty() {
				ft = m.applyAnnot(f.Annot, ft, env, f.Pos, f.Name)
			}
			sub := f.Pat
			if sub == nil {
				sub = &ast.PVar{At: f.At, Name: f.Name}
			}
			if env, ok = m.matchPattern(sub, ft, env); !ok {
				return env, false
			}
		}
		if !p.Open {
			for k, f := range r.Fields {
				if !seen[k] && !(f.Optional && f.Def == nil) {
					return env, false
				}
			}
		}
		if p.Rest != "" {
			env = env.Bind(p.Rest, Ready(m.WithFields(r, nil, seen)))
		}
		return env, true
	}
	return env, false
}

func (m *Machine) match(f *MatchFn, arg *Thunk, at source.Span) Value {
	for _, c := range f.Node.Cases {
		env, ok := m.matchPattern(c.Pat, arg, f.Env)
		if !ok {
			continue
		}
		if c.Guard != nil {
			gv := m.Eval(c.Guard, env)
			g, isBool := gv.(bool)
			if !isBool {
				Failf("EvalError::TypeError", c.Guard.Span(), "type error: a match guard must be a Bool, got %s", TypeName(gv))
			}
			if !g {
				continue
			}
		}
		return m.Eval(c.Body, env)
	}
	Failf("EvalError::NonExhaustiveMatch", at, "unmatched pattern: no case of this match applies to the value")
	return nil
}
