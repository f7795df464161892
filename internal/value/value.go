// Package value is the dynamic data prov moves between documents, plans, state and plugins: decoded JSON
// (nil, bool, float64, string, []any, map[string]any) in which any position may also hold Unknown, a value
// that is known only after apply. Path addresses a position inside a value ("tags[0]", "disk.size").
//
// On the wire and on disk a value is plain JSON plus a list of the Paths that are unknown (Encode/Decode),
// so a JSON string can never be mistaken for the marker.
package value

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Unknown marks a value that will be known only after apply.
var Unknown = unknownValue{}

type unknownValue struct{}

func (unknownValue) String() string { return "(known after apply)" }

// IsUnknown reports whether v is the Unknown marker itself.
func IsUnknown(v any) bool {
	_, ok := v.(unknownValue)
	return ok
}

// HasUnknown reports whether v or anything inside it is Unknown.
func HasUnknown(v any) bool {
	switch v := v.(type) {
	case unknownValue:
		return true
	case []any:
		return slices.ContainsFunc(v, HasUnknown)
	case map[string]any:
		for _, e := range v {
			if HasUnknown(e) {
				return true
			}
		}
	}
	return false
}

// Step is one step of a Path: a record key (Key != "" or IsIndex false) or a list index.
type Step struct {
	Key     string
	Index   int
	IsIndex bool
}

// Path addresses a position inside a value. The empty Path is the value itself.
type Path []Step

// KeyPath builds a Path of record keys.
func KeyPath(keys ...string) Path {
	p := make(Path, len(keys))
	for i, k := range keys {
		p[i] = Step{Key: k}
	}
	return p
}

// Key returns p extended by a record key. It never aliases p's backing array.
func (p Path) Key(k string) Path { return append(slices.Clip(p), Step{Key: k}) }

// Index returns p extended by a list index. It never aliases p's backing array.
func (p Path) Index(i int) Path { return append(slices.Clip(p), Step{Index: i, IsIndex: true}) }

// String renders p as "a.b[0].c". Keys that are not plain identifiers are quoted: a["x.y"].
func (p Path) String() string {
	var b strings.Builder
	for i, s := range p {
		switch {
		case s.IsIndex:
			fmt.Fprintf(&b, "[%d]", s.Index)
		case plainKey(s.Key):
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.Key)
		default:
			fmt.Fprintf(&b, "[%s]", strconv.Quote(s.Key))
		}
	}
	return b.String()
}

func plainKey(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// ParsePath parses what Path.String writes.
func ParsePath(s string) (Path, error) {
	var p Path
	for i := 0; i < len(s); {
		switch s[i] {
		case '.':
			i++
		case '[':
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("path %q: unclosed [", s)
			}
			inner := s[i+1 : i+end]
			if strings.HasPrefix(inner, `"`) {
				// A quoted key may itself hold ']'; find the closing quote first.
				q, err := strconv.QuotedPrefix(s[i+1:])
				if err != nil || !strings.HasPrefix(s[i+1+len(q):], "]") {
					return nil, fmt.Errorf("path %q: bad quoted key", s)
				}
				k, _ := strconv.Unquote(q)
				p = append(p, Step{Key: k})
				i += 1 + len(q) + 1
				continue
			}
			n, err := strconv.Atoi(inner)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("path %q: bad index %q", s, inner)
			}
			p = append(p, Step{Index: n, IsIndex: true})
			i += end + 1
		default:
			j := i
			for j < len(s) && s[j] != '.' && s[j] != '[' {
				j++
			}
			p = append(p, Step{Key: s[i:j]})
			i = j
		}
	}
	return p, nil
}

// MarshalText writes the String form, so Paths are strings in JSON.
func (p Path) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads the String form.
func (p *Path) UnmarshalText(b []byte) error {
	q, err := ParsePath(string(b))
	*p = q
	return err
}

// HasPrefix reports whether q is p or starts with p.
func (p Path) HasPrefix(q Path) bool {
	return len(q) <= len(p) && slices.Equal(p[:len(q)], q)
}

