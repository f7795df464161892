package taskserv_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/protocol"
	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/plugins/taskserv"
	"github.com/provhq/prov/plugins/taskserv/sshexec"
	"github.com/provhq/prov/plugins/taskservs/motd"
	"github.com/provhq/prov/sdk"
)

// transports run a taskserv in this process and through the real protocol (gRPC over go-plugin, the
// execution channel through the broker).
var transports = []struct {
	name string
	wrap func(testing.TB, plugins.Taskserv) plugins.Taskserv
}{
	{"in-process", func(_ testing.TB, ts plugins.Taskserv) plugins.Taskserv { return ts }},
	{"grpc", func(t testing.TB, ts plugins.Taskserv) plugins.Taskserv { return protocol.ServeTestTaskserv(t, ts) }},
}

// server is a local_server's state as the local provider records it.
func server(root string) map[string]any {
	return map[string]any{"id": "local:" + root, "root": root, "hostname": "box", "address": "127.0.0.1", "transport": "local"}
}

func config(srv any, cfg map[string]any) map[string]any {
	c := map[string]any{"name": "motd", "server": srv, "config": map[string]any{}}
	if cfg != nil {
		c["config"] = cfg
	}
	return c
}

func errorsOf(ds diag.Diagnostics) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Severity.String()+" "+d.Path+": "+d.Summary)
	}
	return out
}

