package state

import (
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/provhq/prov/internal/value"
)

// A hand-written JSON encoder and decoder for State and journal records: state files are read and
// written on every command, and encoding/json's reflection over interface values makes a
// 10,000-resource state several times slower. The output is ordinary JSON, the same shape
// encoding/json gives for the struct tags; values are written by value.AppendJSON.

// appendState appends s as compact JSON.
func appendState(b []byte, s *State) ([]byte, error) {
	b = append(b, `{"version":`...)
	b = strconv.AppendInt(b, int64(s.Version), 10)
	b = append(b, `,"lineage":`...)
	b = value.AppendString(b, s.Lineage)
	b = append(b, `,"serial":`...)
	b = strconv.AppendUint(b, s.Serial, 10)
	b = append(b, `,"prov_version":`...)
	b = value.AppendString(b, s.ProvVersion)
	b = append(b, `,"resources":{`...)
	var err error
	for i, addr := range s.Addresses() {
		if i > 0 {
			b = append(b, ',')
		}
		b = value.AppendString(b, addr)
		b = append(b, ':')
		if b, err = appendResource(b, s.Resources[addr]); err != nil {
			return nil, fmt.Errorf("resources.%s: %w", addr, err)
		}
	}
	b = append(b, '}')
	if len(s.Outputs) > 0 {
		b = append(b, `,"outputs":{`...)
		for i, name := range slices.Sorted(maps.Keys(s.Outputs)) {
			if i > 0 {
				b = append(b, ',')
			}
			o := s.Outputs[name]
			b = value.AppendString(b, name)
			if o == nil {
				b = append(b, `:null`...)
				continue
			}
			b = append(b, `:{"value":`...)
			if b, err = value.AppendJSON(b, o.Value); err != nil {
				return nil, fmt.Errorf("outputs.%s: %w", name, err)
			}
			if o.Sensitive {
				b = append(b, `,"sensitive":true`...)
			}
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

func appendResource(b []byte, r *Resource) ([]byte, error) {
	if r == nil {
		return append(b, "null"...), nil
	}
	var err error
	b = append(b, `{"type":`...)
	b = value.AppendString(b, r.Type)
	b = append(b, `,"provider":`...)
	b = value.AppendString(b, r.Provider)
	if r.Config != nil {
		b = append(b, `,"config":`...)
		if b, err = value.AppendJSON(b, r.Config); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
	}
	b = append(b, `,"attributes":`...)
	if b, err = value.AppendJSON(b, r.Attributes); err != nil {
		return nil, fmt.Errorf("attributes: %w", err)
	}
	if len(r.Sensitive) > 0 {
		b = append(b, `,"sensitive":[`...)
		for i, p := range r.Sensitive {
			if i > 0 {
				b = append(b, ',')
			}
			b = value.AppendString(b, p.String())
		}
		b = append(b, ']')
	}
	if len(r.Dependencies) > 0 {
		b = append(b, `,"dependencies":[`...)
		for i, d := range r.Dependencies {
			if i > 0 {
				b = append(b, ',')
			}
			b = value.AppendString(b, d)
		}
		b = append(b, ']')
	}
	if r.MonthlyCost != nil {
		b = append(b, `,"monthly_cost":`...)
		if b, err = value.AppendJSON(b, *r.MonthlyCost); err != nil {
			return nil, fmt.Errorf("monthly_cost: %w", err)
		}
	}
	return append(b, '}'), nil
}

// parser is value's JSON parser with the typed helpers the state's known fields need.
type parser struct{ *value.Parser }

// typed helpers for the known fields: each accepts null as the zero value, as encoding/json does.

func (p *parser) stringField(name string, dst *string) error {
	if p.Literal("null") {
		return nil
	}
	if p.Peek() != '"' {
		return p.Fail("%s: expected a string, found %s", name, p.Char())
	}
	s, err := p.String()
	*dst = s
	return err
}

func (p *parser) boolField(name string, dst *bool) error {
	switch {
	case p.Literal("null"):
	case p.Literal("true"):
		*dst = true
	case p.Literal("false"):
		*dst = false
	default:
		return p.Fail("%s: expected true or false, found %s", name, p.Char())
	}
	return nil
}

func (p *parser) uintField(name string, bits int) (uint64, error) {
	if p.Literal("null") {
		return 0, nil
	}
	if c := p.Peek(); c != '-' && (c < '0' || c > '9') {
		return 0, p.Fail("%s: expected a number, found %s", name, p.Char())
	}
	start := p.Pos()
	lit, err := p.NumberLiteral()
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(string(lit), 10, bits)
	if err != nil {
		p.Seek(start)
		return 0, p.Fail("%s: %s is not a whole number of %d bits", name, lit, bits)
	}
	return n, nil
}

func (p *parser) stringList(name string) ([]string, error) {
	if p.Literal("null") {
		return nil, nil
	}
	if err := p.Expect('['); err != nil {
		return nil, err
	}
	l := []string{}
	if p.Peek() == ']' {
		p.Next()
		return l, nil
	}
	for {
		var s string
		if err := p.stringField(name, &s); err != nil {
			return nil, err
		}
		l = append(l, s)
		switch p.Peek() {
		case ',':
			p.Next()
		case ']':
			p.Next()
			return l, nil
		default:
			return nil, p.Fail("invalid character %s after a list element", p.Char())
		}
	}
}

// skip parses and drops a value of an unknown field (newer builds may add fields).
func (p *parser) skip() error {
	_, err := p.Value()
	return err
}

// parseState decodes a state object; the version is checked by the caller.
func parseState(data []byte) (*State, error) {
	p := parser{value.NewParser(data)}
	s := &State{}
	err := p.Object(false, func(key string) error {
		switch key {
		case "version":
			n, err := p.uintField("version", 31)
			s.Version = int(n)
			return err
		case "lineage":
			return p.stringField("lineage", &s.Lineage)
		case "serial":
			n, err := p.uintField("serial", 64)
			s.Serial = n
			return err
		case "prov_version":
			return p.stringField("prov_version", &s.ProvVersion)
		case "resources":
			s.Resources = map[string]*Resource{}
			return p.Object(true, func(addr string) error {
				if p.Literal("null") {
					s.Resources[addr] = nil
					return nil
				}
				r, err := p.resource("resources." + addr)
				s.Resources[addr] = r
				return err
			})
		case "outputs":
			s.Outputs = map[string]*Output{}
			return p.Object(true, func(name string) error {
				if p.Literal("null") {
					s.Outputs[name] = nil
					return nil
				}
				o := &Output{}
				s.Outputs[name] = o
				return p.Object(false, func(key string) error {
					switch key {
					case "value":
						v, err := p.Value()
						o.Value = v
						return err
					case "sensitive":
						return p.boolField("outputs."+name+".sensitive", &o.Sensitive)
					}
					return p.skip()
				})
			})
		}
		return p.skip()
	})
	if err != nil {
		return nil, err
	}
	if !p.End() {
		return nil, p.Fail("invalid character %s after the end of the state", p.Char())
	}
	return s, nil
}

func (p *parser) resource(where string) (*Resource, error) {
	r := &Resource{}
	err := p.Object(false, func(key string) error {
		var err error
		switch key {
		case "type":
			return p.stringField(where+".type", &r.Type)
		case "provider":
			return p.stringField(where+".provider", &r.Provider)
		case "config":
			r.Config, err = p.Value()
		case "attributes":
			r.Attributes, err = p.Value()
		case "sensitive":
			start := p.Pos()
			paths, err := p.stringList(where + ".sensitive")
			if err != nil {
				return err
			}
			r.Sensitive = make([]value.Path, 0, len(paths))
			for _, s := range paths {
				path, err := value.ParsePath(s)
				if err != nil {
					p.Seek(start)
					return p.Fail("%s.sensitive: %v", where, err)
				}
				r.Sensitive = append(r.Sensitive, path)
			}
			if paths == nil {
				r.Sensitive = nil
			}
		case "dependencies":
			r.Dependencies, err = p.stringList(where + ".dependencies")
		case "monthly_cost":
			if p.Literal("null") {
				return nil
			}
			var cost float64
			if cost, err = p.Number(); err == nil {
				r.MonthlyCost = &cost
			}
		default:
			err = p.skip()
		}
		return err
	})
	return r, err
}

// MarshalJSON encodes a journal record as encoding/json would from its struct tags, with the
// hand-written value encoder: an apply journals two records per operation.
func (r Record) MarshalJSON() ([]byte, error) {
	return r.AppendJSON(make([]byte, 0, 256))
}

// AppendJSON appends what MarshalJSON returns to b.
func (r *Record) AppendJSON(b []byte) ([]byte, error) {
	t, err := r.Time.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("time: %w", err)
	}
	b = append(b, `{"kind":`...)
	b = value.AppendString(b, string(r.Kind))
	b = append(b, `,"time":`...)
	b = append(b, t...)
	for _, f := range [...]struct{ key, val string }{{"op", r.OpID}, {"addr", r.Addr}, {"action", r.Action}} {
		if f.val != "" {
			b = append(b, ',', '"')
			b = append(b, f.key...)
			b = append(b, '"', ':')
			b = value.AppendString(b, f.val)
		}
	}
	if r.Prior != nil {
		b = append(b, `,"prior":`...)
		if b, err = appendResource(b, r.Prior); err != nil {
			return nil, fmt.Errorf("prior: %w", err)
		}
	}
	if r.New != nil {
		b = append(b, `,"new":`...)
		if b, err = appendResource(b, r.New); err != nil {
			return nil, fmt.Errorf("new: %w", err)
		}
	}
	if r.Error != "" {
		b = append(b, `,"error":`...)
		b = value.AppendString(b, r.Error)
	}
	if len(r.Plan) > 0 {
		b = append(b, `,"plan":"`...)
		b = base64.StdEncoding.AppendEncode(b, r.Plan)
		b = append(b, '"')
	}
	if r.Mode != "" {
		b = append(b, `,"mode":`...)
		b = value.AppendString(b, r.Mode)
	}
	if r.Output != nil {
		b = append(b, `,"output":{"value":`...)
		if b, err = value.AppendJSON(b, r.Output.Value); err != nil {
			return nil, fmt.Errorf("output: %w", err)
		}
		if r.Output.Sensitive {
			b = append(b, `,"sensitive":true`...)
		}
		b = append(b, '}')
	}
	if r.Name != "" {
		b = append(b, `,"name":`...)
		b = value.AppendString(b, r.Name)
	}
	return append(b, '}'), nil
}
