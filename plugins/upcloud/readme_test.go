package upcloud

import (
	"flag"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite README.md from the schema")

// README.md is the provider's reference, generated from its declaration; -update rewrites it.
func TestReadme(t *testing.T) {
	got := New().Markdown()
	if *update {
		if err := os.WriteFile("README.md", []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("README.md is out of date; run go test ./plugins/upcloud -run TestReadme -update (-file +schema):\n%s", diff)
	}
}
