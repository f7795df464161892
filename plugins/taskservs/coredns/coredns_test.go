package coredns_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/plugins/taskservs/coredns"
	"github.com/provhq/prov/plugins/taskservs/scripted"
	"github.com/provhq/prov/plugins/taskservs/scripted/sandbox"
	"github.com/provhq/prov/sdk"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestLifecycle(t *testing.T) {
	tests := []sandbox.Case{
		{Name: "defaults", Version: "1.11.3", Config: map[string]any{}},
		{Name: "zone", Version: "1.11.4", Config: map[string]any{"port": 5353.0, "bind": []any{"10.0.0.2"}, "cache_seconds": 0.0,
			"hosts": map[string]any{"db.internal": "10.0.0.5", "api.internal": "10.0.0.6"}, "forward": []any{"10.0.0.1"}}},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			sandbox.Lifecycle(t, coredns.New(), tc, filepath.Join("testdata", tc.Name+".golden"), *update)
		})
	}
}

// TestCorefile checks the Corefile a configuration gives, and that a changed configuration restarts
// CoreDNS.
func TestCorefile(t *testing.T) {
	ctx := context.Background()
	s := sandbox.New(t)
	ts := sdk.NewTaskservServer(coredns.New())
	cfg := map[string]any{"port": 5353.0, "bind": []any{"10.0.0.2"}, "cache_seconds": 0.0,
		"hosts": map[string]any{"db.internal": "10.0.0.5", "api.internal": "10.0.0.6"}, "forward": []any{"10.0.0.1"}}
	st := s.Install(t, coredns.New(), "1.11.4", cfg)
	got, err := os.ReadFile(filepath.Join(s.Root, "etc/coredns/Corefile"))
	if err != nil {
		t.Fatal(err)
	}
	want := `# Written by prov (taskserv coredns); changes here are overwritten.
.:5353 {
	bind 10.0.0.2
	hosts {
		10.0.0.6 api.internal
		10.0.0.5 db.internal
		fallthrough
	}
	forward . 10.0.0.1
	errors
	loop
}
`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("Corefile (-want +got):\n%s", diff)
	}
	cfg["forward"] = []any{"10.0.0.1", "10.0.0.9"}
	res, err := ts.Install(ctx, plugins.TaskservRequest{Version: "1.11.4", Config: cfg, Server: s.Server, Prior: st}, s.Exec, nil)
	if err != nil || res.Diagnostics.HasErrors() {
		t.Fatalf("reconfigure: %v %v", err, res.Diagnostics)
	}
	var mutating []string
	for _, c := range s.Calls(t) {
		if sandbox.Mutating(c) {
			mutating = append(mutating, c)
		}
	}
	if diff := cmp.Diff([]string{"systemctl restart coredns"}, mutating); diff != "" {
		t.Errorf("calls of a reconfiguration (-want +got):\n%s", diff)
	}
}

func TestValidation(t *testing.T) {
	ts := sdk.NewTaskservServer(coredns.New())
	s := sandbox.New(t)
	p, err := ts.Plan(context.Background(), plugins.TaskservRequest{Version: "1.11.3", Server: s.Server,
		Config: map[string]any{"bind": []any{"localhost"}, "hosts": map[string]any{"db..internal": "10.0.0.5", "web": "ten"}, "port": 0.0}}, s.Exec)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range p.Diagnostics {
		got = append(got, d.Path+": "+d.Summary)
	}
	want := []string{
		`config.bind: "localhost" is not an IP address`,
		"config.hosts: \"db..internal\" is not a host name\nweb: \"ten\" is not an IP address",
		`config.port: must be between 1 and 65535, got 0`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}

func TestSyntax(t *testing.T) {
	sandbox.Syntax(t, coredns.Manifest(), map[string]scripted.Input{
		"defaults": {Version: "1.11.3", Config: map[string]any{"port": 53.0, "bind": []any{}, "hosts": map[string]any{},
			"forward": []any{"1.1.1.1"}, "cache_seconds": 30.0}},
		"zone": {Version: "1.11.3", Config: map[string]any{"port": 53.0, "bind": []any{"::1"}, "hosts": map[string]any{"a": "10.0.0.1"},
			"forward": []any{}, "cache_seconds": 0.0}},
	})
}
