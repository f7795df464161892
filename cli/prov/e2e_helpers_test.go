package main

// End-to-end tests of the built prov binary: TestMain builds prov (and two builds of the example
// third-party provider) once; every test works in its own temporary directory, writes its
// configuration, runs the binary as a user would (stdin closed, NO_COLOR=1) and checks the output,
// exit codes, the state file and the files on disk.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	// provBin is the prov binary under test.
	provBin string
	// notesBins are two different builds of examples/plugin-provider (the second stripped), so
	// their SHA-256 differ.
	notesBins [2]string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "prov-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	provBin = filepath.Join(dir, "prov")
	notesBins = [2]string{filepath.Join(dir, "notes-1"), filepath.Join(dir, "notes-2")}
	builds := [][]string{
		{"build", "-o", provBin, "."},
		{"build", "-o", notesBins[0], "../../examples/plugin-provider"},
		{"build", "-ldflags=-s -w", "-o", notesBins[1], "../../examples/plugin-provider"},
	}
	errs := make([]error, len(builds))
	var wg sync.WaitGroup
	for i, args := range builds {
		wg.Go(func() {
			out, err := exec.Command("go", args...).CombinedOutput()
			if err != nil {
				errs[i] = fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// commandTimeout bounds every prov run: a hang fails the test instead of the whole package.
const commandTimeout = 60 * time.Second

// project is one test's working directory.
type project struct {
	t   *testing.T
	dir string
	env []string
}

func newProject(t *testing.T) *project {
	t.Helper()
	dir := t.TempDir()
	home := t.TempDir()
	env := []string{"NO_COLOR=1", "HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"XDG_DATA_HOME=" + filepath.Join(home, "data"), "XDG_CACHE_HOME=" + filepath.Join(home, "cache")}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "HOME" || strings.HasPrefix(name, "XDG_") || name == "NO_COLOR":
		case strings.HasPrefix(name, "PROV_") || strings.HasPrefix(name, "PROVISIONING_"):
		default:
			env = append(env, kv)
		}
	}
	return &project{t: t, dir: dir, env: env}
}

// in is p for the subtest t.
func (p *project) in(t *testing.T) *project {
	q := *p
	q.t = t
	return &q
}

// setenv adds environment variables for every later run.
func (p *project) setenv(kv ...string) { p.env = append(p.env, kv...) }

func (p *project) path(name string) string { return filepath.Join(p.dir, name) }

// write writes a file of the project, creating directories.
func (p *project) write(name, content string) {
	p.t.Helper()
	path := p.path(name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// writeJSON writes v as name.
func (p *project) writeJSON(name string, v any) {
	p.t.Helper()
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		p.t.Fatal(err)
	}
	p.write(name, string(data))
}

func (p *project) read(name string) string {
	p.t.Helper()
	data, err := os.ReadFile(p.path(name))
	if err != nil {
		p.t.Fatal(err)
	}
	return string(data)
}

func (p *project) exists(name string) bool {
	_, err := os.Stat(p.path(name))
	return err == nil
}

// result is what one prov run printed and how it exited.
type result struct {
	args           []string
	stdout, stderr string
	code           int
	elapsed        time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("prov %s: exit %d\n--- stdout:\n%s\n--- stderr:\n%s", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// command prepares prov args in the project directory.
func (p *project) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, provBin, args...)
	cmd.Dir = p.dir
	cmd.Env = p.env
	cmd.WaitDelay = 5 * time.Second
	return cmd // Stdin nil: prov reads from the null device, as with stdin closed
}

// run runs prov and returns what it did; a failure to start, or a timeout, fails the test.
func (p *project) run(args ...string) result {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := p.command(ctx, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := result{args: args, stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode(), elapsed: time.Since(start)}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) || ctx.Err() != nil {
		p.t.Fatalf("prov %s: %v (after %s)\n%s", strings.Join(args, " "), err, r.elapsed, r)
	}
	return r
}

// expect runs prov and fails the test unless it exits with want.
func (p *project) expect(want int, args ...string) result {
	p.t.Helper()
	r := p.run(args...)
	if r.code != want {
		p.t.Fatalf("want exit %d\n%s", want, r)
	}
	return r
}

// contains fails the test for every want that text lacks.
func contains(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

// lacks fails the test for every unwanted string that text has.
func lacks(t *testing.T, what, text string, unwanted ...string) {
	t.Helper()
	for _, u := range unwanted {
		if strings.Contains(text, u) {
			t.Errorf("%s has %q:\n%s", what, u, text)
		}
	}
}

// stateFile is the part of prov.state.json the tests look at.
type stateFile struct {
	Version   int                       `json:"version"`
	Lineage   string                    `json:"lineage"`
	Serial    int                       `json:"serial"`
	Resources map[string]stateResource  `json:"resources"`
	Outputs   map[string]map[string]any `json:"outputs"`
}

type stateResource struct {
	Type         string         `json:"type"`
	Provider     string         `json:"provider"`
	Attributes   map[string]any `json:"attributes"`
	Dependencies []string       `json:"dependencies"`
}

func (p *project) state() stateFile {
	p.t.Helper()
	var s stateFile
	if err := json.Unmarshal([]byte(p.read("prov.state.json")), &s); err != nil {
		p.t.Fatalf("prov.state.json: %v", err)
	}
	return s
}

// addresses are the resource addresses in the state, sorted.
func (s stateFile) addresses() []string {
	var out []string
	for a := range s.Resources {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// jsonLines decodes a -json event stream, failing the test on a line that is not a JSON object.
func jsonLines(t *testing.T, r result) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q of prov %s is not JSON: %v", sc.Text(), strings.Join(r.args, " "), err)
		}
		out = append(out, m)
	}
	if len(out) == 0 {
		t.Fatalf("prov %s printed no JSON lines\n%s", strings.Join(r.args, " "), r)
	}
	return out
}

// plannedActions maps each address in a plan -json stream's planned_change events to its action.
func plannedActions(t *testing.T, r result) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, ev := range jsonLines(t, r) {
		if ev["type"] != "planned_change" {
			continue
		}
		change, _ := ev["change"].(map[string]any)
		res, _ := change["resource"].(map[string]any)
		addr, _ := res["addr"].(string)
		action, _ := change["action"].(string)
		out[addr] = action
	}
	return out
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	// Remove first: overwriting an executable that a process may still run fails with ETXTBSY.
	os.Remove(to)
	if err := os.WriteFile(to, data, mode); err != nil {
		t.Fatal(err)
	}
}

// doc is a JSON document with the given resources (and optional extra top-level keys).
func doc(resources map[string]any, extra ...map[string]any) map[string]any {
	d := map[string]any{"prov": "1", "resources": resources}
	for _, e := range extra {
		for k, v := range e {
			d[k] = v
		}
	}
	return d
}

func file(path, content string) map[string]any {
	return map[string]any{"type": "local_file", "config": map[string]any{"path": path, "content": content}}
}

func data(input any) map[string]any {
	return map[string]any{"type": "local_data", "config": map[string]any{"input": input}}
}

// faultInjection is the local provider's configuration with an injected latency per operation.
func faultInjection(latency time.Duration) map[string]any {
	return map[string]any{"providers": map[string]any{"local": map[string]any{"source": "builtin/local",
		"config": map[string]any{"fault_injection": map[string]any{"latency_ms": latency.Milliseconds()}}}}}
}

// processesIn lists the processes whose working directory is dir (none where there is no /proc).
func processesIn(dir string) []string {
	links, _ := filepath.Glob("/proc/[0-9]*/cwd")
	var out []string
	for _, l := range links {
		if target, err := os.Readlink(l); err == nil && target == dir {
			cmdline, _ := os.ReadFile(filepath.Join(filepath.Dir(l), "cmdline"))
			out = append(out, filepath.Base(filepath.Dir(l))+": "+strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
	}
	return out
}