// TestLifecycle installs motd on a sandbox server, checks it, notices drift, changes it, moves it to
// another server and removes it, asserting the plans the engine would see and the files on disk.
func TestLifecycle(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			ctx := context.Background()
			base := t.TempDir()
			p := taskserv.NewProvider(tr.wrap(t, sdk.NewTaskservServer(motd.New())), taskserv.NewServers(base, sshexec.Options{}).Exec)
			t.Cleanup(func() { _ = p.Close() })
			if err := os.Mkdir(filepath.Join(base, "a"), 0o755); err != nil {
				t.Fatal(err)
			}
			srvA := server("a") // relative: taken from base, as the local provider takes it from its directory
			motdA := filepath.Join(base, "a", "etc", "motd")

			// Before the server exists nothing can be asked: everything the install records is unknown.
			pending := map[string]any{"id": value.Unknown, "root": "a", "transport": "local"}
			resp, err := p.Plan(ctx, plugins.PlanRequest{Type: "taskserv", Config: config(pending, nil)})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"name": "motd", "version": "1.0.0", "config": map[string]any{}, "server": pending,
				"state": value.Unknown, "healthy": value.Unknown, "steps": value.Unknown}
			if diff := cmp.Diff(want, resp.Planned); diff != "" || len(resp.Diagnostics) > 0 {
				t.Fatalf("plan with the server pending (-want +got):\n%s%v", diff, resp.Diagnostics)
			}

			// Once it exists, the taskserv plans the install through the channel.
			cfg := config(srvA, map[string]any{"message": "hello"})
			resp, err = p.Plan(ctx, plugins.PlanRequest{Type: "taskserv", Config: cfg})
			if err != nil {
				t.Fatal(err)
			}
			want = map[string]any{"name": "motd", "version": "1.0.0", "config": map[string]any{"message": "hello"},
				"server": srvA, "state": value.Unknown, "healthy": value.Unknown, "steps": []any{"write etc/motd (6 bytes)"}}
			if diff := cmp.Diff(want, resp.Planned); diff != "" || len(resp.Diagnostics) > 0 {
				t.Fatalf("plan (-want +got):\n%s%v", diff, resp.Diagnostics)
			}

			var events []plugins.Progress
			ar, err := p.Apply(ctx, plugins.ApplyRequest{Type: "taskserv", OperationID: "op-1", Planned: resp.Planned, Config: cfg},
				func(e plugins.Progress) { events = append(events, e) })
			if err != nil || ar.Diagnostics.HasErrors() {
				t.Fatalf("apply: %v %v", err, ar.Diagnostics)
			}
			installed := ar.New
			wantState := map[string]any{"name": "motd", "version": "1.0.0", "config": map[string]any{"message": "hello"},
				"server": srvA, "healthy": true, "steps": []any{"write etc/motd (6 bytes)"},
				"state": map[string]any{"version": "1.0.0", "config": map[string]any{"message": "hello", "path": "etc/motd"}}}
			if diff := cmp.Diff(wantState, installed); diff != "" {
				t.Fatalf("installed (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]plugins.Progress{{Message: "writing etc/motd"}, {Message: "wrote etc/motd", Percent: 100}}, events); diff != "" {
				t.Errorf("progress (-want +got):\n%s", diff)
			}
			if b, err := os.ReadFile(motdA); err != nil || string(b) != "hello\n" {
				t.Fatalf("motd = %q, %v", b, err)
			}

			// Nothing changed: the plan is the state.
			resp, err = p.Plan(ctx, plugins.PlanRequest{Type: "taskserv", Prior: installed, Config: cfg})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(installed, resp.Planned); diff != "" || len(resp.RequiresReplace) > 0 {
				t.Fatalf("no-change plan (-state +planned):\n%s%v", diff, resp.RequiresReplace)
			}

			// Drift: the check fails, the install stays, unhealthy, and the plan reinstalls it.
			if err := os.WriteFile(motdA, []byte("tampered\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			rr, err := p.Read(ctx, plugins.ReadRequest{Type: "taskserv", Current: installed})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"warning healthy: taskserv motd is not healthy"}, errorsOf(rr.Diagnostics)); diff != "" {
				t.Errorf("read diagnostics (-want +got):\n%s", diff)
			}
			if h := rr.New.(map[string]any)["healthy"]; h != false {
				t.Fatalf("healthy after drift = %v", h)
			}
			resp, err = p.Plan(ctx, plugins.PlanRequest{Type: "taskserv", Prior: rr.New, Config: cfg})
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.Planned.(map[string]any)["healthy"]; !value.IsUnknown(got) {
				t.Fatalf("plan after drift: healthy = %v, want unknown (a reinstall)", got)
			}
			// The steps are those of the last install, the same the walker sees when it plans again
			// from the state it holds (not refreshed), so the apply finds the plan consistent.
			if diff := cmp.Diff(installed.(map[string]any)["steps"], resp.Planned.(map[string]any)["steps"]); diff != "" {
				t.Fatalf("steps of the reinstall (-want +got):\n%s", diff)
			}
			// The walker plans again from the state it holds, recorded before the health check failed.
			replan, err := p.Plan(ctx, plugins.PlanRequest{Type: "taskserv", Prior: installed, Config: cfg})
			if err != nil || replan.Diagnostics.HasErrors() {
				t.Fatalf("replan: %v %v", err, replan.Diagnostics)
			}
			ar, err = p.Apply(ctx, plugins.ApplyRequest{Type: "taskserv", OperationID: "op-2", Prior: installed, Planned: replan.Planned, Config: cfg}, nil)
			if err != nil || ar.Diagnostics.HasErrors() {
				t.Fatalf("reinstall: %v %v", err, ar.Diagnostics)
			}
			if b, _ := os.ReadFile(motdA); string(b) != "hello\n" {
				t.Fatalf("motd after reinstall = %q", b)
			}

			// Another server replaces the install.
			srvB := server(filepath.Join(base, "b"))
			if err := os.Mkdir(filepath.Join(base, "b"), 0o755); err != nil {
				t.Fatal(err)
			}
			resp, err = p.Plan(ctx, plugins.PlanRequest{Type: "taskserv", Prior: ar.New, Config: config(srvB, map[string]any{"message": "hello"})})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]value.Path{value.KeyPath("server")}, resp.RequiresReplace); diff != "" {
				t.Errorf("requires replace (-want +got):\n%s", diff)
			}

			// A server that changed but is the same server (same id) is an update in place, which
			// installs again (the walker plans from state that may predate a failed health check).
			renamed := server("a")
			renamed["hostname"] = "box-2"
			if err := os.Remove(motdA); err != nil {
				t.Fatal(err)
			}
			cfgRenamed := config(renamed, map[string]any{"message": "hello"})
			resp, err = p.Plan(ctx, plugins.PlanRequest{Type: "taskserv", Prior: ar.New, Config: cfgRenamed})
			if err != nil || len(resp.RequiresReplace) > 0 || resp.Diagnostics.HasErrors() {
				t.Fatalf("plan with the server renamed: %v %v %v", err, resp.RequiresReplace, resp.Diagnostics)
			}
			ar, err = p.Apply(ctx, plugins.ApplyRequest{Type: "taskserv", OperationID: "op-2b", Prior: ar.New, Planned: resp.Planned, Config: cfgRenamed}, nil)
			if err != nil || ar.Diagnostics.HasErrors() {
				t.Fatalf("apply with the server renamed: %v %v", err, ar.Diagnostics)
			}
			if diff := cmp.Diff(resp.Planned, ar.New); diff != "" {
				t.Errorf("state with the server renamed (-planned +new):\n%s", diff)
			}
			if b, err := os.ReadFile(motdA); err != nil || string(b) != "hello\n" {
				t.Fatalf("motd after the server was renamed = %q, %v", b, err)
			}

			// A changed message is an update in place.
			cfg2 := config(srvA, map[string]any{"message": "bye"})
			resp, err = p.Plan(ctx, plugins.PlanRequest{Type: "taskserv", Prior: ar.New, Config: cfg2})
			if err != nil || len(resp.RequiresReplace) > 0 {
				t.Fatalf("plan update: %v %v", err, resp.RequiresReplace)
			}
			ar, err = p.Apply(ctx, plugins.ApplyRequest{Type: "taskserv", OperationID: "op-3", Prior: ar.New, Planned: resp.Planned, Config: cfg2}, nil)
			if err != nil || ar.Diagnostics.HasErrors() {
				t.Fatalf("update: %v %v", err, ar.Diagnostics)
			}
			if b, _ := os.ReadFile(motdA); string(b) != "bye\n" {
				t.Fatalf("motd after update = %q", b)
			}

			// Destroy removes it.
			ar, err = p.Apply(ctx, plugins.ApplyRequest{Type: "taskserv", OperationID: "op-4", Prior: ar.New}, nil)
			if err != nil || len(ar.Diagnostics) > 0 || ar.New != nil {
				t.Fatalf("remove: %v %v %v", err, ar.Diagnostics, ar.New)
			}
			if _, err := os.Stat(motdA); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("motd after remove: %v", err)
			}
		})
	}
}

