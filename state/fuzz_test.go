package state_test

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/state"
)

// FuzzDecodeState: any input decodes or fails with an error, never a panic; what decodes encodes back
// to a state that decodes to the same thing.
func FuzzDecodeState(f *testing.F) {
	s := bigState(3)
	s.Resources["resources.data_00001"].Sensitive = []value.Path{value.KeyPath("input", "name"), value.KeyPath("output").Index(1)}
	s.SetOutput("o", &state.Output{Value: []any{1.0, "x"}, Sensitive: true})
	good, _ := s.Encode()
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte(`{"version":1,"lineage":"l","serial":18446744073709551615,"resources":{}}`))
	f.Add([]byte(`{"version":1,"lineage":"l","resources":{"a":{"type":"t","sensitive":["a[0].b"]}}}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := state.Decode(data, "fuzz")
		if err != nil {
			return
		}
		if !json.Valid(data) {
			t.Fatalf("Decode accepted invalid JSON")
		}
		enc, err := s.Encode()
		if err != nil {
			t.Fatalf("a decoded state does not encode: %v", err)
		}
		// The hand-written codec agrees with encoding/json reading the struct tags.
		var std state.State
		if err := json.Unmarshal(enc, &std); err != nil {
			t.Fatalf("encoding/json rejects Encode's output: %v\n%s", err, enc)
		}
		if diff := cmp.Diff(s, &std, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("encoding/json reads Encode's output differently (-Decode +encoding/json):\n%s", diff)
		}
		again, err := state.Decode(enc, "re-encoded")
		if err != nil {
			t.Fatalf("a re-encoded state does not decode: %v\n%s", err, enc)
		}
		if diff := cmp.Diff(s, again, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("decode(encode(s)) != s (-s +again):\n%s", diff)
		}
	})
}
