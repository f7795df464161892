package state

import (
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

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

// maxDepth is the deepest nesting the parser accepts.
const maxDepth = 10000

// parser decodes JSON from data; errors carry the byte offset of the problem.
type parser struct {
	data []byte
	pos  int
}

// syntaxError is a decoding problem at a byte offset.
type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string { return e.msg }

func (p *parser) fail(format string, args ...any) error {
	if p.pos >= len(p.data) {
		return &syntaxError{off: len(p.data), msg: "unexpected end of file (truncated?)"}
	}
	return &syntaxError{off: p.pos, msg: fmt.Sprintf(format, args...)}
}

func (p *parser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (p *parser) peek() byte {
	p.skipSpace()
	if p.pos < len(p.data) {
		return p.data[p.pos]
	}
	return 0
}

func (p *parser) expect(c byte) error {
	if p.peek() != c {
		return p.fail("invalid character %s, expected %q", p.char(), c)
	}
	p.pos++
	return nil
}

// char describes the byte at pos for messages.
func (p *parser) char() string {
	if p.pos >= len(p.data) {
		return "end of file"
	}
	return strconv.QuoteRune(rune(p.data[p.pos]))
}

// object parses an object, calling field for each key with the parser positioned at its value.
// A null is accepted as an empty object when nullOK.
func (p *parser) object(nullOK bool, field func(key string) error) error {
	if nullOK && p.literal("null") {
		return nil
	}
	if err := p.expect('{'); err != nil {
		return err
	}
	if p.peek() == '}' {
		p.pos++
		return nil
	}
	for {
		if p.peek() != '"' {
			return p.fail("invalid character %s, expected a field name", p.char())
		}
		key, err := p.str()
		if err != nil {
			return err
		}
		if err := p.expect(':'); err != nil {
			return err
		}
		p.skipSpace()
		if err := field(key); err != nil {
			return err
		}
		switch p.peek() {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return nil
		default:
			return p.fail("invalid character %s after an object field", p.char())
		}
	}
}

// literal consumes word (true, false, null) if it comes next.
func (p *parser) literal(word string) bool {
	p.skipSpace()
	if len(p.data)-p.pos >= len(word) && string(p.data[p.pos:p.pos+len(word)]) == word {
		p.pos += len(word)
		return true
	}
	return false
}

func (p *parser) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, p.fail("value nested too deeply")
	}
	switch c := p.peek(); {
	case c == '{':
		m := map[string]any{}
		err := p.object(false, func(k string) error {
			v, err := p.value(depth + 1)
			m[k] = v
			return err
		})
		return m, err
	case c == '[':
		p.pos++
		l := []any{}
		if p.peek() == ']' {
			p.pos++
			return l, nil
		}
		for {
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
			switch p.peek() {
			case ',':
				p.pos++
			case ']':
				p.pos++
				return l, nil
			default:
				return nil, p.fail("invalid character %s after a list element", p.char())
			}
		}
	case c == '"':
		return p.str()
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case p.literal("true"):
		return true, nil
	case p.literal("false"):
		return false, nil
	case p.literal("null"):
		return nil, nil
	}
	return nil, p.fail("invalid character %s, expected a value", p.char())
}

// numberLiteral consumes a JSON number and returns its text.
func (p *parser) numberLiteral() ([]byte, error) {
	start := p.pos
	d := p.data
	i := p.pos
	digits := func() bool {
		j := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		return i > j
	}
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case !digits():
		p.pos = i
		return nil, p.fail("invalid character %s in a number", p.char())
	}
	if i < len(d) && d[i] == '.' {
		i++
		if !digits() {
			p.pos = i
			return nil, p.fail("invalid character %s after a decimal point", p.char())
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if !digits() {
			p.pos = i
			return nil, p.fail("invalid character %s in an exponent", p.char())
		}
	}
	p.pos = i
	return d[start:i], nil
}

func (p *parser) number() (float64, error) {
	start := p.pos
	lit, err := p.numberLiteral()
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil {
		p.pos = start
		return 0, p.fail("number %s out of range", lit)
	}
	return f, nil
}

