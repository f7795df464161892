package value

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// AppendJSON writes what encoding/json writes (without HTML escaping) for every canonical value.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	tests := []struct {
		name string
		v    any
	}{
		{"null", nil},
		{"bools", []any{true, false}},
		{"numbers", []any{0.0, -0.0, 1.0, -2.5, 1e20, 1e21, 1e-6, 1e-7, 123456789012345678.0, math.MaxFloat64, math.SmallestNonzeroFloat64}},
		{"strings", []any{"", "plain", "quote\" backslash\\ nl\n cr\r tab\t", "\x00\x1f\x7f", "<a & b>", "é ü 日本", "\u2028\u2029", "bad \xff utf8"}},
		{"nested", map[string]any{"b": map[string]any{"z": []any{}, "a": map[string]any{}}, "a": []any{nil, "x", 1.0}}},
		{"non-canonical leaf", map[string]any{"ints": []int{1, 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(tt.v); err != nil {
				t.Fatal(err)
			}
			got, err := AppendJSON(nil, tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), string(got)); diff != "" {
				t.Errorf("AppendJSON (-encoding/json +got):\n%s", diff)
			}
		})
	}
}

func TestAppendJSONErrors(t *testing.T) {
	for name, v := range map[string]any{"unknown": map[string]any{"a": Unknown}, "NaN": math.NaN(), "Inf": []any{math.Inf(1)}} {
		if _, err := AppendJSON(nil, v); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
