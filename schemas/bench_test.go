package schemas_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/provhq/prov/internal/document"
	"github.com/provhq/prov/internal/nickel"
	"github.com/provhq/prov/schemas"
)

// BenchmarkExport measures the cost of the Document contract on a document of 2,000 resources.
func BenchmarkExport(b *testing.B) {
	dir := b.TempDir()
	const body = `resources = std.record.from_array (std.array.generate (fun i => { field = "files.f%{std.to_string i}", value = { type = "local_file", config = { path = "out/%{std.to_string i}", content = "x ${files.f0.id}" } } }) 2000),`
	path := filepath.Join(dir, "main.ncl")
	if err := os.WriteFile(path, []byte("{ prov = \"1\", "+body+" }"), 0o644); err != nil {
		b.Fatal(err)
	}
	b.Run("without contract", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := nickel.ExportDocument(path, nickel.Options{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("with Document contract", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := schemas.Export(path, nickel.Options{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	// One resource the contract rejects: the whole document is checked again, entry by entry.
	rejected := filepath.Join(dir, "rejected.ncl")
	if err := os.WriteFile(rejected, []byte("{ prov = \"1\", "+body+" } & { resources.\"files.f7\".config.mode = 644 }"), 0o644); err != nil {
		b.Fatal(err)
	}
	b.Run("one entry rejected", func(b *testing.B) {
		for b.Loop() {
			var r *document.Rejected
			if _, _, err := schemas.Export(rejected, nickel.Options{}); !errors.As(err, &r) || len(r.Diagnostics) != 1 {
				b.Fatalf("want one rejected entry, got %v", err)
			}
		}
	})
}
