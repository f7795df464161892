package plugintest

import (
	"context"
	"testing"

	"github.com/provhq/prov/internal/protocol"
	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/plugins/host"
	"github.com/provhq/prov/sdk"
)

// Taskserv is a taskserv served through the real protocol for one test, acting on a sandbox directory
// through the local execution channel, which reaches the plugin over the go-plugin broker as it does in
// prov. Commands run in Root, and relative file paths resolve against it.
type Taskserv struct {
	t      testing.TB
	client plugins.Taskserv
	exec   plugins.Exec
	// Root is the sandbox directory that stands for the target server.
	Root string
	// Server is the target server's state handed to every call.
	Server map[string]any
}

// NewTaskserv serves ts through gRPC for the duration of t, with a fresh sandbox directory as target.
func NewTaskserv(t testing.TB, ts *sdk.Taskserv) *Taskserv {
	t.Helper()
	root := t.TempDir()
	return &Taskserv{
		t:      t,
		client: protocol.ServeTestTaskserv(t, sdk.NewTaskservServer(ts)),
		exec:   &host.LocalExec{Dir: root},
		Root:   root,
		Server: map[string]any{"hostname": "plugintest", "address": "127.0.0.1", "transport": "local", "root": root},
	}
}

// Request builds the request for one install; prior is the state of the last Install, nil for none.
func (h *Taskserv) Request(version string, config, prior map[string]any) plugins.TaskservRequest {
	return plugins.TaskservRequest{OperationID: "plugintest-op", Version: version, Config: orNil(config),
		Server: h.Server, Prior: orNil(prior)}
}

// Describe returns what the taskserv says about itself.
func (h *Taskserv) Describe() *plugins.TaskservDescription {
	h.t.Helper()
	d, err := h.client.Describe(context.Background())
	if err != nil {
		h.t.Fatalf("plugintest: describe: %v", err)
	}
	return d
}

// Plan returns whether Install would change anything, its steps and the diagnostics.
func (h *Taskserv) Plan(req plugins.TaskservRequest) (changed bool, steps, diags []string) {
	h.t.Helper()
	p, err := h.client.Plan(context.Background(), req, h.exec)
	if err != nil {
		h.t.Fatalf("plugintest: plan: %v", err)
	}
	return p.Changed, p.Steps, render(p.Diagnostics)
}

// TaskResult is the outcome of Install, Check or Remove.
type TaskResult struct {
	State       map[string]any
	Healthy     bool
	Output      string
	Diagnostics []string
}

// Install installs the taskserv in the sandbox.
func (h *Taskserv) Install(req plugins.TaskservRequest) *TaskResult {
	h.t.Helper()
	r, err := h.client.Install(context.Background(), req, h.exec, nil)
	return h.result("install", r, err)
}

// Check runs the taskserv's health check.
func (h *Taskserv) Check(req plugins.TaskservRequest) *TaskResult {
	h.t.Helper()
	r, err := h.client.Check(context.Background(), req, h.exec)
	return h.result("check", r, err)
}

// Remove uninstalls the taskserv.
func (h *Taskserv) Remove(req plugins.TaskservRequest) *TaskResult {
	h.t.Helper()
	r, err := h.client.Remove(context.Background(), req, h.exec)
	return h.result("remove", r, err)
}

func (h *Taskserv) result(what string, r *plugins.TaskservResult, err error) *TaskResult {
	h.t.Helper()
	if err != nil {
		h.t.Fatalf("plugintest: %s: %v", what, err)
	}
	state, _ := r.State.(map[string]any)
	return &TaskResult{State: state, Healthy: r.Healthy, Output: r.Output, Diagnostics: render(r.Diagnostics)}
}