// failing is a taskserv whose install fails after reporting progress, and whose check says it is gone.
func failing() *sdk.Taskserv {
	return &sdk.Taskserv{
		Name:     "flaky",
		Versions: []string{"1.9.0", "1.10.0", "1.2.0"},
		Install: func(_ context.Context, t *sdk.Task) error {
			t.Progress(50, "half way")
			return errors.New("disk full")
		},
	}
}

func TestProblems(t *testing.T) {
	srv := server("/")
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			ctx := context.Background()
			p := taskserv.NewProvider(tr.wrap(t, sdk.NewTaskservServer(failing())), taskserv.NewServers(t.TempDir(), sshexec.Options{}).Exec)
			t.Cleanup(func() { _ = p.Close() })
			flaky := func(extra map[string]any) map[string]any {
				c := map[string]any{"name": "flaky", "server": srv}
				for k, v := range extra {
					c[k] = v
				}
				return c
			}
			validate := []struct {
				name   string
				typ    string
				config any
				want   []string
			}{
				{"ok", "taskserv", flaky(map[string]any{"version": "1.10.0"}), nil},
				{"unknown version is checked later", "taskserv", flaky(map[string]any{"version": value.Unknown}), nil},
				{"bad version", "taskserv", flaky(map[string]any{"version": "2.0"}),
					[]string{`error version: flaky has no version "2.0"; available: 1.9.0, 1.10.0, 1.2.0`}},
				{"wrong name", "taskserv", map[string]any{"name": "redis", "server": srv},
					[]string{"error name: this provider installs the taskserv flaky, not redis"}},
				{"unknown field", "taskserv", flaky(map[string]any{"healthy": true, "versoin": "1"}),
					[]string{`error healthy: unknown field "healthy"`, `error versoin: unknown field "versoin"`}},
				{"no server", "taskserv", map[string]any{"name": "flaky"}, []string{"error : missing server"}},
				{"config not a record", "taskserv", flaky(map[string]any{"config": "x"}), []string{"error config: want a record"}},
				{"other type", "local_file", map[string]any{}, []string{`error : a taskserv provider has only the resource type "taskserv", not "local_file"`}},
				{"provider config", "", map[string]any{"x": 1.0}, []string{"error : a taskserv takes no provider configuration"}},
				{"empty provider config", "", map[string]any{}, nil},
			}
			for _, tc := range validate {
				t.Run("validate/"+tc.name, func(t *testing.T) {
					ds, err := p.ValidateConfig(ctx, tc.typ, tc.config)
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(tc.want, errorsOf(ds)); diff != "" {
						t.Errorf("diagnostics (-want +got):\n%s", diff)
					}
				})
			}

			t.Run("newest version by default", func(t *testing.T) {
				resp, err := p.Plan(ctx, plugins.PlanRequest{Type: "taskserv", Config: flaky(nil)})
				if err != nil {
					t.Fatal(err)
				}
				if v := resp.Planned.(map[string]any)["version"]; v != "1.10.0" {
					t.Errorf("version = %v, want 1.10.0", v)
				}
			})

			t.Run("plan checks the version before the server exists", func(t *testing.T) {
				pending := map[string]any{"id": value.Unknown, "transport": "local"}
				resp, err := p.Plan(ctx, plugins.PlanRequest{Type: "taskserv", Config: map[string]any{"name": "flaky", "version": "3", "server": pending}})
				if err != nil {
					t.Fatal(err)
				}
				want := []string{`error version: flaky has no version "3"; available: 1.9.0, 1.10.0, 1.2.0`}
				if diff := cmp.Diff(want, errorsOf(resp.Diagnostics)); diff != "" {
					t.Errorf("diagnostics (-want +got):\n%s", diff)
				}
			})

			t.Run("install fails", func(t *testing.T) {
				cfg := flaky(nil)
				resp, err := p.Plan(ctx, plugins.PlanRequest{Type: "taskserv", Config: cfg})
				if err != nil {
					t.Fatal(err)
				}
				var events []string
				ar, err := p.Apply(ctx, plugins.ApplyRequest{Type: "taskserv", OperationID: "op", Planned: resp.Planned, Config: cfg},
					func(e plugins.Progress) { events = append(events, e.Message) })
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff([]string{"error : disk full"}, errorsOf(ar.Diagnostics)); diff != "" || ar.New != nil {
					t.Errorf("diagnostics (-want +got):\n%s\nnew: %v", diff, ar.New)
				}
				if diff := cmp.Diff([]string{"half way"}, events); diff != "" {
					t.Errorf("progress (-want +got):\n%s", diff)
				}
			})

			t.Run("reaching the server", func(t *testing.T) {
				kh := sshexec.Options{KnownHosts: filepath.Join(t.TempDir(), "known_hosts")}
				tests := []struct {
					name   string
					opts   sshexec.Options
					server map[string]any
					want   []string
				}{
					{"unknown transport", kh, map[string]any{"id": "srv-1", "hostname": "web-01", "transport": "telnet"},
						[]string{`error server: server "web-01" is reached by "telnet", which prov does not know: taskservs reach servers by "ssh" or "local"`}},
					{"no address", kh, map[string]any{"id": "srv-1", "hostname": "web-01", "transport": "ssh"},
						[]string{`error server: server "web-01" has no address to reach it over SSH: its state has no ipv4, public_ip or address`}},
					{"bad port", kh, map[string]any{"id": "srv-1", "hostname": "web-01", "ipv4": "10.0.0.1", "port": 70000.0},
						[]string{`error server: server "web-01": port 70000 is out of range`}},
					{"relative root", kh, map[string]any{"id": "srv-1", "hostname": "web-01", "ipv4": "10.0.0.1", "root": "srv"},
						[]string{`error server: server "web-01": root "srv" must be an absolute path on the server`}},
					{"bad ssh settings", sshexec.Options{KnownHosts: "kh", StrictHostKeyChecking: "off"},
						map[string]any{"id": value.Unknown, "hostname": "web-02", "ipv4": value.Unknown},
						[]string{`error server: ssh settings: strict_host_key_checking: want "yes" or "accept-new", not "off"`}},
					{"not made yet", kh, map[string]any{"id": value.Unknown, "hostname": "web-02", "ipv4": value.Unknown}, nil},
				}
				for _, tc := range tests {
					t.Run(tc.name, func(t *testing.T) {
						p := taskserv.NewProvider(tr.wrap(t, sdk.NewTaskservServer(failing())), taskserv.NewServers(t.TempDir(), tc.opts).Exec)
						t.Cleanup(func() { _ = p.Close() })
						resp, err := p.Plan(ctx, plugins.PlanRequest{Type: "taskserv", Config: map[string]any{"name": "flaky", "server": tc.server}})
						if err != nil {
							t.Fatal(err)
						}
						if diff := cmp.Diff(tc.want, errorsOf(resp.Diagnostics)); diff != "" {
							t.Errorf("diagnostics (-want +got):\n%s", diff)
						}
					})
				}
			})

			t.Run("import", func(t *testing.T) {
				ir, err := p.Import(ctx, plugins.ImportRequest{Type: "taskserv", ID: "x"})
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff([]string{"error : taskserv installs cannot be imported"}, errorsOf(ir.Diagnostics)); diff != "" {
					t.Errorf("diagnostics (-want +got):\n%s", diff)
				}
			})

			t.Run("settling an install in doubt", func(t *testing.T) {
				rr, err := p.Read(ctx, plugins.ReadRequest{Type: "taskserv", OperationID: "op"})
				if err != nil || rr.New != nil || len(rr.Diagnostics) > 0 {
					t.Errorf("read = %v, %v; want gone (install again)", rr, err)
				}
			})

			t.Run("schema", func(t *testing.T) {
				s, _, err := p.Schema(ctx)
				if err != nil {
					t.Fatal(err)
				}
				r := s.Resources["taskserv"]
				if s.Name != "taskserv:flaky" || r == nil || !r.Attributes["name"].ForceNew || !r.Attributes["state"].Computed {
					t.Errorf("schema = %+v", s)
				}
			})
		})
	}
}

