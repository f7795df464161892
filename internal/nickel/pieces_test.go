package nickel

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// pieceContract is a small document contract: a top-level default, a closed record, a dictionary
// section whose entries have a required field and a default, and a field that is not exported.
const pieceContract = `{
  version | String | default = "1",
  settings | { level | Number | optional } | optional,
  items | { _ | { size | Number, color | String | default = "red" } } | optional,
  notes | { .. } | not_exported | optional,
}`

// rejection is what a test compares of a Rejection.
type rejection struct {
	Piece, Path, Class string
}

func TestExportDocumentChecked(t *testing.T) {
	contract := writeTemp(t, "contract.ncl", pieceContract)
	tests := []struct {
		name     string
		src      string
		want     any // the exported document
		rejected []rejection
	}{
		{"valid", `{ items = { a = { size = 1 } }, notes = { x = 1 } }`,
			map[string]any{"version": "1", "items": map[string]any{"a": map[string]any{"size": 1.0, "color": "red"}}}, nil},
		{"every rejected piece, the others checked", `{
  settings = { level = "high" },
  items = {
    a = { size = "big" },
    b = { size = 2 },
    c = { sise = 3 },
  },
}`, map[string]any{"version": "1", "settings": map[string]any{"level": "high"}, "items": map[string]any{
			"a": map[string]any{"size": "big"},
			"b": map[string]any{"size": 2.0, "color": "red"},
			"c": map[string]any{"sise": 3.0},
		}}, []rejection{
			{`items.a`, `items.a.size`, "EvalError::BlameError"},
			{`items.c`, `items.c`, "EvalError::BlameError"},
			{`settings`, `settings.level`, "EvalError::BlameError"},
		}},
		{"the configuration's own error is one piece", `{
  items = {
    a = { size = 1 + "x" },
    b = { size = "s" },
  },
}`, map[string]any{"version": "1", "items": map[string]any{"b": map[string]any{"size": "s"}}}, []rejection{
			{`items.a`, `items.a.size`, "EvalError::NAryPrimopTypeError"},
			{`items.b`, `items.b.size`, "EvalError::BlameError"},
		}},
		{"an entry sees its siblings as written", `{
  version = 2,
  items = {
    a = { size = 1 },
    b = { size = a.size + 1, color = "blue" },
  },
}`, map[string]any{"version": 2.0, "items": map[string]any{
			"a": map[string]any{"size": 1.0, "color": "red"},
			"b": map[string]any{"size": 2.0, "color": "blue"},
		}}, []rejection{
			{`version`, `version`, "EvalError::BlameError"},
		}},
		// notes is not exported, so its contract is not checked: export never forces it.
		{"a section that is not a record is one piece", `{ items = 5, notes = 1 }`,
			map[string]any{"version": "1", "items": 5.0}, []rejection{
				{`items`, `items`, "EvalError::BlameError"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeTemp(t, "main.ncl", tt.src)
			opts := Options{ApplyContract: contract}
			got, err := ExportDocumentChecked(path, opts, []string{"items"})
			if err != nil {
				t.Fatalf("ExportDocumentChecked: %v", err)
			}
			var doc any
			if err := json.Unmarshal(got.JSON, &doc); err != nil {
				t.Fatalf("%v\n%s", err, got.JSON)
			}
			if diff := cmp.Diff(tt.want, doc); diff != "" {
				t.Errorf("document (-want +got):\n%s", diff)
			}
			var rejected []rejection
			for _, r := range got.Rejected {
				e, ok := r.Err.(*Error)
				if !ok {
					t.Fatalf("%s: %T %v, want *Error", r.Piece, r.Err, r.Err)
				}
				rejected = append(rejected, rejection{r.Piece.String(), e.Path, e.Class})
			}
			if diff := cmp.Diff(tt.rejected, rejected); diff != "" {
				t.Errorf("rejected (-want +got):\n%s", diff)
			}
			if len(tt.rejected) > 0 {
				return
			}
			// A configuration the contract accepts exports exactly as ExportDocument does.
			out, positions, err := ExportDocument(path, opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(out), string(got.JSON)); diff != "" {
				t.Errorf("JSON differs from ExportDocument's (-ExportDocument +checked):\n%s", diff)
			}
			if diff := cmp.Diff(positions, got.Positions); diff != "" {
				t.Errorf("positions differ from ExportDocument's (-ExportDocument +checked):\n%s", diff)
			}
		})
	}
}

// Positions of a rejected document are those of the values as written and of what the contract
// added to the pieces it accepted; Written has the user's only.
func TestExportDocumentCheckedPositions(t *testing.T) {
	contract := writeTemp(t, "contract.ncl", pieceContract)
	path := writeTemp(t, "main.ncl", `{
  items = {
    a = { size = "big" },
    b = {
      size = 2,
    },
  },
}`)
	got, err := ExportDocumentChecked(path, Options{ApplyContract: contract}, []string{"items"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		positions   string
		key         string
		line        int
		fromLibrary bool
	}{
		{"Written", "items.a.size", 3, false},
		{"Written", "items.b.size", 5, false},
		{"Positions", "items.b.size", 5, false},
		{"Positions", "items.b.color", 0, true},
	} {
		m := got.Written
		if tt.positions == "Positions" {
			m = got.Positions
		}
		p, ok := m[tt.key]
		switch {
		case !ok:
			t.Errorf("%s[%s] missing", tt.positions, tt.key)
		case tt.fromLibrary && p.File != contract:
			t.Errorf("%s[%s] = %v, want a position in the contract", tt.positions, tt.key, p)
		case !tt.fromLibrary && (p.File != path || p.Line != tt.line):
			t.Errorf("%s[%s] = %v, want %s:%d", tt.positions, tt.key, p, path, tt.line)
		}
	}
	if p, ok := got.Written["items.b.color"]; ok {
		t.Errorf("Written[items.b.color] = %v; the user did not write it", p)
	}
}

// A configuration that is not a record is an error, as is every failure in external mode.
func TestExportDocumentCheckedNotARecord(t *testing.T) {
	contract := writeTemp(t, "contract.ncl", pieceContract)
	path := writeTemp(t, "main.ncl", `42`)
	if got, err := ExportDocumentChecked(path, Options{ApplyContract: contract}, []string{"items"}); err == nil {
		t.Errorf("ExportDocumentChecked = %+v, want an error", got)
	}
}
