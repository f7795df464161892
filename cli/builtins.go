package cli

import (
	"fmt"
	"maps"
	"slices"

	"github.com/spf13/cobra"

	"github.com/provhq/prov/internal/protocol"
	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/plugins/local"
	"github.com/provhq/prov/sdk"
)

// builtinProviders are the first-party providers compiled into prov. They still run as separate
// processes: the host starts `prov __plugin provider NAME`, which serves them over go-plugin exactly as
// a third-party binary would.
var builtinProviders = map[string]func() plugins.Provider{
	"local": func() plugins.Provider { return sdk.NewProviderServer(local.New()) },
}

// builtinTaskservs are the first-party taskservs compiled into prov.
var builtinTaskservs = map[string]func() plugins.Taskserv{}

// newCmdPlugin is the hidden entry point of a builtin plugin process.
func newCmdPlugin() *cobra.Command {
	return &cobra.Command{
		Use:    "__plugin provider|taskserv NAME",
		Hidden: true,
		Args:   cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, name := args[0], args[1]
			switch kind {
			case "provider":
				if mk, ok := builtinProviders[name]; ok {
					protocol.ServeProvider(mk())
					return nil
				}
				return fmt.Errorf("no builtin provider %q (have %v)", name, slices.Sorted(maps.Keys(builtinProviders)))
			case "taskserv":
				if mk, ok := builtinTaskservs[name]; ok {
					protocol.ServeTaskserv(mk())
					return nil
				}
				return fmt.Errorf("no builtin taskserv %q (have %v)", name, slices.Sorted(maps.Keys(builtinTaskservs)))
			}
			return fmt.Errorf("unknown plugin kind %q: want provider or taskserv", kind)
		},
	}
}
