package stdlib

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/big"
	"regexp"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"go.yaml.in/yaml/v3"

	"github.com/provhq/prov/internal/nickel/eval"
	"github.com/provhq/prov/internal/nickel/export"
	"github.com/provhq/prov/internal/nickel/source"
)

func num1(name string, f func(*big.Rat) eval.Value) *eval.Builtin {
	return builtin(name, 1, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
		return f(m.Num(a[0], name, at))
	})
}

func floor(r *big.Rat) *big.Rat {
	q := new(big.Int)
	mod := new(big.Int)
	q.DivMod(r.Num(), r.Denom(), mod) // Euclidean: floor for positive denominators
	return new(big.Rat).SetInt(q)
}

func numberLib() lib {
	return lib{
		"is_integer": num1("std.number.is_integer", func(r *big.Rat) eval.Value { return r.IsInt() }),
		"abs":        num1("std.number.abs", func(r *big.Rat) eval.Value { return new(big.Rat).Abs(r) }),
		"floor":      num1("std.number.floor", func(r *big.Rat) eval.Value { return floor(r) }),
		"ceil": num1("std.number.ceil", func(r *big.Rat) eval.Value {
			return new(big.Rat).Neg(floor(new(big.Rat).Neg(r)))
		}),
		"truncate": num1("std.number.truncate", func(r *big.Rat) eval.Value {
			return new(big.Rat).SetInt(new(big.Int).Quo(r.Num(), r.Denom()))
		}),
		"fract": num1("std.number.fract", func(r *big.Rat) eval.Value {
			return new(big.Rat).Sub(r, new(big.Rat).SetInt(new(big.Int).Quo(r.Num(), r.Denom())))
		}),
		"sqrt": num1("std.number.sqrt", func(r *big.Rat) eval.Value {
			f, _ := r.Float64()
			return ratOf(math.Sqrt(f))
		}),
		"log": builtin("std.number.log", 2, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			x, _ := m.Num(a[0], "std.number.log", at).Float64()
			b, _ := m.Num(a[1], "std.number.log", at).Float64()
			return ratOf(math.Log(x) / math.Log(b))
		}),
		"pow": builtin("std.number.pow", 2, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			x := m.Num(a[0], "std.number.pow", at)
			y := m.Num(a[1], "std.number.pow", at)
			if y.IsInt() && y.Num().IsInt64() && abs64(y.Num().Int64()) <= 4096 {
				n := y.Num().Int64()
				res := new(big.Rat).SetInt64(1)
				base := new(big.Rat).Set(x)
				for k := abs64(n); k > 0; k-- {
					res.Mul(res, base)
				}
				if n < 0 {
					if res.Sign() == 0 {
						eval.Failf("EvalError::Other", at, "division by zero")
					}
					res.Inv(res)
				}
				return res
			}
			fx, _ := x.Float64()
			fy, _ := y.Float64()
			return ratOf(math.Pow(fx, fy))
		}),
		"cos":    float1("std.number.cos", math.Cos),
		"sin":    float1("std.number.sin", math.Sin),
		"tan":    float1("std.number.tan", math.Tan),
		"arccos": float1("std.number.arccos", math.Acos),
		"arcsin": float1("std.number.arcsin", math.Asin),
		"arctan": float1("std.number.arctan", math.Atan),
		"exp":    float1("std.number.exp", math.Exp),
		"arctan2": builtin("std.number.arctan2", 2, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			y, _ := m.Num(a[0], "std.number.arctan2", at).Float64()
			x, _ := m.Num(a[1], "std.number.arctan2", at).Float64()
			return ratOf(math.Atan2(y, x))
		}),
		"e":  ratOf(math.E),
		"pi": ratOf(math.Pi),
	}
}

func float1(name string, f func(float64) float64) *eval.Builtin {
	return builtin(name, 1, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
		x, _ := m.Num(a[0], name, at).Float64()
		r := f(x)
		if math.IsNaN(r) || math.IsInf(r, 0) {
			eval.Failf("EvalError::Other", at, "%s: result is not a finite number", name)
		}
		return new(big.Rat).SetFloat64(r)
	})
}

