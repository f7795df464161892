// Package scanner turns Nickel source text into tokens. Strings are scanned in modes: the scanner keeps a
// stack so that interpolations (%{ … }) nested inside strings, inside interpolations, are tokenised
// correctly, and resolves escapes so the parser sees plain text chunks.
package scanner

import (
	"strings"
	"unicode/utf8"

	"github.com/provhq/prov/internal/nickel/source"
	"github.com/provhq/prov/internal/nickel/token"
)

type mode struct {
	str      bool // inside a string (else: inside an interpolation, or top level)
	multi    bool // multiline or symbolic string
	percents int
	depth    int // brace depth inside an interpolation
}

// Scanner produces the tokens of one file.
type Scanner struct {
	file  *source.File
	src   string
	pos   int
	modes []mode
}

// New returns a Scanner over f.
func New(f *source.File) *Scanner {
	return &Scanner{file: f, src: f.Content, modes: []mode{{}}}
}

func (s *Scanner) span(start int) source.Span {
	return source.Span{File: s.file, Start: start, End: s.pos}
}

func (s *Scanner) errf(start int, class, format string, args ...any) *source.Error {
	return source.Errorf(class, source.Span{File: s.file, Start: start, End: max(s.pos, start+1)}, format, args...)
}

// All scans the whole file.
func (s *Scanner) All() ([]token.Token, error) {
	out := make([]token.Token, 0, len(s.src)/5+16)
	for {
		t, err := s.Next()
		if err != nil {
			return nil, err
		}
		out = append(out, t)
		if t.Kind == token.EOF {
			return out, nil
		}
	}
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentChar(c byte) bool {
	return isIdentStart(c) || (c >= '0' && c <= '9') || c == '-' || c == '\''
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

var puncts = []string{
	"..", "=>", "->", "==", "!=", "<=", ">=", "&&", "||", "++", "|>", "|]", "[|",
	"{", "}", "(", ")", "[", "]", ",", ";", ":", "=", "+", "-", "*", "/", "%", "<", ">",
	"!", "&", "|", ".", "@", "?", "$", "_",
}

// Next returns the next token.
func (s *Scanner) Next() (token.Token, error) {
	m := &s.modes[len(s.modes)-1]
	if m.str {
		return s.stringPart(m)
	}
	s.skipSpace()
	start := s.pos
	if s.pos >= len(s.src) {
		if len(s.modes) > 1 {
			return token.Token{}, s.errf(start, "ParseError::UnexpectedEOF", "unexpected end of file")
		}
		return token.Token{Kind: token.EOF, Span: s.span(start)}, nil
	}
	c := s.src[s.pos]
	switch {
	case c == '"':
		s.pos++
		s.modes = append(s.modes, mode{str: true})
		return token.Token{Kind: token.StrStart, Span: s.span(start)}, nil
	case c == 'm' && s.pos+1 < len(s.src) && s.src[s.pos+1] == '%' && s.stringDelim(s.pos+1) > 0:
		n := s.stringDelim(s.pos + 1)
		s.pos += 2 + n
		s.modes = append(s.modes, mode{str: true, multi: true, percents: n})
		return token.Token{Kind: token.StrStart, Text: "m", Span: s.span(start), Percents: n}, nil
	case isIdentStart(c):
		for s.pos < len(s.src) && isIdentChar(s.src[s.pos]) {
			s.pos++
		}
		text := s.src[start:s.pos]
		if strings.HasSuffix(text, "-s") && s.pos < len(s.src) && s.src[s.pos] == '%' {
			if n := s.stringDelim(s.pos); n > 0 {
				s.pos += n + 1
				s.modes = append(s.modes, mode{str: true, multi: true, percents: n})
				return token.Token{Kind: token.StrStart, Text: strings.TrimSuffix(text, "-s"), Span: s.span(start), Percents: n}, nil
			}
		}
		if text == "_" {
			return token.Token{Kind: token.Punct, Text: "_", Span: s.span(start)}, nil
		}
		if token.Keywords[text] {
			return token.Token{Kind: token.Keyword, Text: text, Span: s.span(start)}, nil
		}
		return token.Token{Kind: token.Ident, Text: text, Span: s.span(start)}, nil
	case isDigit(c):
		return s.number(start)
	case c == '\'':
		s.pos++
		if s.pos < len(s.src) && s.src[s.pos] == '"' {
			// quoted enum tag: scan a plain string without interpolation
			s.pos++
			var b strings.Builder
			for {
				if s.pos >= len(s.src) {
					return token.Token{}, s.errf(start, "ParseError::UnexpectedEOF", "unterminated enum tag")
				}
				ch := s.src[s.pos]
				if ch == '"' {
					s.pos++
					break
				}
				if ch == '\\' {
					r, err := s.escape(start)
					if err != nil {
						return token.Token{}, err
					}
					b.WriteString(r)
					continue
				}
				b.WriteByte(ch)
				s.pos++
			}
			return token.Token{Kind: token.EnumTag, Text: b.String(), Span: s.span(start)}, nil
		}
		if s.pos < len(s.src) && isIdentStart(s.src[s.pos]) {
			b := s.pos
			for s.pos < len(s.src) && isIdentChar(s.src[s.pos]) {
				s.pos++
			}
			return token.Token{Kind: token.EnumTag, Text: s.src[b:s.pos], Span: s.span(start)}, nil
		}
		return token.Token{}, s.errf(start, "ParseError::UnexpectedToken", "unexpected character '")
	case c == '%':
		// %primop%
		j := s.pos + 1
		for j < len(s.src) && (isIdentChar(s.src[j]) || s.src[j] == '/') {
			j++
		}
		if j > s.pos+1 && j < len(s.src) && s.src[j] == '%' {
			s.pos = j + 1
			return token.Token{Kind: token.Raw, Text: s.src[start+1 : j], Span: s.span(start)}, nil
		}
	}
	if c == '{' && len(s.modes) > 1 {
		m.depth++
	}
	if c == '}' && len(s.modes) > 1 {
		if m.depth == 0 {
			s.pos++
			s.modes = s.modes[:len(s.modes)-1]
			return token.Token{Kind: token.InterpClose, Span: s.span(start)}, nil
		}
		m.depth--
	}
	for _, p := range puncts {
		if strings.HasPrefix(s.src[s.pos:], p) {
			s.pos += len(p)
			return token.Token{Kind: token.Punct, Text: p, Span: s.span(start)}, nil
		}
	}
	r, size := utf8.DecodeRuneInString(s.src[s.pos:])
	s.pos += size
	return token.Token{}, s.errf(start, "ParseError::UnexpectedToken", "unexpected character %q", r)
}

// stringDelim returns n when src[at:] starts with n >= 1 '%' followed by '"', else 0.
func (s *Scanner) stringDelim(at int) int {
	n := 0
	for at+n < len(s.src) && s.src[at+n] == '%' {
		n++
	}
	if n > 0 && at+n < len(s.src) && s.src[at+n] == '"' {
		return n
	}
	return 0
}

func (s *Scanner) skipSpace() {
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			s.pos++
		case c == '#':
			for s.pos < len(s.src) && s.src[s.pos] != '\n' {
				s.pos++
			}
		default:
			return
		}
	}
}

