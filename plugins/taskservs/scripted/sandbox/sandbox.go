// Package sandbox runs scripted taskservs in tests without touching the machine: a Sandbox is a
// directory standing for a Debian/Ubuntu server's root, reached by local exec with a PATH whose apt-get,
// systemctl, modprobe, kubeadm, curl, … are stubs that record their calls and keep just enough state for
// the scripts' checks. Lifecycle installs a taskserv twice (the second run must change nothing), checks,
// removes it and compares the calls with a golden file; Syntax checks every script rendering with
// sh -n and bash -n.
package sandbox

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/plugins/host"
	"github.com/provhq/prov/plugins/taskservs/scripted"
	"github.com/provhq/prov/sdk"
)

//go:embed stub.sh
var stub []byte

// Stubs are the commands the sandbox replaces.
var Stubs = []string{"apt-get", "apt-mark", "dpkg", "dpkg-query", "systemctl", "modprobe", "sysctl", "swapon", "swapoff",
	"curl", "gpg", "tar", "getent", "useradd", "userdel", "kubeadm", "kubectl", "update-ca-certificates", "openssl"}

// Sandbox is a stand-in server.
type Sandbox struct {
	// Root is the server's root directory.
	Root string
	// Exec is the channel to it.
	Exec *host.LocalExec
	// Server is its state, as a local_server records it.
	Server map[string]any

	state, tmp string
}

// tempName matches the files the prelude's mktemp makes.
var tempName = regexp.MustCompile(`\$TMPDIR/prov\.[A-Za-z0-9]+`)

