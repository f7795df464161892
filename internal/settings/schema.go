package settings

import (
	_ "embed"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/provhq/prov/internal/suggest"
)

//go:embed config.defaults.toml
var defaultsTOML []byte

// DefaultsOrigin is the Origin of a value that no layer above the built-in defaults set.
const DefaultsOrigin = "config.defaults.toml (built-in)"

// Kind is the type of a setting, taken from its default.
type Kind int

// The kinds of settings.
const (
	String Kind = iota
	Int
	Bool
	List // a list of strings
)

// String names the kind in messages ("integer", "list of strings").
func (k Kind) String() string {
	return [...]string{"string", "integer", "boolean", "list of strings"}[k]
}

// schema maps every known key to its kind; built once from the embedded defaults.
var (
	schema       map[string]Kind
	defaultVals  map[string]any
	envNames     map[string]string // PROVISIONING_SECTION_KEY → section.key
	sortedKeys   []string
	builtinAlias = map[string]string{ // DESIGN's PROV_* variables, read in the environment layer too
		"PROV_LOG":         "log.level",
		"PROV_LOG_PATH":    "log.path",
		"PROV_NICKEL":      "nickel.binary",
		"PROV_PLUGIN_PATH": "plugins.path",
	}
)

func init() {
	var doc map[string]any
	if err := toml.Unmarshal(defaultsTOML, &doc); err != nil {
		panic("settings: embedded config.defaults.toml: " + err.Error())
	}
	schema = map[string]Kind{}
	defaultVals = map[string]any{}
	envNames = map[string]string{}
	for section, body := range doc {
		table, ok := body.(map[string]any)
		if !ok {
			panic("settings: embedded config.defaults.toml: top-level key " + section + " is not a table")
		}
		for k, v := range table {
			key := section + "." + k
			var kind Kind
			switch v.(type) {
			case string:
				kind = String
			case int64:
				kind = Int
			case bool:
				kind = Bool
			case []any:
				kind = List
			default:
				panic(fmt.Sprintf("settings: embedded config.defaults.toml: %s has unsupported type %T", key, v))
			}
			val, err := convert(kind, v)
			if err != nil {
				panic("settings: embedded config.defaults.toml: " + key + ": " + err.Error())
			}
			schema[key] = kind
			defaultVals[key] = val
			envNames[EnvName(key)] = key
			sortedKeys = append(sortedKeys, key)
		}
	}
	sort.Strings(sortedKeys)
}

// Known returns every key prov knows, sorted.
func Known() []string { return slices.Clone(sortedKeys) }

// KindOf returns the kind of a known key.
func KindOf(key string) (Kind, bool) {
	k, ok := schema[key]
	return k, ok
}

// EnvName is the environment variable that sets key: PROVISIONING_ and the key upper-cased with dots
// as underscores ("state.lock_timeout" → PROVISIONING_STATE_LOCK_TIMEOUT).
func EnvName(key string) string {
	return "PROVISIONING_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// KeyForEnv returns the key an environment variable name sets, if it names one.
func KeyForEnv(name string) (string, bool) {
	k, ok := envNames[name]
	return k, ok
}

// convert checks a decoded TOML value against kind and returns it in canonical form: string, int64,
// bool or []string.
func convert(kind Kind, v any) (any, error) {
	switch kind {
	case String:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case Int:
		if n, ok := v.(int64); ok {
			return n, nil
		}
	case Bool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case List:
		if l, ok := v.([]any); ok {
			out := make([]string, 0, len(l))
			for _, e := range l {
				s, ok := e.(string)
				if !ok {
					return nil, fmt.Errorf("want a list of strings, found %s in it", tomlType(e))
				}
				out = append(out, s)
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("want %s, found %s", [...]string{"a string", "an integer", "a boolean", "a list of strings"}[kind], tomlType(v))
}

// parseText reads a value written as text (an environment variable, a flag, an import-env line). Lists
// are a TOML array ("[\"a\", \"b\"]") or comma-separated; sep, when not 0, is a further separator
// (PROV_PLUGIN_PATH uses the OS path-list separator).
func parseText(kind Kind, s string, sep rune) (any, error) {
	switch kind {
	case String:
		return s, nil
	case Int:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("want an integer, found %q", s)
		}
		return n, nil
	case Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("want true or false, found %q", s)
		}
		return b, nil
	}
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "[") {
		var doc struct{ V []any }
		if err := toml.Unmarshal([]byte("V = "+t), &doc); err != nil {
			return nil, fmt.Errorf("want a TOML array of strings, found %q", s)
		}
		return convert(List, doc.V)
	}
	out := []string{}
	if t == "" {
		return out, nil
	}
	for _, e := range strings.FieldsFunc(t, func(r rune) bool { return r == ',' || (sep != 0 && r == sep) }) {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out, nil
}

func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	}
	return fmt.Sprintf("a %T", v)
}

// Suggest returns the known key closest to an unknown one, or "" when none is close.
func Suggest(key string) string {
	best, bestD := "", 0
	for _, k := range sortedKeys {
		d := suggest.Distance(key, k)
		if best == "" || d < bestD {
			best, bestD = k, d
		}
	}
	// A misplaced key ("core.level" for "log.level") is as good as a typo.
	if _, name, ok := strings.Cut(key, "."); ok {
		for _, k := range sortedKeys {
			if _, kn, _ := strings.Cut(k, "."); kn == name && bestD > 1 {
				best, bestD = k, 1
			}
		}
	}
	if best == "" || bestD > max(2, len(key)/3) {
		return ""
	}
	return best
}

func unknownKey(key string) string {
	if s := Suggest(key); s != "" {
		return fmt.Sprintf("unknown setting %q; did you mean %q?", key, s)
	}
	return fmt.Sprintf("unknown setting %q", key)
}