func (s *Scanner) number(start int) (token.Token, error) {
	src := s.src
	if src[s.pos] == '0' && s.pos+1 < len(src) && strings.ContainsRune("xXoObB", rune(src[s.pos+1])) {
		s.pos += 2
		for s.pos < len(src) && (isIdentChar(src[s.pos])) {
			s.pos++
		}
		return token.Token{Kind: token.Number, Text: src[start:s.pos], Span: s.span(start)}, nil
	}
	for s.pos < len(src) && (isDigit(src[s.pos]) || src[s.pos] == '_') {
		s.pos++
	}
	if s.pos+1 < len(src) && src[s.pos] == '.' && isDigit(src[s.pos+1]) {
		s.pos++
		for s.pos < len(src) && (isDigit(src[s.pos]) || src[s.pos] == '_') {
			s.pos++
		}
	}
	if s.pos < len(src) && (src[s.pos] == 'e' || src[s.pos] == 'E') {
		j := s.pos + 1
		if j < len(src) && (src[j] == '+' || src[j] == '-') {
			j++
		}
		if j < len(src) && isDigit(src[j]) {
			s.pos = j
			for s.pos < len(src) && isDigit(src[s.pos]) {
				s.pos++
			}
		}
	}
	return token.Token{Kind: token.Number, Text: strings.ReplaceAll(src[start:s.pos], "_", ""), Span: s.span(start)}, nil
}

