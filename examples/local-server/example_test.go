package localserver_test

// End-to-end test of examples/local-server through the built prov binary: init locks the motd
// taskserv, apply makes the sandbox server and installs motd on it, a second plan has nothing to do,
// drift (the file edited by hand) is found by the health check and repaired, a new message is an update
// in place, and destroy removes the file.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// provBin is the prov binary under test, built once by TestMain.
var provBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "prov-local-server-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	provBin = filepath.Join(dir, "prov")
	if out, err := exec.Command("go", "build", "-o", provBin, "github.com/provhq/prov/cli/prov").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build prov: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// project is a copy of the example in a temporary directory, with a private home.
type project struct {
	t   *testing.T
	dir string
	env []string
}

func newProject(t *testing.T) *project {
	t.Helper()
	dir, home := t.TempDir(), t.TempDir()
	src, err := os.ReadFile("main.ncl")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.ncl"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"NO_COLOR=1", "HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"XDG_DATA_HOME=" + filepath.Join(home, "data"), "XDG_CACHE_HOME=" + filepath.Join(home, "cache")}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if name != "HOME" && name != "NO_COLOR" && !strings.HasPrefix(name, "XDG_") && !strings.HasPrefix(name, "PROV_") {
			env = append(env, kv)
		}
	}
	return &project{t: t, dir: dir, env: env}
}

// run runs prov and fails the test unless it exits with want; it returns stdout and stderr together.
func (p *project) run(want int, args ...string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, provBin, args...)
	cmd.Dir, cmd.Env, cmd.WaitDelay = p.dir, p.env, 5*time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		p.t.Fatalf("prov %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != want {
		p.t.Fatalf("prov %s: exit %d, want %d\n%s", strings.Join(args, " "), code, want, out.String())
	}
	return out.String()
}

// motd is the installed file's content, "" when it does not exist.
func (p *project) motd() string {
	p.t.Helper()
	b, err := os.ReadFile(filepath.Join(p.dir, "sandbox", "etc", "motd"))
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	if err != nil {
		p.t.Fatal(err)
	}
	return string(b)
}

// state returns the addresses in prov.state.json and the install's healthy and version attributes.
func (p *project) state() (addrs []string, install map[string]any) {
	p.t.Helper()
	data, err := os.ReadFile(filepath.Join(p.dir, "prov.state.json"))
	if err != nil {
		p.t.Fatal(err)
	}
	var s struct {
		Resources map[string]struct {
			Type       string         `json:"type"`
			Attributes map[string]any `json:"attributes"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(data, &s); err != nil {
		p.t.Fatal(err)
	}
	for addr, r := range s.Resources {
		addrs = append(addrs, addr+" "+r.Type)
		if addr == "taskservs.box.motd" {
			install = map[string]any{"healthy": r.Attributes["healthy"], "version": r.Attributes["version"]}
		}
	}
	slices.Sort(addrs)
	return addrs, install
}

func TestExample(t *testing.T) {
	p := newProject(t)
	const welcome = "Welcome to box, provisioned by prov.\n"
	steps := []struct {
		name string
		// do changes the world or runs prov; it returns prov's output.
		do func() string
		// wantOut are strings the output has.
		wantOut  []string
		wantMotd string
	}{
		{"init locks the taskserv", func() string { return p.run(0, "init") },
			[]string{"taskserv motd: builtin/motd"}, ""},
		{"plan", func() string { return p.run(2, "plan", "-detailed-exitcode") },
			[]string{"# taskservs.box.motd will be created", "Plan: 2 to add, 0 to change, 0 to destroy."}, ""},
		{"apply", func() string { return p.run(0, "apply", "-auto-approve") },
			[]string{"taskservs.box.motd: wrote etc/motd (100%)", "motd_healthy = true", `motd_version = "1.0.0"`}, welcome},
		{"nothing to do", func() string { return p.run(0, "plan", "-detailed-exitcode") },
			[]string{"No changes."}, welcome},
		{"drift is found", func() string {
			if err := os.WriteFile(filepath.Join(p.dir, "sandbox", "etc", "motd"), []byte("tampered\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			return p.run(2, "plan", "-detailed-exitcode")
		}, []string{"etc/motd was changed outside prov", "# taskservs.box.motd will be updated in-place"}, "tampered\n"},
		{"and repaired", func() string { return p.run(0, "apply", "-auto-approve") },
			[]string{"Resources: 0 added, 1 changed, 0 destroyed."}, welcome},
		{"a new message is an update", func() string {
			src, err := os.ReadFile(filepath.Join(p.dir, "main.ncl"))
			if err != nil {
				t.Fatal(err)
			}
			src = bytes.Replace(src, []byte("Welcome to box"), []byte("Hello from box"), 1)
			if err := os.WriteFile(filepath.Join(p.dir, "main.ncl"), src, 0o644); err != nil {
				t.Fatal(err)
			}
			return p.run(0, "apply", "-auto-approve")
		}, []string{"Resources: 0 added, 1 changed, 0 destroyed."}, "Hello from box, provisioned by prov.\n"},
		{"destroy removes it", func() string { return p.run(0, "destroy", "-auto-approve") },
			[]string{"taskservs.box.motd: Destruction complete", "Resources: 2 destroyed."}, ""},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			out := st.do()
			for _, w := range st.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if diff := cmp.Diff(st.wantMotd, p.motd()); diff != "" {
				t.Errorf("sandbox/etc/motd (-want +got):\n%s", diff)
			}
		})
		if t.Failed() {
			return
		}
		if st.name == "apply" {
			addrs, install := p.state()
			want := []string{"servers.box local_server", "taskservs.box.motd taskserv"}
			if diff := cmp.Diff(want, addrs); diff != "" {
				t.Errorf("state (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(map[string]any{"healthy": true, "version": "1.0.0"}, install); diff != "" {
				t.Errorf("install in the state (-want +got):\n%s", diff)
			}
		}
	}
	if addrs, _ := p.state(); len(addrs) != 0 {
		t.Errorf("state after destroy: %v", addrs)
	}
}
