package host

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/plugins"
)

// CallError is a call to a plugin that did not complete: the process died, the call timed out, or the
// connection failed. Its message names the plugin and the operation and carries no stack trace.
type CallError struct {
	Plugin ID
	Op     string
	// Reason is what happened, in words for the operator.
	Reason string
	Err    error
}

// Error names the plugin, the operation and what happened.
func (e *CallError) Error() string {
	return fmt.Sprintf("plugin %s: %s: %s", e.Plugin, e.Op, e.Reason)
}

// Unwrap returns the underlying transport or context error.
func (e *CallError) Unwrap() error { return e.Err }

// ErrPluginExited is wrapped by the CallError of a call during which the plugin process ended.
var ErrPluginExited = errors.New("plugin process exited")

// ErrTimeout is wrapped by the CallError of a call the plugin did not answer in time.
var ErrTimeout = errors.New("plugin call timed out")

// guard applies timeouts to calls and turns their transport failures into CallErrors.
type guard struct {
	id           ID
	client       *plugin.Client
	callTimeout  time.Duration
	applyTimeout time.Duration
	release      func()
}

// begin returns the context for one call: the caller's, bounded by the timeout when there is one.
func (g *guard) begin(ctx context.Context, long bool) (context.Context, context.CancelFunc) {
	d := g.callTimeout
	if long {
		d = g.applyTimeout
	}
	if d <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

// fail explains a transport error; nil stays nil.
func (g *guard) fail(parent, callCtx context.Context, op string, long bool, err error) error {
	if err == nil {
		return nil
	}
	if parent.Err() != nil { // the caller gave up; say so plainly
		return &CallError{Plugin: g.id, Op: op, Reason: "cancelled: " + parent.Err().Error(), Err: parent.Err()}
	}
	d := g.callTimeout
	if long {
		d = g.applyTimeout
	}
	// gRPC sends the deadline along, so the plugin's side may report it first.
	if errors.Is(callCtx.Err(), context.DeadlineExceeded) || (d > 0 && status.Code(err) == codes.DeadlineExceeded) {
		return &CallError{Plugin: g.id, Op: op, Reason: fmt.Sprintf("no answer within %s; the plugin may be hung", d),
			Err: fmt.Errorf("%w: %w", ErrTimeout, err)}
	}
	// A crash shows on the connection a moment before the process is reaped.
	for range 200 {
		if g.client.Exited() {
			return &CallError{Plugin: g.id, Op: op, Reason: "the plugin process exited unexpectedly (it crashed or was killed; see the plugin's log output)",
				Err: fmt.Errorf("%w: %w", ErrPluginExited, err)}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return &CallError{Plugin: g.id, Op: op, Reason: "lost the connection to the plugin: " + err.Error(), Err: err}
}

// guardedProvider is a plugins.Provider with timeouts and clear transport errors.
type guardedProvider struct {
	guard
	inner plugins.Provider
}

var _ plugins.Provider = (*guardedProvider)(nil)

func (p *guardedProvider) Schema(ctx context.Context) (*plugins.ProviderSchema, diag.Diagnostics, error) {
	c, cancel := p.begin(ctx, false)
	defer cancel()
	s, ds, err := p.inner.Schema(c)
	return s, ds, p.fail(ctx, c, "GetSchema", false, err)
}

func (p *guardedProvider) ValidateConfig(ctx context.Context, typ string, config any) (diag.Diagnostics, error) {
	c, cancel := p.begin(ctx, false)
	defer cancel()
	ds, err := p.inner.ValidateConfig(c, typ, config)
	return ds, p.fail(ctx, c, "ValidateConfig", false, err)
}

func (p *guardedProvider) Configure(ctx context.Context, config any) (diag.Diagnostics, error) {
	c, cancel := p.begin(ctx, false)
	defer cancel()
	ds, err := p.inner.Configure(c, config)
	return ds, p.fail(ctx, c, "Configure", false, err)
}

func (p *guardedProvider) Plan(ctx context.Context, req plugins.PlanRequest) (*plugins.PlanResponse, error) {
	c, cancel := p.begin(ctx, false)
	defer cancel()
	r, err := p.inner.Plan(c, req)
	return r, p.fail(ctx, c, "Plan "+req.Type, false, err)
}

func (p *guardedProvider) Apply(ctx context.Context, req plugins.ApplyRequest, progress func(plugins.Progress)) (*plugins.ApplyResponse, error) {
	c, cancel := p.begin(ctx, true)
	defer cancel()
	r, err := p.inner.Apply(c, req, progress)
	return r, p.fail(ctx, c, "Apply "+req.Type, true, err)
}

func (p *guardedProvider) Read(ctx context.Context, req plugins.ReadRequest) (*plugins.ReadResponse, error) {
	c, cancel := p.begin(ctx, false)
	defer cancel()
	r, err := p.inner.Read(c, req)
	return r, p.fail(ctx, c, "Read "+req.Type, false, err)
}

func (p *guardedProvider) Import(ctx context.Context, req plugins.ImportRequest) (*plugins.ImportResponse, error) {
	c, cancel := p.begin(ctx, false)
	defer cancel()
	r, err := p.inner.Import(c, req)
	return r, p.fail(ctx, c, "Import "+req.Type, false, err)
}

func (p *guardedProvider) Stop(ctx context.Context) error {
	c, cancel := p.begin(ctx, false)
	defer cancel()
	return p.fail(ctx, c, "Stop", false, p.inner.Stop(c))
}

// Close ends the plugin process.
func (p *guardedProvider) Close() error {
	p.release()
	return nil
}

// guardedTaskserv is a plugins.Taskserv with timeouts and clear transport errors.
type guardedTaskserv struct {
	guard
	inner plugins.Taskserv
}

var _ plugins.Taskserv = (*guardedTaskserv)(nil)

func (t *guardedTaskserv) Describe(ctx context.Context) (*plugins.TaskservDescription, error) {
	c, cancel := t.begin(ctx, false)
	defer cancel()
	d, err := t.inner.Describe(c)
	return d, t.fail(ctx, c, "Describe", false, err)
}

func (t *guardedTaskserv) Plan(ctx context.Context, req plugins.TaskservRequest, exec plugins.Exec) (*plugins.TaskservPlan, error) {
	c, cancel := t.begin(ctx, false)
	defer cancel()
	r, err := t.inner.Plan(c, req, exec)
	return r, t.fail(ctx, c, "Plan", false, err)
}

func (t *guardedTaskserv) Install(ctx context.Context, req plugins.TaskservRequest, exec plugins.Exec, progress func(plugins.Progress)) (*plugins.TaskservResult, error) {
	c, cancel := t.begin(ctx, true)
	defer cancel()
	r, err := t.inner.Install(c, req, exec, progress)
	return r, t.fail(ctx, c, "Install", true, err)
}

func (t *guardedTaskserv) Check(ctx context.Context, req plugins.TaskservRequest, exec plugins.Exec) (*plugins.TaskservResult, error) {
	c, cancel := t.begin(ctx, false)
	defer cancel()
	r, err := t.inner.Check(c, req, exec)
	return r, t.fail(ctx, c, "Check", false, err)
}

func (t *guardedTaskserv) Remove(ctx context.Context, req plugins.TaskservRequest, exec plugins.Exec) (*plugins.TaskservResult, error) {
	c, cancel := t.begin(ctx, true)
	defer cancel()
	r, err := t.inner.Remove(c, req, exec)
	return r, t.fail(ctx, c, "Remove", true, err)
}

// Close ends the plugin process.
func (t *guardedTaskserv) Close() error {
	t.release()
	return nil
}