func abs64(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

func ratOf(f float64) eval.Value {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return new(big.Rat).SetFloat64(f)
}

func contractLib() lib {
	ctor := func(name, kind string) *eval.Builtin {
		return builtin(name, 1, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			return &eval.Contract{Kind: kind, Fn: m.Fun(a[0], name, at), Span: at, Text: at.Text()}
		})
	}
	label := func(m *eval.Machine, t *eval.Thunk, name string, at source.Span) *eval.Label {
		l, ok := m.Force(t).(*eval.Label)
		if !ok {
			eval.Failf("EvalError::BlameError", at, "contract broken by the caller of `%s`: expected a label", eval.ShortName(name))
		}
		return l
	}
	return lib{
		"from_predicate": ctor("std.contract.from_predicate", "Predicate"),
		"from_validator": ctor("std.contract.from_validator", "Validator"),
		"custom":         ctor("std.contract.custom", "Custom"),
		"blame": builtin("std.contract.blame", 1, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			m.Blame(label(m, a[0], "std.contract.blame", at), at, "")
			return nil
		}),
		"blame_with_message": builtin("std.contract.blame_with_message", 2, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			msg := m.Str(a[0], "std.contract.blame_with_message", at)
			l := *label(m, a[1], "std.contract.blame_with_message", at)
			l.Message = msg
			m.Blame(&l, at, "")
			return nil
		}),
		"apply": builtin("std.contract.apply", 3, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			l := label(m, a[1], "std.contract.apply", at)
			return m.Force(m.ApplyContract(m.Force(a[0]), l, a[2]))
		}),
		"check": builtin("std.contract.check", 3, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			l := label(m, a[1], "std.contract.check", at)
			var v eval.Value
			err := m.Catch(func() { v = m.Force(m.ApplyContract(m.Force(a[0]), l, a[2])) })
			if err != nil {
				if err.Class != "EvalError::BlameError" {
					eval.Fail(err)
				}
				// blame_location is a label pointing at the offending value, for a custom contract that
				// returns this error (or a combination of such errors) to blame where check would have
				loc := *l
				loc.ValueSpan = err.Span
				fields := map[string]*eval.Thunk{"blame_location": eval.Ready(&loc)}
				if err.Reason != "" {
					fields["message"] = eval.Ready(err.Reason)
				}
				return &eval.Enum{Tag: "Error", Arg: eval.Ready(eval.NewRecord(fields))}
			}
			return &eval.Enum{Tag: "Ok", Arg: eval.Ready(v)}
		}),
		"Equal": builtin("std.contract.Equal", 1, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			return &eval.Contract{Kind: "Equal", Args: []eval.Value{m.Force(a[0])}, Span: at, Text: at.Text()}
		}),
		"Sequence": builtin("std.contract.Sequence", 1, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			return &eval.Contract{Kind: "Sequence", Args: forceAll(m, m.Arr(a[0], "std.contract.Sequence", at)), Span: at, Text: at.Text()}
		}),
		"any_of": builtin("std.contract.any_of", 1, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			return &eval.Contract{Kind: "AnyOf", Args: forceAll(m, m.Arr(a[0], "std.contract.any_of", at)), Span: at, Text: at.Text()}
		}),
		"all_of": builtin("std.contract.all_of", 1, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			return &eval.Contract{Kind: "AllOf", Args: forceAll(m, m.Arr(a[0], "std.contract.all_of", at)), Span: at, Text: at.Text()}
		}),
		"not": builtin("std.contract.not", 1, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			return &eval.Contract{Kind: "Not", Args: []eval.Value{m.Force(a[0])}, Span: at, Text: at.Text()}
		}),
		"label": lib{
			"with_message": builtin("std.contract.label.with_message", 2, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
				msg := m.Str(a[0], "std.contract.label.with_message", at)
				l := *label(m, a[1], "std.contract.label.with_message", at)
				l.Message = msg
				return &l
			}),
			"with_notes": builtin("std.contract.label.with_notes", 2, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
				var notes []string
				for _, n := range m.Arr(a[0], "std.contract.label.with_notes", at).Elems {
					notes = append(notes, m.Str(n, "std.contract.label.with_notes", at))
				}
				l := *label(m, a[1], "std.contract.label.with_notes", at)
				l.Notes = notes
				return &l
			}),
			"append_note": builtin("std.contract.label.append_note", 2, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
				n := m.Str(a[0], "std.contract.label.append_note", at)
				l := *label(m, a[1], "std.contract.label.append_note", at)
				l.Notes = append(append([]string(nil), l.Notes...), n)
				return &l
			}),
		},
	}
}

func forceAll(m *eval.Machine, a *eval.Array) []eval.Value {
	out := make([]eval.Value, len(a.Elems))
	for i, e := range a.Elems {
		out[i] = m.Force(e)
	}
	return out
}

