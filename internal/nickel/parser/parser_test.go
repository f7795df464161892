package parser

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"

	"github.com/provhq/prov/internal/nickel/source"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestParseGolden(t *testing.T) {
	ar, err := txtar.ParseFile("testdata/errors.txtar")
	if err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	for _, f := range ar.Files {
		t.Run(f.Name, func(t *testing.T) {
			_, err := Parse(source.NewFile(f.Name, string(f.Data)))
			res := "ok"
			if err != nil {
				e, ok := err.(*source.Error)
				if !ok {
					t.Fatalf("error %T is not a *source.Error", err)
				}
				res = fmt.Sprintf("%s: %s [%s]", e.Span.Pos(), e.Message, e.Class)
			}
			if strings.HasPrefix(f.Name, "ok_") != (res == "ok") {
				t.Errorf("%s: %s", f.Name, res)
			}
			fmt.Fprintf(&got, "%s: %s\n", f.Name, res)
		})
	}
	const golden = "testdata/errors.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read golden (run with -update): %v", err)
	}
	if diff := cmp.Diff(string(want), got.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
