package cli

import (
	"github.com/spf13/cobra"

	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/plugins/aws"
	"github.com/provhq/prov/plugins/host"
	"github.com/provhq/prov/plugins/local"
	"github.com/provhq/prov/plugins/taskservs/motd"
	"github.com/provhq/prov/plugins/upcloud"
	"github.com/provhq/prov/sdk"
)

// builtins are the first-party plugins compiled into prov. They still run as separate processes: the
// host starts `prov __plugin provider NAME`, which serves them over go-plugin exactly as a third-party
// binary would.
var builtins = host.Builtins{
	Providers: map[string]func() plugins.Provider{
		"local":   func() plugins.Provider { return sdk.NewProviderServer(local.New()) },
		"aws":     func() plugins.Provider { return sdk.NewProviderServer(aws.New()) },
		"upcloud": func() plugins.Provider { return sdk.NewProviderServer(upcloud.New()) },
	},
	Taskservs: map[string]func() plugins.Taskserv{
		"motd": func() plugins.Taskserv { return sdk.NewTaskservServer(motd.New()) },
	},
}

// newCmdPlugin is the hidden entry point of a builtin plugin process.
func newCmdPlugin() *cobra.Command {
	return &cobra.Command{
		Use:    "__plugin provider|taskserv NAME",
		Hidden: true,
		Args:   cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return builtins.Serve(args[0], args[1])
		},
	}
}
