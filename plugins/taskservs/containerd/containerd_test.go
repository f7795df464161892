package containerd_test

import (
	"flag"
	"path/filepath"
	"testing"

	"github.com/provhq/prov/plugins/taskservs/containerd"
	"github.com/provhq/prov/plugins/taskservs/scripted"
	"github.com/provhq/prov/plugins/taskservs/scripted/sandbox"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestLifecycle(t *testing.T) {
	tests := []sandbox.Case{
		{Name: "defaults", Version: "1.7.22", Config: map[string]any{}},
		{Name: "cgroupfs", Version: "1.7.25", Config: map[string]any{"systemd_cgroup": false, "sandbox_image": "registry.example/pause:3.9"}},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			sandbox.Lifecycle(t, containerd.New(), tc, filepath.Join("testdata", tc.Name+".golden"), *update)
		})
	}
}

func TestSyntax(t *testing.T) {
	sandbox.Syntax(t, containerd.Manifest(), map[string]scripted.Input{
		"defaults": {Version: "1.7.22", Config: map[string]any{"systemd_cgroup": true, "sandbox_image": "registry.k8s.io/pause:3.10"}},
		"quotes":   {Version: "1.7.22", Config: map[string]any{"systemd_cgroup": false, "sandbox_image": `it's "odd"`}},
	})
}
