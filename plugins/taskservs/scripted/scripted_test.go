package scripted_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ssh"

	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/plugins/host"
	"github.com/provhq/prov/plugins/taskserv/sshexec"
	"github.com/provhq/prov/plugins/taskserv/sshexec/sshtest"
	"github.com/provhq/prov/plugins/taskservs/scripted"
	"github.com/provhq/prov/sdk"
)

// manifest is a taskserv whose scripts report how they ran into $OUT.
func manifest(install string) scripted.Manifest {
	return scripted.Manifest{
		Name: "probe", Category: "test", Versions: []string{"1.0.0"},
		Config: map[string]*sdk.Attribute{"secret": {Type: sdk.String, Optional: true, Default: "", Sensitive: true}},
		Templates: fstest.MapFS{
			"install.sh.tmpl": {Data: []byte(install)},
			"check.sh.tmpl":   {Data: []byte(`[ -f "$OUT" ] || die "nothing ran"` + "\n")},
		},
	}
}

func TestRun(t *testing.T) {
	tests := []struct {
		name    string
		install string
		want    string // what the script wrote to $OUT
		wantErr string
	}{
		{"prelude and data", `printf '%s|%s|%s\n' {{q .Name}} {{q .Version}} "$ROOT" >"$OUT"; changed "wrote"`, "probe|1.0.0|$ROOT\n", ""},
		{"stdin is empty", `cat >"$OUT"`, "", ""},
		{"secret not in the command line", `ps -o args= -p $$ >"$OUT"; echo {{q .Config.secret}} >/dev/null`, "script", ""},
		{"failure", "echo step one; echo oops >&2; exit 3", "", "probe install failed (exit code 3): oops"},
		{"set -e", "false\necho unreachable >\"$OUT\"", "", "probe install failed (exit code 1)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			out := filepath.Join(t.TempDir(), "out")
			ts := sdk.NewTaskservServer(scripted.New(manifest(tc.install)))
			x := &host.LocalExec{Dir: root, Env: map[string]string{"OUT": out}}
			var progress []string
			res, err := ts.Install(context.Background(), plugins.TaskservRequest{Version: "1.0.0", Server: map[string]any{},
				Config: map[string]any{"secret": "hunter2"}}, x, func(p plugins.Progress) { progress = append(progress, p.Message) })
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != "" {
				if len(res.Diagnostics) != 1 || res.Diagnostics[0].Summary != tc.wantErr {
					t.Fatalf("diagnostics = %#v; want %q", res.Diagnostics, tc.wantErr)
				}
				return
			}
			if res.Diagnostics.HasErrors() {
				t.Fatal(res.Diagnostics)
			}
			b, _ := os.ReadFile(out)
			got := strings.ReplaceAll(string(b), root, "$ROOT")
			if tc.want == "script" {
				if strings.Contains(got, "hunter2") || got == "" {
					t.Fatalf("the script's command line is %q", got)
				}
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
			if tc.name == "prelude and data" && !cmp.Equal([]string{"wrote"}, progress) {
				t.Errorf("progress = %q", progress)
			}
		})
	}
}

// TestSudo: on a real server (root /) a user other than root runs the scripts through sudo -n.
func TestSudo(t *testing.T) {
	bin, out := t.TempDir(), filepath.Join(t.TempDir(), "out")
	stubs := map[string]string{
		"sudo": "#!/bin/sh\necho \"sudo $1\" >>\"$OUT\"\nshift\nexec \"$@\"\n",
		"id":   "#!/bin/sh\necho 1000\n", // whoever runs the test, the login user is not root
	}
	for name, text := range stubs {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	id, signer := sshtest.IdentityFile(t, "")
	srv := sshtest.Start(t, sshtest.Options{Authorized: []ssh.PublicKey{signer.PublicKey()},
		Env: []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "OUT=" + out}})
	pool := sshexec.NewPool(sshexec.Options{IdentityFiles: []string{id}, KnownHosts: filepath.Join(t.TempDir(), "kh"),
		StrictHostKeyChecking: sshexec.AcceptNew})
	t.Cleanup(func() { _ = pool.Close() })
	x := pool.Exec(sshexec.Target{Name: "box", Host: srv.Host, Port: srv.Port, User: "ubuntu"})
	ts := sdk.NewTaskservServer(scripted.New(manifest(`echo "in [$PWD] root [$ROOT]" >>"$OUT"`)))
	res, err := ts.Install(context.Background(), plugins.TaskservRequest{Version: "1.0.0", Config: map[string]any{}, Server: map[string]any{}}, x, nil)
	if err != nil || res.Diagnostics.HasErrors() {
		t.Fatalf("install: %v %v", err, res.Diagnostics)
	}
	b, _ := os.ReadFile(out)
	if diff := cmp.Diff("sudo -n\nin [/] root []\n", string(b)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestRender(t *testing.T) {
	m := manifest("echo {{q .Config.secret}}\n")
	got, err := scripted.Render(m, scripted.Install, scripted.Input{Version: "1.0.0", Config: map[string]any{"secret": "it's"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(got, "\n# probe 1.0.0: install\necho 'it'\\''s'\n") || !strings.Contains(got, "set -eu") {
		t.Errorf("render = %q", got)
	}
	if got, err := scripted.Render(m, scripted.Remove, scripted.Input{}); got != "" || err != nil {
		t.Errorf("a missing script renders as %q, %v; want nothing", got, err)
	}
	if _, err := scripted.Render(m, scripted.Install, scripted.Input{Config: map[string]any{}}); err == nil {
		t.Error("a missing configuration key rendered")
	}
}
