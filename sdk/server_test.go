package sdk

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/plugins"
)

// cloud is the fake world the test provider manages: servers by id.
type cloud struct {
	mu      sync.Mutex
	servers map[string]map[string]any
	creates int
}

func testProvider(c *cloud) *Provider {
	return &Provider{
		Name:    "test",
		Version: "1.0.0",
		Config: map[string]*Attribute{
			"region": {Type: String, Optional: true, Default: "eu"},
		},
		Configure: func(_ context.Context, cfg *Data) (any, error) {
			if cfg.String("region") == "mars" {
				return nil, AttrErrorf("region", "no data centre on mars")
			}
			return c, nil
		},
		Resources: map[string]*Resource{
			"test_server": {
				Attributes: map[string]*Attribute{
					"name": {Type: String, Required: true, Validators: []Validator{Regexp(`^[a-z0-9-]+$`)}},
					"zone": {Type: String, Optional: true, ForceNew: true, Default: "fi-hel1", Validators: []Validator{OneOf("fi-hel1", "de-fra1")}},
					"cores": {Type: Number, Optional: true, Validators: []Validator{Between(1, 64), func(v any) error {
						if v == 13.0 {
							panic("unlucky")
						}
						return nil
					}}},
					"tags":     {Type: MapOf(String), Optional: true},
					"password": {Type: String, Optional: true, Sensitive: true},
					"ingress": {Type: ListOf(Object(map[string]*Attribute{
						"port":  {Type: Number, Required: true, ForceNew: true},
						"proto": {Type: String, Optional: true, Default: "tcp"},
					})), Optional: true},
					"disk": {Type: Object(map[string]*Attribute{
						"size_gb": {Type: Number, Required: true, ForceNew: true},
						"tier":    {Type: String, Optional: true},
					}), Optional: true},
					"ip": {Type: String, Computed: true},
				},
				Create: func(_ context.Context, op *Op, d *Data) error {
					c := op.Client.(*cloud)
					op.Progress(50, "creating %s", d.String("name"))
					if d.String("name") == "boom" {
						panic("kaboom")
					}
					if d.String("name") == "half" {
						d.SetID("srv-half")
						return errors.New("disk attach failed")
					}
					c.mu.Lock()
					defer c.mu.Unlock()
					c.creates++
					d.SetID("srv-" + op.ID)
					d.Set("ip", fmt.Sprintf("10.0.0.%d", c.creates))
					c.servers[d.ID()] = value.Copy(d.Raw()).(map[string]any)
					return nil
				},
				Read: func(_ context.Context, op *Op, d *Data) error {
					c := op.Client.(*cloud)
					c.mu.Lock()
					defer c.mu.Unlock()
					id := d.ID()
					if id == "" { // settling an operation in doubt
						id = "srv-" + op.ID
					}
					s, ok := c.servers[id]
					if !ok {
						return ErrNotFound
					}
					for k, v := range s {
						d.Set(k, v)
					}
					return nil
				},
				Update: func(_ context.Context, op *Op, d *Data) error {
					if d.HasChange("cores") && d.Int("cores") > 32 {
						return AttrErrorf("cores", "no quota for %d cores", d.Int("cores"))
					}
					c := op.Client.(*cloud)
					c.mu.Lock()
					defer c.mu.Unlock()
					c.servers[d.ID()] = value.Copy(d.Raw()).(map[string]any)
					return nil
				},
				Delete: func(_ context.Context, op *Op, d *Data) error {
					c := op.Client.(*cloud)
					c.mu.Lock()
					defer c.mu.Unlock()
					delete(c.servers, d.ID())
					return nil
				},
				Import: func(_ context.Context, op *Op, d *Data) error {
					c := op.Client.(*cloud)
					c.mu.Lock()
					defer c.mu.Unlock()
					s, ok := c.servers[d.ID()]
					if !ok {
						return ErrNotFound
					}
					for k, v := range s {
						d.Set(k, v)
					}
					return nil
				},
				Plan: func(_ context.Context, op *Op, d *Data) error {
					if d.String("name") == "legacy" {
						op.Warnf("name", "legacy names are deprecated")
					}
					if d.String("name") == "warn" {
						return AttrErrorf("name", "warn is not a name")
					}
					if d.IsKnown("cores") && d.Int("cores") > 0 {
						d.SetMonthlyCost(5 * d.Float("cores"))
					}
					return nil
				},
			},
		},
	}
}

