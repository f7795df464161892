package protocol

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/plugins"
)

// fakeProvider records requests and answers with whatever its XFunc fields return.
type fakeProvider struct {
	SchemaFunc    func() (*plugins.ProviderSchema, diag.Diagnostics, error)
	ValidateFunc  func(typ string, config any) (diag.Diagnostics, error)
	ConfigureFunc func(config any) (diag.Diagnostics, error)
	PlanFunc      func(plugins.PlanRequest) (*plugins.PlanResponse, error)
	ApplyFunc     func(context.Context, plugins.ApplyRequest, func(plugins.Progress)) (*plugins.ApplyResponse, error)
	ReadFunc      func(plugins.ReadRequest) (*plugins.ReadResponse, error)
	ImportFunc    func(plugins.ImportRequest) (*plugins.ImportResponse, error)

	mu       sync.Mutex
	stopped  int
	requests []any
}

var _ plugins.Provider = (*fakeProvider)(nil)

func (f *fakeProvider) record(r any) {
	f.mu.Lock()
	f.requests = append(f.requests, r)
	f.mu.Unlock()
}

func (f *fakeProvider) Schema(context.Context) (*plugins.ProviderSchema, diag.Diagnostics, error) {
	return f.SchemaFunc()
}
func (f *fakeProvider) ValidateConfig(_ context.Context, typ string, config any) (diag.Diagnostics, error) {
	return f.ValidateFunc(typ, config)
}
func (f *fakeProvider) Configure(_ context.Context, config any) (diag.Diagnostics, error) {
	return f.ConfigureFunc(config)
}
func (f *fakeProvider) Plan(_ context.Context, req plugins.PlanRequest) (*plugins.PlanResponse, error) {
	f.record(req)
	return f.PlanFunc(req)
}
func (f *fakeProvider) Apply(ctx context.Context, req plugins.ApplyRequest, progress func(plugins.Progress)) (*plugins.ApplyResponse, error) {
	f.record(req)
	return f.ApplyFunc(ctx, req, progress)
}
func (f *fakeProvider) Read(_ context.Context, req plugins.ReadRequest) (*plugins.ReadResponse, error) {
	f.record(req)
	return f.ReadFunc(req)
}
func (f *fakeProvider) Import(_ context.Context, req plugins.ImportRequest) (*plugins.ImportResponse, error) {
	f.record(req)
	return f.ImportFunc(req)
}
func (f *fakeProvider) Stop(context.Context) error {
	f.mu.Lock()
	f.stopped++
	f.mu.Unlock()
	return nil
}
func (f *fakeProvider) Close() error { return nil }

