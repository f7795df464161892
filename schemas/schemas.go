// Package schemas is prov's Nickel schema library, embedded in the prov binary: contracts for the
// whole document (Document, Settings, Provider, Resource, Output, Server, Taskserv, Secret, Ref),
// helpers (ref, secret, server, plan) and the generated contracts of the first-party providers'
// resource types. A configuration imports it as `import "prov/main.ncl"`; prov applies
// DocumentContract to every configuration it loads. See README.md for the layout.
package schemas

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

//go:generate go run ./gen providers

// FS holds the library's .ncl files, at the root: main.ncl, contracts.ncl, providers/local.ncl, …
// Configurations see them under the import prefix "prov/" (nickel.Options.EmbeddedFS).
//
//go:embed *.ncl providers/*.ncl
var FS embed.FS

// ImportPrefix is the prefix under which configurations import the library: "prov/main.ncl".
const ImportPrefix = "prov/"

// DocumentContract is the file, as imported, whose value is the Document contract that prov applies
// to every configuration it loads (like nickel export --apply-contract).
const DocumentContract = ImportPrefix + "document.ncl"

// WriteTo copies the library into dir/prov, so that an external nickel run with `-I dir` resolves
// `import "prov/…"` as prov's embedded evaluator does. It returns the path of DocumentContract there.
func WriteTo(dir string) (string, error) {
	root := filepath.Join(dir, strings.TrimSuffix(ImportPrefix, "/"))
	err := fs.WalkDir(FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(root, filepath.FromSlash(p))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := FS.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		return "", fmt.Errorf("schemas: write the library to %s: %w", dir, err)
	}
	return filepath.Join(dir, filepath.FromSlash(DocumentContract)), nil
}
