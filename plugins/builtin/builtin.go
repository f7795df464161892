// Package builtin lists the first-party plugins compiled into prov: the providers and taskservs that the
// `prov` binary serves as `prov __plugin KIND NAME` processes, and whose contracts ship in the schema
// library. Add a plugin here and it is both runnable and documented.
package builtin

import (
	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/plugins/aws"
	"github.com/provhq/prov/plugins/host"
	"github.com/provhq/prov/plugins/local"
	"github.com/provhq/prov/plugins/taskservs/cilium"
	"github.com/provhq/prov/plugins/taskservs/containerd"
	"github.com/provhq/prov/plugins/taskservs/coredns"
	"github.com/provhq/prov/plugins/taskservs/etcd"
	"github.com/provhq/prov/plugins/taskservs/kubernetes"
	"github.com/provhq/prov/plugins/taskservs/motd"
	"github.com/provhq/prov/plugins/upcloud"
	"github.com/provhq/prov/sdk"
)

// Plugins are the first-party plugins, by kind and name.
var Plugins = host.Builtins{
	Providers: map[string]func() plugins.Provider{
		"local":   func() plugins.Provider { return sdk.NewProviderServer(local.New()) },
		"aws":     func() plugins.Provider { return sdk.NewProviderServer(aws.New()) },
		"upcloud": func() plugins.Provider { return sdk.NewProviderServer(upcloud.New()) },
	},
	Taskservs: map[string]func() plugins.Taskserv{
		"motd":       func() plugins.Taskserv { return sdk.NewTaskservServer(motd.New()) },
		"containerd": func() plugins.Taskserv { return sdk.NewTaskservServer(containerd.New()) },
		"kubernetes": func() plugins.Taskserv { return sdk.NewTaskservServer(kubernetes.New()) },
		"cilium":     func() plugins.Taskserv { return sdk.NewTaskservServer(cilium.New()) },
		"coredns":    func() plugins.Taskserv { return sdk.NewTaskservServer(coredns.New()) },
		"etcd":       func() plugins.Taskserv { return sdk.NewTaskservServer(etcd.New()) },
	},
}
