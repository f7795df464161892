// Package taskservs is prov's catalogue of first-party taskservs, one package each: motd (the smallest,
// for sandboxes and examples), containerd, kubernetes, cilium, coredns and etcd. All but motd are built
// with package scripted (a manifest and shell script templates) and tested in a stub sandbox (package
// scripted/sandbox). Catalogue lists them; plugins/builtin serves them from the prov binary.
package taskservs

import (
	"github.com/provhq/prov/plugins/taskservs/cilium"
	"github.com/provhq/prov/plugins/taskservs/containerd"
	"github.com/provhq/prov/plugins/taskservs/coredns"
	"github.com/provhq/prov/plugins/taskservs/etcd"
	"github.com/provhq/prov/plugins/taskservs/kubernetes"
	"github.com/provhq/prov/plugins/taskservs/motd"
	"github.com/provhq/prov/sdk"
)

// Catalogue returns the declarations of the first-party taskservs, by name.
func Catalogue() map[string]*sdk.Taskserv {
	return map[string]*sdk.Taskserv{
		motd.Name:       motd.New(),
		containerd.Name: containerd.New(),
		kubernetes.Name: kubernetes.New(),
		cilium.Name:     cilium.New(),
		coredns.Name:    coredns.New(),
		etcd.Name:       etcd.New(),
	}
}
