// Package workspace is `prov workspace`: create, list, select, show and delete the project's
// workspaces, each with its own state, settings and plugins.
package workspace

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/provhq/prov/cli/cmdutil"
	"github.com/provhq/prov/internal/secrets"
	"github.com/provhq/prov/internal/settings"
	"github.com/provhq/prov/internal/workspace"
)

// NewCmdWorkspace returns `prov workspace` and its subcommands.
func NewCmdWorkspace(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "workspace <command>",
		Short: "Manage workspaces",
		Long: `A workspace is a separate state, settings and plugin folder for the same configuration, so one
project can manage several deployments (dev, staging, prod). "default" is the project directory itself;
workspace NAME lives in .prov/workspaces/NAME/, where its own prov.toml overrides the project's. The
selected workspace is remembered in .prov/workspace; PROV_WORKSPACE overrides it.`,
	}
	cmd.AddCommand(newCmdNew(f), newCmdList(f), newCmdSelect(f), newCmdShow(f), newCmdDelete(f))
	return cmd
}

// envNote warns that PROV_WORKSPACE hides the persisted selection.
func envNote(f *cmdutil.Factory) {
	if env := os.Getenv(workspace.EnvVar); env != "" {
		fmt.Fprintf(f.IO.ErrOut, "warning: %s=%s is set and overrides the selected workspace.\n", workspace.EnvVar, env)
	}
}

func newCmdNew(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "new NAME",
		Short: "Create a workspace and switch to it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if _, err := workspace.New(f.Dir, name); err != nil {
				return err
			}
			if err := workspace.Select(f.Dir, name); err != nil {
				return err
			}
			fmt.Fprintf(f.IO.Out, "Created and switched to workspace %q.\n", name)
			envNote(f)
			return nil
		},
	}
}

func newCmdList(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List workspaces; the current one is marked with *",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			names, err := workspace.List(f.Dir)
			if err != nil {
				return err
			}
			cur, _, err := workspace.CurrentName(f.Dir)
			if err != nil {
				return err
			}
			for _, n := range names {
				mark := "  "
				if n == cur {
					mark = "* "
				}
				fmt.Fprintln(f.IO.Out, mark+n)
			}
			return nil
		},
	}
}

func newCmdSelect(f *cmdutil.Factory) *cobra.Command {
	var orCreate bool
	cmd := &cobra.Command{
		Use:   "select NAME",
		Short: "Switch to a workspace",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if orCreate {
				if _, err := workspace.Open(f.Dir, name); errors.Is(err, workspace.ErrNotExist) {
					if _, err := workspace.New(f.Dir, name); err != nil {
						return err
					}
					fmt.Fprintf(f.IO.Out, "Created workspace %q.\n", name)
				}
			}
			if err := workspace.Select(f.Dir, name); err != nil {
				return err
			}
			fmt.Fprintf(f.IO.Out, "Switched to workspace %q.\n", name)
			envNote(f)
			return nil
		},
	}
	cmd.Flags().BoolVar(&orCreate, "or-create", false, "create the workspace if it does not exist")
	return cmd
}

func newCmdShow(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "show",
		Short: "Print the current workspace's name",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := workspace.Current(f.Dir)
			if err != nil {
				return err
			}
			fmt.Fprintln(f.IO.Out, w.Name)
			return nil
		},
	}
}

func newCmdDelete(f *cmdutil.Factory) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a workspace, its settings, plugins and state",
		Long: `Delete workspace NAME with its settings, plugins and state. A workspace whose state still manages
resources is kept unless -force is given: destroy them first with prov apply -destroy, or -force to
forget them (the real objects are left running and unmanaged).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			w, err := workspace.Open(f.Dir, name)
			if err != nil {
				return err
			}
			o := workspace.DeleteOptions{Force: force}
			// Its own settings say where its state is and how it is encrypted; with -force it does not
			// matter, and a broken settings file must not keep a workspace from being deleted.
			if s, diags := w.Settings(settings.Options{Env: f.Env}); !diags.HasErrors() {
				o.StateDir = w.StateDir(s)
				if o.Codec, err = secrets.StateCodec(s.StateEncryption()); err != nil && !force {
					return fmt.Errorf("workspace %q: %w", name, err)
				}
			} else if !force {
				return fmt.Errorf("workspace %q: its settings do not load, so its state cannot be checked: %w", name, diags.Err())
			}
			if err := workspace.Delete(f.Dir, name, o); err != nil {
				return err
			}
			fmt.Fprintf(f.IO.Out, "Deleted workspace %q.\n", name)
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "delete even if its state still has resources")
	return cmd
}
