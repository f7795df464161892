package examples_test

// Every example passes prov validate; the local ones are planned and applied end to end by prov (this
// test binary, acting as prov), each in a copy of its directory, and planned again to show nothing
// left to do.

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"filippo.io/age"
	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/cli/cmdutil"
	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/document"
	"github.com/provhq/prov/internal/nickel"
	"github.com/provhq/prov/internal/provtest"
	"github.com/provhq/prov/internal/secrets"
	"github.com/provhq/prov/schemas"
)

func TestMain(m *testing.M) { provtest.Main(m) }

// example is one configuration of an example directory.
type example struct {
	dir, config string
	// local examples are applied end to end.
	local bool
	// addrs are some of the resources the document must hold.
	addrs []string
	// secrets are the SOPS files the configuration reads, by path, as plain YAML: the test encrypts
	// them to a fresh age key, as a user does with prov secret encrypt.
	secrets map[string]string
}

var examples = []example{
	{dir: "local", config: "main.ncl", local: true, addrs: []string{"files.motd", "cmd.checksum", "files.prod"}},
	{dir: "multi-env", config: "main.ncl", local: true, addrs: []string{"dirs.env", "files.app", "files.banner", "data.release"}},
	{dir: "multi-env", config: "prod.ncl", local: true, addrs: []string{"dirs.env", "files.app", "files.banner", "data.release"}},
	{dir: "generated", config: "main.ncl", local: true, addrs: []string{"servers.web-01", "servers.db-01", "sites.fra", "motd.web-03"}},
	{dir: "aws", config: "main.ncl", addrs: []string{"servers.web-01", "servers.db-01", "keys.deploy", "taskservs.web-02.containerd"}},
	{dir: "upcloud", config: "main.ncl", addrs: []string{"servers.cp-01", "servers.wk-01", "net.private", "taskservs.cp-01.kubernetes"},
		secrets: map[string]string{"secrets/upcloud.sops.yaml": "password: example-only\nk8s_token: abcdef.0123456789abcdef\n"}},
}

func (e example) name() string { return e.dir + "/" + e.config }

// Every example loads: Nickel evaluation with the Document contract, then the loader's checks.
func TestDocuments(t *testing.T) {
	for _, e := range examples {
		t.Run(e.name(), func(t *testing.T) {
			doc, diags := document.Load(filepath.Join(e.dir, e.config), document.LoadOptions{
				Nickel: func(path string) ([]byte, map[string]diag.Pos, error) { return schemas.Export(path, nickel.Options{}) },
			})
			if diags.HasErrors() {
				t.Fatalf("load: %v", diags)
			}
			for _, addr := range e.addrs {
				if doc.Resources[addr] == nil {
					t.Errorf("no resource %s; have %v", addr, slices.Sorted(maps.Keys(doc.Resources)))
				}
			}
		})
	}
}

// Every example passes prov validate: the document, and each provider's own check.
func TestValidate(t *testing.T) {
	for _, e := range examples {
		t.Run(e.name(), func(t *testing.T) {
			p := newProject(t, e.dir)
			p.encryptSecrets(e.secrets)
			out := p.Stdout(0, "-config", e.config, "validate", "-json")
			var v struct {
				Valid       bool            `json:"valid"`
				Diagnostics json.RawMessage `json:"diagnostics"`
			}
			if err := json.Unmarshal([]byte(out), &v); err != nil || !v.Valid {
				t.Fatalf("prov validate -json: valid=%v err=%v\n%s", v.Valid, err, out)
			}
		})
	}
}

// The local examples apply: init, plan -out, apply, outputs, and a second plan with nothing to do.
func TestApply(t *testing.T) {
	for _, e := range examples {
		if !e.local {
			continue
		}
		t.Run(e.name(), func(t *testing.T) {
			p := newProject(t, e.dir)
			cfg := []string{"-config", e.config}
			p.Run(0, "init")
			p.Run(0, append(cfg, "plan", "-out", "x.plan")...)
			p.Run(0, "apply", "x.plan")
			p.Run(0, append(cfg, "plan", "-detailed-exitcode")...) // exit 2: changes left
			var out outputs
			if err := json.Unmarshal([]byte(p.Stdout(0, "output", "-json")), &out); err != nil {
				t.Fatal(err)
			}
			check, ok := checks[e.name()]
			if !ok {
				t.Fatalf("no check for %s", e.name())
			}
			check(t, p, out)
		})
	}
}

// outputs is what prov output -json prints.
type outputs = map[string]struct {
	Value any `json:"value"`
}

