package schemas_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/internal/diag"
)

// The taskservs section is checked against the first-party taskservs' configuration (generated into
// providers/taskservs.ncl); references, secrets and taskservs prov does not ship pass. (prov validate
// fails on purpose in the valid case, at one unknown top-level field, to show that it is the only error.)
func TestTaskservConfigs(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []problem
	}{
		{"valid", `{
  extra = true,
  taskservs = {
    containerd = { version = "1.7.22", config = { systemd_cgroup = true } },
    kubernetes = { config = { control_plane = "${servers.cp-01.hostname}", pod_cidr = "10.42.0.0/16",
                              token = { "$secret" = "secrets/k8s.sops.yaml#token" } } },
    acme-agent = { config = { anything = 1 } },
  },
}`, []problem{{"main.ncl:2:3", "extra", `unknown field "extra"`}}},
		{"mistakes", `{
  taskservs = {
    kubernetes = { config = { pod_cird = "10.42.0.0/16" } },
    containerd = { config = { systemd_cgroup = "yes" } },
    coredns = { config = { forward = "1.1.1.1" } },
  },
}`, []problem{
			{"main.ncl:3:31", "taskservs.kubernetes.config.pod_cird", `unknown field "pod_cird"; did you mean "pod_cidr"?`},
			{"main.ncl:4:48", "taskservs.containerd.config.systemd_cgroup", "expected a Bool, got a String"},
			{"main.ncl:5:38", "taskservs.coredns.config.forward", "expected an Array, got a String"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := validate(t, tt.src)
			var got []problem
			for _, d := range v.Diagnostics {
				if d.Severity == diag.Error {
					got = append(got, problem{d.Pos.String(), d.Path, d.Summary})
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}
