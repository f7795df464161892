package plugintest

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/sdk"
)

// Readme checks that the provider's README.md (in the test's working directory) is the reference
// generated from its declaration; with update set it rewrites the file first. A provider's test:
//
//	var update = flag.Bool("update", false, "rewrite README.md from the schema")
//	func TestReadme(t *testing.T) { plugintest.Readme(t, New(), *update) }
func Readme(t testing.TB, p *sdk.Provider, update bool) {
	t.Helper()
	got := p.Markdown()
	if update {
		if err := os.WriteFile("README.md", []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("README.md is out of date; rerun this test with -update (-file +schema):\n%s", diff)
	}
}