func TestName(t *testing.T) {
	for _, tc := range []struct {
		provider string
		want     string
		ok       bool
	}{{"taskserv:motd", "motd", true}, {"local", "", false}} {
		t.Run(tc.provider, func(t *testing.T) {
			got, ok := taskserv.Name(tc.provider)
			if got != tc.want || ok != tc.ok {
				t.Errorf("Name(%q) = %q, %v", tc.provider, got, ok)
			}
		})
	}
}

// TestStop ends an install in flight; the provider keeps working for later operations.
func TestStop(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			ctx := context.Background()
			started := make(chan struct{})
			slow := &sdk.Taskserv{Name: "slow", Versions: []string{"1"},
				Install: func(ctx context.Context, _ *sdk.Task) error {
					close(started)
					<-ctx.Done()
					return ctx.Err()
				}}
			p := taskserv.NewProvider(tr.wrap(t, sdk.NewTaskservServer(slow)), taskserv.NewServers(t.TempDir(), sshexec.Options{}).Exec)
			t.Cleanup(func() { _ = p.Close() })
			cfg := map[string]any{"name": "slow", "server": server("/")}
			type result struct {
				resp *plugins.ApplyResponse
				err  error
			}
			done := make(chan result)
			go func() {
				resp, err := p.Apply(ctx, plugins.ApplyRequest{Type: "taskserv", OperationID: "op", Planned: cfg, Config: cfg}, nil)
				done <- result{resp, err}
			}()
			<-started
			if err := p.Stop(ctx); err != nil {
				t.Fatal(err)
			}
			r := <-done
			if r.err == nil && !r.resp.Diagnostics.HasErrors() {
				t.Fatalf("install after Stop succeeded: %+v", r.resp)
			}
			resp, err := p.Plan(ctx, plugins.PlanRequest{Type: "taskserv", Config: cfg})
			if err != nil || resp.Diagnostics.HasErrors() {
				t.Fatalf("plan after Stop: %v %v", err, resp.Diagnostics)
			}
		})
	}
}

