package taskserv_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/internal/document"
	"github.com/provhq/prov/plan"
	"github.com/provhq/prov/plugins/taskserv"
	"github.com/provhq/prov/plugins/taskserv/sshexec"
	"github.com/provhq/prov/sdk"
)

func catalogue(t *testing.T) plan.Providers {
	noop := func(context.Context, *sdk.Task) error { return nil }
	ps := plan.Providers{}
	for _, ts := range []*sdk.Taskserv{
		{Name: "containerd", Versions: []string{"1.7"}, Conflicts: []string{"docker"}, Install: noop},
		{Name: "docker", Versions: []string{"27"}, Conflicts: []string{"containerd"}, Install: noop},
		{Name: "kubernetes", Versions: []string{"1.31"}, Dependencies: []string{"containerd"}, Install: noop},
	} {
		p := taskserv.NewProvider(sdk.NewTaskservServer(ts), taskserv.NewServers(t.TempDir(), sshexec.Options{}).Exec)
		t.Cleanup(func() { _ = p.Close() })
		ps[taskserv.ProviderPrefix+ts.Name] = p
	}
	return ps
}

func TestOrder(t *testing.T) {
	tests := []struct {
		name      string
		taskservs string // servers.web.taskservs, as JSON
		invalid   bool   // the server's entry has errors reported already
		wantDeps  map[string][]string
		wantDiags []string
	}{
		{"dependency installed first", `["kubernetes", "containerd"]`, false,
			map[string][]string{"taskservs.web.containerd": {"servers.web"}, "taskservs.web.kubernetes": {"servers.web", "taskservs.web.containerd"}}, nil},
		{"missing dependency", `["kubernetes"]`, false,
			map[string][]string{"taskservs.web.kubernetes": {"servers.web"}},
			[]string{`error servers.web.taskservs: taskserv kubernetes needs containerd on the same server: add "containerd" to servers.web.taskservs`}},
		{"server with errors", `["kubernetes"]`, true, map[string][]string{"taskservs.web.kubernetes": {"servers.web"}}, nil},
		{"conflict", `["containerd", "docker"]`, false,
			map[string][]string{"taskservs.web.containerd": {"servers.web"}, "taskservs.web.docker": {"servers.web"}},
			[]string{"error servers.web.taskservs: taskserv containerd conflicts with docker, which server web also lists: keep one of them",
				"error servers.web.taskservs: taskserv docker conflicts with containerd, which server web also lists: keep one of them"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "main.json")
			src := `{"prov": "1", "servers": {"web": {"provider": "local", "root": "sandbox", "taskservs": ` + tc.taskservs + `}}}`
			if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			doc, ds := document.Load(path, document.LoadOptions{})
			if ds.HasErrors() {
				t.Fatal(ds)
			}
			if tc.invalid {
				doc.Invalid = map[string]bool{"servers.web": true, "taskservs.web.kubernetes": true}
			}
			got := errorsOf(taskserv.Order(context.Background(), doc, catalogue(t)))
			if diff := cmp.Diff(tc.wantDiags, got); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
			deps := map[string][]string{}
			for addr, r := range doc.Resources {
				if r.Type == taskserv.ResourceType {
					deps[addr] = r.DependsOn
				}
			}
			if diff := cmp.Diff(tc.wantDeps, deps); diff != "" {
				t.Errorf("depends_on (-want +got):\n%s", diff)
			}
		})
	}
}
