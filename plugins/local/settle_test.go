package local

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestFileSettle: a local_file create in doubt (prov knows only its operation id) is found by that id
// when it ran, so a resume does not create it again and a rollback deletes it.
func TestFileSettle(t *testing.T) {
	h := newHarness(t, nil)
	path := filepath.Join(t.TempDir(), "f.txt")
	config := map[string]any{"path": path, "content": "x"}
	created, ds := h.applyOp("local_file", "op-create", nil, h.plan("local_file", nil, config).Planned, config)
	if ds.HasErrors() {
		t.Fatalf("create: %v", ds)
	}
	tests := []struct {
		name   string
		opID   string
		remove bool
		want   any
	}{
		{name: "created", opID: "op-create", want: created},
		{name: "never ran", opID: "op-never", want: nil},
		{name: "created, then removed outside prov", opID: "op-create", remove: true, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.remove {
				if err := os.Remove(path); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(tt.want, h.read("local_file", nil, tt.opID)); diff != "" {
				t.Errorf("settling %s (-want +got):\n%s", tt.opID, diff)
			}
		})
	}
}
