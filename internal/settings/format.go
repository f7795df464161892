package settings

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// FormatTOML writes values (by key; string, int64, bool or []string) as a TOML document, one
// [section] per section, sections and keys sorted. When comments is not nil, a key's comment (its
// origin, say) follows its value.
func FormatTOML(values map[string]any, comments map[string]string) []byte {
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i := 0; i < len(keys); {
		sec, _, _ := strings.Cut(keys[i], ".")
		j := i
		for j < len(keys) && strings.HasPrefix(keys[j], sec+".") {
			j++
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "[%s]\n", tomlKey(sec))
		// Comments line up within a section.
		lines := make([]string, j-i)
		width := 0
		for n, key := range keys[i:j] {
			_, name, _ := strings.Cut(key, ".")
			lines[n] = tomlKey(name) + " = " + FormatValue(values[key])
			width = max(width, utf8.RuneCountInString(lines[n]))
		}
		for n, key := range keys[i:j] {
			b.WriteString(lines[n])
			if c := comments[key]; c != "" {
				b.WriteString(strings.Repeat(" ", width-utf8.RuneCountInString(lines[n])))
				b.WriteString("  # ")
				b.WriteString(c)
			}
			b.WriteByte('\n')
		}
		i = j
	}
	return []byte(b.String())
}

// FormatValue writes one value in TOML syntax.
func FormatValue(v any) string {
	switch x := v.(type) {
	case string:
		return tomlString(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		return strconv.FormatBool(x)
	case []string:
		parts := make([]string, len(x))
		for i, s := range x {
			parts[i] = tomlString(s)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	panic(fmt.Sprintf("settings: FormatValue of %T", v))
}

func tomlKey(k string) string {
	for _, r := range k {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return tomlString(k)
		}
	}
	return k
}

// tomlString writes a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f || r == utf8.RuneError:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
