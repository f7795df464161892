package sdk

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/plugins"
)

// fakeExec is an in-memory target server: a file system and a shell that knows a few commands.
type fakeExec struct {
	mu    sync.Mutex
	files map[string][]byte
	ran   []string
}

func (e *fakeExec) Run(_ context.Context, c plugins.ExecCommand) (*plugins.ExecResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ran = append(e.ran, c.Command)
	switch {
	case strings.HasPrefix(c.Command, "systemctl is-active"):
		if _, ok := e.files["/etc/redis.conf"]; ok {
			return &plugins.ExecResult{Stdout: []byte("active\n")}, nil
		}
		return &plugins.ExecResult{Stdout: []byte("inactive\n"), ExitCode: 3}, nil
	case strings.HasPrefix(c.Command, "false"):
		return &plugins.ExecResult{Stderr: []byte("permission denied\n"), ExitCode: 1}, nil
	}
	return &plugins.ExecResult{}, nil
}

func (e *fakeExec) PutFile(_ context.Context, path string, data []byte, _ uint32) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.files[path] = data
	return nil
}

func (e *fakeExec) GetFile(_ context.Context, path string) ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	b, ok := e.files[path]
	if !ok {
		return nil, errors.New("no such file")
	}
	return b, nil
}

func redis() *Taskserv {
	return &Taskserv{
		Name:     "redis",
		Category: "database",
		Versions: []string{"7.2", "7.4"},
		Config: map[string]*Attribute{
			"port":   {Type: Number, Optional: true, Default: 6379, Validators: []Validator{Between(1, 65535)}},
			"broken": {Type: Bool, Optional: true},
		},
		Plan: func(_ context.Context, t *Task) ([]string, error) {
			return []string{fmt.Sprintf("write /etc/redis.conf (port %d)", t.Config.Int("port")), "restart redis"}, nil
		},
		Install: func(ctx context.Context, t *Task) error {
			t.Progress(10, "configuring on %s", t.Server.String("hostname"))
			if t.Config.Bool("broken") {
				_, err := t.Run(ctx, "false")
				return err
			}
			if err := t.PutFile(ctx, "/etc/redis.conf", fmt.Appendf(nil, "port %d\n", t.Config.Int("port")), 0o644); err != nil {
				return err
			}
			t.State["unit"] = "redis.service"
			_, err := t.Run(ctx, "systemctl restart redis")
			return err
		},
		Check: func(ctx context.Context, t *Task) error {
			_, err := t.Run(ctx, "systemctl is-active redis")
			return err
		},
		Remove: func(ctx context.Context, t *Task) error {
			_, err := t.Run(ctx, "rm -f /etc/redis.conf")
			return err
		},
	}
}

func TestTaskservLifecycle(t *testing.T) {
	ctx := context.Background()
	ts := NewTaskservServer(redis())
	exec := &fakeExec{files: map[string][]byte{}}
	req := plugins.TaskservRequest{OperationID: "op1", Version: "7.4", Config: map[string]any{},
		Server: map[string]any{"hostname": "web-01"}}

	desc, _ := ts.Describe(ctx)
	if desc.Name != "redis" || desc.Config["port"].Default != 6379 {
		t.Errorf("Describe = %+v", desc)
	}

	check, _ := ts.Check(ctx, req, exec)
	if check.Healthy || check.Output != `"systemctl is-active redis" exited with code 3` {
		t.Errorf("Check before install = %+v", check)
	}

	plan, _ := ts.Plan(ctx, req, exec)
	want := &plugins.TaskservPlan{Changed: true,
		Planned: map[string]any{"version": "7.4", "config": map[string]any{"port": 6379.0}},
		Steps:   []string{"write /etc/redis.conf (port 6379)", "restart redis"}}
	if diff := cmp.Diff(want, plan); diff != "" {
		t.Errorf("Plan (-want +got):\n%s", diff)
	}

	var events []plugins.Progress
	res, _ := ts.Install(ctx, req, exec, func(p plugins.Progress) { events = append(events, p) })
	wantState := map[string]any{"version": "7.4", "config": map[string]any{"port": 6379.0}, "unit": "redis.service"}
	if diff := cmp.Diff(&plugins.TaskservResult{State: wantState, Healthy: true}, res); diff != "" {
		t.Errorf("Install (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]plugins.Progress{{Message: "configuring on web-01", Percent: 10}}, events); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
	if got := string(exec.files["/etc/redis.conf"]); got != "port 6379\n" {
		t.Errorf("config file = %q", got)
	}

	req.Prior = res.State
	plan, _ = ts.Plan(ctx, req, exec)
	if plan.Changed || len(plan.Steps) > 0 {
		t.Errorf("Plan after install = %+v, want no change", plan)
	}
	check, _ = ts.Check(ctx, req, exec)
	if !check.Healthy {
		t.Errorf("Check after install = %+v", check)
	}
	req.Version = "7.2"
	if plan, _ = ts.Plan(ctx, req, exec); !plan.Changed {
		t.Errorf("a version change must be planned")
	}

	removed, _ := ts.Remove(ctx, req, exec)
	if removed.State != nil || removed.Diagnostics.HasErrors() {
		t.Errorf("Remove = %+v", removed)
	}
}

func TestTaskservDiagnostics(t *testing.T) {
	tests := []struct {
		name    string
		req     plugins.TaskservRequest
		install bool
		want    []pathSummary
	}{
		{"bad version and config", plugins.TaskservRequest{Version: "6.0", Config: map[string]any{"port": 0.0, "prot": 1.0}}, false,
			[]pathSummary{
				{"version", `error: redis has no version "6.0"; available: 7.2, 7.4`},
				{"config.prot", `error: unknown attribute "prot"`},
				{"config.port", "error: must be between 1 and 65535, got 0"},
			}},
		{"failing command", plugins.TaskservRequest{Version: "7.4", Config: map[string]any{"broken": true}}, true,
			[]pathSummary{{"", `error: "false" exited with code 1: permission denied`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := NewTaskservServer(redis())
			exec := &fakeExec{files: map[string][]byte{}}
			var ds []pathSummary
			if tt.install {
				res, _ := ts.Install(context.Background(), tt.req, exec, nil)
				ds = summarize(res.Diagnostics)
			} else {
				plan, _ := ts.Plan(context.Background(), tt.req, exec)
				ds = summarize(plan.Diagnostics)
			}
			if diff := cmp.Diff(tt.want, ds); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}
