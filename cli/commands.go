package cli

import (
	"github.com/spf13/cobra"

	"github.com/provhq/prov/cli/cmdutil"
)

// commands lists every subcommand of the root.
func commands(f *cmdutil.Factory) []*cobra.Command {
	return []*cobra.Command{
		newCmdVersion(f),
		newCmdPlugin(),
		newCmdState(f),
		newCmdForceUnlock(f),
		newCmdOutput(f),
		newCmdInit(f),
		newCmdValidate(f),
		newCmdPlan(f),
		newCmdApply(f),
		newCmdDestroy(f),
		newCmdRollback(f),
		newCmdShow(f),
	}
}
