package value

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// A hand-written JSON parser for values, the counterpart of AppendJSON: every value a plugin sends or
// receives is parsed with it, and encoding/json's Unmarshal into an interface scans the input twice
// and builds through reflection. The result is exactly Unmarshal's (objects as map[string]any, the
// last of duplicate keys winning; numbers as float64; invalid UTF-8 and lone surrogates as U+FFFD),
// and so is what it rejects; a fuzz test holds the two side by side.

// ParseJSON parses one JSON value; anything but white space after it is an error.
func ParseJSON(data []byte) (any, error) {
	// One copy of the input: strings without escapes are slices of it rather than copies each.
	p := parser{data: data, text: string(data)}
	p.space()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	if p.space(); p.pos < len(p.data) {
		return nil, p.errorf("invalid character %s after top-level value", quoteChar(p.data[p.pos]))
	}
	return v, nil
}

type parser struct {
	data []byte
	text string // data as a string
	pos  int
}

// errEnd is the error for input that stops in the middle of a value.
var errEnd = errors.New("unexpected end of JSON input")

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("offset %d: "+format, append([]any{p.pos}, args...)...)
}

func quoteChar(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	s := strconv.Quote(string(rune(c)))
	return "'" + s[1:len(s)-1] + "'"
}

func (p *parser) space() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (any, error) {
	if p.pos >= len(p.data) {
		return nil, errEnd
	}
	switch c := p.data[p.pos]; {
	case (c == '{' || c == '[') && depth >= maxDepth:
		return nil, p.errorf("exceeded max depth")
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		return p.string()
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	default:
		return nil, p.errorf("invalid character %s looking for beginning of value", quoteChar(c))
	}
}

func (p *parser) literal(word string) error {
	for i := range len(word) {
		if p.pos >= len(p.data) {
			return errEnd
		}
		if p.data[p.pos] != word[i] {
			return p.errorf("invalid character %s in literal %s (expecting %s)", quoteChar(p.data[p.pos]), word, quoteChar(word[i]))
		}
		p.pos++
	}
	return nil
}

func (p *parser) object(depth int) (any, error) {
	p.pos++ // {
	m := make(map[string]any)
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return m, nil
	}
	for {
		if p.pos >= len(p.data) {
			return nil, errEnd
		}
		if p.data[p.pos] != '"' {
			return nil, p.errorf("invalid character %s looking for beginning of object key string", quoteChar(p.data[p.pos]))
		}
		k, err := p.string()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.pos >= len(p.data) {
			return nil, errEnd
		}
		if p.data[p.pos] != ':' {
			return nil, p.errorf("invalid character %s after object key", quoteChar(p.data[p.pos]))
		}
		p.pos++
		p.space()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		m[k] = v
		p.space()
		if p.pos >= len(p.data) {
			return nil, errEnd
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
			p.space()
		case '}':
			p.pos++
			return m, nil
		default:
			return nil, p.errorf("invalid character %s after object key:value pair", quoteChar(p.data[p.pos]))
		}
	}
}

func (p *parser) array(depth int) (any, error) {
	p.pos++ // [
	a := []any{}
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return a, nil
	}
	for {
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		p.space()
		if p.pos >= len(p.data) {
			return nil, errEnd
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
			p.space()
		case ']':
			p.pos++
			return a, nil
		default:
			return nil, p.errorf("invalid character %s after array element", quoteChar(p.data[p.pos]))
		}
	}
}

