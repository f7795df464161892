package schemagen_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/internal/nickel"
	"github.com/provhq/prov/internal/schemagen"
	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/schemas"
)

var update = flag.Bool("update", false, "rewrite testdata/acme.ncl")

func str() plugins.Type { return plugins.Type{Kind: plugins.String} }

// acme is a provider schema with every kind of attribute, awkward names and documentation.
var acme = &plugins.ProviderSchema{
	Name:    "acme",
	Version: "1.2.0",
	Resources: map[string]*plugins.ResourceSchema{
		"acme_bucket": {
			Description: "A bucket.\nIt holds \"objects\" and costs 100% of %{nothing}.",
			Attributes: map[string]*plugins.Attribute{
				"name":     {Type: str(), Required: true, ForceNew: true, Description: "The bucket's name."},
				"size":     {Type: plugins.Type{Kind: plugins.Number}, Optional: true, Default: 10.0},
				"public":   {Type: plugins.Type{Kind: plugins.Bool}, Optional: true, Default: false},
				"tags":     {Type: plugins.Type{Kind: plugins.Map, Elem: &plugins.Type{Kind: plugins.String}}, Optional: true},
				"regions":  {Type: plugins.Type{Kind: plugins.List, Elem: &plugins.Type{Kind: plugins.String}}, Optional: true, Default: []any{"eu"}},
				"password": {Type: str(), Optional: true, Sensitive: true},
				"metadata": {Type: plugins.Type{Kind: plugins.Dynamic}, Optional: true},
				"if":       {Type: str(), Optional: true, Description: "A keyword as a name."},
				"x.y":      {Type: str(), Optional: true},
				"zone":     {Type: str(), Optional: true, Computed: true},
				"arn":      {Type: str(), Computed: true},
				"rules": {Type: plugins.Type{Kind: plugins.List, Elem: &plugins.Type{Kind: plugins.Object, Attributes: map[string]*plugins.Attribute{
					"port":  {Type: plugins.Type{Kind: plugins.Number}, Required: true},
					"proto": {Type: str(), Optional: true, Default: "tcp"},
				}}}, Optional: true},
			},
		},
		"acme_empty": {Attributes: map[string]*plugins.Attribute{"id": {Type: str(), Computed: true}}},
	},
}

// The generated Nickel is the golden testdata/acme.ncl; -update rewrites it.
func TestContractsGolden(t *testing.T) {
	got := schemagen.Contracts(acme)
	golden := filepath.Join("testdata", "acme.ncl")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("Contracts (-golden +got):\n%s", diff)
	}
}

// The generated contracts check configurations: types, required attributes, defaults, unknown fields,
// and references and secrets anywhere.
func TestContractsCheck(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "acme.ncl"), schemagen.Contracts(acme), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, config string
		want         string // JSON, or the error's summary
	}{
		{"defaults filled in", `{ name = "b" }`, `{"name":"b","public":false,"regions":["eu"],"size":10}`},
		{"everything", `{ name = "b", size = 1, public = true, tags = { a = "b" }, regions = [], password = "p", metadata = [1, "x"], "if" = "k", "x.y" = "d", zone = "z", rules = [{ port = 22 }] }`,
			`{"if":"k","metadata":[1,"x"],"name":"b","password":"p","public":true,"regions":[],"rules":[{"port":22,"proto":"tcp"}],"size":1,"tags":{"a":"b"},"x.y":"d","zone":"z"}`},
		{"references and secrets", `{ name = "${acme_x.y}", size = "${a.b}", rules = [{ port = "${p.port}" }], password = { "$secret" = "s.yaml#pw" } }`,
			`{"name":"${acme_x.y}","password":{"$secret":"s.yaml#pw"},"public":false,"regions":["eu"],"rules":[{"port":"${p.port}","proto":"tcp"}],"size":"${a.b}"}`},
		{"wrong type", `{ name = "b", size = "big" }`, "expected a Number, got a String"},
		{"wrong element type", `{ name = "b", rules = [{ port = "22" }] }`, "expected a Number, got a String"},
		{"missing required", `{ size = 1 }`, "missing definition for `name`"},
		{"unknown", `{ name = "b", nmae = "c" }`, `unknown field "nmae"`},
		{"computed only", `{ name = "b", arn = "x" }`, `unknown field "arn"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".ncl")
			src := `(` + tt.config + `) | (import "acme.ncl").acme_bucket`
			if err := os.WriteFile(cfg, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := nickel.Export([]string{cfg}, nickel.Options{EmbeddedFS: schemas.FS, Format: "json"})
			got := strings.Join(strings.Fields(string(out)), "")
			if err != nil {
				if got := schemas.Diagnostics(err)[0].Summary; got != tt.want {
					t.Errorf("error %q, want %q", got, tt.want)
				}
				return
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// prov nickel query shows an attribute's documentation.
func TestContractsQueryDocs(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "acme.ncl")
	if err := os.WriteFile(path, schemagen.Contracts(acme), 0o644); err != nil {
		t.Fatal(err)
	}
	info, err := nickel.Query([]string{path}, nickel.Options{EmbeddedFS: schemas.FS, Field: "acme_bucket.name"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "The bucket's name. Forces replacement."; info.Doc != want {
		t.Errorf("doc = %q, want %q", info.Doc, want)
	}
	info, err = nickel.Query([]string{path}, nickel.Options{EmbeddedFS: schemas.FS, Field: "acme_bucket"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(info.Doc, `"objects" and costs 100% of %{nothing}`) || !strings.Contains(info.Doc, "`arn`") {
		t.Errorf("doc of acme_bucket = %q", info.Doc)
	}
}
