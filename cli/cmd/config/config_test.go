package config

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/cli/cmdutil"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// clean removes every variable that would leak the machine's settings into a test.
func clean(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "PROVISIONING_") || strings.HasPrefix(k, "PROV_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	now = func() time.Time { return time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC) }
	t.Cleanup(func() { now = time.Now })
}

func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// run executes `prov config ARGS` in dir and returns stdout, stderr (with root replaced by $TMP) and
// the exit code.
func run(t *testing.T, root, dir, env string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	f := &cmdutil.Factory{IO: &cmdutil.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut}, Dir: dir, Env: env}
	cmd := NewCmdConfig(f)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage = true
	cmd.SilenceErrors = true
	err := cmd.Execute()
	if err != nil && err.Error() != "" {
		errOut.WriteString("error: " + err.Error() + "\n")
	}
	r := strings.NewReplacer(root, "$TMP")
	return r.Replace(out.String()), r.Replace(errOut.String()), cmdutil.ExitCode(err)
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", p, diff)
	}
}

// sixLayers sets a project where each of the six layers sets something the layers above it do not.
func sixLayers(t *testing.T) (root, dir string) {
	clean(t)
	root = t.TempDir()
	dir = filepath.Join(root, "proj")
	writeFiles(t, root, map[string]string{
		"xdg/prov/config.user.toml": `# the user's defaults
[core]
parallelism = 2
[log]
level = "debug"
path = "user.log"
[nickel]
binary = "nickel-user"
[state]
lock_timeout = "10s"
encryption_identity_file = "{{env.KEYS}}/state.txt"
`,
		"proj/prov.toml": `[core]
parallelism = 3
[log]
level = "info"
path = "logs/{{now.date}}-{{git.branch}}.log"
[nickel]
binary = "nickel-project"
[orchestrator]
address = "orchestrator.internal:8420"
`,
		"proj/config.prod.toml": `[core]
parallelism = 4
[log]
level = "warn"
[nickel]
binary = "nickel-prod"
`,
		"proj/.git/HEAD": "ref: refs/heads/main\n",
	})
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(root, "xdg"))
	t.Setenv("KEYS", "/etc/prov/keys")
	t.Setenv("PROVISIONING_CORE_PARALLELISM", "5")
	t.Setenv("PROVISIONING_NICKEL_BINARY", "nickel-env")
	return root, dir
}

func TestShowGolden(t *testing.T) {
	tests := []struct {
		name, golden string
		workspace    bool
		args         []string
	}{
		{"origin across six layers", "show-origin.golden", false, []string{"show", "--origin", "--set", "core.parallelism=6"}},
		{"plain TOML", "show.golden", false, []string{"show", "--set", "core.parallelism=6"}},
		{"json", "show-json.golden", false, []string{"show", "--json", "--set", "core.parallelism=6"}},
		{"origin in a workspace", "show-origin-workspace.golden", true, []string{"show", "--origin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, dir := sixLayers(t)
			if tt.workspace {
				// A workspace's own prov.toml and config.prod.toml override the project's.
				writeFiles(t, dir, map[string]string{
					".prov/workspaces/blue/prov.toml":        "[state]\ndir = \"state\"\n[log]\nlevel = \"error\"\n",
					".prov/workspaces/blue/config.prod.toml": "[state]\nlock_timeout = \"1m\"\n",
				})
				t.Setenv("PROV_WORKSPACE", "blue")
			}
			out, errOut, code := run(t, root, dir, "prod", "", tt.args...)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr:\n%s", code, errOut)
			}
			golden(t, tt.golden, out)
		})
	}
}

