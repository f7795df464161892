package state

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/internal/value"
)

// Record.MarshalJSON writes the bytes encoding/json writes from the struct tags (without HTML escaping),
// and they decode.
func TestRecordMarshalJSON(t *testing.T) {
	type plain Record // no MarshalJSON: encoding/json's reflection
	res := &Resource{Type: "local_file", Provider: "local", Config: map[string]any{"path": "a<b>&c", "n": 1.5},
		Attributes: map[string]any{"id": "x", "list": []any{true, nil, "é\u2028"}, "big": 1e21},
		Sensitive:  []value.Path{value.KeyPath("secret")}, Dependencies: []string{"files.b"}}
	at := time.Date(2026, 11, 24, 21, 0, 0, 123456789, time.UTC)
	tests := []struct {
		name string
		rec  Record
	}{
		{"begin", Record{Kind: Begin, Time: at, Plan: []byte("{\"plan\":1}\x00\xff"), Mode: "apply"}},
		{"intent", Record{Kind: Intent, Time: at, OpID: "op-1", Addr: "files.a", Action: "update", Prior: res}},
		{"commit", Record{Kind: Commit, Time: at, OpID: "op-1", Addr: "files.a", Action: "create", New: res}},
		{"fail", Record{Kind: Fail, Time: at, OpID: "op-2", Addr: "files.a", Action: "delete", Error: "boom \"quoted\""}},
		{"output", Record{Kind: Commit, Time: at, Output: &Output{Value: map[string]any{"k": []any{1.0}}, Sensitive: true}, Name: "out"}},
		{"zero", Record{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(plain(tt.rec)); err != nil {
				t.Fatal(err)
			}
			want := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
			got, err := tt.rec.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			var back Record
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("MarshalJSON (-encoding/json +hand-written):\n%s", diff)
			}
		})
	}
}
