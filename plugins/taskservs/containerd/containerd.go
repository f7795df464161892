// Package containerd is the containerd taskserv: the container runtime Kubernetes runs on, installed
// from Docker's apt repository (the containerd.io package, pinned and held at the requested version),
// configured for the CRI with the systemd cgroup driver, with the overlay and br_netfilter modules
// loaded at boot. Debian and Ubuntu servers.
package containerd

import (
	"embed"
	"fmt"
	"io/fs"

	"github.com/provhq/prov/plugins/taskservs/scripted"
	"github.com/provhq/prov/sdk"
)

// Name is the taskserv's name.
const Name = "containerd"

//go:embed templates/*.sh.tmpl
var templates embed.FS

// Manifest declares the taskserv; New runs it.
func Manifest() scripted.Manifest {
	tmpls, _ := fs.Sub(templates, "templates")
	return scripted.Manifest{
		Name:        Name,
		Category:    "container-runtime",
		Description: "containerd, the CRI container runtime, from Docker's apt repository.",
		Versions:    []string{"1.7.22", "1.7.24", "1.7.25"},
		Conflicts:   []string{"crio"},
		Config: map[string]*sdk.Attribute{
			"systemd_cgroup": {Type: sdk.Bool, Optional: true, Default: true,
				Description: "Run containers under the systemd cgroup driver, as kubeadm configures the kubelet."},
			"sandbox_image": {Type: sdk.String, Optional: true, Default: "registry.k8s.io/pause:3.10",
				Validators:  []sdk.Validator{sdk.Regexp(`^[a-z0-9][a-z0-9._/:@-]*$`)},
				Description: "The pause image of pod sandboxes."},
		},
		Templates: tmpls,
		Steps: func(in scripted.Input, _ map[string]any) []string {
			return []string{
				"add Docker's apt repository (download.docker.com)",
				fmt.Sprintf("install containerd.io %s and hold it", in.Version),
				fmt.Sprintf("write /etc/containerd/config.toml (SystemdCgroup = %v, sandbox image %v)", in.Config["systemd_cgroup"], in.Config["sandbox_image"]),
				"load the overlay and br_netfilter kernel modules",
				"enable and start containerd",
			}
		},
	}
}

// New returns the taskserv's declaration; sdk.ServeTaskserv or sdk.NewTaskservServer runs it.
func New() *sdk.Taskserv { return scripted.New(Manifest()) }
