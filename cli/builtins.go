package cli

import (
	"github.com/spf13/cobra"

	"github.com/provhq/prov/plugins/builtin"
)

// builtins are the first-party plugins compiled into prov. They still run as separate processes: the
// host starts `prov __plugin provider NAME`, which serves them over go-plugin exactly as a third-party
// binary would.
var builtins = builtin.Plugins

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
