package nickel

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// genConfig writes GenerateConfig(n) to a temporary main.ncl.
func genConfig(tb testing.TB, n int) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "main.ncl")
	if err := os.WriteFile(p, []byte(GenerateConfig(n)), 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

func benchmarkExport(b *testing.B, n int) {
	p := genConfig(b, n)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, err := Export([]string{p}, Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(out)))
	}
}

func BenchmarkExport1k(b *testing.B)  { benchmarkExport(b, 1000) }
func BenchmarkExport10k(b *testing.B) { benchmarkExport(b, 10000) }
func BenchmarkExport20k(b *testing.B) { benchmarkExport(b, 20000) }

func TestGeneratedConfig(t *testing.T) {
	p := genConfig(t, 3)
	out, err := Export([]string{p}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"srv-2": {`, `"cores": 3,`, `"tier": "maxiops"`, `"role": "web"`, `"zone": "fi-hel1"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
}