// New makes a sandbox with an Ubuntu 24.04 /etc/os-release.
func New(t testing.TB) *Sandbox {
	t.Helper()
	root, state, bin, tmp := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "stub"), stub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range Stubs {
		if err := os.Symlink("stub", filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"dpkg", "held", "enabled", "active", "users", "cilium"} {
		if err := os.Mkdir(filepath.Join(state, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(state, "downloads"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	osRelease := "ID=ubuntu\nVERSION_ID=\"24.04\"\nVERSION_CODENAME=noble\n"
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc", "os-release"), []byte(osRelease), 0o644); err != nil {
		t.Fatal(err)
	}
	return &Sandbox{
		Root: root,
		Exec: &host.LocalExec{Dir: root, Env: map[string]string{
			"PATH": bin + ":" + os.Getenv("PATH"), "STUB_ROOT": root, "STUB_STATE": state, "STUB_BIN": bin, "TMPDIR": tmp}},
		Server: map[string]any{"id": "local:" + root, "hostname": "box", "root": root, "transport": "local", "address": "127.0.0.1"},
		state:  state,
		tmp:    tmp,
	}
}

// Calls returns the stub calls since the last Calls.
func (s *Sandbox) Calls(t testing.TB) []string {
	t.Helper()
	f := filepath.Join(s.state, "calls")
	b, err := os.ReadFile(f)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(f); err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(strings.ReplaceAll(string(b), s.Root, "$ROOT"), s.tmp, "$TMPDIR")
	text = tempName.ReplaceAllString(text, "$$TMPDIR/prov.XXXXXX")
	return strings.Split(strings.TrimSuffix(text, "\n"), "\n")
}

// Mutating reports whether a stub call changes the server (as opposed to asking it something).
func Mutating(call string) bool {
	f := strings.Fields(call)
	arg := func(i int) string {
		if i < len(f) {
			return f[i]
		}
		return ""
	}
	switch f[0] {
	case "apt-get", "apt-mark", "modprobe", "sysctl", "swapoff", "curl", "gpg", "tar", "useradd", "userdel", "update-ca-certificates":
		return true
	case "systemctl":
		return !strings.HasPrefix(arg(1), "is-")
	case "kubeadm":
		return arg(1) != "version"
	case "kubectl":
		return slices.ContainsFunc(f[1:], func(a string) bool {
			return slices.Contains([]string{"apply", "create", "delete", "patch", "label", "taint"}, a)
		})
	case "etcdctl":
		return slices.Contains(f, "put") || slices.Contains(f, "del") || slices.Contains(f, "member")
	case "cilium":
		return arg(1) != "version" && arg(1) != "status"
	}
	return false
}

// Install installs ts on the sandbox (for the dependencies of the taskserv under test) and fails the
// test when it does not succeed.
func (s *Sandbox) Install(t testing.TB, ts *sdk.Taskserv, version string, config map[string]any) map[string]any {
	t.Helper()
	res, err := sdk.NewTaskservServer(ts).Install(context.Background(),
		plugins.TaskservRequest{OperationID: "op", Version: version, Config: config, Server: s.Server}, s.Exec, nil)
	if err != nil || res.Diagnostics.HasErrors() {
		t.Fatalf("install %s: %v %v", ts.Name, err, res.Diagnostics)
	}
	s.Calls(t)
	st, _ := res.State.(map[string]any)
	return st
}

// Case is one configuration of a taskserv for Lifecycle.
type Case struct {
	Name    string
	Version string
	Config  map[string]any
	// Server is merged into the sandbox's server state (hostname, …).
	Server map[string]any
	// Setup prepares the sandbox: installs dependencies, turns swap on, ….
	Setup func(t testing.TB, s *Sandbox)
}

// Lifecycle plans, installs, installs again, checks and removes ts on a fresh sandbox, writes what
// each step did (plan steps, stub calls, changes) to golden (rewritten when update is set) and fails
// when the second install or a second remove changes anything, or a check says the wrong thing.
func Lifecycle(t *testing.T, ts *sdk.Taskserv, c Case, golden string, update bool) {
	t.Helper()
	ctx := context.Background()
	s := New(t)
	for k, v := range c.Server {
		s.Server[k] = v
	}
	if c.Setup != nil {
		c.Setup(t, s)
	}
	srv := sdk.NewTaskservServer(ts)
	req := plugins.TaskservRequest{OperationID: "op", Version: c.Version, Config: c.Config, Server: s.Server}
	var out bytes.Buffer
	section := func(name string, lines []string) {
		fmt.Fprintf(&out, "## %s\n", name)
		for _, l := range lines {
			fmt.Fprintln(&out, l)
		}
	}

	p, err := srv.Plan(ctx, req, s.Exec)
	if err != nil || p.Diagnostics.HasErrors() {
		t.Fatalf("plan: %v %v", err, p.Diagnostics)
	}
	section("plan", p.Steps)
	if calls := s.Calls(t); len(calls) > 0 {
		t.Errorf("plan ran commands on the server: %q", calls)
	}

	install := func(what string) (*plugins.TaskservResult, []string, []string) {
		var changes []string
		res, err := srv.Install(ctx, req, s.Exec, func(p plugins.Progress) { changes = append(changes, p.Message) })
		if err != nil || res.Diagnostics.HasErrors() {
			t.Fatalf("%s: %v %v", what, err, res.Diagnostics)
		}
		return res, s.Calls(t), changes
	}
	res, calls, changes := install("install")
	section("install: calls", calls)
	section("install: changes", changes)
	if len(changes) == 0 {
		t.Errorf("install reported no change")
	}
	req.Prior = res.State
	_, calls, changes = install("install again")
	section("install again: calls", calls)
	for _, c := range calls {
		if Mutating(c) {
			t.Errorf("install again ran %q; a second install must change nothing", c)
		}
	}
	if len(changes) > 0 {
		t.Errorf("install again changed %q; want nothing", changes)
	}

	check := func(what string, healthy bool) {
		r, err := srv.Check(ctx, req, s.Exec)
		if err != nil || r.Diagnostics.HasErrors() {
			t.Fatalf("%s: %v %v", what, err, r.Diagnostics)
		}
		if r.Healthy != healthy {
			t.Errorf("%s: healthy = %v (%s); want %v", what, r.Healthy, r.Output, healthy)
		}
		calls := s.Calls(t)
		for _, c := range calls {
			if Mutating(c) {
				t.Errorf("%s ran %q; a check must change nothing", what, c)
			}
		}
		section(what+": calls", calls)
	}
	check("check", true)

	remove := func(what string) []string {
		r, err := srv.Remove(ctx, req, s.Exec)
		if err != nil || r.Diagnostics.HasErrors() {
			t.Fatalf("%s: %v %v", what, err, r.Diagnostics)
		}
		return s.Calls(t)
	}
	section("remove: calls", remove("remove"))
	check("check after remove", false)
	for _, c := range remove("remove again") {
		if Mutating(c) {
			t.Errorf("remove again ran %q; a second remove must change nothing", c)
		}
	}

	if update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), out.String()); diff != "" {
		t.Errorf("%s (-want +got):\n%s", golden, diff)
	}
}

// Syntax renders every script of m for each input and checks it with sh -n and bash -n.
func Syntax(t *testing.T, m scripted.Manifest, inputs map[string]scripted.Input) {
	t.Helper()
	for name, in := range inputs {
		for _, script := range scripted.Scripts {
			text, err := scripted.Render(m, script, in)
			if err != nil {
				t.Errorf("%s: render %s: %v", name, script, err)
				continue
			}
			if text == "" {
				continue
			}
			for _, shell := range []string{"sh", "bash"} {
				cmd := exec.Command(shell, "-n")
				cmd.Stdin = strings.NewReader(text)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("%s: %s -n %s.sh: %v\n%s", name, shell, script, err, out)
				}
			}
		}
	}
}
