package schemas_test

import (
	"context"
	"encoding/json"
	"flag"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/cli/cmdutil"
	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/nickel"
	"github.com/provhq/prov/internal/provtest"
	"github.com/provhq/prov/internal/schemagen"
	"github.com/provhq/prov/schemas"
)

var update = flag.Bool("update", false, "rewrite the generated contracts in providers/")

func TestMain(m *testing.M) { provtest.Main(m) }

// The first-party providers' contracts in providers/ are what the generator makes from their schemas
// now; -update (or go generate ./schemas) rewrites them.
func TestGeneratedUpToDate(t *testing.T) {
	want, err := schemagen.FirstParty(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		for name, data := range want {
			if err := os.WriteFile(filepath.Join("providers", name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	entries, err := os.ReadDir("providers")
	if err != nil {
		t.Fatal(err)
	}
	var have []string
	for _, e := range entries {
		have = append(have, e.Name())
	}
	if diff := cmp.Diff(slices.Sorted(maps.Keys(want)), have); diff != "" {
		t.Errorf("files in schemas/providers (-generated +present):\n%s", diff)
	}
	for name, data := range want {
		got, err := os.ReadFile(filepath.Join("providers", name))
		if err != nil {
			continue // reported above
		}
		if diff := cmp.Diff(string(data), string(got)); diff != "" {
			t.Errorf("providers/%s is stale; run go generate ./schemas (-generated +file):\n%s", name, diff)
		}
	}
}

// Every file of the library is embedded and parses; main.ncl evaluates.
func TestLibraryLoads(t *testing.T) {
	err := fs.WalkDir(schemas.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := schemas.FS.ReadFile(p)
		if err != nil {
			return err
		}
		if err := nickel.ParseOnly(schemas.ImportPrefix+p, string(data)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"contracts.ncl", "document.ncl", "helpers.ncl", "lib.ncl", "main.ncl", "providers/main.ncl"} {
		if _, err := fs.Stat(schemas.FS, name); err != nil {
			t.Errorf("%s is not embedded: %v", name, err)
		}
	}
}

// exportNickel evaluates src (a main.ncl) with the library importable, as JSON.
func exportNickel(t *testing.T, src string) (string, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "main.ncl")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := nickel.Export([]string{path}, nickel.Options{EmbeddedFS: schemas.FS})
	return string(out), err
}

func TestHelpers(t *testing.T) {
	tests := []struct {
		name, expr string
		want       any
	}{
		{"ref", `prov.ref "servers.web-01" "ipv4"`, "${servers.web-01.ipv4}"},
		{"ref to a nested attribute", `prov.ref "data.release" "output.name"`, "${data.release.output.name}"},
		{"secret", `prov.secret "secrets/prod.sops.yaml" "db.password"`, map[string]any{"$secret": "secrets/prod.sops.yaml#db.password"}},
		{"plan at upcloud", `prov.plan "upcloud" "medium"`, "2xCPU-4GB"},
		{"plan at aws", `prov.plan "aws" "large"`, "c5.xlarge"},
		{"resource", `prov.resource "local_file" { path = "out/a" }`, map[string]any{"type": "local_file", "config": map[string]any{"path": "out/a"}}},
		{"server hostname defaults to its name", `prov.server "web-01" { provider = "aws" }`, map[string]any{"hostname": "web-01", "provider": "aws"}},
		{"server hostname can be set", `prov.server "web-01" { provider = "aws", hostname = "www" }`, map[string]any{"hostname": "www", "provider": "aws"}},
		{"servers", `prov.servers ["a", "b"] { provider = "aws" }`, map[string]any{
			"a": map[string]any{"hostname": "a", "provider": "aws"},
			"b": map[string]any{"hostname": "b", "provider": "aws"},
		}},
		{"is_ref", `[prov.is_ref "${a.b}", prov.is_ref "x ${a.b}", prov.is_ref 1]`, []any{true, false, false}},
		{"is_secret", `[prov.is_secret { "$secret" = "f#p" }, prov.is_secret { "$secret" = "f" }, prov.is_secret "f#p"]`, []any{true, false, false}},
		{"Of accepts a reference for a number", `("${disk.size}" | prov.Of Number)`, "${disk.size}"},
		{"Of accepts a secret for a string", `({ "$secret" = "s.yaml#pw" } | prov.Of String)`, map[string]any{"$secret": "s.yaml#pw"}},
		{"generated contract fills defaults", `({ path = "x" } | prov.types.local_file)`, map[string]any{"path": "x", "content": "", "mode": "0644"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := exportNickel(t, "let prov = import \"prov/main.ncl\" in "+tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			var got any
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlanHelperRefusesUnknown(t *testing.T) {
	for _, expr := range []string{`prov.plan "upcloud" "huge"`, `prov.plan "hetzner" "small"`} {
		t.Run(expr, func(t *testing.T) {
			_, err := exportNickel(t, "let prov = import \"prov/main.ncl\" in "+expr)
			if err == nil || !strings.Contains(err.Error(), "prov.plan:") {
				t.Errorf("err = %v, want prov.plan's own message", err)
			}
		})
	}
}

// validated is what `prov validate -json` printed.
type validated struct {
	Valid       bool             `json:"valid"`
	ErrorCount  int              `json:"error_count"`
	Diagnostics diag.Diagnostics `json:"diagnostics"`
}

// validate runs `prov validate -json` (this test binary, acting as prov) in a project holding
// main.ncl = src, fails the test unless it exits 1 (invalid), and returns what it printed.
func validate(t *testing.T, src string) validated {
	t.Helper()
	p := provtest.NewProject(t, nil)
	p.Write("main.ncl", src)
	out := p.Stdout(cmdutil.ExitFailure, "validate", "-json")
	var v validated
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("prov validate -json printed no JSON: %v\n%s", err, out)
	}
	if v.Valid {
		t.Fatalf("prov validate -json says valid:\n%s", out)
	}
	return v
}

// problem is the part of a diagnostic a user reads first.
type problem struct {
	Pos     string
	Path    string
	Summary string
}

// Servers of provider "acme" take the generic server contract: prov generates no acme_server.
//
// A mistake against each contract is ONE error at the user's own file, line and column, with the data
// path, through prov validate.
func TestContractErrorsBlameTheUser(t *testing.T) {
	tests := []struct {
		contract string
		src      string
		want     problem
	}{
		{"Document", `{
  resource = {},
}`, problem{"main.ncl:2:3", "resource", `unknown field "resource"; did you mean "resources"?`}},
		{"Document", `{
  prov = "2",
}`, problem{"main.ncl:2:10", "prov", `this prov reads document format "1"`}},
		{"Settings", `{
  settings = { parallelism = 0 },
}`, problem{"main.ncl:2:30", "settings.parallelism", "expected a whole number of at least 1"}},
		{"Settings", `{
  settings = {
    paralelism = 4,
  },
}`, problem{"main.ncl:3:5", "settings.paralelism", `unknown field "paralelism"; did you mean "parallelism"?`}},
		{"Provider", `{
  providers = {
    upcloud = { sorce = "builtin/upcloud" },
  },
}`, problem{"main.ncl:3:17", "providers.upcloud.sorce", `unknown field "sorce"; did you mean "source"?`}},
		{"Resource", `{
  resources = {
    "files.a" = {
      type = "local_file",
      config = { path = "a" },
      lifecycle = { prevent_destroy = "yes" },
    },
  },
}`, problem{"main.ncl:6:39", "resources.files.a.lifecycle.prevent_destroy", "expected a Bool, got a String"}},
		{"Resource", `{
  resources = {
    "files.a" = {
      type = "local_file",
      config = { path = "a" },
      depends_on = ["not an address"],
    },
  },
}`, problem{"main.ncl:6:21", "resources.files.a.depends_on[0]", "expected a resource address: dot-separated names of letters, digits, _ and -"}},
		{"Resource", `{
  resources = {
    "files.a" = {
      type = "local_file",
      confg = { path = "a" },
    },
  },
}`, problem{"main.ncl:5:7", "resources.files.a.confg", `unknown field "confg"; did you mean "config"?`}},
		{"local_file", `{
  resources = {
    "files.a" = {
      type = "local_file",
      config = { path = "a", mode = 644 },
    },
  },
}`, problem{"main.ncl:5:37", "resources.files.a.config.mode", "expected a String, got a Number"}},
		{"local_file", `{
  resources = {
    "files.a" = {
      type = "local_file",
      config = { content = "hello" },
    },
  },
}`, problem{"main.ncl:5:7", "resources.files.a.config.path", `missing required field "path"`}},
		{"Output", `{
  outputs = {
    ip = { valeu = "${servers.web.ipv4}" },
  },
}`, problem{"main.ncl:3:12", "outputs.ip.valeu", `unknown field "valeu"; did you mean "value"?`}},
		{"Server", `{
  servers = {
    web-01 = {
      provider = "acme",
      plan = 42,
      zone = "fi-hel1",
    },
  },
}`, problem{"main.ncl:5:14", "servers.web-01.plan", "expected a String, got a Number"}},
		{"Server", `{
  servers = {
    web-01 = {
      provider = "acme",
      plan = "2xCPU-4GB",
      zoen = "fi-hel1",
    },
  },
}`, problem{"main.ncl:6:7", "servers.web-01.zoen", `unknown field "zoen"; did you mean "zone"?`}},
		{"Storage", `{
  servers = {
    web-01 = {
      provider = "acme",
      storage = [{ size_gb = "big" }],
    },
  },
}`, problem{"main.ncl:5:30", "servers.web-01.storage[0].size_gb", "expected a whole number of at least 1"}},
		{"local_server", `{
  servers = {
    here = {
      provider = "local",
      plan = "2xCPU-4GB",
    },
  },
}`, problem{"main.ncl:5:7", "servers.here.plan", `unknown field "plan"`}},
		{"Taskserv", `{
  taskservs = {
    kubernetes = { verison = "1.31.2" },
  },
}`, problem{"main.ncl:3:20", "taskservs.kubernetes.verison", `unknown field "verison"; did you mean "version"?`}},
		{"Secret", `{
  resources = {
    "files.a" = {
      type = "local_file",
      config = { path = "a", content = { "$secret" = "no-path-here" } },
    },
  },
}`, problem{"main.ncl:5:40", "resources.files.a.config.content", "expected a String, got a Record"}},
	}
	for _, tt := range tests {
		t.Run(tt.contract+"/"+tt.want.Path, func(t *testing.T) {
			v := validate(t, tt.src)
			var got []problem
			for _, d := range v.Diagnostics {
				got = append(got, problem{d.Pos.String(), d.Path, d.Summary})
			}
			if diff := cmp.Diff([]problem{tt.want}, got); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}

// References and secrets are accepted wherever a value can go, whatever the field's type.
func TestContractsAcceptReferencesAndSecrets(t *testing.T) {
	src := `let prov = import "prov/main.ncl" in
{
  resources = {
    "data.size" = { type = "local_data", config = { input = 50 } },
    "files.a" = {
      type = "local_file",
      config = { path = prov.ref "data.size" "id", content = prov.secret "s.sops.yaml" "motd", mode = "${data.size.output}" },
    },
    "dirs.a" = { type = "local_directory", config = { path = "d", force_destroy = "${data.size.output}" } },
  },
  servers = {
    web-01 = prov.server "web-01" {
      provider = "acme",
      plan = prov.plan "upcloud" "small",
      zone = prov.ref "data.size" "output",
      storage = [{ size_gb = "${data.size.output}" }, { size_gb = 100, tier = "hdd" }],
      ssh_keys = ["${data.size.id}", "ssh-ed25519 AAAA"],
      labels = { role = "web", owner = prov.secret "s.sops.yaml" "owner" },
      network_interfaces = "${data.size.output}",
    },
  },
  outputs = { ip = { value = prov.ref "servers.web-01" "ipv4", sensitive = true } },
}`
	path := filepath.Join(t.TempDir(), "main.ncl")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, positions, err := schemas.Export(path, nickel.Options{})
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["prov"] != "1" {
		t.Errorf(`prov = %v, want the contract's default "1"`, doc["prov"])
	}
	server := doc["servers"].(map[string]any)["web-01"].(map[string]any)
	if diff := cmp.Diff(map[string]any{"size_gb": "${data.size.output}"}, server["storage"].([]any)[0]); diff != "" {
		t.Errorf("storage[0] (-want +got):\n%s", diff)
	}
	if p := positions[`servers.web-01.plan`]; p.Line != 14 {
		t.Errorf("position of servers.web-01.plan = %v, want line 14 of main.ncl", p)
	}
}
