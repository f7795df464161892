package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"

	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/plugins"
)

// fakePlugin is the path of the test plugin binary TestMain builds from testdata/fakeplugin.
var fakePlugin string

func TestMain(m *testing.M) {
	if os.Getenv("HOST_TEST_ORPHAN_DIR") != "" {
		orphanHelper() // never returns
	}
	dir, err := os.MkdirTemp("", "host-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fakePlugin = filepath.Join(dir, "fakeplugin")
	build := exec.Command("go", "build", "-o", fakePlugin, "./testdata/fakeplugin")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build test plugin: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// install copies the test plugin to dir/rel (creating folders) and returns the path.
func install(t *testing.T, dir, rel string) string {
	t.Helper()
	data, err := os.ReadFile(fakePlugin)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// project makes a working directory with the fake provider "fake" installed in ./.prov/plugins, locked.
func project(t *testing.T, opts Options) (Options, string) {
	t.Helper()
	dir := t.TempDir()
	bin := install(t, dir, ".prov/plugins/prov-provider-fake")
	install(t, dir, ".prov/plugins/prov-taskserv-motd")
	opts.Dir = dir
	opts.SearchPath = []string{filepath.Join(dir, ".prov", "plugins")}
	if testing.Verbose() {
		opts.Logger = hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: os.Stderr})
	}
	if _, err := Init(opts, []Requirement{
		{Kind: Provider, Name: "fake", Source: "example.com/acme/fake"},
		{Kind: Taskserv, Name: "motd", Source: "example.com/acme/motd"},
	}, false); err != nil {
		t.Fatal(err)
	}
	return opts, bin
}

func newHost(t *testing.T, opts Options) *Host {
	t.Helper()
	h, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// alive reports whether pid is a live (not zombie) process.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}

func waitGone(t *testing.T, pid int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("plugin process %d still running after %s", pid, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func pluginPID(t *testing.T, p plugins.Provider) int {
	t.Helper()
	r, err := p.Read(context.Background(), plugins.ReadRequest{Type: "fake_pid"})
	if err != nil {
		t.Fatal(err)
	}
	return int(r.New.(map[string]any)["pid"].(float64))
}

func TestDiscoverAndSelect(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, rel := range []string{"prov-provider-acme", "acme/1.0.0/prov-provider-acme", "acme/1.2.0/prov-provider-acme", "prov-taskserv-redis"} {
		install(t, a, rel)
	}
	for _, rel := range []string{"acme/2.0.0/prov-provider-acme", "acme/1.2.0/prov-provider-acme"} {
		install(t, b, rel)
	}
	// Not plugins: not executable, wrong name, wrong kind in a versioned folder.
	os.WriteFile(filepath.Join(a, "prov-provider-noexec"), []byte("x"), 0o644)
	install(t, a, "other-tool")
	install(t, a, "acme/3.0.0/prov-taskserv-other")

	found, err := Discover([]string{a, b, filepath.Join(a, "missing")})
	if err != nil {
		t.Fatal(err)
	}
	want := []Found{
		{ID{Provider, "acme"}, "2.0.0", filepath.Join(b, "acme/2.0.0/prov-provider-acme")},
		{ID{Provider, "acme"}, "1.2.0", filepath.Join(a, "acme/1.2.0/prov-provider-acme")},
		{ID{Provider, "acme"}, "1.2.0", filepath.Join(b, "acme/1.2.0/prov-provider-acme")},
		{ID{Provider, "acme"}, "1.0.0", filepath.Join(a, "acme/1.0.0/prov-provider-acme")},
		{ID{Provider, "acme"}, "", filepath.Join(a, "prov-provider-acme")},
		{ID{Taskserv, "redis"}, "", filepath.Join(a, "prov-taskserv-redis")},
	}
	if diff := cmp.Diff(want, found); diff != "" {
		t.Fatalf("Discover (-want +got):\n%s", diff)
	}

	tests := []struct {
		name, constraint string
		id               ID
		want             string // path, or error substring after "!"
	}{
		{"any takes highest", "", ID{Provider, "acme"}, filepath.Join(b, "acme/2.0.0/prov-provider-acme")},
		{"exact", "1.0.0", ID{Provider, "acme"}, filepath.Join(a, "acme/1.0.0/prov-provider-acme")},
		{"range, earlier dir wins a tie", ">=1.1.0 <2.0.0", ID{Provider, "acme"}, filepath.Join(a, "acme/1.2.0/prov-provider-acme")},
		{"unversioned when alone", "", ID{Taskserv, "redis"}, filepath.Join(a, "prov-taskserv-redis")},
		{"nothing satisfies", ">=3.0.0", ID{Provider, "acme"}, `!no version of plugin provider/acme satisfies ">=3.0.0"`},
		{"not installed", "", ID{Provider, "nope"}, "!plugin provider/nope not found: put prov-provider-nope in"},
		{"bad constraint", "~> 1", ID{Provider, "acme"}, `!version constraint "~> 1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Select(found, tt.id, tt.constraint)
			if msg, ok := strings.CutPrefix(tt.want, "!"); ok {
				if err == nil || !strings.Contains(err.Error(), msg) {
					t.Fatalf("err = %v, want one containing %q", err, msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.Path != tt.want {
				t.Errorf("selected %s, want %s", f.Path, tt.want)
			}
		})
	}
}

func TestSearchPath(t *testing.T) {
	t.Setenv("PROV_PLUGIN_PATH", "/opt/a:/opt/b")
	t.Setenv("XDG_DATA_HOME", "/data")
	want := []string{"work/.prov/plugins", "/opt/a", "/opt/b", "/data/prov/plugins"}
	if diff := cmp.Diff(want, SearchPath("work")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestInitLocksAndUpgrades(t *testing.T) {
	dir := t.TempDir()
	plugDir := filepath.Join(dir, "plugins")
	v1 := install(t, plugDir, "acme/1.0.0/prov-provider-acme")
	opts := Options{Dir: dir, SearchPath: []string{plugDir}, Builtins: []ID{{Provider, "local"}}, ProvVersion: "0.3.0"}
	wanted := []Requirement{
		{Kind: Provider, Name: "acme", Source: "example.com/acme/acme", Version: ">=1.0.0"},
		{Kind: Provider, Name: "local"},
		{Kind: Provider, Name: "local2", Source: "builtin/local"},
	}
	sum1, _ := fileSHA256(v1)
	want := &Lock{Version: LockVersion, Plugins: map[string]*Locked{
		"provider/acme":  {Kind: Provider, Name: "acme", Source: "example.com/acme/acme", Version: "1.0.0", SHA256: sum1},
		"provider/local": {Kind: Provider, Name: "local", Source: "builtin/local", ProvVersion: "0.3.0"},
	}}
	check := func(t *testing.T, want *Lock) {
		t.Helper()
		got, err := ReadLock(dir)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("prov.lock.json (-want +got):\n%s", diff)
		}
	}

	t.Run("init", func(t *testing.T) {
		if _, err := Init(opts, wanted, false); err != nil {
			t.Fatal(err)
		}
		check(t, want)
	})
	// A newer version appears: plain init keeps the lock, -upgrade takes it.
	v2 := install(t, plugDir, "acme/1.1.0/prov-provider-acme")
	os.WriteFile(v2, append(must(os.ReadFile(v2)), "v2"...), 0o755)
	sum2, _ := fileSHA256(v2)
	t.Run("init keeps locked version", func(t *testing.T) {
		if _, err := Init(opts, wanted, false); err != nil {
			t.Fatal(err)
		}
		check(t, want)
	})
	t.Run("init -upgrade", func(t *testing.T) {
		if _, err := Init(opts, wanted, true); err != nil {
			t.Fatal(err)
		}
		want.Plugins["provider/acme"] = &Locked{Kind: Provider, Name: "acme", Source: "example.com/acme/acme", Version: "1.1.0", SHA256: sum2}
		check(t, want)
	})
	t.Run("changed binary refused by init", func(t *testing.T) {
		os.WriteFile(v2, append(must(os.ReadFile(v2)), "tampered"...), 0o755)
		_, err := Init(opts, wanted, false)
		var ce *ChecksumError
		if !errors.As(err, &ce) || ce.Expected != sum2 {
			t.Fatalf("err = %v, want a ChecksumError expecting %s", err, sum2)
		}
		check(t, want) // unchanged
	})
	t.Run("unknown builtin", func(t *testing.T) {
		_, err := Init(opts, []Requirement{{Kind: Provider, Name: "x", Source: "builtin/aws"}}, false)
		if err == nil || !strings.Contains(err.Error(), `prov has no builtin provider "aws"`) {
			t.Fatalf("err = %v", err)
		}
	})
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestProviderThroughProcess(t *testing.T) {
	opts, _ := project(t, Options{})
	h := newHost(t, opts)
	ctx := context.Background()
	p, err := h.Provider(ctx, "fake", "example.com/acme/fake", "")
	if err != nil {
		t.Fatal(err)
	}
	again, err := h.Provider(ctx, "fake", "example.com/acme/fake", "")
	if err != nil || again != p {
		t.Fatalf("second Provider call: %v, %v; want the same started provider", again, err)
	}

	schema, _, err := p.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if schema.Name != "fake" || schema.Resources["fake_echo"] == nil {
		t.Errorf("schema = %+v", schema)
	}
	ds, err := p.ValidateConfig(ctx, "fake_echo", map[string]any{"name": ""})
	if err != nil || len(ds) != 1 || ds[0].Path != "name" {
		t.Errorf("ValidateConfig = %v, %v; want one diagnostic at name", ds, err)
	}

	cfg := map[string]any{"name": "a", "secret": "pw", "ref": value.Unknown}
	plan, err := p.Plan(ctx, plugins.PlanRequest{Type: "fake_echo", Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	wantPlan := &plugins.PlanResponse{
		Planned:   map[string]any{"name": "a", "secret": "pw", "ref": value.Unknown, "id": value.Unknown},
		Sensitive: []value.Path{value.KeyPath("secret")},
	}
	if diff := cmp.Diff(wantPlan, plan); diff != "" {
		t.Errorf("Plan (-want +got):\n%s", diff)
	}
	var progress []plugins.Progress
	applied, err := p.Apply(ctx, plugins.ApplyRequest{Type: "fake_echo", OperationID: "op-1", Planned: map[string]any{"name": "a", "id": value.Unknown}, Config: cfg},
		func(pr plugins.Progress) { progress = append(progress, pr) })
	if err != nil {
		t.Fatal(err)
	}
	wantApply := &plugins.ApplyResponse{New: map[string]any{"name": "a", "id": "op-1"}, Sensitive: []value.Path{value.KeyPath("secret")}}
	if diff := cmp.Diff(wantApply, applied); diff != "" {
		t.Errorf("Apply (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]plugins.Progress{{Message: "creating"}, {Message: "created", Percent: 100}}, progress); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}

	pid := pluginPID(t, p)
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	waitGone(t, pid, 10*time.Second)
	if _, err := h.Provider(ctx, "fake", "example.com/acme/fake", ""); err == nil {
		t.Error("Provider after Close succeeded")
	}
}

func TestBuiltin(t *testing.T) {
	opts := Options{Dir: t.TempDir(), SearchPath: []string{}, SelfExe: fakePlugin, Builtins: []ID{{Provider, "local"}}}
	h := newHost(t, opts)
	ctx := context.Background()
	tests := []struct{ name, key, source, wantErr string }{
		{"implied by name", "local", "", ""},
		{"explicit source", "local-b", "builtin/local", ""},
		{"unknown builtin", "x", "builtin/aws", `prov has no builtin provider "aws"`},
		{"third party not locked", "acme", "example.com/acme", "is not in prov.lock.json; run `prov init`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := h.Provider(ctx, tt.key, tt.source, "")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s, _, err := p.Schema(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if s.Name != "local" {
				t.Errorf("builtin served schema %q, want local", s.Name)
			}
			r, err := p.Read(ctx, plugins.ReadRequest{Type: "fake_pid"})
			if err != nil {
				t.Fatal(err)
			}
			if ppid := int(r.New.(map[string]any)["ppid"].(float64)); ppid != os.Getpid() {
				t.Errorf("builtin's parent is %d, want this process %d", ppid, os.Getpid())
			}
		})
	}
}

func TestChangedBinaryRefused(t *testing.T) {
	opts, bin := project(t, Options{})
	lock, err := ReadLock(opts.Dir)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(bin, append(must(os.ReadFile(bin)), "evil"...), 0o755)
	actual, _ := fileSHA256(bin)
	h := newHost(t, opts)
	_, err = h.Provider(context.Background(), "fake", "example.com/acme/fake", "")
	var ce *ChecksumError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a *ChecksumError", err)
	}
	want := &ChecksumError{ID: ID{Provider, "fake"}, Path: bin, Expected: lock.Get(ID{Provider, "fake"}).SHA256, Actual: actual}
	if diff := cmp.Diff(want, ce); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, s := range []string{"provider/fake", want.Expected, want.Actual, "prov init -upgrade"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("message %q does not mention %q", err, s)
		}
	}
}

func TestCrashMidApply(t *testing.T) {
	opts, _ := project(t, Options{})
	h := newHost(t, opts)
	ctx := context.Background()
	p, err := h.Provider(ctx, "fake", "example.com/acme/fake", "")
	if err != nil {
		t.Fatal(err)
	}
	pid := pluginPID(t, p)
	_, err = p.Apply(ctx, plugins.ApplyRequest{Type: "fake_crash", OperationID: "op-2", Planned: map[string]any{}}, func(plugins.Progress) {})
	var ce *CallError
	if !errors.As(err, &ce) || !errors.Is(err, ErrPluginExited) {
		t.Fatalf("err = %v, want a CallError wrapping ErrPluginExited", err)
	}
	want := "plugin provider/fake: Apply fake_crash: the plugin process exited unexpectedly"
	if !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "goroutine") {
		t.Errorf("message = %q, want it to start %q and carry no trace", err, want)
	}
	waitGone(t, pid, 10*time.Second)

	// The crashed plugin is forgotten only when released; a fresh Provider call after Close starts anew.
	p.Close()
	p2, err := h.Provider(ctx, "fake", "example.com/acme/fake", "")
	if err != nil {
		t.Fatal(err)
	}
	if pid2 := pluginPID(t, p2); pid2 == pid {
		t.Errorf("restarted plugin has the crashed one's pid %d", pid)
	}
}

func TestHangingPluginCutOff(t *testing.T) {
	opts, _ := project(t, Options{CallTimeout: 2 * time.Second, ApplyTimeout: 2500 * time.Millisecond})
	h := newHost(t, opts)
	ctx := context.Background()
	p, err := h.Provider(ctx, "fake", "example.com/acme/fake", "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"plan", func() error {
			_, err := p.Plan(ctx, plugins.PlanRequest{Type: "fake_hang", Config: map[string]any{}})
			return err
		}, "plugin provider/fake: Plan fake_hang: no answer within 2s; the plugin may be hung"},
		{"apply", func() error {
			_, err := p.Apply(ctx, plugins.ApplyRequest{Type: "fake_slow", Planned: map[string]any{}}, nil)
			return err
		}, "plugin provider/fake: Apply fake_slow: no answer within 2.5s; the plugin may be hung"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			err := tt.call()
			if !errors.Is(err, ErrTimeout) || err.Error() != tt.want {
				t.Fatalf("err = %v, want %q wrapping ErrTimeout", err, tt.want)
			}
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("cut off after %s", took)
			}
		})
	}
	// The plugin still answers other calls.
	if _, err := p.Plan(ctx, plugins.PlanRequest{Type: "fake_echo", Config: map[string]any{"name": "a"}}); err != nil {
		t.Errorf("Plan after a timeout: %v", err)
	}
}

func TestTaskservInstallThroughLocalExec(t *testing.T) {
	opts, _ := project(t, Options{})
	h := newHost(t, opts)
	ctx := context.Background()
	ts, err := h.Taskserv(ctx, "motd", "example.com/acme/motd", "")
	if err != nil {
		t.Fatal(err)
	}
	target := t.TempDir()
	exec := &LocalExec{Dir: target}
	var progress []plugins.Progress
	got, err := ts.Install(ctx, plugins.TaskservRequest{OperationID: "op-3", Version: "1.0"}, exec, func(p plugins.Progress) { progress = append(progress, p) })
	if err != nil {
		t.Fatal(err)
	}
	want := &plugins.TaskservResult{
		State:   map[string]any{"version": "1.0", "motd": "hello from motd\n", "exit": 4.0},
		Healthy: true, Output: "hello from motd\nstdin=yes env=hi\n",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Install (-want +got):\n%s", diff)
	}
	fi, err := os.Stat(filepath.Join(target, "etc/motd"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("etc/motd on the target: %v, %v; want mode 0600", fi, err)
	}
	if diff := cmp.Diff([]plugins.Progress{{Message: "wrote etc/motd", Percent: 50}}, progress); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
	check, err := ts.Check(ctx, plugins.TaskservRequest{}, exec)
	if err != nil {
		t.Fatal(err)
	}
	if check.Healthy || !strings.Contains(check.Output, "local exec: get file: open "+filepath.Join(target, "etc/missing")) {
		t.Errorf("Check = %+v, want the host's exec error to reach the plugin", check)
	}
}

func TestLocalExec(t *testing.T) {
	dir := t.TempDir()
	l := &LocalExec{Dir: dir, Env: map[string]string{"BASE": "b"}}
	ctx := context.Background()
	tests := []struct {
		name string
		cmd  plugins.ExecCommand
		want *plugins.ExecResult
	}{
		{"stdout and exit code", plugins.ExecCommand{Command: "echo out; echo err >&2; exit 7"}, &plugins.ExecResult{Stdout: []byte("out\n"), Stderr: []byte("err\n"), ExitCode: 7}},
		{"stdin", plugins.ExecCommand{Command: "tr a-z A-Z", Stdin: []byte("abc")}, &plugins.ExecResult{Stdout: []byte("ABC"), Stderr: []byte{}}},
		{"env", plugins.ExecCommand{Command: `echo "$BASE $X"`, Env: map[string]string{"X": "x"}}, &plugins.ExecResult{Stdout: []byte("b x\n"), Stderr: []byte{}}},
		{"dir", plugins.ExecCommand{Command: "mkdir -p sub && cd sub && pwd", Dir: "."}, &plugins.ExecResult{Stdout: []byte(filepath.Join(dir, "sub") + "\n"), Stderr: []byte{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := l.Run(ctx, tt.cmd)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Transformer("string", func(b []byte) string { return string(b) })); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("put and get", func(t *testing.T) {
		if err := l.PutFile(ctx, "a/b/c.txt", []byte("data"), 0o640); err != nil {
			t.Fatal(err)
		}
		got, err := l.GetFile(ctx, filepath.Join(dir, "a/b/c.txt"))
		if err != nil || string(got) != "data" {
			t.Fatalf("GetFile = %q, %v", got, err)
		}
		if fi, _ := os.Stat(filepath.Join(dir, "a/b/c.txt")); fi.Mode().Perm() != 0o640 {
			t.Errorf("mode %v, want 0640", fi.Mode().Perm())
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		c, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		if _, err := l.Run(c, plugins.ExecCommand{Command: "sleep 10"}); err == nil {
			t.Error("a command ended by its context returned no error")
		}
	})
}

// TestOrphanedPluginExits kills a prov-like host process with SIGKILL (no chance to end its plugins)
// and checks that its plugin goes away by itself.
func TestOrphanedPluginExits(t *testing.T) {
	opts, _ := project(t, Options{})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "HOST_TEST_ORPHAN_DIR="+opts.Dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var line string
	if _, err := fmt.Fscanln(out, &line); err != nil {
		cmd.Process.Kill()
		t.Fatalf("helper did not report its plugin: %v", err)
	}
	pid, err := strconv.Atoi(line)
	if err != nil || !alive(pid) {
		t.Fatalf("helper reported %q (alive: %v)", line, err == nil && alive(pid))
	}
	cmd.Process.Kill()
	cmd.Wait()
	waitGone(t, pid, 10*time.Second)
}

// orphanHelper starts the fake provider from the project in $HOST_TEST_ORPHAN_DIR, prints its pid and
// waits to be killed.
func orphanHelper() {
	dir := os.Getenv("HOST_TEST_ORPHAN_DIR")
	h, err := New(Options{Dir: dir, SearchPath: []string{filepath.Join(dir, ".prov", "plugins")}})
	if err == nil {
		var p plugins.Provider
		if p, err = h.Provider(context.Background(), "fake", "example.com/acme/fake", ""); err == nil {
			var r *plugins.ReadResponse
			if r, err = p.Read(context.Background(), plugins.ReadRequest{Type: "fake_pid"}); err == nil {
				fmt.Println(int(r.New.(map[string]any)["pid"].(float64)))
				select {}
			}
		}
	}
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func TestBuiltinsIDsAndUnknown(t *testing.T) {
	b := Builtins{
		Providers: map[string]func() plugins.Provider{"local": nil, "aws": nil},
		Taskservs: map[string]func() plugins.Taskserv{"redis": nil},
	}
	want := []ID{{Provider, "aws"}, {Provider, "local"}, {Taskserv, "redis"}}
	if diff := cmp.Diff(want, b.IDs()); diff != "" {
		t.Errorf("IDs (-want +got):\n%s", diff)
	}
	for _, tt := range []struct{ kind, name string }{{"provider", "redis"}, {"taskserv", "local"}, {"thing", "aws"}} {
		t.Run(tt.kind+"/"+tt.name, func(t *testing.T) {
			err := b.Serve(tt.kind, tt.name)
			if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("no builtin %s %q", tt.kind, tt.name)) {
				t.Errorf("err = %v", err)
			}
		})
	}
}