// Get returns the value at p inside v.
func Get(v any, p Path) (any, bool) {
	for _, s := range p {
		switch c := v.(type) {
		case map[string]any:
			if s.IsIndex {
				return nil, false
			}
			e, ok := c[s.Key]
			if !ok {
				return nil, false
			}
			v = e
		case []any:
			if !s.IsIndex || s.Index >= len(c) {
				return nil, false
			}
			v = c[s.Index]
		default:
			return nil, false
		}
	}
	return v, true
}

// Set returns v with the value at p replaced by x, copying containers on the way so v is not changed.
// Missing record keys are created; a missing list index or a non-container on the way is an error.
func Set(v any, p Path, x any) (any, error) {
	if len(p) == 0 {
		return x, nil
	}
	s := p[0]
	switch c := v.(type) {
	case map[string]any:
		if s.IsIndex {
			return nil, fmt.Errorf("set %s: index into a record", p)
		}
		inner, err := Set(c[s.Key], p[1:], x)
		if err != nil {
			return nil, err
		}
		out := maps.Clone(c)
		out[s.Key] = inner
		return out, nil
	case []any:
		if !s.IsIndex || s.Index >= len(c) {
			return nil, fmt.Errorf("set %s: no such list element", p)
		}
		inner, err := Set(c[s.Index], p[1:], x)
		if err != nil {
			return nil, err
		}
		out := slices.Clone(c)
		out[s.Index] = inner
		return out, nil
	case nil:
		if s.IsIndex {
			return nil, fmt.Errorf("set %s: index into null", p)
		}
		inner, err := Set(nil, p[1:], x)
		if err != nil {
			return nil, err
		}
		return map[string]any{s.Key: inner}, nil
	}
	return nil, fmt.Errorf("set %s: %T is not a container", p, v)
}

// Equal reports whether a and b are the same value. Unknown equals only Unknown.
func Equal(a, b any) bool {
	switch a := a.(type) {
	case nil:
		return b == nil
	case unknownValue:
		return IsUnknown(b)
	case bool:
		bb, ok := b.(bool)
		return ok && a == bb
	case float64:
		bb, ok := b.(float64)
		return ok && a == bb
	case string:
		bb, ok := b.(string)
		return ok && a == bb
	case []any:
		bb, ok := b.([]any)
		return ok && slices.EqualFunc(a, bb, Equal)
	case map[string]any:
		bb, ok := b.(map[string]any)
		return ok && maps.EqualFunc(a, bb, Equal)
	}
	return false
}

// Copy returns a deep copy of v.
func Copy(v any) any {
	switch v := v.(type) {
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = Copy(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = Copy(e)
		}
		return out
	}
	return v
}

// Normalize converts a Go value built from ordinary types (ints, typed slices and maps, structs through
// JSON) into the canonical form this package works on. Unknown markers are kept.
func Normalize(v any) (any, error) {
	switch v := v.(type) {
	case nil, bool, float64, string, unknownValue:
		return v, nil
	case int:
		return float64(v), nil
	case int64:
		return float64(v), nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			n, err := Normalize(e)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			n, err := Normalize(e)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("value: normalize %T: %w", v, err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Walk calls fn for v and, depth first in key order, everything inside it. Returning false from fn skips
// the inside of that value.
func Walk(v any, fn func(p Path, v any) bool) { walk(nil, v, fn) }

func walk(p Path, v any, fn func(Path, any) bool) {
	if !fn(p, v) {
		return
	}
	switch c := v.(type) {
	case []any:
		for i, e := range c {
			walk(p.Index(i), e, fn)
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(c)) {
			walk(p.Key(k), c[k], fn)
		}
	}
}

// Echoes lists the paths in v whose value equals one of secrets: where a provider copied a secret input
// into another attribute. Those paths must be as sensitive as the input.
func Echoes(v any, secrets []any) []Path {
	if len(secrets) == 0 {
		return nil
	}
	var out []Path
	Walk(v, func(p Path, x any) bool {
		if x == nil || IsUnknown(x) {
			return false
		}
		for _, s := range secrets {
			if Equal(x, s) {
				out = append(out, p)
				return false
			}
		}
		return true
	})
	return out
}

// At returns the values at paths in v (skipping paths v does not have).
func At(v any, paths []Path) []any {
	var out []any
	for _, p := range paths {
		if x, ok := Get(v, p); ok {
			out = append(out, x)
		}
	}
	return out
}
