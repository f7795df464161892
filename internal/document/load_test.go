package document

import (
	"bytes"
	"encoding/json"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"

	"github.com/provhq/prov/internal/diag"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestLoad runs testdata/load/*.txtar: each holds a document (main.json) and "want", the diagnostics
// or, for a valid document, a JSON summary of what was loaded.
func TestLoad(t *testing.T) {
	files, _ := filepath.Glob("testdata/load/*.txtar")
	if len(files) == 0 {
		t.Fatal("no test cases")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			var wantIdx = -1
			for i, f := range ar.Files {
				if f.Name == "want" {
					wantIdx = i
					continue
				}
				if err := os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			doc, ds := Load(dir, LoadOptions{})
			got := render(t, dir, doc, ds)
			if *update {
				if wantIdx < 0 {
					ar.Files = append(ar.Files, txtar.File{Name: "want"})
					wantIdx = len(ar.Files) - 1
				}
				ar.Files[wantIdx].Data = []byte(got)
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if wantIdx < 0 {
				t.Fatal("no want section; run with -update")
			}
			if diff := cmp.Diff(string(ar.Files[wantIdx].Data), got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func render(t *testing.T, dir string, doc *Document, ds diag.Diagnostics) string {
	t.Helper()
	if ds.HasErrors() {
		return strings.ReplaceAll(ds.String(), dir+string(filepath.Separator), "") + "\n"
	}
	if doc == nil {
		t.Fatal("no document and no errors")
	}
	type res struct {
		Type, Provider string
		Config         any
		DependsOn      []string   `json:",omitempty"`
		Lifecycle      *Lifecycle `json:",omitempty"`
		References     []string   `json:",omitempty"`
	}
	summary := struct {
		Settings  Settings
		Providers map[string]*Provider
		Resources map[string]res
		Outputs   map[string]any
		Warnings  string `json:",omitempty"`
	}{Settings: doc.Settings, Providers: doc.Providers, Resources: map[string]res{}, Outputs: map[string]any{}}
	for addr, r := range doc.Resources {
		x := res{Type: r.Type, Provider: r.Provider, Config: r.Config, DependsOn: r.DependsOn}
		if !cmp.Equal(r.Lifecycle, Lifecycle{}) {
			x.Lifecycle = &r.Lifecycle
		}
		for _, ref := range r.References {
			x.References = append(x.References, ref.Addr+" "+ref.Path.String()+" ("+ref.Text+")")
		}
		summary.Resources[addr] = x
	}
	for _, name := range slices.Sorted(maps.Keys(doc.Outputs)) {
		o := doc.Outputs[name]
		var refs []string
		for _, ref := range o.References {
			refs = append(refs, ref.Addr+" "+ref.Path.String())
		}
		summary.Outputs[name] = map[string]any{"value": o.Value, "sensitive": o.Sensitive, "references": refs}
	}
	if len(ds) > 0 {
		summary.Warnings = ds.String()
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(summary); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestLoadFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const doc = `{"prov": "1", "resources": {"a": {"type": "local_data"}}}`
	json := write("plain/main.json", doc)
	write("both/main.json", doc)
	ncl := write("both/main.ncl", "{}")
	write("empty/.keep", "")
	odd := write("doc.yaml", "")
	nickel := func(path string) ([]byte, map[string]diag.Pos, error) {
		return []byte(`{"prov": "1", "resources": {"n": {"type": "local_data", "config": {"x": "${nope.y}"}}}}`),
			map[string]diag.Pos{`resources.n.config.x`: {File: path, Line: 3, Col: 7}}, nil
	}
	tests := []struct {
		name string
		path string
		opts LoadOptions
		want string // resource addresses, or the diagnostics
	}{
		{"json file", json, LoadOptions{}, "a"},
		{"directory with main.json", filepath.Dir(json), LoadOptions{}, "a"},
		{"main.ncl preferred, no evaluator", filepath.Dir(ncl), LoadOptions{},
			ncl + ": error: prov's Nickel evaluator is not available in this build\n  Export the configuration to JSON (nickel export --format json " + ncl + " > main.json) and use that, or set PROV_NICKEL to a nickel binary."},
		{"nickel positions", ncl, LoadOptions{Nickel: nickel},
			ncl + ":3:7: error: resources.n.config.x: reference to undeclared resource: ${nope.y}\n  No prefix of \"nope.y\" names a resource in this configuration; to write a literal ${, escape it as $${."},
		{"nickel without positions", ncl, LoadOptions{Nickel: func(string) ([]byte, map[string]diag.Pos, error) {
			return []byte(`{"prov": "1", "outputs": {"o": {"value": "${nope}"}}}`), map[string]diag.Pos{}, nil
		}}, ncl + ": error: outputs.o.value: reference to undeclared resource: ${nope}\n  No prefix of \"nope\" names a resource in this configuration; to write a literal ${, escape it as $${."},
		{"nickel error", ncl, LoadOptions{Nickel: func(string) ([]byte, map[string]diag.Pos, error) {
			return nil, nil, diag.Diagnostics{{Summary: "type error", Pos: diag.Pos{File: "x.ncl", Line: 1, Col: 2}}}.Err()
		}}, "x.ncl:1:2: error: type error"},
		{"empty directory", filepath.Join(dir, "empty"), LoadOptions{}, "error: no configuration in " + filepath.Join(dir, "empty") + "\n  prov reads main.ncl (or main.json) from the working directory; choose another file with -config FILE."},
		{"missing", filepath.Join(dir, "nope.json"), LoadOptions{}, filepath.Join(dir, "nope.json") + ": error: cannot read the configuration: no such file or directory"},
		{"other extension", odd, LoadOptions{}, odd + ": error: unsupported configuration file\n  prov reads .ncl (Nickel) and .json documents."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, ds := Load(tt.path, tt.opts)
			got := ds.String()
			if doc != nil {
				got = strings.Join(slices.Sorted(maps.Keys(doc.Resources)), ",")
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDigest(t *testing.T) {
	a, _ := Parse([]byte(`{"prov":"1","resources":{"x":{"type":"local_data","config":{"a":1,"b":2}}}}`), "a.json", nil)
	b, _ := Parse([]byte("{\n \"resources\": {\"x\": {\"config\": {\"b\": 2, \"a\": 1}, \"type\": \"local_data\"}},\n \"prov\": \"1\"\n}"), "b.json", nil)
	c, _ := Parse([]byte(`{"prov":"1","resources":{"x":{"type":"local_data","config":{"a":1,"b":3}}}}`), "c.json", nil)
	if a.Digest != b.Digest {
		t.Errorf("digest depends on key order or spacing: %s != %s", a.Digest, b.Digest)
	}
	if a.Digest == c.Digest || len(a.Digest) != 64 {
		t.Errorf("digest %q does not tell different documents apart", a.Digest)
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/load/*.txtar")
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, fl := range ar.Files {
			if fl.Name == "main.json" {
				f.Add(fl.Data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, ds := Parse(data, "fuzz.json", nil)
		if (doc == nil) != ds.HasErrors() {
			t.Fatalf("document %v with diagnostics %v", doc != nil, ds)
		}
	})
}
