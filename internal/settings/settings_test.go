package settings

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/internal/diag"
)

var fixedNow = func() time.Time { return time.Date(2026, 11, 24, 18, 30, 0, 0, time.UTC) }

type fixture struct {
	user, project, workspace, env map[string]string // file name → content
}

func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// diagStrings renders diagnostics with the temp dir replaced by $TMP.
func diagStrings(ds diag.Diagnostics, tmp string) []string {
	var out []string
	for _, d := range ds {
		s := d.String()
		if tmp != "" {
			s = strings.ReplaceAll(s, tmp, "$TMP")
		}
		out = append(out, s)
	}
	return out
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string // relative to a temp root holding user/, proj/ and proj/ws/
		env     []string
		envName string
		flags   map[string]string
		ws      bool
		want    map[string]Value // checked keys only; origins with $TMP
		diags   []string
	}{
		{
			name: "defaults",
			want: map[string]Value{
				"core.parallelism": {int64(10), DefaultsOrigin},
				"paths.base":       {"$TMP/proj", "project directory"},
				"state.dir":        {"", DefaultsOrigin},
			},
		},
		{
			name: "six layers, each overriding the one below",
			files: map[string]string{
				"user/config.user.toml": "[core]\nparallelism = 2\n[log]\nlevel = 'debug'\npath = 'u.log'\n[nickel]\nbinary = 'u'\n[state]\nlock_timeout = '1s'\n",
				"proj/prov.toml":        "[core]\nparallelism = 3\n[log]\nlevel = 'info'\npath = 'p.log'\n[nickel]\nbinary = 'p'\n",
				"proj/config.prod.toml": "[core]\nparallelism = 4\n[log]\nlevel = 'warn'\n[nickel]\nbinary = 'e'\n",
			},
			envName: "prod",
			env:     []string{"PROVISIONING_CORE_PARALLELISM=5", "PROVISIONING_NICKEL_BINARY=v"},
			flags:   map[string]string{"core.parallelism": "6"},
			want: map[string]Value{
				"core.parallelism":   {int64(6), FlagOrigin},
				"nickel.binary":      {"v", "PROVISIONING_NICKEL_BINARY"},
				"log.level":          {"warn", "$TMP/proj/config.prod.toml"},
				"log.path":           {"p.log", "$TMP/proj/prov.toml"},
				"state.lock_timeout": {"1s", "$TMP/user/config.user.toml"},
			},
		},
		{
			name: "workspace prov.toml overrides the project's",
			files: map[string]string{
				"proj/prov.toml":    "[core]\nparallelism = 3\n[state]\ndir = 'st'\n",
				"proj/ws/prov.toml": "[core]\nparallelism = 7\n",
			},
			ws: true,
			want: map[string]Value{
				"core.parallelism": {int64(7), "$TMP/proj/ws/prov.toml"},
				"state.dir":        {"st", "$TMP/proj/prov.toml"},
			},
		},
		{
			name:  "PROVISIONING_ENV chooses the environment; PROV_ aliases lose to PROVISIONING_",
			files: map[string]string{"proj/config.test.toml": "[log]\npath = 'test.log'\n"},
			env:   []string{"PROVISIONING_ENV=test", "PROV_LOG=trace", "PROV_NICKEL=/opt/nickel", "PROVISIONING_NICKEL_BINARY=nickel", "PROV_PLUGIN_PATH=/a:/b"},
			want: map[string]Value{
				"log.path":      {"test.log", "$TMP/proj/config.test.toml"},
				"log.level":     {"trace", "PROV_LOG"},
				"nickel.binary": {"nickel", "PROVISIONING_NICKEL_BINARY"},
				"plugins.path":  {[]string{"/a", "/b"}, "PROV_PLUGIN_PATH"},
			},
		},
		{
			name: "interpolation",
			files: map[string]string{
				"proj/prov.toml": "[log]\npath = '{{paths.base}}/logs/{{now.date}}-{{git.branch}}.log'\n" +
					"[nickel]\nbinary = '{{env.HOME}}/bin/nickel'\n[plugins]\npath = ['{{log.path}}.d', 'x{{core.parallelism}}']\n",
				"proj/.git/HEAD": "ref: refs/heads/feature/x\n",
			},
			env: []string{"HOME=/home/op"},
			want: map[string]Value{
				"log.path":      {"$TMP/proj/logs/2026-11-24-feature/x.log", "$TMP/proj/prov.toml"},
				"nickel.binary": {"/home/op/bin/nickel", "$TMP/proj/prov.toml"},
				"plugins.path":  {[]string{"$TMP/proj/logs/2026-11-24-feature/x.log.d", "x10"}, "$TMP/proj/prov.toml"},
			},
		},
		{
			name:  "a relative paths.base is relative to the project directory",
			files: map[string]string{"proj/prov.toml": "[paths]\nbase = 'infra'\n[log]\npath = '{{paths.base}}/x.log'\n"},
			want: map[string]Value{
				"paths.base": {"$TMP/proj/infra", "$TMP/proj/prov.toml"},
				"log.path":   {"$TMP/proj/infra/x.log", "$TMP/proj/prov.toml"},
			},
		},
		{
			name:  "list values from the environment",
			env:   []string{`PROVISIONING_PLUGINS_TRUSTED_KEYS=["k1", "k2"]`, "PROVISIONING_SECRETS_AGE_RECIPIENTS=age1a, age1b"},
			flags: map[string]string{"state.encryption_migrate": "true"},
			want: map[string]Value{
				"plugins.trusted_keys":     {[]string{"k1", "k2"}, "PROVISIONING_PLUGINS_TRUSTED_KEYS"},
				"secrets.age_recipients":   {[]string{"age1a", "age1b"}, "PROVISIONING_SECRETS_AGE_RECIPIENTS"},
				"state.encryption_migrate": {true, FlagOrigin},
			},
		},
		{
			name:  "unknown keys are warnings with suggestions",
			files: map[string]string{"proj/prov.toml": "[core]\nparalelism = 4\n[log]\nlevl = 'x'\n[zzz]\nqqqqqqqq = 1\n"},
			env:   []string{"PROVISIONING_CORE_PARALLELISIM=3"},
			want:  map[string]Value{"core.parallelism": {int64(10), DefaultsOrigin}},
			diags: []string{
				`$TMP/proj/prov.toml:2:1: warning: core.paralelism: unknown setting "core.paralelism"; did you mean "core.parallelism"?`,
				`$TMP/proj/prov.toml:4:1: warning: log.levl: unknown setting "log.levl"; did you mean "log.level"?`,
				`$TMP/proj/prov.toml:6:1: warning: zzz.qqqqqqqq: unknown setting "zzz.qqqqqqqq"`,
				`warning: environment variable PROVISIONING_CORE_PARALLELISIM names no setting; did you mean PROVISIONING_CORE_PARALLELISM?`,
			},
		},
		{
			name:  "wrong types and bad values",
			files: map[string]string{"proj/prov.toml": "[core]\nparallelism = 'ten'\n[plugins]\npath = [1]\nloose = 1\n"},
			env:   []string{"PROVISIONING_STATE_ENCRYPTION_MIGRATE=maybe"},
			diags: []string{
				`$TMP/proj/prov.toml:2:1: error: core.parallelism: want an integer, found a string`,
				`$TMP/proj/prov.toml:5:1: warning: plugins.loose: unknown setting "plugins.loose"`,
				`$TMP/proj/prov.toml:4:1: error: plugins.path: want a list of strings, found an integer in it`,
				`error: state.encryption_migrate: PROVISIONING_STATE_ENCRYPTION_MIGRATE: want true or false, found "maybe"`,
			},
		},
		{
			name:  "checked values",
			files: map[string]string{"proj/prov.toml": "[core]\nparallelism = 0\n[log]\nlevel = 'loud'\n[state]\nbackend = 's3'\nlock_timeout = 'soon'\n"},
			env:   []string{"PROVISIONING_ORCHESTRATOR_ADDRESS=nowhere"},
			diags: []string{
				`$TMP/proj/prov.toml:2:1: error: core.parallelism: must be at least 1, found 0`,
				`$TMP/proj/prov.toml:4:1: error: log.level: must be one of trace, debug, info, warn, error, off, found "loud"`,
				`$TMP/proj/prov.toml:6:1: error: state.backend: unsupported backend "s3"; supported: local`,
				`$TMP/proj/prov.toml:7:1: error: state.lock_timeout: must be a duration such as "30s" or "2m", found "soon"`,
				`error: orchestrator.address: must be host:port, found "nowhere" (set by PROVISIONING_ORCHESTRATOR_ADDRESS)`,
			},
		},
		{
			name: "interpolation cycle and unknown names name the key and file",
			files: map[string]string{"proj/prov.toml": "[log]\npath = '{{nickel.binary}}'\n[nickel]\nbinary = '{{log.path}}'\n" +
				"[orchestrator]\naddress = '{{env.NOPE}}:1'\n[state]\ndir = '{{state.dri}}'\n"},
			flags: map[string]string{"secrets.age_recipients": "{{now.tomorrow}}"},
			diags: []string{
				`$TMP/proj/prov.toml:2:1: error: log.path: interpolation cycle: log.path → nickel.binary → log.path`,
				`$TMP/proj/prov.toml:6:1: error: orchestrator.address: {{env.NOPE}}: environment variable NOPE is not set`,
				`error: secrets.age_recipients: {{now.tomorrow}}: unknown name; {{now.date}} and {{now.timestamp}} are known (set by flag)`,
				`$TMP/proj/prov.toml:8:1: error: state.dir: {{state.dri}}: unknown name; did you mean {{state.dir}}?`,
			},
		},
		{
			name:  "git branch outside a repository",
			files: map[string]string{"proj/prov.toml": "[log]\npath = '{{git.branch}}'\n"},
			diags: []string{`$TMP/proj/prov.toml:2:1: error: log.path: {{git.branch}}: $TMP/proj is not inside a git repository`},
		},
		{
			name:    "missing environment file",
			envName: "staging",
			diags:   []string{`error: environment "staging" has no settings file: no config.staging.toml in $TMP/proj`},
		},
		{
			name:  "unknown flag",
			flags: map[string]string{"core.paralelism": "1"},
			diags: []string{`error: core.paralelism: flag: unknown setting "core.paralelism"; did you mean "core.parallelism"?`},
		},
		{
			name:  "invalid TOML has a position",
			files: map[string]string{"proj/prov.toml": "[core]\nparallelism = = 3\n"},
			diags: []string{`$TMP/proj/prov.toml:2:15: error: invalid TOML: toml: unexpected character U+003D '=' at start of value`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			if !strings.Contains(tt.name, "git branch outside") {
				// Keep the test's own repository (if any) from answering {{git.branch}}.
				write(t, tmp, map[string]string{".git/HEAD": "ref: refs/heads/outer\n"})
			} else {
				tmp = t.TempDir()
				if _, err := GitBranch(tmp); err == nil {
					t.Skip("temp dir is inside a git repository")
				}
			}
			write(t, tmp, tt.files)
			o := Options{
				ProjectDir: filepath.Join(tmp, "proj"),
				Env:        tt.envName,
				Flags:      tt.flags,
				UserDir:    filepath.Join(tmp, "user"),
				Environ:    append([]string{}, tt.env...),
				Now:        fixedNow,
			}
			if tt.ws {
				o.WorkspaceDir = filepath.Join(tmp, "proj", "ws")
			}
			os.MkdirAll(o.ProjectDir, 0o755)
			s, diags := Load(o)
			if diff := cmp.Diff(tt.diags, diagStrings(diags, tmp)); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
			if diags.HasErrors() {
				if s != nil {
					t.Errorf("Load returned settings with errors")
				}
				return
			}
			got := map[string]Value{}
			for k := range tt.want {
				v, ok := s.Get(k)
				if !ok {
					t.Fatalf("Get(%q) not found", k)
				}
				if str, ok := v.Value.(string); ok {
					v.Value = strings.ReplaceAll(str, tmp, "$TMP")
				}
				if l, ok := v.Value.([]string); ok {
					for i := range l {
						l[i] = strings.ReplaceAll(l[i], tmp, "$TMP")
					}
				}
				v.Origin = strings.ReplaceAll(v.Origin, tmp, "$TMP")
				got[k] = v
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTyped(t *testing.T) {
	tmp := t.TempDir()
	write(t, tmp, map[string]string{"prov.toml": `
[core]
parallelism = 32
[log]
level = "DEBUG"
path = "logs/prov.log"
[nickel]
binary = "bin/nickel"
[plugins]
path = ["plugins", "/opt/prov"]
trusted_keys = ["k"]
[state]
dir = "st"
lock_timeout = "90s"
encryption_identity_file = "keys/state.txt"
[secrets]
age_recipients = ["age1xyz"]
[orchestrator]
address = "0.0.0.0:9000"
`})
	s, diags := Load(Options{ProjectDir: tmp, UserDir: filepath.Join(tmp, "none"), Environ: []string{}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	type typed struct {
		Parallelism  int
		Level, Log   string
		Nickel       string
		Plugins      []string
		Trusted      []string
		State        StateBackend
		LockTimeout  time.Duration
		Enc          Encryption
		EncEnabled   bool
		SecretsRecp  []string
		Orchestrator string
	}
	got := typed{s.Parallelism(), s.LogLevel(), s.LogPath(), s.NickelBinary(), s.PluginPaths(), s.TrustedKeys(),
		s.State(), s.LockTimeout(), s.StateEncryption(), s.StateEncryption().Enabled(), s.SecretsRecipients(), s.OrchestratorAddress()}
	want := typed{32, "debug", filepath.Join(tmp, "logs/prov.log"), filepath.Join(tmp, "bin/nickel"),
		[]string{filepath.Join(tmp, "plugins"), "/opt/prov"}, []string{"k"},
		StateBackend{Type: "local", Dir: "st"}, 90 * time.Second,
		Encryption{Recipients: []string{}, IdentityFile: filepath.Join(tmp, "keys/state.txt")}, true,
		[]string{"age1xyz"}, "0.0.0.0:9000"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("typed accessors (-want +got):\n%s", diff)
	}
}

func TestImportEnv(t *testing.T) {
	in := `# exported from the old setup
export PROVISIONING_CORE_PARALLELISM=12
PROVISIONING_LOG_PATH="/var/log/prov.log"
PROVISIONING_PLUGINS_PATH='a,b'
PROVISIONING_ENV=prod
PROVISIONING_STATE_LOCKTIMEOUT=5s
PROV_NICKEL=/usr/bin/nickel  # real one
PROVISIONING_CORE_PARALLELISM_X
`
	vals, diags := ImportEnv("old.env", []byte(in))
	wantDiags := []string{
		"old.env:5: warning: PROVISIONING_ENV chooses the environment (use --env prod); it is not a setting",
		"old.env:6: warning: PROVISIONING_STATE_LOCKTIMEOUT names no setting; did you mean PROVISIONING_STATE_LOCK_TIMEOUT?",
		"old.env:8: error: want NAME=value",
	}
	if diff := cmp.Diff(wantDiags, diagStrings(diags, "")); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
	want := `[core]
parallelism = 12

[log]
path = "/var/log/prov.log"

[nickel]
binary = "/usr/bin/nickel"

[plugins]
path = ["a", "b"]
`
	if diff := cmp.Diff(want, string(FormatTOML(vals, nil))); diff != "" {
		t.Errorf("TOML (-want +got):\n%s", diff)
	}
}

func TestFormatRoundTrip(t *testing.T) {
	vals := map[string]any{
		"log.path":                 "quote\" back\\ tab\t nl\n é",
		"core.parallelism":         int64(3),
		"plugins.path":             []string{"a", `b"c`},
		"state.encryption_migrate": true,
	}
	got, diags := parseLayer("x.toml", FormatTOML(vals, map[string]string{"log.path": "a comment"}))
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	if diff := cmp.Diff(vals, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestDefaultsDocumentEveryKey(t *testing.T) {
	// Every key in the defaults file is preceded by a comment line saying what it is.
	lines := strings.Split(string(defaultsTOML), "\n")
	for i, l := range lines {
		if strings.Contains(l, " = ") && !strings.HasPrefix(l, "#") {
			if i == 0 || !strings.HasPrefix(lines[i-1], "#") {
				t.Errorf("config.defaults.toml line %d: %q has no comment above it", i+1, l)
			}
		}
	}
}
