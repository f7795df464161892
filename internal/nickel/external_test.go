package nickel

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/internal/diag"
)

// standIn writes a shell script that behaves like `nickel export`: it records its arguments and prints
// either a JSON document or a nickel-style error report.
func standIn(t *testing.T, fail bool) (bin, argsFile string) {
	t.Helper()
	dir := t.TempDir()
	argsFile = filepath.Join(dir, "args")
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > " + argsFile + "\n"
	if fail {
		script += `cat >&2 <<'X'
error: contract broken by the value of ` + "`zone`" + `
  ┌─ /work/main.ncl:3:10
  │
3 │   zone | String = 1,
  │          ------   - evaluated to this expression
X
exit 1
`
	} else {
		script += "printf '{\\n  \"a\": 1\\n}\\n'\n"
	}
	bin = filepath.Join(dir, "nickel")
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, argsFile
}

func TestExternalExport(t *testing.T) {
	bin, argsFile := standIn(t, false)
	t.Setenv(BinaryEnv, bin)
	out, pos, err := ExportDocument("main.ncl", Options{ImportPaths: []string{"lib"}, Overrides: []string{"a=2"}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("{\n  \"a\": 1\n}\n", string(out)); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	if len(pos) != 0 {
		t.Errorf("positions = %v, want none", pos)
	}
	args, err := os.ReadFile(argsFile)
	if err != nil {
		t.Fatal(err)
	}
	want := "export\n--format\njson\n--import-path\nlib\nmain.ncl\n--\na=2\n"
	if diff := cmp.Diff(want, string(args)); diff != "" {
		t.Errorf("arguments (-want +got):\n%s", diff)
	}
}

func TestExternalExportError(t *testing.T) {
	bin, _ := standIn(t, true)
	_, err := Export([]string{"main.ncl"}, Options{Binary: bin})
	if err == nil {
		t.Fatal("want an error")
	}
	d := Diagnostics(err)
	if len(d) != 1 {
		t.Fatalf("diagnostics = %v", d)
	}
	got := diag.Diagnostic{Summary: d[0].Summary, Pos: d[0].Pos}
	want := diag.Diagnostic{Summary: "contract broken by the value of `zone`", Pos: diag.Pos{File: "/work/main.ncl", Line: 3, Col: 10}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
