package cli

import (
	"encoding/json"
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/provhq/prov/cli/cmdutil"
	"github.com/provhq/prov/plugins"
)

func newCmdVersion(f *cmdutil.Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Show prov's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON {
				return json.NewEncoder(f.IO.Out).Encode(map[string]any{
					"prov_version": f.Version, "plugin_protocol": plugins.ProtocolVersion,
					"platform": runtime.GOOS + "_" + runtime.GOARCH,
				})
			}
			fmt.Fprintf(f.IO.Out, "prov %s\non %s_%s, plugin protocol %d\n", f.Version, runtime.GOOS, runtime.GOARCH, plugins.ProtocolVersion)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "machine-readable output")
	return cmd
}
