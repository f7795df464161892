// Command gen writes the contracts of prov's first-party providers into the schema library:
// schemas/providers/NAME.ncl per provider and schemas/providers/main.ncl, the record of every
// first-party resource type that the Document contract checks resources and servers against.
// Run it with `go generate ./schemas`; schemas' tests fail when the files are stale.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/provhq/prov/internal/schemagen"
)

func main() {
	dir := "providers"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	files, err := schemagen.FirstParty(context.Background())
	if err == nil {
		for name, data := range files {
			if err = os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				break
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "schemas/gen:", err)
		os.Exit(1)
	}
}
