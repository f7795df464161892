package settings

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/provhq/prov/internal/diag"
)

// EnvVar is the environment variable that chooses the environment when Options.Env is empty.
const EnvVar = "PROVISIONING_ENV"

// FlagOrigin is the Origin of a value given in Options.Flags.
const FlagOrigin = "flag"

// ProjectFile is the project's (and a workspace's) settings file name.
const ProjectFile = "prov.toml"

// UserFile is the user's settings file name, in $XDG_CONFIG_HOME/prov.
const UserFile = "config.user.toml"

// EnvFile returns the settings file name of environment env: config.ENV.toml.
func EnvFile(env string) string { return "config." + env + ".toml" }

var envNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Options say where Load finds its layers.
type Options struct {
	// ProjectDir is the project directory: its prov.toml and config.ENV.toml are read, and it is
	// paths.base unless a layer sets that.
	ProjectDir string
	// WorkspaceDir, when set and not ProjectDir, is a workspace's own directory: its prov.toml and
	// config.ENV.toml override the project's.
	WorkspaceDir string
	// Env is the environment (--env); when empty, PROVISIONING_ENV chooses it.
	Env string
	// Flags are the highest layer: values by key, written as text (lists comma-separated).
	Flags map[string]string
	// UserDir is the directory holding config.user.toml; empty means $XDG_CONFIG_HOME/prov, or
	// $HOME/.config/prov when XDG_CONFIG_HOME is unset (and no user layer when neither is set).
	UserDir string
	// Environ is the process environment as KEY=value pairs; nil means os.Environ().
	Environ []string
	// Now is the clock for {{now.*}}; nil means time.Now.
	Now func() time.Time
}

// Value is one setting's value and where it came from.
type Value struct {
	// Value is a string, int64, bool or []string, after interpolation.
	Value any
	// Origin is the file path or environment variable that set it, DefaultsOrigin or FlagOrigin.
	Origin string
}

// Settings is the merged, interpolated and checked configuration.
type Settings struct {
	values map[string]Value
	env    string
	files  []string
	lines  map[string]map[string][2]int // file → key → line, column
}

// Get returns a key's value.
func (s *Settings) Get(key string) (Value, bool) {
	v, ok := s.values[key]
	return v, ok
}

// Keys returns every key, sorted.
func (s *Settings) Keys() []string { return Known() }

// Env returns the environment that was chosen ("" for none).
func (s *Settings) Env() string { return s.env }

// Files returns the settings files that were read, lowest layer first.
func (s *Settings) Files() []string { return s.files }

