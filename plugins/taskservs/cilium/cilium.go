// Package cilium is the cilium taskserv: the Cilium CNI (eBPF networking, network policy) on a
// Kubernetes cluster made by the kubernetes taskserv. Every server that lists it gets the cilium CLI
// (a pinned release from GitHub, checked against its published SHA-256); on the control plane (the
// server with /etc/kubernetes/admin.conf) the CLI installs Cilium into the cluster with Helm values
// from the configuration, and upgrades it when the version or the values change. On the other servers
// Cilium runs as the cluster's DaemonSet: nothing more to install there.
package cilium

import (
	"embed"
	"fmt"
	"io/fs"

	"github.com/provhq/prov/plugins/taskservs/scripted"
	"github.com/provhq/prov/sdk"
)

// Name is the taskserv's name.
const Name = "cilium"

// CLIVersion is the cilium CLI release that installs every supported Cilium version.
const CLIVersion = "0.16.19"

//go:embed templates/*.sh.tmpl
var templates embed.FS

// Manifest declares the taskserv; New runs it.
func Manifest() scripted.Manifest {
	tmpls, _ := fs.Sub(templates, "templates")
	return scripted.Manifest{
		Name:         Name,
		Category:     "networking",
		Description:  "Cilium, the eBPF CNI, installed into the cluster with the cilium CLI.",
		Versions:     []string{"1.15.10", "1.16.3"},
		Dependencies: []string{"kubernetes"},
		Conflicts:    []string{"calico", "flannel"},
		Config: map[string]*sdk.Attribute{
			"ipam": {Type: sdk.String, Optional: true, Default: "kubernetes", Validators: []sdk.Validator{sdk.OneOf("kubernetes", "cluster-pool")},
				Description: "Where pod addresses come from: kubernetes (each node's range from the kubernetes pod_cidr) or cluster-pool (Cilium's own)."},
			"kube_proxy_replacement": {Type: sdk.Bool, Optional: true, Default: false,
				Description: "Replace kube-proxy with Cilium's eBPF service handling."},
			"hubble": {Type: sdk.Bool, Optional: true, Default: false,
				Description: "Enable Hubble, Cilium's flow observability (relay included)."},
		},
		Templates: tmpls,
		Data: func(scripted.Input) (map[string]any, error) {
			return map[string]any{"CLIVersion": CLIVersion}, nil
		},
		Steps: func(in scripted.Input, _ map[string]any) []string {
			return []string{
				fmt.Sprintf("install the cilium CLI %s (github.com/cilium/cilium-cli, SHA-256 checked)", CLIVersion),
				fmt.Sprintf("on the control plane: install or upgrade Cilium %s (ipam %v, kube-proxy replacement %v, hubble %v)",
					in.Version, in.Config["ipam"], in.Config["kube_proxy_replacement"], in.Config["hubble"]),
			}
		},
	}
}

// New returns the taskserv's declaration; sdk.ServeTaskserv or sdk.NewTaskservServer runs it.
func New() *sdk.Taskserv { return scripted.New(Manifest()) }
