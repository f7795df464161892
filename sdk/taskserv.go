package sdk

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/plugins"
)

// Taskserv declares a taskserv plugin: a service that prov installs on servers through an execution
// channel the host provides (local exec or SSH). The plugin never sees credentials: it runs commands and
// moves files through the Task it is given.
type Taskserv struct {
	Name        string
	Category    string // "container-runtime", "kubernetes", "networking", …
	Description string
	// Versions lists the versions the taskserv can install; a request for another is a diagnostic.
	Versions []string
	// Dependencies name the taskservs that must be installed first; Conflicts those that must not be.
	Dependencies []string
	Conflicts    []string
	// Config declares the taskserv's configuration attributes.
	Config map[string]*Attribute

	// Plan, when set, returns the steps Install would take, for the plan output. It is called only
	// when something changed (first install, version or configuration).
	Plan func(ctx context.Context, t *Task) (steps []string, err error)
	// Install installs or reconfigures the service; it must be safe to run again.
	Install func(ctx context.Context, t *Task) error
	// Check returns nil when the service is healthy, else an error saying why not.
	Check func(ctx context.Context, t *Task) error
	// Remove uninstalls the service.
	Remove func(ctx context.Context, t *Task) error
}

// Task is one install of a taskserv on one server, with the channel to act on that server.
type Task struct {
	// OperationID is stable across retries and resumes of the same operation.
	OperationID string
	Version     string
	// Config is the taskserv's configuration, defaults applied.
	Config *Data
	// Server is the target server's state (hostname, address, …).
	Server *Data
	// Prior is the install's state from the last apply, nil when not installed.
	Prior map[string]any
	// State is what Install records; it starts with the version and the configuration.
	State map[string]any

	exec     plugins.Exec
	progress func(plugins.Progress)
}

// Command is a command to run on the target server, by /bin/sh -c.
type Command struct {
	Command string
	Stdin   []byte
	Env     map[string]string
	Dir     string
}

// Result is what a Command did.
type Result struct {
	Stdout, Stderr []byte
	ExitCode       int
}

// ExitError is the error Run returns for a command that exited with a non-zero code.
type ExitError struct {
	Command  string
	ExitCode int
	Stderr   string
}

// Error says which command failed, with what code, and its standard error.
func (e *ExitError) Error() string {
	msg := fmt.Sprintf("%q exited with code %d", e.Command, e.ExitCode)
	if s := strings.TrimSpace(e.Stderr); s != "" {
		msg += ": " + s
	}
	return msg
}

// Run runs command on the server and returns its standard output; a non-zero exit is an *ExitError.
func (t *Task) Run(ctx context.Context, command string) (string, error) {
	r, err := t.RunCommand(ctx, Command{Command: command})
	if err != nil {
		return "", err
	}
	if r.ExitCode != 0 {
		return string(r.Stdout), &ExitError{Command: command, ExitCode: r.ExitCode, Stderr: string(r.Stderr)}
	}
	return string(r.Stdout), nil
}

// RunCommand runs c on the server. A non-zero exit code is not an error here; the error is for a
// command that could not be run at all.
func (t *Task) RunCommand(ctx context.Context, c Command) (*Result, error) {
	r, err := t.exec.Run(ctx, plugins.ExecCommand{Command: c.Command, Stdin: c.Stdin, Env: c.Env, Dir: c.Dir})
	if err != nil {
		return nil, fmt.Errorf("run %q: %w", c.Command, err)
	}
	return &Result{Stdout: r.Stdout, Stderr: r.Stderr, ExitCode: r.ExitCode}, nil
}

// PutFile writes a file on the server.
func (t *Task) PutFile(ctx context.Context, path string, data []byte, mode uint32) error {
	if err := t.exec.PutFile(ctx, path, data, mode); err != nil {
		return fmt.Errorf("put %s: %w", path, err)
	}
	return nil
}

// GetFile reads a file from the server.
func (t *Task) GetFile(ctx context.Context, path string) ([]byte, error) {
	b, err := t.exec.GetFile(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", path, err)
	}
	return b, nil
}

// Progress reports how Install is going; percent is 0..100, or -1 when unknown.
func (t *Task) Progress(percent int, format string, args ...any) {
	if t.progress != nil {
		t.progress(plugins.Progress{Message: fmt.Sprintf(format, args...), Percent: percent})
	}
}