// TestSensitive marks the configuration a taskserv declares sensitive, where the install holds it.
func TestSensitive(t *testing.T) {
	ctx := context.Background()
	ts := &sdk.Taskserv{
		Name:     "vault",
		Versions: []string{"1.0.0"},
		Config: map[string]*sdk.Attribute{
			"token": {Type: sdk.String, Optional: true, Sensitive: true},
			"port":  {Type: sdk.Number, Optional: true},
		},
		Install: func(context.Context, *sdk.Task) error { return nil },
	}
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			p := taskserv.NewProvider(tr.wrap(t, sdk.NewTaskservServer(ts)), taskserv.NewServers(t.TempDir(), sshexec.Options{}).Exec)
			t.Cleanup(func() { _ = p.Close() })
			cfg := map[string]any{"name": "vault", "server": server("/"), "config": map[string]any{"token": "s3cret", "port": 8200.0}}
			resp, err := p.Plan(ctx, plugins.PlanRequest{Type: "taskserv", Config: cfg})
			if err != nil || resp.Diagnostics.HasErrors() {
				t.Fatalf("plan: %v %v", err, resp.Diagnostics)
			}
			if diff := cmp.Diff([]value.Path{value.KeyPath("config", "token")}, resp.Sensitive); diff != "" {
				t.Errorf("planned sensitive (-want +got):\n%s", diff)
			}
			ar, err := p.Apply(ctx, plugins.ApplyRequest{Type: "taskserv", OperationID: "op", Planned: resp.Planned, Config: cfg}, nil)
			if err != nil || ar.Diagnostics.HasErrors() {
				t.Fatalf("apply: %v %v", err, ar.Diagnostics)
			}
			want := []value.Path{value.KeyPath("config", "token"), value.KeyPath("state", "config", "token")}
			if diff := cmp.Diff(want, ar.Sensitive); diff != "" {
				t.Errorf("applied sensitive (-want +got):\n%s", diff)
			}
			rr, err := p.Read(ctx, plugins.ReadRequest{Type: "taskserv", Current: ar.New})
			if err != nil || rr.Diagnostics.HasErrors() {
				t.Fatalf("read: %v %v", err, rr.Diagnostics)
			}
			if diff := cmp.Diff(want, rr.Sensitive); diff != "" {
				t.Errorf("read sensitive (-want +got):\n%s", diff)
			}
		})
	}
}