// Load reads every layer, merges them, expands interpolations and checks the values. Warnings (unknown
// keys) come back with a usable Settings; on errors the Settings is nil.
func Load(o Options) (*Settings, diag.Diagnostics) {
	var diags diag.Diagnostics
	environ := o.Environ
	if environ == nil {
		environ = os.Environ()
	}
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}

	s := &Settings{values: map[string]Value{}, env: o.Env, lines: map[string]map[string][2]int{}}
	if s.env == "" {
		s.env = env[EnvVar]
	}
	if s.env != "" && !envNameRE.MatchString(s.env) {
		return nil, diags.Append(diag.Errorf("", "environment name %q: use letters, digits, '-' and '_'", s.env))
	}
	for k, v := range defaultVals {
		s.values[k] = Value{Value: v, Origin: DefaultsOrigin}
	}

	set := func(key string, v any, origin string) { s.values[key] = Value{Value: v, Origin: origin} }

	// Files, lowest first.
	userDir := o.UserDir
	if userDir == "" {
		base := env["XDG_CONFIG_HOME"]
		if base == "" && env["HOME"] != "" {
			base = filepath.Join(env["HOME"], ".config")
		}
		if base != "" {
			userDir = filepath.Join(base, "prov")
		}
	}
	var files []string
	if userDir != "" {
		files = append(files, filepath.Join(userDir, UserFile))
	}
	dirs := []string{o.ProjectDir}
	if o.WorkspaceDir != "" && filepath.Clean(o.WorkspaceDir) != filepath.Clean(o.ProjectDir) {
		dirs = append(dirs, o.WorkspaceDir)
	}
	for _, d := range dirs {
		files = append(files, filepath.Join(d, ProjectFile))
	}
	envFound := false
	for _, d := range dirs {
		if s.env != "" {
			files = append(files, filepath.Join(d, EnvFile(s.env)))
		}
	}
	for _, f := range files {
		vals, lines, ds, err := readFile(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			diags = diags.Append(diag.Diagnostic{Severity: diag.Error, Summary: err.Error(), Pos: diag.Pos{File: f}})
			continue
		}
		if s.env != "" && filepath.Base(f) == EnvFile(s.env) {
			envFound = true
		}
		s.files = append(s.files, f)
		s.lines[f] = lines
		diags = diags.Append(ds...)
		for k, v := range vals {
			set(k, v, f)
		}
	}
	if s.env != "" && !envFound {
		diags = diags.Append(diag.Diagnostic{Severity: diag.Error,
			Summary: fmt.Sprintf("environment %q has no settings file: no %s in %s", s.env, EnvFile(s.env), strings.Join(dirs, " or "))})
	}

	// Environment variables: PROV_* aliases first, so the PROVISIONING_* spelling wins over them.
	aliases := make([]string, 0, len(builtinAlias))
	for name := range builtinAlias {
		aliases = append(aliases, name)
	}
	sort.Strings(aliases)
	for _, name := range aliases {
		if text, ok := env[name]; ok {
			key := builtinAlias[name]
			v, err := parseText(schema[key], text, filepath.ListSeparator)
			if err != nil {
				diags = diags.Append(diag.Diagnostic{Severity: diag.Error, Path: key, Summary: name + ": " + err.Error()})
				continue
			}
			set(key, v, name)
		}
	}
	names := make([]string, 0, len(env))
	for name := range env {
		if strings.HasPrefix(name, "PROVISIONING_") && name != EnvVar {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		key, ok := envNames[name]
		if !ok {
			d := diag.Diagnostic{Severity: diag.Warning, Summary: fmt.Sprintf("environment variable %s names no setting", name)}
			if sug := suggestEnv(name); sug != "" {
				d.Summary += fmt.Sprintf("; did you mean %s?", sug)
			}
			diags = diags.Append(d)
			continue
		}
		v, err := parseText(schema[key], env[name], 0)
		if err != nil {
			diags = diags.Append(diag.Diagnostic{Severity: diag.Error, Path: key, Summary: name + ": " + err.Error()})
			continue
		}
		set(key, v, name)
	}

	// Flags.
	flagKeys := make([]string, 0, len(o.Flags))
	for k := range o.Flags {
		flagKeys = append(flagKeys, k)
	}
	sort.Strings(flagKeys)
	for _, key := range flagKeys {
		kind, ok := schema[key]
		if !ok {
			diags = diags.Append(diag.Diagnostic{Severity: diag.Error, Path: key, Summary: "flag: " + unknownKey(key)})
			continue
		}
		v, err := parseText(kind, o.Flags[key], 0)
		if err != nil {
			diags = diags.Append(diag.Diagnostic{Severity: diag.Error, Path: key, Summary: "flag: " + err.Error()})
			continue
		}
		set(key, v, FlagOrigin)
	}
	if diags.HasErrors() {
		return nil, diags
	}

	if base := s.values["paths.base"]; base.Value == "" {
		dir := o.ProjectDir
		if abs, err := filepath.Abs(dir); err == nil {
			dir = abs
		}
		s.values["paths.base"] = Value{Value: dir, Origin: "project directory"}
	}
	diags = diags.Append(s.interpolate(env, now, o.ProjectDir)...)
	if diags.HasErrors() {
		return nil, diags
	}
	diags = diags.Append(s.check()...)
	if diags.HasErrors() {
		return nil, diags
	}
	return s, diags
}

// readFile parses one TOML layer. A missing file is fs.ErrNotExist; problems inside it are diagnostics.
func readFile(path string) (map[string]any, map[string][2]int, diag.Diagnostics, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, nil, err
	}
	vals, diags := parseLayer(path, data)
	return vals, keyLines(data), diags, nil
}

// pos is where key's value was written: its file, and line and column when known.
func (s *Settings) pos(key string) (diag.Pos, bool) {
	origin := s.values[key].Origin
	lines, ok := s.lines[origin]
	if !ok {
		return diag.Pos{}, false
	}
	lc := lines[key]
	return diag.Pos{File: origin, Line: lc[0], Col: lc[1]}, true
}

