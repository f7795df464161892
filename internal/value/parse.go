package value

import (
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// A hand-written JSON parser, the counterpart of AppendJSON: state files, and every value a plugin
// sends or receives, are read with it, and encoding/json's Unmarshal into an interface scans the input
// twice and builds through reflection. A value parses exactly as Unmarshal parses it into an any
// (objects as map[string]any, the last of duplicate keys winning; numbers as float64; invalid UTF-8 and
// lone surrogates as U+FFFD), and what Unmarshal rejects is rejected; a fuzz test holds the two side by
// side. Parser also serves decoders of known shapes (the state file): Object, String and the rest.

// ParseJSON parses one JSON value; anything but white space after it is an error.
func ParseJSON(data []byte) (any, error) {
	p := NewParser(data)
	v, err := p.Value()
	if err != nil {
		return nil, err
	}
	if !p.End() {
		return nil, p.Fail("invalid character %s after the value", p.Char())
	}
	return v, nil
}

// Parser reads JSON from a byte slice; its errors are *SyntaxError, with the offset of the problem.
type Parser struct {
	data []byte
	text string // data as a string: strings without escapes are slices of it, not copies each
	pos  int
}

// NewParser returns a Parser at the start of data.
func NewParser(data []byte) *Parser { return &Parser{data: data, text: string(data)} }

// SyntaxError is a problem at byte Offset of the input.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("offset %d: %s", e.Offset, e.Msg) }

// Fail returns a SyntaxError at the current position (or the end of input, there).
func (p *Parser) Fail(format string, args ...any) error {
	if p.pos >= len(p.data) {
		return &SyntaxError{Offset: len(p.data), Msg: "unexpected end of input"}
	}
	return &SyntaxError{Offset: p.pos, Msg: fmt.Sprintf(format, args...)}
}

// Pos is the offset of the next byte; Seek moves there.
func (p *Parser) Pos() int     { return p.pos }
func (p *Parser) Seek(pos int) { p.pos = pos }

// End skips white space and reports whether the input is over.
func (p *Parser) End() bool {
	p.skipSpace()
	return p.pos >= len(p.data)
}

func (p *Parser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// Peek skips white space and returns the next byte, or 0 at the end.
func (p *Parser) Peek() byte {
	p.skipSpace()
	if p.pos < len(p.data) {
		return p.data[p.pos]
	}
	return 0
}

// Next consumes the byte Peek returns.
func (p *Parser) Next() { p.pos++ }

// Expect consumes c, after white space.
func (p *Parser) Expect(c byte) error {
	if p.Peek() != c {
		return p.Fail("invalid character %s, expected %q", p.Char(), c)
	}
	p.pos++
	return nil
}

// Char describes the byte at the current position, for messages.
func (p *Parser) Char() string {
	if p.pos >= len(p.data) {
		return "end of input"
	}
	return strconv.QuoteRune(rune(p.data[p.pos]))
}

// Literal consumes word (true, false, null) if it comes next.
func (p *Parser) Literal(word string) bool {
	p.skipSpace()
	if len(p.data)-p.pos >= len(word) && p.text[p.pos:p.pos+len(word)] == word {
		p.pos += len(word)
		return true
	}
	return false
}

// Object parses an object, calling field for each key with the parser at its value, which field must
// consume. A null is accepted as an empty object when nullOK.
func (p *Parser) Object(nullOK bool, field func(key string) error) error {
	if nullOK && p.Literal("null") {
		return nil
	}
	if err := p.Expect('{'); err != nil {
		return err
	}
	if p.Peek() == '}' {
		p.pos++
		return nil
	}
	for {
		if p.Peek() != '"' {
			return p.Fail("invalid character %s, expected a field name", p.Char())
		}
		key, err := p.String()
		if err != nil {
			return err
		}
		if err := p.Expect(':'); err != nil {
			return err
		}
		p.skipSpace()
		if err := field(key); err != nil {
			return err
		}
		switch p.Peek() {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return nil
		default:
			return p.Fail("invalid character %s after an object field", p.Char())
		}
	}
}

// maxNesting is how many objects and lists may nest, as in encoding/json.
const maxNesting = 10000

// Value parses any JSON value.
func (p *Parser) Value() (any, error) { return p.value(0) }

// value parses a value inside depth objects and lists.
func (p *Parser) value(depth int) (any, error) {
	switch c := p.Peek(); {
	case p.End():
		return nil, p.Fail("")
	case (c == '{' || c == '[') && depth >= maxNesting:
		return nil, p.Fail("value nested too deeply")
	case c == '{':
		m := map[string]any{}
		err := p.Object(false, func(k string) error {
			v, err := p.value(depth + 1)
			m[k] = v
			return err
		})
		if err != nil {
			return nil, err
		}
		return m, nil
	case c == '[':
		p.pos++
		l := []any{}
		if p.Peek() == ']' {
			p.pos++
			return l, nil
		}
		for {
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
			switch p.Peek() {
			case ',':
				p.pos++
			case ']':
				p.pos++
				return l, nil
			default:
				return nil, p.Fail("invalid character %s after a list element", p.Char())
			}
		}
	case c == '"':
		return p.String()
	case c == '-' || c >= '0' && c <= '9':
		return p.Number()
	case p.Literal("true"):
		return true, nil
	case p.Literal("false"):
		return false, nil
	case p.Literal("null"):
		return nil, nil
	}
	return nil, p.Fail("invalid character %s, expected a value", p.Char())
}

// NumberLiteral consumes a JSON number and returns its text.
func (p *Parser) NumberLiteral() ([]byte, error) {
	p.skipSpace()
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
		return nil, p.Fail("invalid character %s in a number", p.Char())
	}
	if i < len(d) && d[i] == '.' {
		i++
		if !digits() {
			p.pos = i
			return nil, p.Fail("invalid character %s after a decimal point", p.Char())
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if !digits() {
			p.pos = i
			return nil, p.Fail("invalid character %s in an exponent", p.Char())
		}
	}
	p.pos = i
	return d[start:i], nil
}

// Number parses a number as a float64; one out of its range is an error.
func (p *Parser) Number() (float64, error) {
	p.skipSpace()
	start := p.pos
	lit, err := p.NumberLiteral()
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(p.text[start:p.pos], 64)
	if err != nil {
		p.pos = start
		return 0, p.Fail("number %s out of range", lit)
	}
	return f, nil
}

// String parses a string; the next byte after white space must be its opening quote.
func (p *Parser) String() (string, error) {
	if err := p.Expect('"'); err != nil {
		return "", err
	}
	d := p.data
	start := p.pos
	i := start
	for i < len(d) {
		c := d[i]
		if c == '"' {
			p.pos = i + 1
			return p.text[start:i], nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		i++
	}
	// Escapes, control characters or non-ASCII.
	buf := append([]byte(nil), d[start:i]...)
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			p.pos = i + 1
			return string(buf), nil
		case c < 0x20:
			p.pos = i
			return "", p.Fail("invalid control character %s in a string", p.Char())
		case c == '\\':
			i++
			if i >= len(d) {
				p.pos = i
				return "", p.Fail("")
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
					return "", p.Fail("invalid \\u escape in a string")
				}
				i += 4
				if utf16.IsSurrogate(r) {
					// A pair makes one rune; a lone half is U+FFFD and what follows is read on its own.
					r2, ok := hex4(d, i+3)
					if ok && i+2 < len(d) && d[i+1] == '\\' && d[i+2] == 'u' {
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
				return "", p.Fail("invalid escape %s in a string", p.Char())
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
	return "", p.Fail("")
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
