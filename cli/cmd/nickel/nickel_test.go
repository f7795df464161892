package nickel

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/cli/cmdutil"
)

func run(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	f := &cmdutil.Factory{IO: &cmdutil.IOStreams{Out: &out, ErrOut: &errOut}, Dir: dir}
	cmd := NewCmdNickel(f)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage = true
	cmd.SilenceErrors = true
	err := cmd.Execute()
	return out.String(), errOut.String(), cmdutil.ExitCode(err)
}

func TestCommands(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("main.ncl", `{ server = { zone | doc "Where it runs" | String | default = "fi-hel1", cores = 2 } }`)
	write("bad.ncl", "{\n  a | Number = \"x\",\n}\n")
	write("contract.ncl", `{ server | { zone | String, cores | Number } }`)
	tests := []struct {
		name       string
		args       []string
		wantOut    string
		wantErrHas string
		wantCode   int
	}{
		{"export json", []string{"export", "main.ncl"}, "{\n  \"server\": {\n    \"cores\": 2,\n    \"zone\": \"fi-hel1\"\n  }\n}\n", "", 0},
		{"export yaml field", []string{"export", "main.ncl", "--format", "yaml", "--field", "server"}, "---\ncores: 2\nzone: fi-hel1\n", "", 0},
		{"export override", []string{"export", "main.ncl", "--field", "server.zone", "--", `server.zone="de-fra1"`}, "\"de-fra1\"\n", "", 0},
		{"export contract", []string{"export", "main.ncl", "--apply-contract", "contract.ncl", "--field", "server.cores"}, "2\n", "", 0},
		{"eval", []string{"eval", "main.ncl", "--field", "server.cores"}, "2\n", "", 0},
		{"query", []string{"query", "main.ncl", "--field", "server.zone"}, "Where it runs\n\n• contract: String\n• default: \"fi-hel1\"\n", "", 0},
		{"error", []string{"export", "bad.ncl"}, "", "error: contract broken by the value of `a`\n  ┌─ " + filepath.Join(dir, "bad.ncl") + ":2:16\n", 1},
		{"list", []string{"export", "main.ncl", "--", "list"}, "Input fields:\n- server.zone: <String>\n\nOverridable fields (require `--override`):\n- server.cores\n\nUse the `query` subcommand to print a detailed description of a specific field. See `nickel help query`.\n", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := run(t, dir, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit code = %d, want %d; stderr:\n%s", code, tt.wantCode, errOut)
			}
			if diff := cmp.Diff(tt.wantOut, out); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if tt.wantErrHas != "" && !strings.Contains(errOut, tt.wantErrHas) {
				t.Errorf("stderr %q does not contain %q", errOut, tt.wantErrHas)
			}
		})
	}
}
