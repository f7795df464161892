package localserver_test

// End-to-end test of examples/local-server through prov's real command line (this test binary, acting
// as prov): init locks the motd taskserv, apply makes the sandbox server and installs motd on it, a
// second plan has nothing to do, drift (the file edited by hand) is found by the health check and
// repaired, a new message is an update in place, and destroy removes the file.

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/internal/provtest"
)

func TestMain(m *testing.M) { provtest.Main(m) }

// project is a copy of the example in a project of its own.
type project struct{ *provtest.Project }

func newProject(t *testing.T) *project {
	t.Helper()
	p := provtest.NewProject(t, nil)
	p.Example("main.ncl")
	return &project{p}
}

// motd is the installed file's content, "" when it does not exist.
func (p *project) motd() string {
	p.T.Helper()
	b, err := os.ReadFile(filepath.Join(p.Dir, "sandbox", "etc", "motd"))
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	if err != nil {
		p.T.Fatal(err)
	}
	return string(b)
}

// state returns the addresses in prov.state.json and the install's healthy and version attributes.
func (p *project) state() (addrs []string, install map[string]any) {
	p.T.Helper()
	data, err := os.ReadFile(filepath.Join(p.Dir, "prov.state.json"))
	if err != nil {
		p.T.Fatal(err)
	}
	var s struct {
		Resources map[string]struct {
			Type       string         `json:"type"`
			Attributes map[string]any `json:"attributes"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(data, &s); err != nil {
		p.T.Fatal(err)
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
		{"init locks the taskserv", func() string { return p.Run(0, "init") },
			[]string{"taskserv motd: builtin/motd"}, ""},
		{"plan", func() string { return p.Run(2, "plan", "-detailed-exitcode") },
			[]string{"# taskservs.box.motd will be created", "Plan: 2 to add, 0 to change, 0 to destroy."}, ""},
		{"apply", func() string { return p.Run(0, "apply", "-auto-approve") },
			[]string{"taskservs.box.motd: wrote etc/motd (100%)", "motd_healthy = true", `motd_version = "1.0.0"`}, welcome},
		{"nothing to do", func() string { return p.Run(0, "plan", "-detailed-exitcode") },
			[]string{"No changes."}, welcome},
		{"drift is found", func() string {
			if err := os.WriteFile(filepath.Join(p.Dir, "sandbox", "etc", "motd"), []byte("tampered\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			return p.Run(2, "plan", "-detailed-exitcode")
		}, []string{"etc/motd was changed outside prov", "# taskservs.box.motd will be updated in-place"}, "tampered\n"},
		{"and repaired", func() string { return p.Run(0, "apply", "-auto-approve") },
			[]string{"Resources: 0 added, 1 changed, 0 destroyed."}, welcome},
		{"a new message is an update", func() string {
			src, err := os.ReadFile(filepath.Join(p.Dir, "main.ncl"))
			if err != nil {
				t.Fatal(err)
			}
			src = bytes.Replace(src, []byte("Welcome to box"), []byte("Hello from box"), 1)
			if err := os.WriteFile(filepath.Join(p.Dir, "main.ncl"), src, 0o644); err != nil {
				t.Fatal(err)
			}
			return p.Run(0, "apply", "-auto-approve")
		}, []string{"Resources: 0 added, 1 changed, 0 destroyed."}, "Hello from box, provisioned by prov.\n"},
		{"destroy removes it", func() string { return p.Run(0, "destroy", "-auto-approve") },
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