func enumLib() lib {
	return lib{
		"is_enum_tag": builtin("std.enum.is_enum_tag", 1, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			e, ok := m.Force(a[0]).(*eval.Enum)
			return ok && e.Arg == nil
		}),
		"is_enum_variant": builtin("std.enum.is_enum_variant", 1, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			e, ok := m.Force(a[0]).(*eval.Enum)
			return ok && e.Arg != nil
		}),
		"to_tag_and_arg": builtin("std.enum.to_tag_and_arg", 1, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			e, ok := m.Force(a[0]).(*eval.Enum)
			if !ok {
				eval.Failf("EvalError::BlameError", at, "contract broken by the caller of `to_tag_and_arg`: expected an enum")
			}
			f := map[string]*eval.Thunk{"tag": eval.Ready(e.Tag)}
			if e.Arg != nil {
				f["arg"] = e.Arg
			}
			return eval.NewRecord(f)
		}),
		"from_tag_and_arg": builtin("std.enum.from_tag_and_arg", 1, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			r := m.Rec(a[0], "std.enum.from_tag_and_arg", at)
			tag := m.Str(m.FieldVal(r, "tag", at), "std.enum.from_tag_and_arg", at)
			if f, ok := r.Fields["arg"]; ok && f.Val != nil {
				return &eval.Enum{Tag: tag, Arg: f.Val}
			}
			return &eval.Enum{Tag: tag}
		}),
		"map": builtin("std.enum.map", 2, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			f := m.Fun(a[0], "std.enum.map", at)
			e, ok := m.Force(a[1]).(*eval.Enum)
			if !ok {
				eval.Failf("EvalError::BlameError", at, "contract broken by the caller of `map`: expected an enum")
			}
			if e.Arg == nil {
				return e
			}
			arg := e.Arg
			return &eval.Enum{Tag: e.Tag, Arg: eval.Lazy(at, func() eval.Value { return m.Apply(f, arg, at) })}
		}),
	}
}

func typeOf(v eval.Value) string {
	switch v := v.(type) {
	case nil:
		return "Other"
	case bool:
		return "Bool"
	case *big.Rat:
		return "Number"
	case string:
		return "String"
	case *eval.Array:
		return "Array"
	case *eval.Record:
		return "Record"
	case *eval.Enum:
		_ = v
		return "Enum"
	case *eval.Label:
		return "Label"
	case *eval.Contract:
		return "Type"
	}
	if eval.IsFunc(v) {
		return "Function"
	}
	return "Other"
}

func topLib() lib {
	is := func(name, typ string) *eval.Builtin {
		return builtin(name, 1, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			return typeOf(m.Force(a[0])) == typ
		})
	}
	return lib{
		"typeof": builtin("std.typeof", 1, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			return &eval.Enum{Tag: typeOf(m.Force(a[0]))}
		}),
		"is_number":   is("std.is_number", "Number"),
		"is_string":   is("std.is_string", "String"),
		"is_bool":     is("std.is_bool", "Bool"),
		"is_array":    is("std.is_array", "Array"),
		"is_record":   is("std.is_record", "Record"),
		"is_enum":     is("std.is_enum", "Enum"),
		"is_function": is("std.is_function", "Function"),
		"seq": builtin("std.seq", 2, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			m.Force(a[0])
			return m.Force(a[1])
		}),
		"deep_seq": builtin("std.deep_seq", 2, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			m.DeepForce(m.Force(a[0]))
			return m.Force(a[1])
		}),
		"trace": builtin("std.trace", 2, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			fmt.Fprintf(m.Stderr, "std.trace: %s\n", m.Str(a[0], "std.trace", at))
			return m.Force(a[1])
		}),
		"fail_with": builtin("std.fail_with", 1, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			msg := m.Str(a[0], "std.fail_with", at)
			e := source.Errorf("EvalError::BlameError", at, "contract broken by a value")
			e.Reason = msg
			eval.Fail(e)
			return nil
		}),
		"to_string": builtin("std.to_string", 1, toString("std.to_string")),
		"serialize": builtin("std.serialize", 2, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			format, ok := m.Force(a[0]).(*eval.Enum)
			if !ok {
				eval.Failf("EvalError::BlameError", at, "contract broken by the caller of `serialize`: expected 'Json, 'Yaml or 'Toml")
			}
			d, err := export.Data(m, m.Force(a[1]), nil)
			if err != nil {
				eval.Fail(err.(*source.Error))
			}
			f := strings.ToLower(format.Tag)
			if f == "yamldocuments" {
				f = "yaml-documents"
			}
			out, err := export.Format(d, f)
			if err != nil {
				if se, ok := err.(*source.Error); ok {
					se.Span = at
					eval.Fail(se)
				}
				eval.Failf("EvalError::SerializationError", at, "%v", err)
			}
			if f == "json" {
				return strings.TrimSuffix(string(out), "\n")
			}
			return string(out)
		}),
		"deserialize": builtin("std.deserialize", 2, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			format, ok := m.Force(a[0]).(*eval.Enum)
			if !ok {
				eval.Failf("EvalError::BlameError", at, "contract broken by the caller of `deserialize`: expected 'Json, 'Yaml or 'Toml")
			}
			s := m.Str(a[1], "std.deserialize", at)
			v, err := Deserialize(format.Tag, []byte(s))
			if err != nil {
				eval.Failf("EvalError::DeserializationError", at, "std.deserialize: %v", err)
			}
			return v
		}),
		"hash": builtin("std.hash", 2, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			algo, _ := m.Force(a[0]).(*eval.Enum)
			s := []byte(m.Str(a[1], "std.hash", at))
			if algo == nil {
				eval.Failf("EvalError::BlameError", at, "contract broken by the caller of `hash`")
			}
			switch algo.Tag {
			case "Md5":
				h := md5.Sum(s)
				return hex.EncodeToString(h[:])
			case "Sha1":
				h := sha1.Sum(s)
				return hex.EncodeToString(h[:])
			case "Sha256":
				h := sha256.Sum256(s)
				return hex.EncodeToString(h[:])
			case "Sha512":
				h := sha512.Sum512(s)
				return hex.EncodeToString(h[:])
			}
			eval.Failf("EvalError::BlameError", at, "contract broken by the caller of `hash`: unknown algorithm '%s", algo.Tag)
			return nil
		}),
	}
}