func (s *Scanner) escape(start int) (string, error) {
	s.pos++ // backslash
	if s.pos >= len(s.src) {
		return "", s.errf(start, "ParseError::UnexpectedEOF", "unterminated string")
	}
	c := s.src[s.pos]
	s.pos++
	switch c {
	case 'n':
		return "\n", nil
	case 't':
		return "\t", nil
	case 'r':
		return "\r", nil
	case '"', '\\', '%', '\'':
		return string(c), nil
	case 'u':
		if s.pos < len(s.src) && s.src[s.pos] == '{' {
			end := strings.IndexByte(s.src[s.pos:], '}')
			if end > 0 {
				var v rune
				for _, h := range s.src[s.pos+1 : s.pos+end] {
					v <<= 4
					switch {
					case h >= '0' && h <= '9':
						v |= h - '0'
					case h >= 'a' && h <= 'f':
						v |= h - 'a' + 10
					case h >= 'A' && h <= 'F':
						v |= h - 'A' + 10
					default:
						return "", s.errf(s.pos-2, "ParseError::InvalidEscapeSequence", "invalid unicode escape")
					}
				}
				s.pos += end + 1
				return string(v), nil
			}
		}
	}
	return "", s.errf(s.pos-2, "ParseError::InvalidEscapeSequence", "invalid escape sequence")
}

// stringPart scans inside a string: a chunk, an interpolation opener, or the closing delimiter.
func (s *Scanner) stringPart(m *mode) (token.Token, error) {
	start := s.pos
	var b strings.Builder
	for {
		if s.pos >= len(s.src) {
			if b.Len() > 0 {
				return token.Token{Kind: token.StrChunk, Text: b.String(), Span: s.span(start)}, nil
			}
			return token.Token{}, s.errf(start, "ParseError::UnexpectedEOF", "unexpected end of file in string")
		}
		c := s.src[s.pos]
		if !m.multi {
			switch c {
			case '"':
				if b.Len() > 0 {
					return token.Token{Kind: token.StrChunk, Text: b.String(), Span: s.span(start)}, nil
				}
				s.pos++
				s.modes = s.modes[:len(s.modes)-1]
				return token.Token{Kind: token.StrEnd, Span: s.span(start)}, nil
			case '\\':
				r, err := s.escape(start)
				if err != nil {
					return token.Token{}, err
				}
				b.WriteString(r)
				continue
			case '%':
				if strings.HasPrefix(s.src[s.pos:], "%{") {
					if b.Len() > 0 {
						return token.Token{Kind: token.StrChunk, Text: b.String(), Span: s.span(start)}, nil
					}
					s.pos += 2
					s.modes = append(s.modes, mode{})
					return token.Token{Kind: token.InterpOpen, Span: s.span(start)}, nil
				}
			}
			b.WriteByte(c)
			s.pos++
			continue
		}
		// multiline: ends with "%%…, interpolates with %%…{
		if c == '"' && strings.HasPrefix(s.src[s.pos+1:], strings.Repeat("%", m.percents)) &&
			!strings.HasPrefix(strings.TrimLeft(s.src[s.pos+1:], "%"), "{") {
			if b.Len() > 0 {
				return token.Token{Kind: token.StrChunk, Text: b.String(), Span: s.span(start)}, nil
			}
			s.pos += 1 + m.percents
			s.modes = s.modes[:len(s.modes)-1]
			return token.Token{Kind: token.StrEnd, Span: s.span(start)}, nil
		}
		if c == '%' {
			open := strings.Repeat("%", m.percents) + "{"
			if strings.HasPrefix(s.src[s.pos:], open) {
				// more percents than needed: the extra ones are literal
				if b.Len() > 0 {
					return token.Token{Kind: token.StrChunk, Text: b.String(), Span: s.span(start)}, nil
				}
				s.pos += len(open)
				s.modes = append(s.modes, mode{})
				return token.Token{Kind: token.InterpOpen, Span: s.span(start)}, nil
			}
			// a run of % longer than the delimiter followed by { : emit the extra literally
			n := 0
			for s.pos+n < len(s.src) && s.src[s.pos+n] == '%' {
				n++
			}
			if n > m.percents && s.pos+n < len(s.src) && s.src[s.pos+n] == '{' {
				b.WriteString(s.src[s.pos : s.pos+n-m.percents])
				s.pos += n - m.percents
				continue
			}
		}
		b.WriteByte(c)
		s.pos++
	}
}