func mustPath(t *testing.T, s string) value.Path {
	t.Helper()
	p, err := value.ParsePath(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSchemaRoundTrip(t *testing.T) {
	str := plugins.Type{Kind: plugins.String}
	want := &plugins.ProviderSchema{
		Name: "fake", Version: "1.2.3", Concurrency: 8, Capabilities: []string{"read_by_operation_id", "cost_estimate"},
		Config: map[string]*plugins.Attribute{
			"zone":  {Type: str, Required: true, Description: "where"},
			"token": {Type: str, Optional: true, Sensitive: true},
		},
		Resources: map[string]*plugins.ResourceSchema{
			"fake_server": {
				Description: "a server", Importable: true,
				Attributes: map[string]*plugins.Attribute{
					"name":  {Type: str, Required: true, ForceNew: true},
					"size":  {Type: plugins.Type{Kind: plugins.Number}, Optional: true, Default: 2.0},
					"tags":  {Type: plugins.Type{Kind: plugins.Map, Elem: &str}, Optional: true, Default: map[string]any{"a": "b"}},
					"id":    {Type: str, Computed: true},
					"disks": {Type: plugins.Type{Kind: plugins.List, Elem: &plugins.Type{Kind: plugins.Object, Attributes: map[string]*plugins.Attribute{"size_gb": {Type: plugins.Type{Kind: plugins.Number}, Required: true}}}}, Optional: true},
					"any":   {Type: plugins.Type{Kind: plugins.Dynamic}, Optional: true},
					"on":    {Type: plugins.Type{Kind: plugins.Bool}, Optional: true, Default: false},
				},
			},
			"fake_image": {DataSource: true, Attributes: map[string]*plugins.Attribute{}},
		},
	}
	warn := diag.Diagnostics{diag.Warnf("", "schema is experimental")}
	p := ServeTestProvider(t, &fakeProvider{SchemaFunc: func() (*plugins.ProviderSchema, diag.Diagnostics, error) {
		return want, warn, nil
	}})
	got, ds, err := p.Schema(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("schema (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(warn, ds); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}

func TestValidateConfigDiagnostics(t *testing.T) {
	tests := []struct {
		name   string
		typ    string
		config any
		want   diag.Diagnostics
	}{
		{"valid", "fake_server", map[string]any{"name": "a"}, nil},
		{"provider config", "", map[string]any{"zone": 1.0}, diag.Diagnostics{diag.Errorf("zone", "must be a string")}},
		{"nested paths", "fake_server", map[string]any{"disks": []any{map[string]any{}}, "tags": map[string]any{"a.b": 1.0}}, diag.Diagnostics{
			diag.Errorf("disks[0].size_gb", "required attribute is missing"),
			{Severity: diag.Warning, Path: `tags["a.b"]`, Summary: "not a string", Detail: "converted"},
		}},
	}
	var gotTyp string
	var gotConfig any
	p := ServeTestProvider(t, &fakeProvider{ValidateFunc: func(typ string, config any) (diag.Diagnostics, error) {
		gotTyp, gotConfig = typ, config
		switch {
		case typ == "":
			return diag.Diagnostics{diag.Errorf("zone", "must be a string")}, nil
		case config.(map[string]any)["disks"] != nil:
			return diag.Diagnostics{
				diag.Errorf("disks[0].size_gb", "required attribute is missing"),
				{Severity: diag.Warning, Path: `tags["a.b"]`, Summary: "not a string", Detail: "converted"},
			}, nil
		}
		return nil, nil
	}})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds, err := p.ValidateConfig(context.Background(), tt.typ, tt.config)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, ds); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
			if gotTyp != tt.typ {
				t.Errorf("provider saw type %q, want %q", gotTyp, tt.typ)
			}
			if diff := cmp.Diff(tt.config, gotConfig); diff != "" {
				t.Errorf("provider saw config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlanRoundTrip(t *testing.T) {
	cost := 12.5
	prior := map[string]any{"id": "i-1", "name": "web", "size": 2.0, "password": "s3cret"}
	tests := []struct {
		name string
		req  plugins.PlanRequest
		resp plugins.PlanResponse
	}{
		{
			name: "create with unknowns",
			req:  plugins.PlanRequest{Type: "fake_server", Config: map[string]any{"name": "web", "ip": value.Unknown, "tags": []any{"a", value.Unknown}}},
			resp: plugins.PlanResponse{
				Planned:     map[string]any{"id": value.Unknown, "name": "web", "ip": value.Unknown, "tags": []any{"a", value.Unknown}},
				Sensitive:   []value.Path{mustPath(t, "password")},
				MonthlyCost: &cost,
			},
		},
		{
			name: "update",
			req:  plugins.PlanRequest{Type: "fake_server", Prior: prior, Config: map[string]any{"name": "web", "size": 4.0}},
			resp: plugins.PlanResponse{Planned: map[string]any{"id": "i-1", "name": "web", "size": 4.0, "password": "s3cret"}, Sensitive: []value.Path{mustPath(t, "password")}},
		},
		{
			name: "replace",
			req:  plugins.PlanRequest{Type: "fake_server", Prior: prior, Config: map[string]any{"name": "db"}},
			resp: plugins.PlanResponse{
				Planned:         map[string]any{"id": value.Unknown, "name": "db", "size": 2.0},
				RequiresReplace: []value.Path{mustPath(t, "name"), mustPath(t, `labels["k.8s/role"]`)},
			},
		},
		{
			name: "delete",
			req:  plugins.PlanRequest{Type: "fake_server", Prior: prior},
			resp: plugins.PlanResponse{Diagnostics: diag.Diagnostics{diag.Warnf("", "deleting keeps backups for 7 days")}},
		},
		{
			name: "unknown root",
			req:  plugins.PlanRequest{Type: "fake_server", Config: value.Unknown},
			resp: plugins.PlanResponse{Planned: value.Unknown},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeProvider{PlanFunc: func(plugins.PlanRequest) (*plugins.PlanResponse, error) {
				r := tt.resp
				return &r, nil
			}}
			p := ServeTestProvider(t, f)
			got, err := p.Plan(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(&tt.resp, got); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]any{tt.req}, f.requests); diff != "" {
				t.Errorf("provider saw (-want +got):\n%s", diff)
			}
		})
	}
}

func TestApplyStreamsProgress(t *testing.T) {
	tests := []struct {
		name     string
		progress []plugins.Progress
		resp     *plugins.ApplyResponse
		err      error
		want     *plugins.ApplyResponse
	}{
		{
			name:     "create",
			progress: []plugins.Progress{{Message: "creating", Percent: -1}, {Message: "booting", Percent: 50}, {Message: "done", Percent: 100}},
			resp:     &plugins.ApplyResponse{New: map[string]any{"id": "i-1", "pw": "x"}, Sensitive: []value.Path{mustPath(t, "pw")}},
			want:     &plugins.ApplyResponse{New: map[string]any{"id": "i-1", "pw": "x"}, Sensitive: []value.Path{mustPath(t, "pw")}},
		},
		{
			name: "partial state on failure",
			resp: &plugins.ApplyResponse{New: map[string]any{"id": "i-2"}, Diagnostics: diag.Diagnostics{diag.Errorf("", "boot failed")}},
			want: &plugins.ApplyResponse{New: map[string]any{"id": "i-2"}, Diagnostics: diag.Diagnostics{diag.Errorf("", "boot failed")}},
		},
		{
			name: "provider error becomes a diagnostic",
			err:  errors.New("quota exceeded"),
			want: &plugins.ApplyResponse{Diagnostics: diag.Diagnostics{{Severity: diag.Error, Summary: "plugin failed during Apply", Detail: "quota exceeded"}}},
		},
		{
			name: "provider diagnostics error kept as is",
			err:  diag.Diagnostics{diag.Errorf("size", "too big")}.Err(),
			want: &plugins.ApplyResponse{Diagnostics: diag.Diagnostics{diag.Errorf("size", "too big")}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeProvider{ApplyFunc: func(_ context.Context, _ plugins.ApplyRequest, progress func(plugins.Progress)) (*plugins.ApplyResponse, error) {
				for _, p := range tt.progress {
					progress(p)
				}
				return tt.resp, tt.err
			}}
			p := ServeTestProvider(t, f)
			req := plugins.ApplyRequest{Type: "fake_server", OperationID: "op-1", Planned: map[string]any{"id": value.Unknown}, Config: map[string]any{"name": "a"}}
			var got []plugins.Progress
			resp, err := p.Apply(context.Background(), req, func(p plugins.Progress) { got = append(got, p) })
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, resp); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.progress, got); diff != "" {
				t.Errorf("progress (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]any{req}, f.requests); diff != "" {
				t.Errorf("provider saw (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPanicBecomesDiagnostic(t *testing.T) {
	p := ServeTestProvider(t, &fakeProvider{PlanFunc: func(plugins.PlanRequest) (*plugins.PlanResponse, error) {
		var m map[string]any
		m["boom"] = 1 // a bug in the provider
		return nil, nil
	}})
	resp, err := p.Plan(context.Background(), plugins.PlanRequest{Type: "fake_server"})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Diagnostics) != 1 || !strings.HasPrefix(resp.Diagnostics[0].Summary, "plugin panicked during Plan: assignment to entry in nil map") {
		t.Errorf("diagnostics = %v, want one naming the panic", resp.Diagnostics)
	}
}

func TestReadImportStop(t *testing.T) {
	f := &fakeProvider{
		ReadFunc: func(r plugins.ReadRequest) (*plugins.ReadResponse, error) {
			if r.OperationID != "" {
				return &plugins.ReadResponse{New: map[string]any{"id": "found-by-op"}}, nil
			}
			return &plugins.ReadResponse{}, nil // gone
		},
		ImportFunc: func(r plugins.ImportRequest) (*plugins.ImportResponse, error) {
			return &plugins.ImportResponse{State: map[string]any{"id": r.ID, "key": "k"}, Sensitive: []value.Path{mustPath(t, "key")}}, nil
		},
	}
	p := ServeTestProvider(t, f)
	ctx := context.Background()
	tests := []struct {
		name string
		call func() (any, error)
		want any
	}{
		{"read in doubt", func() (any, error) {
			return p.Read(ctx, plugins.ReadRequest{Type: "t", OperationID: "op-9"})
		}, &plugins.ReadResponse{New: map[string]any{"id": "found-by-op"}}},
		{"read gone", func() (any, error) {
			return p.Read(ctx, plugins.ReadRequest{Type: "t", Current: map[string]any{"id": "x"}})
		}, &plugins.ReadResponse{}},
		{"import", func() (any, error) {
			return p.Import(ctx, plugins.ImportRequest{Type: "t", ID: "i-7"})
		}, &plugins.ImportResponse{State: map[string]any{"id": "i-7", "key": "k"}, Sensitive: []value.Path{mustPath(t, "key")}}},
		{"stop", func() (any, error) { return nil, p.Stop(ctx) }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.call()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if f.stopped != 1 {
		t.Errorf("Stop reached the provider %d times, want 1", f.stopped)
	}
}

func TestTransportFailureIsAnError(t *testing.T) {
	client, server := pluginConn(t, &fakeProvider{PlanFunc: func(plugins.PlanRequest) (*plugins.PlanResponse, error) {
		return &plugins.PlanResponse{}, nil
	}})
	server.Stop()
	_, err := client.Plan(context.Background(), plugins.PlanRequest{Type: "t"})
	if err == nil || !strings.Contains(err.Error(), "protocol: Plan: ") {
		t.Fatalf("Plan after the server stopped: err = %v, want a transport error naming Plan", err)
	}
}

// fakeTaskserv installs by running a command and writing a file through the Exec it is given.
type fakeTaskserv struct{}

func (fakeTaskserv) Describe(context.Context) (*plugins.TaskservDescription, error) {
	return &plugins.TaskservDescription{Name: "redis", Category: "db", Versions: []string{"7.2", "7.4"}, Dependencies: []string{"containerd"},
		Config: map[string]*plugins.Attribute{"port": {Type: plugins.Type{Kind: plugins.Number}, Optional: true, Default: 6379.0}}}, nil
}
func (fakeTaskserv) Plan(_ context.Context, req plugins.TaskservRequest, _ plugins.Exec) (*plugins.TaskservPlan, error) {
	return &plugins.TaskservPlan{Planned: map[string]any{"version": req.Version, "pid": value.Unknown}, Changed: req.Prior == nil, Steps: []string{"install redis " + req.Version}}, nil
}
func (fakeTaskserv) Install(ctx context.Context, req plugins.TaskservRequest, exec plugins.Exec, progress func(plugins.Progress)) (*plugins.TaskservResult, error) {
	progress(plugins.Progress{Message: "writing config", Percent: 10})
	if err := exec.PutFile(ctx, "/etc/redis.conf", []byte("port 6379\n"), 0o644); err != nil {
		return nil, err
	}
	r, err := exec.Run(ctx, plugins.ExecCommand{Command: "install-redis", Stdin: []byte("yes"), Env: map[string]string{"V": req.Version}, Dir: "/tmp"})
	if err != nil {
		return nil, err
	}
	back, err := exec.GetFile(ctx, "/etc/redis.conf")
	if err != nil {
		return nil, err
	}
	progress(plugins.Progress{Message: "started", Percent: 100})
	return &plugins.TaskservResult{State: map[string]any{"version": req.Version, "conf": string(back)}, Healthy: r.ExitCode == 0, Output: string(r.Stdout)}, nil
}
func (fakeTaskserv) Check(ctx context.Context, _ plugins.TaskservRequest, exec plugins.Exec) (*plugins.TaskservResult, error) {
	_, err := exec.GetFile(ctx, "/missing")
	return &plugins.TaskservResult{Healthy: false, Output: err.Error()}, nil
}
func (fakeTaskserv) Remove(context.Context, plugins.TaskservRequest, plugins.Exec) (*plugins.TaskservResult, error) {
	return &plugins.TaskservResult{}, nil
}
func (fakeTaskserv) Close() error { return nil }

// memExec is an in-memory target: files in a map, commands recorded.
type memExec struct {
	mu    sync.Mutex
	files map[string][]byte
	cmds  []plugins.ExecCommand
}

func (m *memExec) Run(_ context.Context, cmd plugins.ExecCommand) (*plugins.ExecResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cmds = append(m.cmds, cmd)
	return &plugins.ExecResult{Stdout: []byte("ok " + string(cmd.Stdin)), ExitCode: 0}, nil
}
func (m *memExec) PutFile(_ context.Context, path string, data []byte, _ uint32) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files[path] = data
	return nil
}
func (m *memExec) GetFile(_ context.Context, path string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.files[path]
	if !ok {
		return nil, fmt.Errorf("%s: no such file", path)
	}
	return b, nil
}

func TestTaskservThroughBroker(t *testing.T) {
	ts := ServeTestTaskserv(t, fakeTaskserv{})
	ctx := context.Background()
	req := plugins.TaskservRequest{OperationID: "op-1", Version: "7.4", Config: map[string]any{"port": 6379.0}, Server: map[string]any{"hostname": "web-01"}}

	t.Run("describe", func(t *testing.T) {
		got, err := ts.Describe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := fakeTaskserv{}.Describe(ctx)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("plan", func(t *testing.T) {
		got, err := ts.Plan(ctx, req, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := &plugins.TaskservPlan{Planned: map[string]any{"version": "7.4", "pid": value.Unknown}, Changed: true, Steps: []string{"install redis 7.4"}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("install", func(t *testing.T) {
		exec := &memExec{files: map[string][]byte{}}
		var progress []plugins.Progress
		got, err := ts.Install(ctx, req, exec, func(p plugins.Progress) { progress = append(progress, p) })
		if err != nil {
			t.Fatal(err)
		}
		want := &plugins.TaskservResult{State: map[string]any{"version": "7.4", "conf": "port 6379\n"}, Healthy: true, Output: "ok yes"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("result (-want +got):\n%s", diff)
		}
		wantCmds := []plugins.ExecCommand{{Command: "install-redis", Stdin: []byte("yes"), Env: map[string]string{"V": "7.4"}, Dir: "/tmp"}}
		if diff := cmp.Diff(wantCmds, exec.cmds); diff != "" {
			t.Errorf("commands run (-want +got):\n%s", diff)
		}
		wantProgress := []plugins.Progress{{Message: "writing config", Percent: 10}, {Message: "started", Percent: 100}}
		if diff := cmp.Diff(wantProgress, progress); diff != "" {
			t.Errorf("progress (-want +got):\n%s", diff)
		}
	})
	t.Run("exec error reaches the plugin", func(t *testing.T) {
		got, err := ts.Check(ctx, req, &memExec{files: map[string][]byte{}})
		if err != nil {
			t.Fatal(err)
		}
		want := &plugins.TaskservResult{Output: "exec: get file /missing: /missing: no such file"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("no exec given", func(t *testing.T) {
		got, err := ts.Install(ctx, req, nil, func(plugins.Progress) {})
		if err != nil {
			t.Fatal(err)
		}
		want := diag.Diagnostics{{Severity: diag.Error, Summary: "plugin failed during Install", Detail: errNoExec.Error()}}
		if diff := cmp.Diff(want, got.Diagnostics); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}
