package stdlib

import (
	"encoding/base64"
	"math/big"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/rivo/uniseg"

	"github.com/provhq/prov/internal/nickel/eval"
	"github.com/provhq/prov/internal/nickel/source"
)

func str1(name string, f func(string) eval.Value) *eval.Builtin {
	return builtin(name, 1, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
		return f(m.Str(a[0], name, at))
	})
}

// emojiClass approximates the Unicode Emoji property, which Go's regexp lacks.
const emojiClass = `[#*0-9\x{A9}\x{AE}\x{203C}\x{2049}\x{2122}\x{2139}\x{2194}-\x{21AA}\x{231A}-\x{23FF}` +
	`\x{24C2}\x{25AA}-\x{27BF}\x{2934}\x{2935}\x{2B05}-\x{2B55}\x{3030}\x{303D}\x{3297}\x{3299}\x{1F000}-\x{1FAFF}]`

// boundaries returns the byte offsets of grapheme cluster boundaries in s.
func boundaries(s string) map[int]bool {
	b := map[int]bool{0: true, len(s): true}
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		from, to := g.Positions()
		b[from], b[to] = true, true
	}
	return b
}

// matches returns the regexp matches of re in s that start and end on character boundaries.
func matches(re *regexp.Regexp, s string, n int) [][]int {
	var out [][]int
	b := boundaries(s)
	for _, loc := range re.FindAllStringSubmatchIndex(s, -1) {
		if b[loc[0]] && b[loc[1]] {
			out = append(out, loc)
			if n > 0 && len(out) == n {
				break
			}
		}
	}
	return out
}

// compileRegex compiles a Rust-style regular expression; \d is Unicode-aware there.
func compileRegex(re, name string, at source.Span) *regexp.Regexp {
	re = strings.ReplaceAll(re, `\d`, `\p{Nd}`)
	re = strings.ReplaceAll(re, `\p{Emoji}`, emojiClass)
	r, err := regexp.Compile(re)
	if err != nil {
		eval.Failf("EvalError::Other", at, "%s: invalid regular expression: %v", name, err)
	}
	return r
}

func runeIndex(s string, byteOff int) int { return uniseg.GraphemeClusterCount(s[:byteOff]) }

// base64Encoding maps 'Standard, 'UrlSafe, 'NoPad and 'UrlSafeNoPad to encodings.
func base64Encoding(m *eval.Machine, t *eval.Thunk, name string, at source.Span) *base64.Encoding {
	e, ok := m.Force(t).(*eval.Enum)
	if ok {
		switch e.Tag {
		case "Standard":
			return base64.StdEncoding
		case "UrlSafe":
			return base64.URLEncoding
		case "NoPad":
			return base64.RawStdEncoding
		case "UrlSafeNoPad":
			return base64.RawURLEncoding
		}
	}
	eval.Failf("EvalError::BlameError", at, "contract broken by the caller of `%s`: expected 'Standard, 'UrlSafe, 'NoPad or 'UrlSafeNoPad", eval.ShortName(name))
	return nil
}

// indexGraphemes finds needle in hay from position from, comparing whole grapheme clusters.
func indexGraphemes(hay, needle []string, from int) int {
	for i := from; i+len(needle) <= len(hay); i++ {
		match := true
		for j := range needle {
			if hay[i+j] != needle[j] {
				match = false
				break
			}
		}
		if match {
			return i
		}
	}
	return -1
}

// splitGraphemes splits hay at each occurrence of sep; an empty sep splits into characters.
func splitGraphemes(hay, sep []string) []string {
	if len(sep) == 0 {
		return hay
	}
	var out []string
	start := 0
	for {
		i := indexGraphemes(hay, sep, start)
		if i < 0 {
			break
		}
		out = append(out, strings.Join(hay[start:i], ""))
		start = i + len(sep)
	}
	if start < len(hay) {
		out = append(out, strings.Join(hay[start:], ""))
	}
	return out
}

// graphemes splits s into extended grapheme clusters, Nickel's notion of characters.
func graphemes(s string) []string {
	var out []string
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		out = append(out, g.Str())
	}
	return out
}