func TestCommands(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string]string
		env      string
		stdin    string
		args     []string
		wantOut  string
		wantErr  string
		wantCode int
	}{
		{
			name:    "get a string",
			files:   map[string]string{"proj/prov.toml": "[nickel]\nbinary = '/opt/nickel'\n"},
			args:    []string{"get", "nickel.binary"},
			wantOut: "/opt/nickel\n",
		},
		{
			name:    "get a list",
			files:   map[string]string{"proj/prov.toml": "[plugins]\npath = ['/a', 'b']\n"},
			args:    []string{"get", "plugins.path"},
			wantOut: "/a\nb\n",
		},
		{
			name:    "get a flag value",
			args:    []string{"get", "core.parallelism", "--set", "core.parallelism=64"},
			wantOut: "64\n",
		},
		{
			name:     "get an unknown key",
			args:     []string{"get", "core.paralelism"},
			wantErr:  "error: unknown setting \"core.paralelism\"; did you mean \"core.parallelism\"?\n",
			wantCode: 1,
		},
		{
			name:    "validate",
			files:   map[string]string{"proj/prov.toml": "[core]\nparallelism = 3\n"},
			args:    []string{"validate"},
			wantOut: "Success! The settings are valid (prov.toml).\n",
		},
		{
			name:     "validate fails on unknown keys",
			files:    map[string]string{"proj/prov.toml": "[core]\nparalelism = 3\n"},
			args:     []string{"validate"},
			wantErr:  "prov.toml:2:1: warning: core.paralelism: unknown setting \"core.paralelism\"; did you mean \"core.parallelism\"?\n",
			wantCode: 1,
		},
		{
			name:  "validate reports every problem",
			files: map[string]string{"proj/prov.toml": "[core]\nparallelism = -1\n[log]\nlevel = 'chatty'\n", "proj/config.dev.toml": "[state]\nbackend = 'ftp'\n"},
			env:   "dev",
			args:  []string{"validate"},
			wantErr: "prov.toml:2:1: error: core.parallelism: must be at least 1, found -1\n" +
				"prov.toml:4:1: error: log.level: must be one of trace, debug, info, warn, error, off, found \"chatty\"\n" +
				"config.dev.toml:2:1: error: state.backend: unsupported backend \"ftp\"; supported: local\n",
			wantCode: 1,
		},
		{
			name:     "show fails on an interpolation cycle",
			files:    map[string]string{"proj/prov.toml": "[log]\npath = '{{log.path}}/x'\n"},
			args:     []string{"show"},
			wantErr:  "prov.toml:2:1: error: log.path: interpolation cycle: log.path → log.path\n",
			wantCode: 1,
		},
		{
			name:     "bad --set",
			args:     []string{"show", "--set", "core.parallelism"},
			wantErr:  "error: --set \"core.parallelism\": want KEY=VALUE\n",
			wantCode: 1,
		},
		{
			name: "import-env",
			files: map[string]string{"old.env": `export PROVISIONING_CORE_PARALLELISM=16
PROVISIONING_STATE_ENCRYPTION_RECIPIENTS="age1abc,age1def"
PROVISIONING_LOG_LEVL=debug
`},
			args: []string{"import-env", "$TMP/old.env"},
			wantOut: "# Imported from $TMP/old.env by prov config import-env.\n\n" +
				"[core]\nparallelism = 16\n\n[state]\nencryption_recipients = [\"age1abc\", \"age1def\"]\n",
			wantErr: "$TMP/old.env:3: warning: PROVISIONING_LOG_LEVL names no setting; did you mean PROVISIONING_LOG_LEVEL?\n",
		},
		{
			name:     "import-env from stdin with a bad value",
			stdin:    "PROVISIONING_CORE_PARALLELISM=many\n",
			args:     []string{"import-env", "-"},
			wantErr:  "<stdin>:1: error: core.parallelism: PROVISIONING_CORE_PARALLELISM: want an integer, found \"many\"\n",
			wantCode: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clean(t)
			root := t.TempDir()
			t.Setenv("XDG_CONFIG_HOME", filepath.Join(root, "xdg"))
			writeFiles(t, root, tt.files)
			dir := filepath.Join(root, "proj")
			os.MkdirAll(dir, 0o755)
			for i, a := range tt.args {
				tt.args[i] = strings.ReplaceAll(a, "$TMP", root)
			}
			out, errOut, code := run(t, root, dir, tt.env, tt.stdin, tt.args...)
			if diff := cmp.Diff(tt.wantOut, out); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantErr, errOut); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d", code, tt.wantCode)
			}
		})
	}
}