// checks look at what each applied example made.
var checks = map[string]func(t *testing.T, p *project, out outputs){
	"local/main.ncl": func(t *testing.T, p *project, out outputs) {
		p.wantFile("out/motd", "Welcome to prov-demo 1.0.0\n")
		p.wantJSON("out/prod/settings.json", `{"environment":"prod","project":"prov-demo","replicas":3}`)
	},
	"multi-env/main.ncl": func(t *testing.T, p *project, out outputs) {
		p.wantJSON("out/dev/app.json", `{"environment":"dev","features":["tracing","new-ui"],"log_level":"debug","replicas":1}`)
		p.wantFile("out/dev/banner.txt", "DEV running release 1.0.0\n")
		if out["environment"].Value != "dev" {
			t.Errorf("output environment = %v, want dev", out["environment"].Value)
		}
	},
	"multi-env/prod.ncl": func(t *testing.T, p *project, out outputs) {
		p.wantJSON("out/prod/app.json", `{"environment":"prod","features":[],"log_level":"warn","replicas":3}`)
		p.wantFile("out/prod/banner.txt", "PROD running release 1.2.0\n")
	},
	"generated/main.ncl": func(t *testing.T, p *project, out outputs) {
		p.wantFile("out/sites/fra/db-01.motd", "db-01 (db) at fra, root out/hosts/db-01\npackages: postgresql\nopen ports: 5432")
		if _, err := os.Stat(p.Path("out/hosts/web-02")); err != nil {
			t.Errorf("the sandbox root of servers.web-02: %v", err)
		}
		want := map[string]any{"db": []any{"db-01"}, "web": []any{"web-01", "web-02", "web-03"}}
		if diff := cmp.Diff(want, out["hosts_by_role"].Value); diff != "" {
			t.Errorf("output hosts_by_role (-want +got):\n%s", diff)
		}
	},
}

// project is a copy of an example directory in which prov runs.
type project struct{ *provtest.Project }

// newProject copies the example's sources (not its out/ or state) into a project of its own.
func newProject(t *testing.T, example string) *project {
	t.Helper()
	p := provtest.NewProject(t, nil)
	p.CopySources(example)
	return &project{p}
}

// encryptSecrets writes each file of plain YAML as a SOPS file encrypted to a fresh age key, which
// prov is given in SOPS_AGE_KEY.
func (p *project) encryptSecrets(files map[string]string) {
	if len(files) == 0 {
		return
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		p.T.Fatal(err)
	}
	p.AddEnv("SOPS_AGE_KEY=" + id.String())
	for name, plain := range files {
		enc, err := secrets.Encrypt([]byte(plain), p.Path(name), secrets.EncryptOptions{AgeRecipients: []string{id.Recipient().String()}})
		if err != nil {
			p.T.Fatal(err)
		}
		p.Write(name, string(enc))
	}
}

func (p *project) wantFile(name, want string) {
	p.T.Helper()
	got, err := os.ReadFile(p.Path(name))
	if err != nil {
		p.T.Error(err)
		return
	}
	if diff := cmp.Diff(want, string(got)); diff != "" {
		p.T.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

// wantJSON checks that a file holds the JSON value want, however it is laid out.
func (p *project) wantJSON(name, want string) {
	p.T.Helper()
	data, err := os.ReadFile(p.Path(name))
	if err != nil {
		p.T.Error(err)
		return
	}
	var got, w any
	if err := json.Unmarshal(data, &got); err != nil {
		p.T.Errorf("%s: %v", name, err)
		return
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		p.T.Fatal(err)
	}
	if diff := cmp.Diff(w, got); diff != "" {
		p.T.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

// prov providers schema -nickel writes the contracts of the configuration's providers: for the local
// provider, the very file the library embeds, and a configuration can use them.
func TestProvidersSchemaNickel(t *testing.T) {
	p := newProject(t, "local")
	p.Run(0, "init")
	got := p.Stdout(0, "providers", "schema", "-nickel")
	want, err := schemas.FS.ReadFile("providers/local.ncl")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("prov providers schema -nickel (-library +command):\n%s", diff)
	}
	p.Write("providers.ncl", got)
	p.Write("typed.ncl", `let types = import "providers.ncl" in
{
  resources."files.a" = { type = "local_file", config | types.local_file = { path = "a", mode = 420 } },
}
`)
	out := p.Run(cmdutil.ExitFailure, "validate", "-config", "typed.ncl")
	provtest.Contains(t, "prov validate of a config using the generated contract", out,
		"typed.ncl:3:97: error: resources.files.a.config.mode: expected a String, got a Number")
}