// parseLayer decodes a TOML layer into known keys; unknown keys are warnings, wrong types errors.
func parseLayer(path string, data []byte) (map[string]any, diag.Diagnostics) {
	var diags diag.Diagnostics
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		d := diag.Diagnostic{Severity: diag.Error, Summary: "invalid TOML: " + err.Error(), Pos: diag.Pos{File: path}}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			d.Pos.Line, d.Pos.Col = de.Position()
		}
		return nil, diags.Append(d)
	}
	lines := keyLines(data)
	at := func(key string) diag.Pos {
		lc := lines[key]
		return diag.Pos{File: path, Line: lc[0], Col: lc[1]}
	}
	out := map[string]any{}
	sections := make([]string, 0, len(doc))
	for k := range doc {
		sections = append(sections, k)
	}
	sort.Strings(sections)
	for _, section := range sections {
		table, ok := doc[section].(map[string]any)
		if !ok {
			diags = diags.Append(diag.Diagnostic{Severity: diag.Error, Path: section, Pos: at(section),
				Summary: fmt.Sprintf("settings live in [sections]; %q is not a table", section)})
			continue
		}
		keys := make([]string, 0, len(table))
		for k := range table {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			key := section + "." + k
			kind, ok := schema[key]
			if !ok {
				diags = diags.Append(diag.Diagnostic{Severity: diag.Warning, Path: key, Pos: at(key), Summary: unknownKey(key)})
				continue
			}
			v, err := convert(kind, table[k])
			if err != nil {
				diags = diags.Append(diag.Diagnostic{Severity: diag.Error, Path: key, Pos: at(key), Summary: err.Error()})
				continue
			}
			out[key] = v
		}
	}
	return out, diags
}

func suggestEnv(name string) string {
	key := strings.ToLower(strings.TrimPrefix(name, "PROVISIONING_"))
	// The first underscore most likely separates section and key.
	key = strings.Replace(key, "_", ".", 1)
	if s := Suggest(key); s != "" {
		return EnvName(s)
	}
	return ""
}

// ImportEnv turns the text of an environment file (PROVISIONING_*=value lines, optionally prefixed with
// "export ", values optionally quoted, # comments) into setting values by key. Lines that set no known
// setting are warnings that name the file and line; bad values are errors.
func ImportEnv(path string, data []byte) (map[string]any, diag.Diagnostics) {
	var diags diag.Diagnostics
	out := map[string]any{}
	for i, line := range strings.Split(string(data), "\n") {
		pos := diag.Pos{File: path, Line: i + 1}
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		name, text, ok := strings.Cut(line, "=")
		if !ok {
			diags = diags.Append(diag.Diagnostic{Severity: diag.Error, Pos: pos, Summary: "want NAME=value"})
			continue
		}
		name = strings.TrimSpace(name)
		text = unquote(strings.TrimSpace(text))
		if name == EnvVar {
			diags = diags.Append(diag.Diagnostic{Severity: diag.Warning, Pos: pos,
				Summary: fmt.Sprintf("%s chooses the environment (use --env %s); it is not a setting", EnvVar, text)})
			continue
		}
		key, known := envNames[name]
		if !known {
			key, known = builtinAlias[name]
		}
		if !known {
			d := diag.Diagnostic{Severity: diag.Warning, Pos: pos, Summary: fmt.Sprintf("%s names no setting", name)}
			if sug := suggestEnv(name); sug != "" {
				d.Summary += fmt.Sprintf("; did you mean %s?", sug)
			}
			diags = diags.Append(d)
			continue
		}
		var sep rune
		if _, alias := builtinAlias[name]; alias {
			sep = filepath.ListSeparator
		}
		v, err := parseText(schema[key], text, sep)
		if err != nil {
			diags = diags.Append(diag.Diagnostic{Severity: diag.Error, Pos: pos, Path: key, Summary: name + ": " + err.Error()})
			continue
		}
		out[key] = v
	}
	return out, diags
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		inner := s[1 : len(s)-1]
		if s[0] == '"' {
			inner = strings.NewReplacer(`\"`, `"`, `\\`, `\`, `\n`, "\n", `\$`, `$`).Replace(inner)
		}
		return inner
	}
	if i := strings.Index(s, " #"); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	return s
}
