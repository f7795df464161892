package cilium_test

import (
	"flag"
	"path/filepath"
	"testing"

	"github.com/provhq/prov/plugins/taskservs/cilium"
	"github.com/provhq/prov/plugins/taskservs/containerd"
	"github.com/provhq/prov/plugins/taskservs/kubernetes"
	"github.com/provhq/prov/plugins/taskservs/scripted"
	"github.com/provhq/prov/plugins/taskservs/scripted/sandbox"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestLifecycle(t *testing.T) {
	cluster := func(cfg map[string]any) func(testing.TB, *sandbox.Sandbox) {
		return func(t testing.TB, s *sandbox.Sandbox) {
			s.Install(t, containerd.New(), "1.7.22", map[string]any{})
			s.Install(t, kubernetes.New(), "1.31.2", cfg)
		}
	}
	tests := []sandbox.Case{
		{Name: "control-plane", Version: "1.16.3", Config: map[string]any{"kube_proxy_replacement": true, "hubble": true},
			Setup: cluster(map[string]any{})},
		{Name: "worker", Version: "1.16.3", Config: map[string]any{}, Server: map[string]any{"hostname": "wk-01"},
			Setup: cluster(map[string]any{"control_plane": "cp-01", "token": "abcdef.0123456789abcdef"})},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			sandbox.Lifecycle(t, cilium.New(), tc, filepath.Join("testdata", tc.Name+".golden"), *update)
		})
	}
}

func TestSyntax(t *testing.T) {
	sandbox.Syntax(t, cilium.Manifest(), map[string]scripted.Input{
		"defaults": {Version: "1.16.3", Config: map[string]any{"ipam": "kubernetes", "kube_proxy_replacement": false, "hubble": false}},
	})
}
