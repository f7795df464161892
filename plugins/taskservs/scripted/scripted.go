// Package scripted makes a taskserv out of a manifest and shell scripts written as text/template
// files, so that each first-party taskserv in the catalogue is what an operator would read: a manifest
// (name, versions, dependencies, configuration) and install.sh.tmpl, configure.sh.tmpl, check.sh.tmpl and
// remove.sh.tmpl. Every script starts with a shared prelude (lib.sh): POSIX sh with set -eu, $ROOT (the
// server's root, "" on a real server, so "$ROOT/etc/…" is /etc/… there and stays inside a sandbox), and
// helpers that act only when something differs (write_file, apt_install, enable_service, …) and print
// "changed: …" when they do, so that running a script again changes nothing and says so. A line
// "state: KEY=VALUE" of install or configure is recorded in the install's state
// (taskservs.SERVER.NAME.state.KEY), for other resources and outputs to refer to.
package scripted

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"text/template"

	"github.com/provhq/prov/sdk"
)

//go:embed lib.sh
var prelude string

// The scripts a taskserv has; Configure and Remove may be missing.
const (
	Install   = "install"
	Configure = "configure"
	Check     = "check"
	Remove    = "remove"
)

// Scripts lists the scripts in the order Install runs them, then the others.
var Scripts = []string{Install, Configure, Check, Remove}

// Manifest declares a scripted taskserv.
type Manifest struct {
	Name        string
	Category    string
	Description string
	// Versions lists what the taskserv installs; the adapter defaults to the newest.
	Versions     []string
	Dependencies []string
	Conflicts    []string
	Config       map[string]*sdk.Attribute
	// Templates holds NAME.sh.tmpl for each of Scripts it has; install and check are required.
	Templates fs.FS
	// Data returns what the templates need beyond .Name, .Version, .Config and .Server (a role, a
	// package version, a download URL); an error is a diagnostic of the plan and of the install.
	Data func(in Input) (map[string]any, error)
	// Steps describes, for the plan, what installing in does.
	Steps func(in Input, data map[string]any) []string
}

// Input is what a script is rendered from: the install's version, its configuration (defaults
// applied) and the target server's state.
type Input struct {
	Version string
	Config  map[string]any
	Server  map[string]any
}

// New returns the taskserv m declares. It panics when a template is missing or does not parse, as
// sdk.NewTaskservServer panics on a bad declaration: both are programmer errors.
func New(m Manifest) *sdk.Taskserv {
	tmpls, err := parse(m)
	if err != nil {
		panic(fmt.Sprintf("scripted: taskserv %s: %v", m.Name, err))
	}
	run := func(ctx context.Context, t *sdk.Task, script string) (string, error) {
		text, err := render(m, tmpls, script, input(t))
		if err != nil {
			return "", err
		}
		// The script travels on standard input, not in the command line, where another user of the server
		// could read a secret it holds (ps); its own commands get /dev/null.
		r, err := t.RunCommand(ctx, sdk.Command{Command: runScript, Stdin: []byte(text)})
		if err != nil {
			return "", err
		}
		out := string(r.Stdout)
		for _, line := range strings.Split(out, "\n") {
			if c, ok := strings.CutPrefix(line, "changed: "); ok {
				t.Progress(-1, "%s", c)
			}
			if kv, ok := strings.CutPrefix(line, "state: "); ok && script != Check {
				if k, v, ok := strings.Cut(kv, "="); ok && k != "version" && k != "config" {
					t.State[k] = v
				}
			}
		}
		if r.ExitCode != 0 {
			// The last line of the standard error (a script's die) is the summary, the lines before it
			// the detail.
			msg := fmt.Sprintf("%s %s failed (exit code %d)", m.Name, script, r.ExitCode)
			if lines := lastLines(string(r.Stderr), 6); len(lines) > 0 {
				msg += ": " + lines[len(lines)-1]
				if len(lines) > 1 {
					msg += "\n" + strings.Join(lines[:len(lines)-1], "\n")
				}
			}
			return out, errors.New(msg)
		}
		return out, nil
	}
	ts := &sdk.Taskserv{
		Name: m.Name, Category: m.Category, Description: m.Description, Versions: m.Versions,
		Dependencies: m.Dependencies, Conflicts: m.Conflicts, Config: m.Config,
		Plan: func(_ context.Context, t *sdk.Task) ([]string, error) {
			in := input(t)
			data, err := data(m, in)
			if err != nil {
				return nil, err
			}
			if m.Steps == nil {
				return []string{fmt.Sprintf("install %s %s", m.Name, in.Version)}, nil
			}
			return m.Steps(in, data), nil
		},
		Install: func(ctx context.Context, t *sdk.Task) error {
			for _, s := range []string{Install, Configure} {
				if tmpls[s] == nil {
					continue
				}
				if _, err := run(ctx, t, s); err != nil {
					return err
				}
			}
			return nil
		},
		Check: func(ctx context.Context, t *sdk.Task) error {
			_, err := run(ctx, t, Check)
			return err
		},
	}
	if tmpls[Remove] != nil {
		ts.Remove = func(ctx context.Context, t *sdk.Task) error {
			_, err := run(ctx, t, Remove)
			return err
		}
	}
	return ts
}

