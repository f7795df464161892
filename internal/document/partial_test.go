package document

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/value"
)

// A configuration whose contract rejected some entries is still checked: the loader reports the
// problems of the other entries and says nothing more of the rejected ones, and with Partial the
// document comes back with every resource whose entry has an error marked Invalid.
func TestLoadRejected(t *testing.T) {
	ncl := filepath.Join(t.TempDir(), "main.ncl")
	if err := os.WriteFile(ncl, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	at := func(line int) diag.Pos { return diag.Pos{File: ncl, Line: line, Col: 3} }
	rejected := func(doc string, pieces ...string) NickelFunc {
		return func(string) ([]byte, map[string]diag.Pos, error) {
			r := &Rejected{JSON: []byte(doc), Positions: map[string]diag.Pos{
				`resources["files.a"]`: at(2), `resources["files.b"]`: at(3), `resources["files.c"]`: at(4),
				`resources["files.c"].depends_on`: at(5), "servers.web": at(6), "providers.acme": at(7),
			}}
			for _, p := range pieces {
				path, err := value.ParsePath(p)
				if err != nil {
					t.Fatal(err)
				}
				r.Pieces = append(r.Pieces, path)
				// Without a position: the loader finds it by the path.
				r.Diagnostics = append(r.Diagnostics, diag.Errorf(Display(path), "rejected"))
			}
			return nil, nil, r
		}
	}
	const resources = `"resources": {
  "files.a": {"type": "local_file", "confg": {}},
  "files.b": {"type": "local_file", "config": {"content": "${files.a.id}"}},
  "files.c": {"type": "local_file", "depends_on": ["files.gone"]}
}`
	tests := []struct {
		name    string
		nickel  NickelFunc
		partial bool
		want    string // the diagnostics, then the resources (Invalid ones starred)
	}{
		{"rejected resource", rejected(`{"prov": "1", `+resources+`}`, `resources["files.a"]`), true,
			ncl + ":2:3: error: resources.files.a: rejected\n" +
				ncl + `:5:3: error: resources.files.c.depends_on[0]: depends_on names undeclared resource "files.gone"` + "\n" +
				"resources: files.a* files.b files.c*"},
		{"not partial", rejected(`{"prov": "1", `+resources+`}`, `resources["files.a"]`), false,
			ncl + ":2:3: error: resources.files.a: rejected\n" +
				ncl + `:5:3: error: resources.files.c.depends_on[0]: depends_on names undeclared resource "files.gone"` + "\n" +
				"no document"},
		{"rejected server and its taskserv installs", rejected(`{"prov": "1", "servers": {
  "web": {"provider": "acme", "plan": 42, "taskservs": ["k8s"]},
  "db": {"provider": "acme", "taskservs": ["k8s"]}
}}`, "servers.web"), true,
			ncl + ":6:3: error: servers.web: rejected\n" +
				"resources: servers.db servers.web* taskservs.db.k8s taskservs.web.k8s*"},
		{"rejected provider", rejected(`{"prov": "1", "providers": {"acme": {"sorce": 1}, "other": {}}, "resources": {
  "x.a": {"type": "acme_thing"},
  "x.b": {"type": "other_thing"}
}}`, "providers.acme"), true,
			ncl + ":7:3: error: providers.acme: rejected\n" +
				"resources: x.a* x.b"},
		{"the whole document rejected", rejected(`{"prov": "2", `+resources+`}`, ""), true,
			"error: rejected\n" +
				"resources: files.a* files.b* files.c*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, ds := Load(ncl, LoadOptions{Nickel: tt.nickel, Partial: tt.partial})
			got := ds.String() + "\n"
			if doc == nil {
				got += "no document"
			} else {
				var rs []string
				for _, addr := range slices.Sorted(maps.Keys(doc.Resources)) {
					if doc.Invalid[addr] {
						addr += "*"
					}
					rs = append(rs, addr)
				}
				got += "resources: " + strings.Join(rs, " ")
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// A JSON document is checked the same way: with Partial, the entries without errors can be validated.
func TestLoadPartialJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "main.json")
	src := `{"prov": "1", "resources": {
  "files.a": {"type": "local_file", "config": {"path": "a"}, "lifecycle": {"prevent_destroy": "yes"}},
  "files.b": {"type": "local_file", "config": {"path": "b", "content": "${files.a.id}"}}
}}`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	doc, ds := Load(path, LoadOptions{Partial: true})
	if want := path + ":2:76: error: resources.files.a.lifecycle.prevent_destroy: must be true or false, not a string"; ds.String() != want {
		t.Errorf("diagnostics:\n%s\nwant:\n%s", ds, want)
	}
	if doc == nil {
		t.Fatal("no document")
	}
	if diff := cmp.Diff(map[string]bool{"files.a": true}, doc.Invalid); diff != "" {
		t.Errorf("Invalid (-want +got):\n%s", diff)
	}
	if _, ds := Load(path, LoadOptions{}); ds.String() == "" {
		t.Error("the same document without Partial has no diagnostics")
	}
}
