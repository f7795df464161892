package value

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// A hand-written JSON encoder for values: state files, journal records and every value sent to a
// plugin are written with it, and encoding/json's reflection over interface values is several times
// slower. The output is what encoding/json writes, except that <, > and & are not escaped.

// AppendJSON appends v as compact JSON, object keys sorted. v must be known: an Unknown is an error
// (Encode writes values that may hold unknowns).
func AppendJSON(b []byte, v any) ([]byte, error) { return (&encoder{}).value(b, v, 0) }

const maxDepth = 10000

// encoder writes values in canonical form; other Go values go through encoding/json. With marks set,
// an Unknown is written as null and its path kept in marks (path is the position being written then);
// without, an Unknown is an error.
type encoder struct {
	marks *[]Path
	path  Path
}

func (e *encoder) value(b []byte, v any, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, errors.New("value nested too deeply")
	}
	var err error
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case float64:
		return appendFloat(b, v)
	case string:
		return AppendString(b, v), nil
	case []any:
		b = append(b, '[')
		for i, x := range v {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = e.child(b, Step{Index: i, IsIndex: true}, x, depth); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case map[string]any:
		b = append(b, '{')
		var small [16]string // most objects have few keys: sort them without allocating
		keys := small[:0]
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendString(b, k)
			b = append(b, ':')
			if b, err = e.child(b, Step{Key: k}, v[k], depth); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	}
	if IsUnknown(v) {
		if e.marks == nil {
			return nil, errors.New("a value not known until apply cannot be written as JSON")
		}
		*e.marks = append(*e.marks, slices.Clone(e.path))
		return append(b, "null"...), nil
	}
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, j...), nil
}

// child writes the element of a list or record at step.
func (e *encoder) child(b []byte, step Step, v any, depth int) ([]byte, error) {
	if e.marks == nil {
		return e.value(b, v, depth+1)
	}
	e.path = append(e.path, step)
	b, err := e.value(b, v, depth+1)
	e.path = e.path[:len(e.path)-1]
	return b, err
}

// appendFloat formats like encoding/json (ES6 number formatting).
func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("unsupported number %v", f)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // e-09 → e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as with encoding/json.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' { // valid JSON, but not valid JavaScript
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
