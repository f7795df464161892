// Package provtest runs the prov command line in end-to-end tests of examples and providers: the test
// binary itself acts as prov (and, re-executed by prov, as its builtin plugins), so no separate build is
// needed, and each test gets a project directory with an isolated home and environment.
package provtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/cli"
)

// envAsProv makes the test binary act as prov; prov's builtin plugins inherit it.
const envAsProv = "PROV_TEST_BINARY_AS_PROV"

// Main is a TestMain: as prov when re-executed by a test, else it runs the tests.
func Main(m *testing.M) {
	if os.Getenv(envAsProv) == "1" {
		os.Exit(cli.Main(os.Args[1:]))
	}
	flag.Parse()
	os.Exit(m.Run())
}

// Project is one test's working directory, with the environment prov runs in.
type Project struct {
	T   *testing.T
	Dir string
	// Home is the project's own $HOME.
	Home string
	Env  []string
}

// NewProject returns a project with its own home and XDG directories, NO_COLOR, and env (which may
// refer to the home through AddEnv after the fact); variables of
// the test's own environment whose names start with one of scrub (and PROV_, PROVISIONING_) are left
// out, so the machine's settings and credentials never leak into a test.
func NewProject(t *testing.T, scrub []string, env ...string) *Project {
	t.Helper()
	dir, home := t.TempDir(), t.TempDir()
	out := []string{"NO_COLOR=1", "HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"XDG_DATA_HOME=" + filepath.Join(home, "data"), "XDG_CACHE_HOME=" + filepath.Join(home, "cache"),
		envAsProv + "=1"}
	scrub = append([]string{"HOME", "NO_COLOR", "XDG_", "PROV_", "PROVISIONING_"}, scrub...)
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !hasAnyPrefix(name, scrub) {
			out = append(out, kv)
		}
	}
	return &Project{T: t, Dir: dir, Home: home, Env: append(out, env...)}
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// AddEnv adds variables to the environment of later runs.
func (p *Project) AddEnv(kv ...string) { p.Env = append(p.Env, kv...) }

// Write writes a file of the project, making its directory.
func (p *Project) Write(name, content string) {
	p.T.Helper()
	path := filepath.Join(p.Dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		p.T.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		p.T.Fatal(err)
	}
}

// Example writes the example configuration src into the project as main.ncl, with each edit (old →
// new, in pairs) made; an edit whose old text is missing fails the test.
func (p *Project) Example(src string, edits ...string) {
	p.T.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		p.T.Fatal(err)
	}
	s := string(data)
	for i := 0; i+1 < len(edits); i += 2 {
		if !strings.Contains(s, edits[i]) {
			p.T.Fatalf("%s lacks %q", src, edits[i])
		}
		s = strings.ReplaceAll(s, edits[i], edits[i+1])
	}
	p.Write("main.ncl", s)
}

// Path returns the path of a file of the project.
func (p *Project) Path(name string) string { return filepath.Join(p.Dir, name) }

// CopySources copies the configuration sources of directory src (its .ncl, .json, .toml and .yaml
// files, but not prov's own prov.*.json) into the project, so that an example runs without touching
// the outputs or state kept in its directory.
func (p *Project) CopySources(src string) {
	p.T.Helper()
	entries, err := os.ReadDir(src)
	if err != nil {
		p.T.Fatal(err)
	}
	for _, e := range entries {
		switch filepath.Ext(e.Name()) {
		case ".ncl", ".json", ".toml", ".yaml":
		default:
			continue
		}
		if e.IsDir() || strings.HasPrefix(e.Name(), "prov.") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			p.T.Fatal(err)
		}
		p.Write(e.Name(), string(data))
	}
}

// Command prepares prov args in the project.
func (p *Project) Command(ctx context.Context, args ...string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		p.T.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Dir, cmd.Env = p.Dir, p.Env
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// Run runs prov and fails the test unless it exits with want; it returns stdout and stderr together.
func (p *Project) Run(want int, args ...string) string {
	p.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := p.Command(ctx, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		p.T.Fatalf("prov %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != want {
		p.T.Fatalf("prov %s: exit %d, want %d\n%s", strings.Join(args, " "), code, want, out.String())
	}
	return out.String()
}

// Stdout runs prov like Run and returns its standard output alone (for -json output); the standard
// error is shown when the exit code is not want.
func (p *Project) Stdout(want int, args ...string) string {
	p.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := p.Command(ctx, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		p.T.Fatalf("prov %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != want {
		p.T.Fatalf("prov %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// State returns the resources of prov.state.json: address → attributes.
func (p *Project) State() map[string]map[string]any {
	p.T.Helper()
	data, err := os.ReadFile(filepath.Join(p.Dir, "prov.state.json"))
	if err != nil {
		p.T.Fatal(err)
	}
	var s struct {
		Resources map[string]struct {
			Attributes map[string]any `json:"attributes"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(data, &s); err != nil {
		p.T.Fatal(err)
	}
	out := map[string]map[string]any{}
	for addr, r := range s.Resources {
		out[addr] = r.Attributes
	}
	return out
}

// Contains fails the test for every want that text lacks.
func Contains(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

// Golden compares got with testdata/name; with update set it rewrites the file first.
func Golden(t *testing.T, name, got string, update bool) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}

// KillApply starts prov apply -auto-approve, waits until started reports that the cloud saw the
// create it is after (what names it in the failure), and kills prov and its plugin processes with
// SIGKILL, so nothing gets to clean up. It fails the test if the apply finished first, and returns
// what the apply printed.
func (p *Project) KillApply(what string, started func() bool) string {
	p.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	apply := p.Command(ctx, "apply", "-auto-approve")
	apply.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out bytes.Buffer
	apply.Stdout, apply.Stderr = &out, &out
	if err := apply.Start(); err != nil {
		p.T.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !started() {
		if time.Now().After(deadline) {
			p.T.Fatalf("no %s\n%s", what, out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	syscall.Kill(-apply.Process.Pid, syscall.SIGKILL)
	apply.Wait()
	if strings.Contains(out.String(), "Apply complete") {
		p.T.Fatalf("the apply finished before it was killed\n%s", out.String())
	}
	return out.String()
}