func findResult(s string, loc []int) eval.Value {
	if loc == nil {
		return eval.NewRecord(map[string]*eval.Thunk{
			"matched": eval.Ready(""), "index": eval.Ready(num(-1)), "groups": eval.Ready(&eval.Array{})})
	}
	groups := &eval.Array{}
	for i := 2; i+1 < len(loc); i += 2 {
		g := ""
		if loc[i] >= 0 {
			g = s[loc[i]:loc[i+1]]
		}
		groups.Elems = append(groups.Elems, eval.Ready(g))
	}
	return eval.NewRecord(map[string]*eval.Thunk{
		"matched": eval.Ready(s[loc[0]:loc[1]]), "index": eval.Ready(num(runeIndex(s, loc[0]))), "groups": eval.Ready(groups)})
}

func stringLib() lib {
	return lib{
		"length":    str1("std.string.length", func(s string) eval.Value { return num(uniseg.GraphemeClusterCount(s)) }),
		"uppercase": str1("std.string.uppercase", func(s string) eval.Value { return strings.ToUpper(s) }),
		"lowercase": str1("std.string.lowercase", func(s string) eval.Value { return strings.ToLower(s) }),
		"trim":      str1("std.string.trim", func(s string) eval.Value { return strings.TrimSpace(s) }),
		"characters": str1("std.string.characters", func(s string) eval.Value {
			var vals []eval.Value
			for _, g := range graphemes(s) {
				vals = append(vals, g)
			}
			return arrayOf(vals)
		}),
		"to_number": builtin("std.string.to_number", 1, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			s := m.Str(a[0], "std.string.to_number", at)
			r, ok := eval.ParseNumber(s)
			if !ok {
				eval.Failf("EvalError::Other", at, "std.string.to_number: invalid number literal %q", s)
			}
			return r
		}),
		"to_bool": builtin("std.string.to_bool", 1, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			switch s := m.Str(a[0], "std.string.to_bool", at); s {
			case "true", "True":
				return true
			case "false", "False":
				return false
			default:
				eval.Failf("EvalError::BlameError", at, "contract broken by the caller of `to_bool`: %q is not a boolean literal", s)
			}
			return nil
		}),
		"to_enum": str1("std.string.to_enum", func(s string) eval.Value { return &eval.Enum{Tag: s} }),
		"from_number": builtin("std.string.from_number", 1, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			return eval.FormatNumber(m.Num(a[0], "std.string.from_number", at))
		}),
		"from_bool": builtin("std.string.from_bool", 1, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			if m.Bool(a[0], "std.string.from_bool", at) {
				return "true"
			}
			return "false"
		}),
		"from_enum": builtin("std.string.from_enum", 1, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			e, ok := m.Force(a[0]).(*eval.Enum)
			if !ok || e.Arg != nil {
				eval.Failf("EvalError::BlameError", at, "contract broken by the caller of `from_enum`: expected an enum tag")
			}
			return e.Tag
		}),
		"from": builtin("std.string.from", 1, toString("std.string.from")),
		"join": builtin("std.string.join", 2, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			sep := m.Str(a[0], "std.string.join", at)
			var parts []string
			for _, e := range m.Arr(a[1], "std.string.join", at).Elems {
				parts = append(parts, m.Str(e, "std.string.join", at))
			}
			return strings.Join(parts, sep)
		}),
		"split": builtin("std.string.split", 2, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			sep := graphemes(m.Str(a[0], "std.string.split", at))
			parts := splitGraphemes(graphemes(m.Str(a[1], "std.string.split", at)), sep)
			vals := make([]eval.Value, len(parts))
			for i, p := range parts {
				vals[i] = p
			}
			return arrayOf(vals)
		}),
		"contains": builtin("std.string.contains", 2, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			sub := graphemes(m.Str(a[0], "std.string.contains", at))
			return indexGraphemes(graphemes(m.Str(a[1], "std.string.contains", at)), sub, 0) >= 0
		}),
		"replace": builtin("std.string.replace", 3, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			pat := graphemes(m.Str(a[0], "std.string.replace", at))
			rep := m.Str(a[1], "std.string.replace", at)
			s := graphemes(m.Str(a[2], "std.string.replace", at))
			if len(pat) == 0 {
				return rep + strings.Join(s, rep) + rep
			}
			return strings.Join(splitGraphemes(s, pat), rep)
		}),
		"replace_regex": builtin("std.string.replace_regex", 3, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			re := compileRegex(m.Str(a[0], "std.string.replace_regex", at), "std.string.replace_regex", at)
			rep := m.Str(a[1], "std.string.replace_regex", at)
			s := m.Str(a[2], "std.string.replace_regex", at)
			var b strings.Builder
			last := 0
			for _, loc := range matches(re, s, -1) {
				b.WriteString(s[last:loc[0]])
				b.Write(re.ExpandString(nil, rep, s, loc))
				last = loc[1]
			}
			b.WriteString(s[last:])
			return b.String()
		}),
		"is_match": builtin("std.string.is_match", 2, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			re := compileRegex(m.Str(a[0], "std.string.is_match", at), "std.string.is_match", at)
			// like upstream, a match inside a character (an extended grapheme cluster) does not count
			return len(matches(re, m.Str(a[1], "std.string.is_match", at), 1)) > 0
		}),
		"find": builtin("std.string.find", 2, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			re := compileRegex(m.Str(a[0], "std.string.find", at), "std.string.find", at)
			s := m.Str(a[1], "std.string.find", at)
			var loc []int
			if all := matches(re, s, 1); len(all) > 0 {
				loc = all[0]
			}
			return findResult(s, loc)
		}),
		"find_all": builtin("std.string.find_all", 2, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			re := compileRegex(m.Str(a[0], "std.string.find_all", at), "std.string.find_all", at)
			s := m.Str(a[1], "std.string.find_all", at)
			out := &eval.Array{}
			for _, loc := range matches(re, s, -1) {
				out.Elems = append(out.Elems, eval.Ready(findResult(s, loc)))
			}
			return out
		}),
		"substring": builtin("std.string.substring", 3, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			start := intArg(m, a[0], "std.string.substring", at)
			end := intArg(m, a[1], "std.string.substring", at)
			rs := graphemes(m.Str(a[2], "std.string.substring", at))
			if start < 0 || end > len(rs) || start > end {
				eval.Failf("EvalError::Other", at, "std.string.substring: invalid range [%d, %d) for a string of length %d", start, end, len(rs))
			}
			return strings.Join(rs[start:end], "")
		}),
		"base64_encode": builtin("std.string.base64_encode", 2, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			enc := base64Encoding(m, a[0], "std.string.base64_encode", at)
			return enc.EncodeToString([]byte(m.Str(a[1], "std.string.base64_encode", at)))
		}),
		"base64_decode": builtin("std.string.base64_decode", 2, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			enc := base64Encoding(m, a[0], "std.string.base64_decode", at)
			b, err := enc.DecodeString(m.Str(a[1], "std.string.base64_decode", at))
			if err != nil {
				eval.Failf("EvalError::Other", at, "std.string.base64_decode: %v", err)
			}
			if !utf8.Valid(b) {
				eval.Failf("EvalError::Other", at, "std.string.base64_decode: the decoded data is not valid UTF-8")
			}
			return string(b)
		}),
		"compare": builtin("std.string.compare", 2, func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
			return ordering(strings.Compare(m.Str(a[0], "std.string.compare", at), m.Str(a[1], "std.string.compare", at)))
		}),
	}
}

func ordering(c int) eval.Value {
	switch {
	case c < 0:
		return &eval.Enum{Tag: "Lesser"}
	case c > 0:
		return &eval.Enum{Tag: "Greater"}
	}
	return &eval.Enum{Tag: "Equal"}
}

func toString(name string) fn {
	return func(m *eval.Machine, a []*eval.Thunk, at source.Span) eval.Value {
		switch v := m.Force(a[0]).(type) {
		case string:
			return v
		case *big.Rat:
			return eval.FormatNumber(v)
		case bool:
			if v {
				return "true"
			}
			return "false"
		case nil:
			return "null"
		case *eval.Enum:
			if v.Arg == nil {
				return v.Tag
			}
		}
		eval.Failf("EvalError::BlameError", at, "contract broken by the caller of `%s`: the value cannot be converted to a string", eval.ShortName(name))
		return nil
	}
}