// Validate reports the mistakes in the declaration. NewTaskservServer panics with the same error.
func (ts *Taskserv) Validate() error {
	var errs []error
	if !typeName.MatchString(strings.ReplaceAll(ts.Name, "-", "_")) {
		errs = append(errs, fmt.Errorf("taskserv name %q: want lower case letters, digits, - and _", ts.Name))
	}
	if ts.Install == nil {
		errs = append(errs, fmt.Errorf("taskserv %s: Install is required", ts.Name))
	}
	if err := newObject(ts.Config).check("config.", true); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// NewTaskservServer returns ts as a plugins.Taskserv that runs in this process; ServeTaskserv puts it
// behind gRPC. It panics if ts.Validate reports a mistake in the declaration.
func NewTaskservServer(ts *Taskserv) plugins.Taskserv {
	if err := ts.Validate(); err != nil {
		panic(fmt.Sprintf("sdk: %v", err))
	}
	return &taskservServer{ts: ts, config: newObject(ts.Config)}
}

type taskservServer struct {
	ts     *Taskserv
	config *object
}

var _ plugins.Taskserv = (*taskservServer)(nil)

func (s *taskservServer) Describe(context.Context) (*plugins.TaskservDescription, error) {
	return &plugins.TaskservDescription{
		Name:         s.ts.Name,
		Category:     s.ts.Category,
		Versions:     s.ts.Versions,
		Dependencies: s.ts.Dependencies,
		Conflicts:    s.ts.Conflicts,
		Config:       s.config.wire(),
	}, nil
}

func (s *taskservServer) Plan(ctx context.Context, req plugins.TaskservRequest, exec plugins.Exec) (*plugins.TaskservPlan, error) {
	t, ds := s.task(req, exec, nil)
	if ds.HasErrors() {
		return &plugins.TaskservPlan{Diagnostics: ds}, nil
	}
	resp := &plugins.TaskservPlan{Planned: t.State}
	resp.Changed = t.Prior == nil || !value.Equal(t.Prior["version"], t.State["version"]) ||
		!value.Equal(t.Prior["config"], t.State["config"])
	if !resp.Changed {
		resp.Planned = req.Prior
		return resp, nil
	}
	resp.Steps = []string{fmt.Sprintf("install %s %s", s.ts.Name, t.Version)}
	if s.ts.Plan != nil {
		resp.Diagnostics = s.call(ctx, "plan", func(ctx context.Context) error {
			steps, err := s.ts.Plan(ctx, t)
			if err == nil {
				resp.Steps = steps
			}
			return err
		})
	}
	return resp, nil
}

func (s *taskservServer) Install(ctx context.Context, req plugins.TaskservRequest, exec plugins.Exec, progress func(plugins.Progress)) (*plugins.TaskservResult, error) {
	t, ds := s.task(req, exec, progress)
	if ds.HasErrors() {
		return &plugins.TaskservResult{State: req.Prior, Diagnostics: ds}, nil
	}
	ds = s.call(ctx, "install", func(ctx context.Context) error { return s.ts.Install(ctx, t) })
	if ds.HasErrors() {
		return &plugins.TaskservResult{State: req.Prior, Diagnostics: ds}, nil
	}
	return &plugins.TaskservResult{State: known(t.State), Healthy: true, Diagnostics: ds}, nil
}

func (s *taskservServer) Check(ctx context.Context, req plugins.TaskservRequest, exec plugins.Exec) (*plugins.TaskservResult, error) {
	t, ds := s.task(req, exec, nil)
	if ds.HasErrors() || s.ts.Check == nil {
		return &plugins.TaskservResult{State: req.Prior, Healthy: !ds.HasErrors(), Diagnostics: ds}, nil
	}
	var unhealthy error
	ds = s.call(ctx, "check", func(ctx context.Context) error {
		unhealthy = s.ts.Check(ctx, t)
		return nil
	})
	resp := &plugins.TaskservResult{State: req.Prior, Healthy: unhealthy == nil && !ds.HasErrors(), Diagnostics: ds}
	if unhealthy != nil {
		resp.Output = unhealthy.Error()
	}
	return resp, nil
}

func (s *taskservServer) Remove(ctx context.Context, req plugins.TaskservRequest, exec plugins.Exec) (*plugins.TaskservResult, error) {
	if s.ts.Remove == nil {
		return &plugins.TaskservResult{}, nil
	}
	t, ds := s.task(req, exec, nil)
	if ds.HasErrors() {
		return &plugins.TaskservResult{State: req.Prior, Diagnostics: ds}, nil
	}
	ds = s.call(ctx, "remove", func(ctx context.Context) error { return s.ts.Remove(ctx, t) })
	if ds.HasErrors() {
		return &plugins.TaskservResult{State: req.Prior, Diagnostics: ds}, nil
	}
	return &plugins.TaskservResult{Diagnostics: ds}, nil
}

func (s *taskservServer) Close() error { return nil }

// task checks the request and builds the Task for it.
func (s *taskservServer) task(req plugins.TaskservRequest, exec plugins.Exec, progress func(plugins.Progress)) (*Task, diag.Diagnostics) {
	var ds diag.Diagnostics
	if len(s.ts.Versions) > 0 && !slices.Contains(s.ts.Versions, req.Version) {
		ds = append(ds, diag.Errorf("version", "%s has no version %q; available: %s",
			s.ts.Name, req.Version, strings.Join(s.ts.Versions, ", ")))
	}
	s.config.checkConfig(req.Config, value.KeyPath("config"), &ds)
	server, err := asObject(req.Server)
	if err != nil {
		ds = append(ds, diag.Errorf("server", "%v", err))
	}
	prior, err := asObject(req.Prior)
	if err != nil {
		ds = append(ds, diag.Errorf("", "prior state: %v", err))
	}
	if ds.HasErrors() {
		return nil, ds
	}
	cfg, _ := req.Config.(map[string]any)
	cfg, _ = s.config.withDefaults(cfg)
	if cfg == nil {
		cfg = map[string]any{}
	}
	return &Task{
		OperationID: req.OperationID,
		Version:     req.Version,
		Config:      newData(cfg, nil),
		Server:      newData(server, nil),
		Prior:       prior,
		State:       map[string]any{"version": req.Version, "config": cfg},
		exec:        exec,
		progress:    progress,
	}, ds
}

// call runs fn, turning its error and a panic into diagnostics.
func (s *taskservServer) call(ctx context.Context, what string, fn func(context.Context) error) (ds diag.Diagnostics) {
	defer func() {
		if r := recover(); r != nil {
			ds = append(ds, diag.Diagnostic{
				Severity: diag.Error,
				Summary:  fmt.Sprintf("taskserv %s crashed in %s: %v", s.ts.Name, what, r),
				Detail:   "This is a bug in the taskserv. Stack:\n" + string(debug.Stack()),
			})
		}
	}()
	return errDiags(fn(ctx))
}
