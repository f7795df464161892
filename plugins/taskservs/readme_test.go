package taskservs_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/plugins/taskservs"
	"github.com/provhq/prov/sdk"
)

var update = flag.Bool("update", false, "rewrite the generated part of README.md")

// marker starts the part of README.md generated from the catalogue's declarations.
const marker = "<!-- Generated from the declarations by TestReadme (go test ./plugins/taskservs -update); do not edit below. -->\n"

// TestReadme keeps README.md's reference in step with the declarations.
func TestReadme(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	head, _, ok := strings.Cut(string(b), marker)
	if !ok {
		t.Fatalf("README.md has no marker %q", marker)
	}
	got := head + marker + reference(t)
	if *update {
		if err := os.WriteFile("README.md", []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(string(b), got); diff != "" && !*update {
		t.Errorf("README.md is out of date; rerun with -update (-file +declarations):\n%s", diff)
	}
}

func reference(t *testing.T) string {
	cat := taskservs.Catalogue()
	names := slices.Sorted(maps.Keys(cat))
	descs := map[string]*plugins.TaskservDescription{}
	for _, n := range names {
		d, err := sdk.NewTaskservServer(cat[n]).Describe(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		descs[n] = d
	}
	var b strings.Builder
	b.WriteString("\n## The catalogue\n\n| taskserv | category | versions | needs | conflicts with |\n|---|---|---|---|---|\n")
	for _, n := range names {
		d := descs[n]
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s | %s | %s |\n", n, n, d.Category, strings.Join(d.Versions, ", "),
			orDash(d.Dependencies), orDash(d.Conflicts))
	}
	for _, n := range names {
		d := descs[n]
		fmt.Fprintf(&b, "\n### %s\n\n%s\n", n, cat[n].Description)
		if len(d.Config) == 0 {
			continue
		}
		b.WriteString("\n| config | type | default | description |\n|---|---|---|---|\n")
		for _, k := range slices.Sorted(maps.Keys(d.Config)) {
			a := d.Config[k]
			def := "—"
			if a.Required {
				def = "required"
			} else if a.Default != nil {
				j, _ := json.Marshal(a.Default)
				def = "`" + string(j) + "`"
			}
			desc := a.Description
			if a.Sensitive {
				desc += " Sensitive."
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", k, typeName(a.Type), def, strings.ReplaceAll(desc, "|", `\|`))
		}
	}
	return b.String()
}

func typeName(t plugins.Type) string {
	if t.Elem != nil {
		return string(t.Kind) + " of " + typeName(*t.Elem)
	}
	return string(t.Kind)
}

func orDash(l []string) string {
	if len(l) == 0 {
		return "—"
	}
	return strings.Join(l, ", ")
}