// number parses JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *parser) number() (any, error) {
	start := p.pos
	if p.data[p.pos] == '-' {
		p.pos++
	}
	digits := func() int {
		n := 0
		for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.pos >= len(p.data) {
		return nil, errEnd
	}
	switch c := p.data[p.pos]; {
	case c == '0':
		p.pos++
	case c >= '1' && c <= '9':
		digits()
	default:
		return nil, p.errorf("invalid character %s in numeric literal", quoteChar(c))
	}
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		p.pos++
		if p.pos >= len(p.data) {
			return nil, errEnd
		}
		if digits() == 0 {
			return nil, p.errorf("invalid character %s after decimal point in numeric literal", quoteChar(p.data[p.pos]))
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if p.pos >= len(p.data) {
			return nil, errEnd
		}
		if digits() == 0 {
			return nil, p.errorf("invalid character %s in exponent of numeric literal", quoteChar(p.data[p.pos]))
		}
	}
	text := p.data[start:p.pos]
	f, err := strconv.ParseFloat(string(text), 64)
	if err != nil {
		return nil, fmt.Errorf("offset %d: cannot unmarshal number %s into Go value of type float64", start, text)
	}
	return f, nil
}

// string parses a string literal. One without escapes or invalid UTF-8 is copied as it is.
func (p *parser) string() (string, error) {
	p.pos++ // "
	start := p.pos
	ascii := true
	for p.pos < len(p.data) {
		switch c := p.data[p.pos]; {
		case c == '"':
			end := p.pos
			p.pos++
			if ascii || utf8.Valid(p.data[start:end]) {
				return p.text[start:end], nil
			}
			return string(appendValidUTF8(nil, p.data[start:end])), nil
		case c == '\\':
			return p.escaped(start)
		case c < 0x20:
			return "", p.errorf("invalid character %s in string literal", quoteChar(c))
		case c >= utf8.RuneSelf:
			ascii = false
		}
		p.pos++
	}
	return "", errEnd
}

// escaped finishes a string literal that has escapes, from its first one.
func (p *parser) escaped(start int) (string, error) {
	b := appendValidUTF8(make([]byte, 0, p.pos-start+16), p.data[start:p.pos])
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			return string(b), nil
		case c < 0x20:
			return "", p.errorf("invalid character %s in string literal", quoteChar(c))
		case c != '\\':
			// A run of plain bytes, invalid UTF-8 replaced.
			run := p.pos
			for p.pos < len(p.data) && p.data[p.pos] != '"' && p.data[p.pos] != '\\' && p.data[p.pos] >= 0x20 {
				p.pos++
			}
			b = appendValidUTF8(b, p.data[run:p.pos])
			continue
		}
		p.pos++ // backslash
		if p.pos >= len(p.data) {
			return "", errEnd
		}
		e := p.data[p.pos]
		p.pos++
		switch e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, err := p.hex4()
			if err != nil {
				return "", err
			}
			if utf16.IsSurrogate(r) {
				// A pair makes one rune; a lone half is U+FFFD, and the next escape is read on its own.
				if p.pos+1 < len(p.data) && p.data[p.pos] == '\\' && p.data[p.pos+1] == 'u' {
					save := p.pos
					p.pos += 2
					r2, err := p.hex4()
					if err != nil {
						return "", err
					}
					if pair := utf16.DecodeRune(r, r2); pair != utf8.RuneError {
						b = utf8.AppendRune(b, pair)
						continue
					}
					p.pos = save
				}
				r = utf8.RuneError
			}
			b = utf8.AppendRune(b, r)
		default:
			p.pos--
			return "", p.errorf("invalid character %s in string escape code", quoteChar(e))
		}
	}
	return "", errEnd
}

func (p *parser) hex4() (rune, error) {
	var r rune
	for range 4 {
		if p.pos >= len(p.data) {
			return 0, errEnd
		}
		c := p.data[p.pos]
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, p.errorf("invalid character %s in \\u hexadecimal character escape", quoteChar(c))
		}
		r = r<<4 | rune(d)
		p.pos++
	}
	return r, nil
}

// appendValidUTF8 appends s with each invalid byte replaced by U+FFFD, as encoding/json does.
func appendValidUTF8(b, s []byte) []byte {
	for len(s) > 0 {
		r, size := utf8.DecodeRune(s)
		if r == utf8.RuneError && size == 1 {
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, s[:size]...)
		}
		s = s[size:]
	}
	return b
}