// str parses a string; the parser is at its opening quote.
func (p *parser) str() (string, error) {
	p.pos++ // "
	d := p.data
	start := p.pos
	i := start
	for i < len(d) {
		c := d[i]
		if c == '"' {
			p.pos = i + 1
			return string(d[start:i]), nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		i++
	}
	// Slow path: escapes, control characters or non-ASCII.
	buf := append([]byte(nil), d[start:i]...)
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			p.pos = i + 1
			return string(buf), nil
		case c < 0x20:
			p.pos = i
			return "", p.fail("invalid control character %s in a string", p.char())
		case c == '\\':
			i++
			if i >= len(d) {
				p.pos = i
				return "", p.fail("")
			}
			switch e := d[i]; e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, ok := hex4(d, i+1)
				if !ok {
					p.pos = i
					return "", p.fail("invalid \\u escape in a string")
				}
				i += 4
				if utf16.IsSurrogate(r) {
					if r2, ok := hex4(d, i+3); ok && i+2 < len(d) && d[i+1] == '\\' && d[i+2] == 'u' {
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							r = dec
							i += 6
						} else {
							r = utf8.RuneError
						}
					} else {
						r = utf8.RuneError
					}
				}
				buf = utf8.AppendRune(buf, r)
			default:
				p.pos = i
				return "", p.fail("invalid escape %s in a string", p.char())
			}
			i++
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			i++
		default:
			r, size := utf8.DecodeRune(d[i:])
			buf = utf8.AppendRune(buf, r) // invalid UTF-8 becomes U+FFFD
			i += size
		}
	}
	p.pos = i
	return "", p.fail("")
}

func hex4(d []byte, i int) (rune, bool) {
	if i+4 > len(d) {
		return 0, false
	}
	var r rune
	for _, c := range d[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// typed helpers for the known fields: each accepts null as the zero value, as encoding/json does.

func (p *parser) stringField(name string, dst *string) error {
	if p.literal("null") {
		return nil
	}
	if p.peek() != '"' {
		return p.fail("%s: expected a string, found %s", name, p.char())
	}
	s, err := p.str()
	*dst = s
	return err
}

func (p *parser) boolField(name string, dst *bool) error {
	switch {
	case p.literal("null"):
	case p.literal("true"):
		*dst = true
	case p.literal("false"):
		*dst = false
	default:
		return p.fail("%s: expected true or false, found %s", name, p.char())
	}
	return nil
}

func (p *parser) uintField(name string, bits int) (uint64, error) {
	if p.literal("null") {
		return 0, nil
	}
	if c := p.peek(); c != '-' && (c < '0' || c > '9') {
		return 0, p.fail("%s: expected a number, found %s", name, p.char())
	}
	start := p.pos
	lit, err := p.numberLiteral()
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(string(lit), 10, bits)
	if err != nil {
		p.pos = start
		return 0, p.fail("%s: %s is not a whole number of %d bits", name, lit, bits)
	}
	return n, nil
}

func (p *parser) stringList(name string) ([]string, error) {
	if p.literal("null") {
		return nil, nil
	}
	if err := p.expect('['); err != nil {
		return nil, err
	}
	l := []string{}
	if p.peek() == ']' {
		p.pos++
		return l, nil
	}
	for {
		var s string
		if err := p.stringField(name, &s); err != nil {
			return nil, err
		}
		l = append(l, s)
		switch p.peek() {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return l, nil
		default:
			return nil, p.fail("invalid character %s after a list element", p.char())
		}
	}
}

// skip parses and drops a value of an unknown field (newer builds may add fields).
func (p *parser) skip() error {
	_, err := p.value(0)
	return err
}

// parseState decodes a state object; the version is checked by the caller.
func parseState(data []byte) (*State, error) {
	p := &parser{data: data}
	s := &State{}
	err := p.object(false, func(key string) error {
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
			return p.object(true, func(addr string) error {
				if p.literal("null") {
					s.Resources[addr] = nil
					return nil
				}
				r, err := p.resource("resources." + addr)
				s.Resources[addr] = r
				return err
			})
		case "outputs":
			s.Outputs = map[string]*Output{}
			return p.object(true, func(name string) error {
				if p.literal("null") {
					s.Outputs[name] = nil
					return nil
				}
				o := &Output{}
				s.Outputs[name] = o
				return p.object(false, func(key string) error {
					switch key {
					case "value":
						v, err := p.value(0)
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
	if p.peek() != 0 {
		return nil, p.fail("invalid character %s after the end of the state", p.char())
	}
	return s, nil
}

func (p *parser) resource(where string) (*Resource, error) {
	r := &Resource{}
	err := p.object(false, func(key string) error {
		var err error
		switch key {
		case "type":
			return p.stringField(where+".type", &r.Type)
		case "provider":
			return p.stringField(where+".provider", &r.Provider)
		case "config":
			r.Config, err = p.value(0)
		case "attributes":
			r.Attributes, err = p.value(0)
		case "sensitive":
			start := p.pos
			paths, err := p.stringList(where + ".sensitive")
			if err != nil {
				return err
			}
			r.Sensitive = make([]value.Path, 0, len(paths))
			for _, s := range paths {
				path, err := value.ParsePath(s)
				if err != nil {
					p.pos = start
					return p.fail("%s.sensitive: %v", where, err)
				}
				r.Sensitive = append(r.Sensitive, path)
			}
			if paths == nil {
				r.Sensitive = nil
			}
		case "dependencies":
			r.Dependencies, err = p.stringList(where + ".dependencies")
		case "monthly_cost":
			if p.literal("null") {
				return nil
			}
			var cost float64
			if cost, err = p.number(); err == nil {
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
