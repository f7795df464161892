package document

import (
	"encoding/json"
	"fmt"
	"testing"
)

// BenchmarkParse10k parses a 10,000-resource document in the fan-out shape of `make bench`.
func BenchmarkParse10k(b *testing.B) {
	resources := map[string]any{}
	for i := range 10000 {
		cfg := map[string]any{"input": fmt.Sprintf("value %d", i)}
		if i > 0 {
			cfg["input"] = fmt.Sprintf("child of ${data.r%d.output}", i/10)
		}
		resources[fmt.Sprintf("data.r%d", i)] = map[string]any{"type": "local_data", "config": cfg}
	}
	data, _ := json.MarshalIndent(map[string]any{"prov": "1", "resources": resources}, "", " ")
	b.ReportAllocs()
	for b.Loop() {
		if _, ds := Parse(data, "x.json", nil); ds.HasErrors() {
			b.Fatal(ds)
		}
	}
}
