// Command conformance runs Nickel's conformance corpus against prov's evaluator, prints one line per
// suite ("NAME: N passed, N failed") and writes the failing cases to docs/nickel-conformance.md.
//
//	go run ./internal/nickel/cmd/conformance [-corpus DIR] [-out FILE] [SUITE...]
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/provhq/prov/internal/nickel/conformance"
)

func main() {
	corpus := flag.String("corpus", filepath.Join("..", "shared", "nickel-corpus"), "corpus directory")
	out := flag.String("out", filepath.Join("docs", "nickel-conformance.md"), "report file (empty: none)")
	flag.Parse()
	suites, err := conformance.Run(*corpus, flag.Args(), conformance.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, s := range suites {
		p, f := s.Counts()
		fmt.Printf("%s: %d passed, %d failed\n", s.Name, p, f)
	}
	if *out != "" {
		if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := os.WriteFile(*out, []byte(conformance.Markdown(suites)), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
