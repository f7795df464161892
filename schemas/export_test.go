package schemas_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/internal/nickel"
	"github.com/provhq/prov/schemas"
)

// WriteTo lays the library out as an external nickel's -I directory expects: DIR/prov/….
func TestWriteTo(t *testing.T) {
	dir := t.TempDir()
	contract, err := schemas.WriteTo(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "prov", "document.ncl"); contract != want {
		t.Errorf("contract = %s, want %s", contract, want)
	}
	for _, name := range []string{"main.ncl", "contracts.ncl", "lib.ncl", "providers/local.ncl"} {
		want, err := schemas.FS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(dir, "prov", name))
		if err != nil {
			t.Error(err)
			continue
		}
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Errorf("%s (-embedded +written):\n%s", name, diff)
		}
	}
}

// With an external nickel, Export hands it the library with -I and the Document contract with
// --apply-contract, both readable while it runs. The fake nickel checks that and prints a document.
func TestExportExternal(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "nickel")
	script := `#!/bin/sh
# Fake nickel: print the arguments, check the files they name, print a document.
inc= contract=
while [ $# -gt 0 ]; do
  case "$1" in
    --import-path) inc="$2"; shift ;;
    --apply-contract) contract="$2"; shift ;;
  esac
  shift
done
[ -f "$inc/prov/main.ncl" ] || { echo "error: no prov/main.ncl under -I $inc" >&2; exit 1; }
[ "$contract" = "$inc/prov/document.ncl" ] && [ -f "$contract" ] || { echo "error: contract $contract" >&2; exit 1; }
echo '{"prov": "1"}'
`
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "main.ncl")
	if err := os.WriteFile(cfg, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := schemas.Export(cfg, nickel.Options{Binary: fake})
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != `{"prov": "1"}` {
		t.Errorf("output = %s", got)
	}
}