// runScript runs the script read from standard input in the shell itself. On a real server (working
// directory /) a user other than root runs it through sudo -n, as cloud images log in as ubuntu or
// admin with passwordless sudo; a sandbox runs it as whoever owns the sandbox.
const runScript = `run='script=$(cat) && exec </dev/null && eval "$script"'
if [ "$(id -u)" != 0 ] && [ "$PWD" = / ]; then exec sudo -n /bin/sh -c "$run"; fi
eval "$run"`

// Render returns script (one of Scripts) as it runs for in, prelude included; "" when the taskserv
// has no such script. Tests use it to check every rendering's syntax.
func Render(m Manifest, script string, in Input) (string, error) {
	tmpls, err := parse(m)
	if err != nil {
		return "", err
	}
	if tmpls[script] == nil {
		return "", nil
	}
	return render(m, tmpls, script, in)
}

func parse(m Manifest) (map[string]*template.Template, error) {
	out := map[string]*template.Template{}
	for _, s := range Scripts {
		b, err := fs.ReadFile(m.Templates, s+".sh.tmpl")
		if errors.Is(err, fs.ErrNotExist) && s != Install && s != Check {
			continue
		}
		if err != nil {
			return nil, err
		}
		t, err := template.New(s + ".sh.tmpl").Funcs(funcs).Option("missingkey=error").Parse(string(b))
		if err != nil {
			return nil, err
		}
		out[s] = t
	}
	return out, nil
}

func data(m Manifest, in Input) (map[string]any, error) {
	d := map[string]any{}
	if m.Data != nil {
		extra, err := m.Data(in)
		if err != nil {
			return nil, err
		}
		maps.Copy(d, extra)
	}
	d["Name"], d["Version"], d["Config"], d["Server"] = m.Name, in.Version, in.Config, in.Server
	return d, nil
}

func render(m Manifest, tmpls map[string]*template.Template, script string, in Input) (string, error) {
	d, err := data(m, in)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	b.WriteString(prelude)
	fmt.Fprintf(&b, "\n# %s %s: %s\n", m.Name, in.Version, script)
	if err := tmpls[script].Execute(&b, d); err != nil {
		return "", fmt.Errorf("render %s: %w", script, err)
	}
	return b.String(), nil
}

func input(t *sdk.Task) Input {
	cfg := t.Config.Raw()
	if cfg == nil {
		cfg = map[string]any{}
	}
	srv := t.Server.Raw()
	if srv == nil {
		srv = map[string]any{}
	}
	return Input{Version: t.Version, Config: cfg, Server: srv}
}

// funcs are the template functions: q quotes for the shell, join joins a list, lines turns a list
// into newline-separated text.
var funcs = template.FuncMap{
	"q": func(v any) string { return Quote(fmt.Sprint(v)) },
	"join": func(sep string, v any) string {
		return strings.Join(strs(v), sep)
	},
	"lines": func(v any) string { return strings.Join(strs(v), "\n") },
	"sortedKeys": func(m map[string]any) []string {
		return slices.Sorted(maps.Keys(m))
	},
}

func strs(v any) []string {
	switch l := v.(type) {
	case []string:
		return l
	case []any:
		out := make([]string, len(l))
		for i, x := range l {
			out[i] = fmt.Sprint(x)
		}
		return out
	case nil:
		return nil
	}
	return []string{fmt.Sprint(v)}
}

// Quote quotes s for a POSIX shell.
func Quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// lastLines returns the last n non-empty lines of s.
func lastLines(s string, n int) []string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}
