// Command fakeplugin is the plugin the host tests start as a real process. Installed as
// prov-provider-NAME or prov-taskserv-NAME it serves that kind; run as "fakeplugin __plugin KIND NAME"
// it plays a builtin. Its provider's behaviour is chosen by resource type: fake_echo works, fake_crash
// exits mid-Apply, fake_hang never answers Plan, fake_pid reports the plugin's pid.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/protocol"
	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/plugins"
)

func main() {
	kind, name := "", ""
	if len(os.Args) == 4 && os.Args[1] == "__plugin" {
		kind, name = os.Args[2], os.Args[3]
	} else {
		base := filepath.Base(os.Args[0])
		for _, k := range []string{"provider", "taskserv"} {
			if n, ok := strings.CutPrefix(base, "prov-"+k+"-"); ok {
				kind, name = k, n
			}
		}
	}
	switch kind {
	case "provider":
		protocol.ServeProvider(&provider{name: name})
	case "taskserv":
		protocol.ServeTaskserv(taskserv{name: name})
	}
	fmt.Fprintln(os.Stderr, "fakeplugin: unknown kind; install as prov-provider-NAME or prov-taskserv-NAME")
	os.Exit(1)
}

type provider struct{ name string }

func (p *provider) Schema(context.Context) (*plugins.ProviderSchema, diag.Diagnostics, error) {
	str := plugins.Type{Kind: plugins.String}
	return &plugins.ProviderSchema{
		Name: p.name, Version: os.Getenv("FAKEPLUGIN_VERSION"),
		Resources: map[string]*plugins.ResourceSchema{
			"fake_echo": {Attributes: map[string]*plugins.Attribute{"name": {Type: str, Required: true}, "id": {Type: str, Computed: true}}},
		},
	}, nil, nil
}

func (p *provider) ValidateConfig(_ context.Context, _ string, config any) (diag.Diagnostics, error) {
	if m, ok := config.(map[string]any); ok && m["name"] == "" {
		return diag.Diagnostics{diag.Errorf("name", "must not be empty")}, nil
	}
	return nil, nil
}

func (p *provider) Configure(context.Context, any) (diag.Diagnostics, error) { return nil, nil }

func (p *provider) Plan(ctx context.Context, req plugins.PlanRequest) (*plugins.PlanResponse, error) {
	if req.Type == "fake_hang" {
		select {} // a plugin that hangs and ignores its context
	}
	if req.Config == nil {
		return &plugins.PlanResponse{}, nil
	}
	planned := value.Copy(req.Config).(map[string]any)
	planned["id"] = value.Unknown
	if req.Prior != nil {
		planned["id"] = req.Prior.(map[string]any)["id"]
	}
	return &plugins.PlanResponse{Planned: planned, Sensitive: []value.Path{value.KeyPath("secret")}}, nil
}

func (p *provider) Apply(ctx context.Context, req plugins.ApplyRequest, progress func(plugins.Progress)) (*plugins.ApplyResponse, error) {
	switch req.Type {
	case "fake_crash":
		progress(plugins.Progress{Message: "about to crash", Percent: 50})
		fmt.Fprintln(os.Stderr, "fakeplugin: crashing on purpose")
		os.Exit(3)
	case "fake_slow":
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if req.Planned == nil {
		return &plugins.ApplyResponse{}, nil
	}
	progress(plugins.Progress{Message: "creating", Percent: 0})
	progress(plugins.Progress{Message: "created", Percent: 100})
	state := value.Copy(req.Planned).(map[string]any)
	if value.IsUnknown(state["id"]) {
		state["id"] = req.OperationID
	}
	return &plugins.ApplyResponse{New: state, Sensitive: []value.Path{value.KeyPath("secret")}}, nil
}

func (p *provider) Read(_ context.Context, req plugins.ReadRequest) (*plugins.ReadResponse, error) {
	if req.Type == "fake_pid" {
		return &plugins.ReadResponse{New: map[string]any{"pid": float64(os.Getpid()), "ppid": float64(os.Getppid())}}, nil
	}
	return &plugins.ReadResponse{New: req.Current}, nil
}

func (p *provider) Import(_ context.Context, req plugins.ImportRequest) (*plugins.ImportResponse, error) {
	return &plugins.ImportResponse{State: map[string]any{"id": req.ID}}, nil
}

func (p *provider) Stop(context.Context) error { return nil }
func (p *provider) Close() error               { return nil }

type taskserv struct{ name string }

func (t taskserv) Describe(context.Context) (*plugins.TaskservDescription, error) {
	return &plugins.TaskservDescription{Name: t.name, Versions: []string{"1.0"}}, nil
}

func (t taskserv) Plan(_ context.Context, req plugins.TaskservRequest, _ plugins.Exec) (*plugins.TaskservPlan, error) {
	return &plugins.TaskservPlan{Planned: map[string]any{"version": req.Version}, Changed: req.Prior == nil, Steps: []string{"write motd", "run hello"}}, nil
}

func (t taskserv) Install(ctx context.Context, req plugins.TaskservRequest, exec plugins.Exec, progress func(plugins.Progress)) (*plugins.TaskservResult, error) {
	if err := exec.PutFile(ctx, "etc/motd", []byte("hello from "+t.name+"\n"), 0o600); err != nil {
		return nil, err
	}
	progress(plugins.Progress{Message: "wrote etc/motd", Percent: 50})
	r, err := exec.Run(ctx, plugins.ExecCommand{Command: `cat etc/motd; read x; echo "stdin=$x env=$GREETING"; exit 4`, Stdin: []byte("yes\n"), Env: map[string]string{"GREETING": "hi"}})
	if err != nil {
		return nil, err
	}
	back, err := exec.GetFile(ctx, "etc/motd")
	if err != nil {
		return nil, err
	}
	return &plugins.TaskservResult{
		State:   map[string]any{"version": req.Version, "motd": string(back), "exit": float64(r.ExitCode)},
		Healthy: r.ExitCode == 4, Output: string(r.Stdout),
	}, nil
}

func (t taskserv) Check(ctx context.Context, _ plugins.TaskservRequest, exec plugins.Exec) (*plugins.TaskservResult, error) {
	_, err := exec.GetFile(ctx, "etc/missing")
	return &plugins.TaskservResult{Healthy: err == nil, Output: fmt.Sprint(err)}, nil
}

func (t taskserv) Remove(context.Context, plugins.TaskservRequest, plugins.Exec) (*plugins.TaskservResult, error) {
	return &plugins.TaskservResult{}, nil
}

func (t taskserv) Close() error { return nil }
