package schemas_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/cli/cmdutil"
	"github.com/provhq/prov/internal/provtest"
)

// prov validate reports every problem of a configuration at once: independent contract errors in
// different entries, contract errors together with the loader's checks of the other entries, and
// with the providers' validation of the entries that passed both. Each is at the user's own file,
// line and column, with the data path.
func TestEveryProblemAtOnce(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []problem
	}{
		{"contract and contract", `{
  servers = {
    web-01 = {
      provider = "acme",
      plan = 42,
    },
    web-02 = {
      provider = "acme",
      zoen = "fi-hel1",
    },
  },
}`, []problem{
			{"main.ncl:5:14", "servers.web-01.plan", "expected a String, got a Number"},
			{"main.ncl:9:7", "servers.web-02.zoen", `unknown field "zoen"; did you mean "zone"?`},
		}},
		{"contracts of every section", `{
  settings = { paralelism = 4 },
  providers = { acme = { sorce = "x" } },
  resources = {
    "files.a" = { type = "local_file", config = { path = "a", mode = 644 } },
  },
  outputs = { ip = { valeu = 1 } },
  taskservs = { kubernetes = { verison = "1.31.2" } },
  extra = true,
}`, []problem{
			{"main.ncl:2:16", "settings.paralelism", `unknown field "paralelism"; did you mean "parallelism"?`},
			{"main.ncl:3:26", "providers.acme.sorce", `unknown field "sorce"; did you mean "source"?`},
			{"main.ncl:5:70", "resources.files.a.config.mode", "expected a String, got a Number"},
			{"main.ncl:7:22", "outputs.ip.valeu", `unknown field "valeu"; did you mean "value"?`},
			{"main.ncl:8:32", "taskservs.kubernetes.verison", `unknown field "verison"; did you mean "version"?`},
			{"main.ncl:9:3", "extra", `unknown field "extra"`},
		}},
		{"missing required field and a contract error", `{
  resources = {
    "files.a" = {
      type = "local_file",
      config = { content = "hello" },
    },
    "files.b" = {
      type = "local_file",
      config = { path = "b", mode = false },
    },
  },
}`, []problem{
			{"main.ncl:5:7", "resources.files.a.config.path", `missing required field "path"`},
			{"main.ncl:9:37", "resources.files.b.config.mode", "expected a String, got a Bool"},
		}},
		{"contract and loader checks", `{
  resources = {
    "files.a" = {
      type = "local_file",
      config = { path = 1 },
    },
    "files.b" = {
      type = "local_file",
      config = { path = "b", content = "${files.nope.id}" },
      depends_on = ["files.gone"],
    },
    "files.c" = {
      type = "local_file",
      config = { path = "c", content = "${files.a.id}" },
    },
  },
}`, []problem{
			{"main.ncl:5:25", "resources.files.a.config.path", "expected a String, got a Number"},
			{"main.ncl:9:30", "resources.files.b.config.content", "reference to undeclared resource: ${files.nope.id}"},
			{"main.ncl:10:7", "resources.files.b.depends_on[0]", `depends_on names undeclared resource "files.gone"`},
		}},
		{"contract and provider validation", `{
  resources = {
    "files.a" = {
      type = "local_file",
      config = { path = "a", mode = 644 },
    },
    "files.b" = {
      type = "local_file",
      config = { path = "b", mode = "999" },
    },
  },
  servers = {
    web-01 = { provider = "acme", plan = 42 },
  },
}`, []problem{
			{"main.ncl:5:37", "resources.files.a.config.mode", "expected a String, got a Number"},
			{"main.ncl:13:42", "servers.web-01.plan", "expected a String, got a Number"},
			// The provider's own check, of the entry that passed the contract.
			{"main.ncl:9:30", "resources.files.b.config.mode", `"999" does not match ^0[0-7]{3}$`},
		}},
		{"the configuration's own error and a contract error", `{
  locals = { n = 1 },
  resources = {
    "files.a" = {
      type = "local_file",
      config = { path = "a", content = "n=" ++ locals.n },
    },
    "files.b" = {
      type = "local_file",
      config = { path = 2 },
    },
  },
}`, []problem{
			{"main.ncl:6:48", "resources.files.a.config.content", "type error: `++` expects a String, got Number"},
			{"main.ncl:10:25", "resources.files.b.config.path", "expected a String, got a Number"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := validate(t, tt.src)
			var got []problem
			for _, d := range v.Diagnostics {
				got = append(got, problem{d.Pos.String(), d.Path, d.Summary})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
			if v.ErrorCount != len(tt.want) {
				t.Errorf("error_count = %d, want %d", v.ErrorCount, len(tt.want))
			}
		})
	}
}

// prov plan reports the same problems, every one, and plans nothing.
func TestPlanReportsEveryProblem(t *testing.T) {
	p := provtest.NewProject(t, nil)
	p.Write("main.ncl", `{
  resources = {
    "files.a" = { type = "local_file", config = { path = 1 } },
    "files.b" = { type = "local_file", config = { path = "b", mode = 644 } },
  },
}`)
	out := p.Run(cmdutil.ExitFailure, "plan")
	provtest.Contains(t, "prov plan", out,
		"main.ncl:3:58: error: resources.files.a.config.path: expected a String, got a Number",
		"main.ncl:4:70: error: resources.files.b.config.mode: expected a String, got a Number")
}
