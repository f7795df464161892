package conformance

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// floors are the minimum pass rates (percent) of the sampled run; they were set from measured numbers
// (see docs/nickel-conformance.md) a little below them, so a regression fails the build.
var floors = map[string]float64{
	"integration-pass":  97,
	"integration-error": 97,
	"cli-export":        100,
	"stdlib-doctests":   95,
	"manual-snippets":   91,
}

func corpusDir(t *testing.T) string {
	t.Helper()
	// internal/nickel/conformance -> repository root -> ../shared/nickel-corpus
	dir, err := filepath.Abs(filepath.Join("..", "..", "..", "..", "shared", "nickel-corpus"))
	if err != nil {
		t.Fatal(err)
	}
	if env := os.Getenv("NICKEL_CORPUS"); env != "" {
		dir = env
	}
	if _, err := os.Stat(filepath.Join(dir, "INTEGRATION_MANIFEST.json")); err != nil {
		t.Skipf("nickel corpus not found at %s", dir)
	}
	return dir
}

func TestConformanceFloor(t *testing.T) {
	// every third case: a fixed sample that runs in a couple of seconds
	suites, err := Run(corpusDir(t), nil, Options{Limit: 3, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range suites {
		t.Run(s.Name, func(t *testing.T) {
			p, f := s.Counts()
			if p+f == 0 {
				t.Fatal("no cases ran")
			}
			rate := 100 * float64(p) / float64(p+f)
			t.Logf("%s: %d passed, %d failed (%.1f%%)", s.Name, p, f, rate)
			if rate < floors[s.Name] {
				for _, c := range s.Cases {
					if !c.Passed {
						t.Logf("  %s: %s", c.Name, c.Reason)
					}
				}
				t.Errorf("pass rate %.1f%% is below the floor %.0f%%", rate, floors[s.Name])
			}
		})
	}
}
