package cli

import (
	"github.com/spf13/cobra"

	configcmd "github.com/provhq/prov/cli/cmd/config"
	nickelcmd "github.com/provhq/prov/cli/cmd/nickel"
	secretcmd "github.com/provhq/prov/cli/cmd/secret"
	workspacecmd "github.com/provhq/prov/cli/cmd/workspace"
	"github.com/provhq/prov/cli/cmdutil"
)

// commands lists every subcommand of the root.
func commands(f *cmdutil.Factory) []*cobra.Command {
	return []*cobra.Command{
		newCmdVersion(f),
		newCmdPlugin(),
		newCmdFakecloud(),
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
		newCmdGraph(f),
		newCmdProviders(f),
		newCmdImport(f),
		nickelcmd.NewCmdNickel(f),
		configcmd.NewCmdConfig(f),
		workspacecmd.NewCmdWorkspace(f),
		secretcmd.NewCmdSecret(f),
	}
}
