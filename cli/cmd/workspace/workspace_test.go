package workspace

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/cli/cmdutil"
	"github.com/provhq/prov/internal/secrets"
	"github.com/provhq/prov/state/local"
)

func run(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	f := &cmdutil.Factory{IO: &cmdutil.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, Dir: dir}
	cmd := NewCmdWorkspace(f)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	if err != nil && err.Error() != "" {
		errOut.WriteString("error: " + err.Error() + "\n")
	}
	return out.String(), strings.ReplaceAll(errOut.String(), dir, "$DIR"), cmdutil.ExitCode(err)
}

func TestWorkspaceCommands(t *testing.T) {
	t.Setenv("PROV_WORKSPACE", "")
	os.Unsetenv("PROV_WORKSPACE")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	dir := t.TempDir()
	key := filepath.Join(dir, "state.key")
	rec, err := secrets.WriteIdentity(key)
	if err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		args    []string
		setup   func()
		wantOut string
		wantErr string
		code    int
	}{
		{args: []string{"show"}, wantOut: "default\n"},
		{args: []string{"list"}, wantOut: "* default\n"},
		{args: []string{"new", "staging"}, wantOut: "Created and switched to workspace \"staging\".\n"},
		{args: []string{"new", "prod"}, wantOut: "Created and switched to workspace \"prod\".\n"},
		{args: []string{"new", "prod"}, wantErr: "error: workspace \"prod\": workspace already exists\n", code: 1},
		{args: []string{"new", "bad/name"}, wantErr: "error: invalid workspace name \"bad/name\": use letters, digits, '-' and '_', starting with a letter or digit\n", code: 1},
		{args: []string{"list"}, wantOut: "  default\n* prod\n  staging\n"},
		{args: []string{"show"}, wantOut: "prod\n"},
		{args: []string{"select", "qa"}, wantErr: "error: workspace \"qa\": workspace does not exist (create it with `prov workspace new qa`)\n", code: 1},
		{args: []string{"select", "qa", "--or-create"}, wantOut: "Created workspace \"qa\".\nSwitched to workspace \"qa\".\n"},
		{args: []string{"delete", "qa"}, wantErr: "error: workspace \"qa\": cannot delete the current workspace; select another workspace first\n", code: 1},
		{args: []string{"select", "default"}, wantOut: "Switched to workspace \"default\".\n"},
		{args: []string{"delete", "qa"}, wantOut: "Deleted workspace \"qa\".\n"},
		{
			// prod's state is encrypted and still manages a resource.
			setup: func() {
				ws := filepath.Join(dir, ".prov/workspaces/prod")
				os.WriteFile(filepath.Join(ws, "prov.toml"), []byte("[state]\nencryption_recipients = [\""+rec+"\"]\nencryption_identity_file = \""+key+"\"\n"), 0o644)
				c, _ := secrets.NewAgeCodec([]string{rec}, "")
				enc, _ := c.Encode([]byte(`{"version":1,"resources":{"files.motd":{"type":"local_file"}}}`))
				os.WriteFile(filepath.Join(ws, local.StateFile), enc, 0o600)
			},
			args:    []string{"delete", "prod"},
			wantErr: "error: workspace \"prod\": workspace state still has resources (1 managed); destroy them first (`prov apply -destroy`), or delete with -force to forget them\n",
			code:    1,
		},
		{
			setup: func() {
				os.WriteFile(filepath.Join(dir, ".prov/workspaces/prod/prov.toml"), []byte("[state]\nencryption_identity_file = \"/nonexistent/key\"\n"), 0o644)
			},
			args:    []string{"delete", "prod"},
			wantErr: "error: workspace \"prod\": state encryption: age identity file: open /nonexistent/key: no such file or directory\n",
			code:    1,
		},
		{args: []string{"delete", "prod", "--force"}, wantOut: "Deleted workspace \"prod\".\n"},
		{args: []string{"list"}, wantOut: "* default\n  staging\n"},
		{args: []string{"delete", "default"}, wantErr: "error: workspace \"default\": cannot delete the default workspace\n", code: 1},
	}
	for _, s := range steps {
		t.Run(strings.Join(s.args, " "), func(t *testing.T) {
			if s.setup != nil {
				s.setup()
			}
			out, errOut, code := run(t, dir, s.args...)
			if diff := cmp.Diff(s.wantOut, out); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(s.wantErr, errOut); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
			if code != s.code {
				t.Errorf("exit %d, want %d", code, s.code)
			}
		})
	}

	t.Run("PROV_WORKSPACE overrides the selection", func(t *testing.T) {
		t.Setenv("PROV_WORKSPACE", "staging")
		out, _, _ := run(t, dir, "list")
		if out != "  default\n* staging\n" {
			t.Errorf("list = %q", out)
		}
		_, errOut, _ := run(t, dir, "select", "default")
		if errOut != "warning: PROV_WORKSPACE=staging is set and overrides the selected workspace.\n" {
			t.Errorf("select stderr = %q", errOut)
		}
	})
}
