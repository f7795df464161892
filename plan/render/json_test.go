package render

import (
	"bytes"
	"encoding/json"
	"testing"
)

func indent(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, b)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

// TestJSON checks the plan JSON against golden files, indented for review (the renderer writes it
// compact, as terraform show -json does).
func TestJSON(t *testing.T) {
	for name, p := range fixtures(t) {
		if name == "long" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			prior := priorState(t)
			if name != "every_action" {
				prior = nil
			}
			b, err := JSON(p, prior)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name+".json.golden", indent(t, b))
		})
	}
}

func TestStateJSON(t *testing.T) {
	b, err := StateJSON(priorState(t))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "state.json.golden", indent(t, b))
}
