package taskservs_test

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/internal/document"
	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/plan"
	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/plugins/taskserv"
	"github.com/provhq/prov/plugins/taskservs"
	"github.com/provhq/prov/plugins/taskservs/scripted/sandbox"
	"github.com/provhq/prov/sdk"
)

// TestCatalogue checks every declaration and that what taskservs need and exclude is in the catalogue.
func TestCatalogue(t *testing.T) {
	cat := taskservs.Catalogue()
	for _, name := range slices.Sorted(maps.Keys(cat)) {
		ts := cat[name]
		t.Run(name, func(t *testing.T) {
			if err := ts.Validate(); err != nil {
				t.Fatal(err)
			}
			if ts.Name != name || ts.Category == "" || ts.Description == "" || len(ts.Versions) == 0 || ts.Check == nil || ts.Remove == nil {
				t.Errorf("incomplete declaration: %+v", ts)
			}
			for _, dep := range ts.Dependencies {
				if cat[dep] == nil {
					t.Errorf("depends on %s, which is not in the catalogue", dep)
				}
			}
		})
	}
}

// TestKubernetesNode installs cilium, kubernetes and containerd on one sandbox server through the
// taskserv adapter, in the order taskserv.Order derives from their dependencies (the server lists them
// backwards), plans again (no change), and removes them in reverse.
func TestKubernetesNode(t *testing.T) {
	ctx := context.Background()
	s := sandbox.New(t)
	providers := plan.Providers{}
	for name, ts := range taskservs.Catalogue() {
		p := taskserv.NewProvider(sdk.NewTaskservServer(ts), func(any) (plugins.Exec, error) { return s.Exec, nil })
		t.Cleanup(func() { _ = p.Close() })
		providers[taskserv.ProviderPrefix+name] = p
	}
	path := filepath.Join(t.TempDir(), "main.json")
	src := `{"prov": "1",
	  "servers": {"box": {"provider": "local", "root": "sandbox", "hostname": "box", "taskservs": ["cilium", "kubernetes", "containerd"]}},
	  "taskservs": {"kubernetes": {"version": "1.31.2", "config": {"pod_cidr": "10.42.0.0/16"}}, "cilium": {"config": {"hubble": true}}}}`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	doc, ds := document.Load(path, document.LoadOptions{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	if ds := taskserv.Order(ctx, doc, providers); len(ds) > 0 {
		t.Fatal(ds)
	}
	order := installOrder(t, doc)
	if diff := cmp.Diff([]string{"taskservs.box.containerd", "taskservs.box.kubernetes", "taskservs.box.cilium"}, order); diff != "" {
		t.Fatalf("install order (-want +got):\n%s", diff)
	}

	config := func(addr string) map[string]any {
		c := maps.Clone(doc.Resources[addr].Config)
		c["server"] = s.Server // what "${servers.box}" resolves to
		return c
	}
	states := map[string]any{}
	var firsts []string // the first change each install made, in order
	for _, addr := range order {
		p := providers[doc.Resources[addr].Provider]
		resp, err := p.Plan(ctx, plugins.PlanRequest{Type: taskserv.ResourceType, Config: config(addr)})
		if err != nil || resp.Diagnostics.HasErrors() {
			t.Fatalf("plan %s: %v %v", addr, err, resp.Diagnostics)
		}
		var changes []string
		ar, err := p.Apply(ctx, plugins.ApplyRequest{Type: taskserv.ResourceType, OperationID: addr, Planned: resp.Planned, Config: config(addr)},
			func(pr plugins.Progress) { changes = append(changes, pr.Message) })
		if err != nil || ar.Diagnostics.HasErrors() {
			t.Fatalf("apply %s: %v %v", addr, err, ar.Diagnostics)
		}
		states[addr] = ar.New
		firsts = append(firsts, changes[len(changes)-1])
	}
	want := []string{"started containerd", "allowed workloads on the control plane", "installed Cilium 1.16.3"}
	if diff := cmp.Diff(want, firsts); diff != "" {
		t.Errorf("last change of each install (-want +got):\n%s", diff)
	}

	for _, addr := range order {
		p := providers[doc.Resources[addr].Provider]
		rr, err := p.Read(ctx, plugins.ReadRequest{Type: taskserv.ResourceType, Current: states[addr]})
		if err != nil || len(rr.Diagnostics) > 0 {
			t.Fatalf("read %s: %v %v", addr, err, rr.Diagnostics)
		}
		resp, err := p.Plan(ctx, plugins.PlanRequest{Type: taskserv.ResourceType, Prior: rr.New, Config: config(addr)})
		if err != nil || resp.Diagnostics.HasErrors() {
			t.Fatalf("plan again %s: %v %v", addr, err, resp.Diagnostics)
		}
		if diff := cmp.Diff(rr.New, resp.Planned); diff != "" || value.HasUnknown(resp.Planned) {
			t.Errorf("%s: a second plan changes something (-state +planned):\n%s", addr, diff)
		}
	}
	s.Calls(t)

	slices.Reverse(order)
	for _, addr := range order {
		p := providers[doc.Resources[addr].Provider]
		ar, err := p.Apply(ctx, plugins.ApplyRequest{Type: taskserv.ResourceType, OperationID: addr + "-rm", Prior: states[addr]}, nil)
		if err != nil || len(ar.Diagnostics) > 0 || ar.New != nil {
			t.Fatalf("remove %s: %v %v", addr, err, ar.Diagnostics)
		}
	}
	var removals []string
	for _, c := range s.Calls(t) {
		if strings.HasPrefix(c, "cilium uninstall") || strings.HasPrefix(c, "kubeadm reset") || strings.Contains(c, " purge ") {
			removals = append(removals, c)
		}
	}
	wantRemovals := []string{"cilium uninstall", "kubeadm reset --force", "apt-get -o DPkg::Lock::Timeout=600 purge -y -q kubelet kubeadm kubectl", "apt-get -o DPkg::Lock::Timeout=600 purge -y -q containerd.io"}
	if diff := cmp.Diff(wantRemovals, removals); diff != "" {
		t.Errorf("removal order (-want +got):\n%s", diff)
	}
}

// installOrder sorts the taskserv installs of doc so that each comes after what it depends on.
func installOrder(t *testing.T, doc *document.Document) []string {
	var out []string
	done := map[string]bool{}
	var visit func(addr string, path []string)
	visit = func(addr string, path []string) {
		if done[addr] {
			return
		}
		if slices.Contains(path, addr) {
			t.Fatalf("dependency cycle: %v", append(path, addr))
		}
		for _, dep := range doc.Resources[addr].DependsOn {
			if doc.Resources[dep].Type == taskserv.ResourceType {
				visit(dep, append(path, addr))
			}
		}
		done[addr] = true
		out = append(out, addr)
	}
	for _, addr := range slices.Sorted(maps.Keys(doc.Resources)) {
		if doc.Resources[addr].Type == taskserv.ResourceType {
			visit(addr, nil)
		}
	}
	return out
}