// Deserialize parses data in the format named by an import/serialization tag (Json, Yaml, Toml, Text).
func Deserialize(format string, data []byte) (eval.Value, error) {
	var d any
	switch strings.ToLower(format) {
	case "json":
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&d); err != nil {
			return nil, err
		}
	case "yaml", "yml", "yamldocuments":
		// several documents import as an array, none as null; 'YamlDocuments is always an array
		dec := yaml.NewDecoder(bytes.NewReader(data))
		var docs []any
		for {
			var doc yaml.Node
			err := dec.Decode(&doc)
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, err
			}
			v, err := fromYAML(&doc)
			if err != nil {
				return nil, err
			}
			docs = append(docs, v)
		}
		switch {
		case strings.EqualFold(format, "yamldocuments"):
			d = docs
			if docs == nil {
				d = []any{}
			}
		case len(docs) == 0:
		case len(docs) == 1:
			d = docs[0]
		default:
			d = docs
		}
	case "toml":
		var mp map[string]any
		if err := toml.Unmarshal(data, &mp); err != nil {
			return nil, err
		}
		d = mp
	case "text", "txt":
		return string(data), nil
	default:
		return nil, fmt.Errorf("unknown format %s", format)
	}
	return eval.FromData(d)
}

func std() lib {
	l := topLib()
	l["array"] = arrayLib()
	l["record"] = recordLib()
	l["string"] = stringLib()
	l["number"] = numberLib()
	l["contract"] = contractLib()
	l["enum"] = enumLib()
	return l
}

// fromYAML converts a YAML node to data, keeping numbers exact.
func fromYAML(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return fromYAML(n.Content[0])
	case yaml.AliasNode:
		return fromYAML(n.Alias)
	case yaml.SequenceNode:
		out := make([]any, len(n.Content))
		for i, c := range n.Content {
			v, err := fromYAML(c)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Tag == "!!merge" {
				v, err := fromYAML(n.Content[i+1])
				if err != nil {
					return nil, err
				}
				if mp, ok := v.(map[string]any); ok {
					for kk, vv := range mp {
						if _, exists := out[kk]; !exists {
							out[kk] = vv
						}
					}
				}
				continue
			}
			v, err := fromYAML(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			out[k.Value] = v
		}
		return out, nil
	}
	switch n.ShortTag() {
	case "!!int", "!!float":
		if r, ok := new(big.Rat).SetString(strings.ReplaceAll(n.Value, "_", "")); ok {
			return r, nil
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, err
		}
		return v, nil
	case "!!null":
		return nil, nil
	case "!!bool", "!!timestamp", "!!binary":
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, err
		}
		return v, nil
	}
	if n.Style == 0 && yamlNumber.MatchString(n.Value) {
		// (plain and untagged: an explicit !!str tag sets TaggedStyle)
		// plain scalars that are numbers too large for a float (1e309) stay exact
		if r, ok := new(big.Rat).SetString(n.Value); ok {
			return r, nil
		}
	}
	return n.Value, nil
}

var yamlNumber = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)