func newTestServer(t *testing.T) (plugins.Provider, *cloud) {
	t.Helper()
	c := &cloud{servers: map[string]map[string]any{}}
	s := NewProviderServer(testProvider(c))
	ds, err := s.Configure(context.Background(), map[string]any{})
	if err != nil || ds.HasErrors() {
		t.Fatalf("Configure: %v %v", ds, err)
	}
	return s, c
}

// decode reads a JSON value, with the string "?" standing for Unknown.
func decode(t *testing.T, js string) any {
	t.Helper()
	if js == "" {
		return nil
	}
	v, err := value.Decode([]byte(js), nil)
	if err != nil {
		t.Fatal(err)
	}
	value.Walk(v, func(p value.Path, e any) bool {
		if e == "?" {
			v, _ = value.Set(v, p, value.Unknown)
		}
		return true
	})
	return v
}

type pathSummary struct{ Path, Summary string }

func summarize(ds diag.Diagnostics) []pathSummary {
	var out []pathSummary
	for _, d := range ds {
		out = append(out, pathSummary{d.Path, d.Severity.String() + ": " + d.Summary})
	}
	return out
}

func TestValidateConfig(t *testing.T) {
	s, _ := newTestServer(t)
	tests := []struct {
		name, typ, config string
		want              []pathSummary
	}{
		{"minimal", "test_server", `{"name": "web"}`, nil},
		{"everything", "test_server", `{"name": "web", "zone": "de-fra1", "cores": 4, "tags": {"a": "b"},
			"password": "x", "ingress": [{"port": 22}, {"port": 443, "proto": "tcp"}], "disk": {"size_gb": 10}}`, nil},
		{"unknowns pass", "test_server", `{"name": "?", "cores": "?", "ingress": [{"port": "?"}]}`, nil},
		{"nulls are unset", "test_server", `{"name": "web", "zone": null}`, nil},
		{"all problems at once", "test_server",
			`{"zone": "mars", "cores": "four", "tags": {"a": 1}, "ingress": [{"port": 22}, {"proto": "udp", "prot": 1}],
			  "ip": "1.2.3.4", "nmae": "web", "disk": []}`,
			[]pathSummary{
				{"nmae", `error: unknown attribute "nmae"`},
				{"cores", "error: expected a number, got string"},
				{"disk", "error: expected an object, got list"},
				{"ingress[1].prot", `error: unknown attribute "prot"`},
				{"ingress[1].port", "error: missing required attribute"},
				{"ip", "error: attribute is computed by the provider and cannot be set"},
				{"name", "error: missing required attribute"},
				{"tags.a", "error: expected a string, got number"},
				{"zone", `error: must be one of "fi-hel1", "de-fra1", got "mars"`},
			}},
		{"validators", "test_server", `{"name": "Web!", "cores": 100}`, []pathSummary{
			{"cores", "error: must be between 1 and 64, got 100"},
			{"name", `error: "Web!" does not match ^[a-z0-9-]+$`},
		}},
		{"panicking validator", "test_server", `{"name": "web", "cores": 13}`, []pathSummary{{"cores", "error: validator crashed: unlucky"}}},
		{"not an object", "test_server", `[1]`, []pathSummary{{"", "error: expected an object, got list"}}},
		{"unknown type", "test_sever", `{}`, []pathSummary{{"", `error: provider test has no resource type "test_sever"`}}},
		{"provider config", "", `{"region": "us", "zone": "x"}`, []pathSummary{{"zone", `error: unknown attribute "zone"`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds, err := s.ValidateConfig(context.Background(), tt.typ, decode(t, tt.config))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, summarize(ds)); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDidYouMean(t *testing.T) {
	s, _ := newTestServer(t)
	ds, _ := s.ValidateConfig(context.Background(), "test_server", map[string]any{"name": "a", "zoen": "x"})
	if len(ds) != 1 || ds[0].Detail != `Did you mean "zone"?` {
		t.Errorf("got %v, want a hint for zone", ds)
	}
}

func TestPlan(t *testing.T) {
	s, _ := newTestServer(t)
	const prior = `{"id": "srv-1", "name": "web", "zone": "fi-hel1", "ip": "10.0.0.1", "cores": 2,
		"disk": {"size_gb": 10}}`
	tests := []struct {
		name, prior, config string
		wantPlanned         string
		wantReplace         []string
		wantSensitive       []string
		wantDiags           []pathSummary
		wantCost            *float64
	}{
		{
			name:          "create: defaults applied, computed unknown",
			config:        `{"name": "web", "ingress": [{"port": 22}], "password": "s3cret"}`,
			wantPlanned:   `{"id": "?", "ip": "?", "name": "web", "zone": "fi-hel1", "ingress": [{"port": 22, "proto": "tcp"}], "password": "s3cret"}`,
			wantSensitive: []string{"password"},
		},
		{
			name:        "no change keeps computed values",
			prior:       prior,
			config:      `{"name": "web", "cores": 2, "disk": {"size_gb": 10}}`,
			wantPlanned: prior,
			wantCost:    ptr(10.0),
		},
		{
			name:        "update in place: id kept, computed unknown",
			prior:       prior,
			config:      `{"name": "web", "cores": 4, "disk": {"size_gb": 10}}`,
			wantPlanned: `{"id": "srv-1", "ip": "?", "name": "web", "zone": "fi-hel1", "cores": 4, "disk": {"size_gb": 10}}`,
			wantCost:    ptr(20.0),
		},
		{
			name:        "force_new attribute replaces",
			prior:       prior,
			config:      `{"name": "web", "zone": "de-fra1", "cores": 2, "disk": {"size_gb": 10}}`,
			wantPlanned: `{"id": "?", "ip": "?", "name": "web", "zone": "de-fra1", "cores": 2, "disk": {"size_gb": 10}}`,
			wantReplace: []string{"zone"},
			wantCost:    ptr(10.0),
		},
		{
			name:        "nested force_new replaces at its path",
			prior:       prior,
			config:      `{"name": "web", "cores": 2, "disk": {"size_gb": 20}}`,
			wantPlanned: `{"id": "?", "ip": "?", "name": "web", "zone": "fi-hel1", "cores": 2, "disk": {"size_gb": 20}}`,
			wantReplace: []string{"disk.size_gb"},
			wantCost:    ptr(10.0),
		},
		{
			name:        "force_new inside a list element replaces at its index",
			prior:       `{"id": "srv-1", "name": "web", "zone": "fi-hel1", "ip": "10.0.0.1", "ingress": [{"port": 22, "proto": "tcp"}, {"port": 80, "proto": "tcp"}]}`,
			config:      `{"name": "web", "ingress": [{"port": 22, "proto": "udp"}, {"port": 443}]}`,
			wantPlanned: `{"id": "?", "ip": "?", "name": "web", "zone": "fi-hel1", "ingress": [{"port": 22, "proto": "udp"}, {"port": 443, "proto": "tcp"}]}`,
			wantReplace: []string{"ingress[1].port"},
		},
		{
			name:        "adding a list element updates in place",
			prior:       `{"id": "srv-1", "name": "web", "zone": "fi-hel1", "ip": "10.0.0.1", "ingress": [{"port": 22, "proto": "tcp"}]}`,
			config:      `{"name": "web", "ingress": [{"port": 22}, {"port": 443}]}`,
			wantPlanned: `{"id": "srv-1", "ip": "?", "name": "web", "zone": "fi-hel1", "ingress": [{"port": 22, "proto": "tcp"}, {"port": 443, "proto": "tcp"}]}`,
		},
		{
			name:        "unknown force_new value replaces",
			prior:       prior,
			config:      `{"name": "web", "zone": "?", "cores": 2, "disk": {"size_gb": 10}}`,
			wantPlanned: `{"id": "?", "ip": "?", "name": "web", "zone": "?", "cores": 2, "disk": {"size_gb": 10}}`,
			wantReplace: []string{"zone"},
			wantCost:    ptr(10.0),
		},
		{
			name:        "plan hook warning",
			config:      `{"name": "legacy"}`,
			wantPlanned: `{"id": "?", "ip": "?", "name": "legacy", "zone": "fi-hel1"}`,
			wantDiags:   []pathSummary{{"name", "warning: legacy names are deprecated"}},
		},
		{
			name:        "wholly unknown config",
			config:      `"?"`,
			wantPlanned: `"?"`,
		},
		{
			name:   "delete",
			prior:  prior,
			config: ``,
		},
		{
			name:      "invalid config",
			config:    `{"name": 1}`,
			wantDiags: []pathSummary{{"name", "error: expected a string, got number"}},
		},
		{
			name:        "plan hook error",
			config:      `{"name": "warn"}`,
			wantPlanned: `{"id": "?", "ip": "?", "name": "warn", "zone": "fi-hel1"}`,
			wantDiags:   []pathSummary{{"name", "error: warn is not a name"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := s.Plan(context.Background(), plugins.PlanRequest{
				Type: "test_server", Prior: decode(t, tt.prior), Config: decode(t, tt.config),
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantDiags, summarize(resp.Diagnostics)); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
			var planned any
			if resp.Planned != nil {
				planned = resp.Planned
			}
			if diff := cmp.Diff(decode(t, tt.wantPlanned), planned); diff != "" {
				t.Errorf("planned (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantReplace, pathStrings(resp.RequiresReplace)); diff != "" {
				t.Errorf("requires replace (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantSensitive, pathStrings(resp.Sensitive)); diff != "" {
				t.Errorf("sensitive (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantCost, resp.MonthlyCost); diff != "" {
				t.Errorf("monthly cost (-want +got):\n%s", diff)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func pathStrings(ps []value.Path) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

func TestApplyLifecycle(t *testing.T) {
	s, c := newTestServer(t)
	ctx := context.Background()
	plan := func(prior, config any) any {
		t.Helper()
		resp, err := s.Plan(ctx, plugins.PlanRequest{Type: "test_server", Prior: prior, Config: config})
		if err != nil || resp.Diagnostics.HasErrors() {
			t.Fatalf("Plan: %v %v", resp.Diagnostics, err)
		}
		return resp.Planned
	}
	config := decode(t, `{"name": "web", "password": "pw"}`)
	var events []plugins.Progress
	created, err := s.Apply(ctx, plugins.ApplyRequest{Type: "test_server", OperationID: "op1",
		Planned: plan(nil, config), Config: config}, func(p plugins.Progress) { events = append(events, p) })
	if err != nil || created.Diagnostics.HasErrors() {
		t.Fatalf("create: %v %v", created.Diagnostics, err)
	}
	want := decode(t, `{"id": "srv-op1", "ip": "10.0.0.1", "name": "web", "zone": "fi-hel1", "password": "pw"}`)
	if diff := cmp.Diff(want, created.New); diff != "" {
		t.Errorf("created (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"password"}, pathStrings(created.Sensitive)); diff != "" {
		t.Errorf("sensitive (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]plugins.Progress{{Message: "creating web", Percent: 50}}, events); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}

	config = decode(t, `{"name": "web", "password": "pw", "cores": 8}`)
	updated, err := s.Apply(ctx, plugins.ApplyRequest{Type: "test_server", OperationID: "op2",
		Prior: created.New, Planned: plan(created.New, config), Config: config}, nil)
	if err != nil || updated.Diagnostics.HasErrors() {
		t.Fatalf("update: %v %v", updated.Diagnostics, err)
	}
	want = decode(t, `{"id": "srv-op1", "name": "web", "zone": "fi-hel1", "password": "pw", "cores": 8}`)
	if diff := cmp.Diff(want, updated.New); diff != "" {
		t.Errorf("updated: computed values left unset are dropped (-want +got):\n%s", diff)
	}

	config = decode(t, `{"name": "web", "cores": 48}`)
	failed, _ := s.Apply(ctx, plugins.ApplyRequest{Type: "test_server", OperationID: "op3",
		Prior: updated.New, Planned: plan(updated.New, config), Config: config}, nil)
	if diff := cmp.Diff([]pathSummary{{"cores", "error: no quota for 48 cores"}}, summarize(failed.Diagnostics)); diff != "" {
		t.Errorf("failed update diagnostics (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(updated.New, failed.New); diff != "" {
		t.Errorf("a failed update keeps the prior state (-want +got):\n%s", diff)
	}

	deleted, err := s.Apply(ctx, plugins.ApplyRequest{Type: "test_server", OperationID: "op4", Prior: updated.New}, nil)
	if err != nil || deleted.Diagnostics.HasErrors() || deleted.New != nil {
		t.Fatalf("delete: %v %v %v", deleted.New, deleted.Diagnostics, err)
	}
	if len(c.servers) != 0 {
		t.Errorf("servers left after delete: %v", c.servers)
	}
}

func TestApplyFailures(t *testing.T) {
	s, _ := newTestServer(t)
	tests := []struct {
		name, config string
		wantNew      string
		wantSummary  string
	}{
		{"partial create keeps what exists", `{"name": "half"}`,
			`{"id": "srv-half", "name": "half", "zone": "fi-hel1"}`, "disk attach failed"},
		{"panic becomes a diagnostic", `{"name": "boom"}`, ``, "provider test crashed in create of test_server: kaboom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			config := decode(t, tt.config)
			planned, _ := s.Plan(context.Background(), plugins.PlanRequest{Type: "test_server", Config: config})
			resp, err := s.Apply(context.Background(), plugins.ApplyRequest{Type: "test_server", OperationID: "x",
				Planned: planned.Planned, Config: config}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Diagnostics) != 1 || resp.Diagnostics[0].Summary != tt.wantSummary {
				t.Fatalf("diagnostics = %v, want one saying %q", resp.Diagnostics, tt.wantSummary)
			}
			if diff := cmp.Diff(decode(t, tt.wantNew), resp.New); diff != "" {
				t.Errorf("new (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRead(t *testing.T) {
	s, c := newTestServer(t)
	c.servers["srv-a"] = map[string]any{"id": "srv-a", "name": "a", "zone": "fi-hel1", "ip": "10.0.0.9", "password": "pw"}
	c.servers["srv-op7"] = map[string]any{"id": "srv-op7", "name": "b", "zone": "fi-hel1", "ip": "10.0.0.7"}
	tests := []struct {
		name, current, opID string
		want                string
		wantSensitive       []string
	}{
		{"drift is reported", `{"id": "srv-a", "name": "a", "zone": "fi-hel1", "ip": "10.0.0.1"}`, "",
			`{"id": "srv-a", "name": "a", "zone": "fi-hel1", "ip": "10.0.0.9", "password": "pw"}`, []string{"password"}},
		{"vanished", `{"id": "srv-gone", "name": "a"}`, "", ``, nil},
		{"settle: the operation happened", ``, "op7", `{"id": "srv-op7", "name": "b", "zone": "fi-hel1", "ip": "10.0.0.7"}`, nil},
		{"settle: the operation never happened", ``, "op8", ``, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := s.Read(context.Background(), plugins.ReadRequest{Type: "test_server",
				Current: decode(t, tt.current), OperationID: tt.opID})
			if err != nil || len(resp.Diagnostics) > 0 {
				t.Fatalf("Read: %v %v", resp.Diagnostics, err)
			}
			if diff := cmp.Diff(decode(t, tt.want), resp.New); diff != "" {
				t.Errorf("new (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantSensitive, pathStrings(resp.Sensitive)); diff != "" {
				t.Errorf("sensitive (-want +got):\n%s", diff)
			}
		})
	}
}

func TestImport(t *testing.T) {
	s, c := newTestServer(t)
	c.servers["srv-x"] = map[string]any{"id": "srv-x", "name": "x", "zone": "de-fra1", "ip": "10.1.1.1"}
	tests := []struct {
		name, typ, id string
		want          string
		wantDiags     []pathSummary
	}{
		{"exists", "test_server", "srv-x", `{"id": "srv-x", "name": "x", "zone": "de-fra1", "ip": "10.1.1.1"}`, nil},
		{"missing", "test_server", "srv-y", ``, []pathSummary{{"", `error: cannot import test_server "srv-y": it does not exist`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := s.Import(context.Background(), plugins.ImportRequest{Type: tt.typ, ID: tt.id})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantDiags, summarize(resp.Diagnostics)); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(decode(t, tt.want), resp.State); diff != "" {
				t.Errorf("state (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfigure(t *testing.T) {
	tests := []struct {
		name, config string
		want         []pathSummary
	}{
		{"default region", `{}`, nil},
		{"configure error has its path", `{"region": "mars"}`, []pathSummary{{"region", "error: no data centre on mars"}}},
		{"wrong type", `{"region": 1}`, []pathSummary{{"region", "error: expected a string, got number"}}},
		{"unknown", `{"region": "?"}`, []pathSummary{{"", "error: provider configuration depends on values known only after apply"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewProviderServer(testProvider(&cloud{}))
			ds, err := s.Configure(context.Background(), decode(t, tt.config))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, summarize(ds)); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStopCancelsInFlight(t *testing.T) {
	started := make(chan struct{})
	p := &Provider{Name: "slow", Resources: map[string]*Resource{
		"slow_thing": {Create: func(ctx context.Context, _ *Op, d *Data) error {
			close(started)
			<-ctx.Done()
			return fmt.Errorf("interrupted: %w", ctx.Err())
		}},
	}}
	s := NewProviderServer(p)
	done := make(chan *plugins.ApplyResponse)
	go func() {
		resp, _ := s.Apply(context.Background(), plugins.ApplyRequest{Type: "slow_thing", Planned: map[string]any{}}, nil)
		done <- resp
	}()
	<-started
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case resp := <-done:
		if got := resp.Diagnostics.String(); !strings.Contains(got, "interrupted: context canceled") {
			t.Errorf("diagnostics = %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not cancel the in-flight Create")
	}
}

func TestValidateDeclaration(t *testing.T) {
	create := func(context.Context, *Op, *Data) error { return nil }
	tests := []struct {
		name string
		p    *Provider
		want string
	}{
		{"valid", &Provider{Name: "ok", Resources: map[string]*Resource{"ok_x": {Create: create,
			Attributes: map[string]*Attribute{"a": {Type: ListOf(String), Optional: true, Default: []string{"x"}}}}}}, ""},
		{"bad names and missing create", &Provider{Name: "Bad", Resources: map[string]*Resource{"x-y": {}}},
			"provider name \"Bad\": want lower case letters, digits and _\nresource type \"x-y\": want lower case letters, digits and _"},
		{"attribute mistakes", &Provider{Name: "p", Resources: map[string]*Resource{"p_x": {Create: create,
			Attributes: map[string]*Attribute{
				"a":  {Type: String},
				"b":  {Type: String, Required: true, Computed: true},
				"c":  {Type: Number, Optional: true, Default: "one"},
				"d":  {Optional: true},
				"e":  {Type: Object(map[string]*Attribute{"f": {Type: String, Computed: true}}), Optional: true},
				"id": {Type: Number, Computed: true},
			}}}},
			"resource type p_x: id must be a computed string\n" +
				"p_x.a: set one of Required, Optional or Computed\n" +
				"p_x.b: Required excludes Optional and Computed\n" +
				"p_x.c: Default: expected a number, got string\n" +
				"p_x.d: attribute has no Type\n" +
				"p_x.e.f: Computed is supported on top-level attributes only"},
		{"no create", &Provider{Name: "p", Resources: map[string]*Resource{"p_x": {}}}, "resource type p_x: Create is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if err := tt.p.Validate(); err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Check (-want +got):\n%s", diff)
			}
		})
	}
}
