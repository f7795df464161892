package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestLifecycle walks one configuration through create, no change, update, replace and delete,
// checking at each step the plan (human and -json), the apply summary, the state and the files.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	p := newProject(t)
	steps := []struct {
		name      string
		resources map[string]any
		actions   map[string]string // plan -json planned_change actions
		human     []string          // in the human plan
		summary   string            // the apply's last line
		files     map[string]string // content on disk; "" for absent
		addrs     []string          // in the state after apply
	}{
		{
			name:      "create",
			resources: map[string]any{"data.a": data(map[string]any{"name": "x"}), "files.f": file("out/f.txt", "v1\n")},
			actions:   map[string]string{"data.a": "create", "files.f": "create"},
			human: []string{"# data.a will be created", `+ resource "local_data" "a"`, "# files.f will be created",
				`+ resource "local_file" "f"`, `+ path    = "out/f.txt"`, "+ id      = (known after apply)",
				"Plan: 2 to add, 0 to change, 0 to destroy."},
			summary: "Apply complete! Resources: 2 added, 0 changed, 0 destroyed.",
			files:   map[string]string{"out/f.txt": "v1\n"},
			addrs:   []string{"data.a", "files.f"},
		},
		{
			name:      "no change",
			resources: map[string]any{"data.a": data(map[string]any{"name": "x"}), "files.f": file("out/f.txt", "v1\n")},
			actions:   map[string]string{},
			human:     []string{"No changes. Your infrastructure matches the configuration."},
			files:     map[string]string{"out/f.txt": "v1\n"},
			addrs:     []string{"data.a", "files.f"},
		},
		{
			name:      "update",
			resources: map[string]any{"data.a": data(map[string]any{"name": "y"}), "files.f": file("out/f.txt", "v2\n")},
			actions:   map[string]string{"data.a": "update", "files.f": "update"},
			human: []string{"# data.a will be updated in-place", `~ name = "x" -> "y"`, "# files.f will be updated in-place",
				"Plan: 0 to add, 2 to change, 0 to destroy."},
			summary: "Apply complete! Resources: 0 added, 2 changed, 0 destroyed.",
			files:   map[string]string{"out/f.txt": "v2\n"},
			addrs:   []string{"data.a", "files.f"},
		},
		{
			name:      "replace",
			resources: map[string]any{"data.a": data(map[string]any{"name": "y"}), "files.f": file("out/g.txt", "v2\n")},
			actions:   map[string]string{"files.f": "replace"},
			human: []string{"# files.f must be replaced", `-/+ resource "local_file" "f"`,
				`~ path = "out/f.txt" -> "out/g.txt" # forces replacement`, "Plan: 1 to add, 0 to change, 1 to destroy"},
			summary: "Apply complete! Resources: 1 added, 0 changed, 1 destroyed.",
			files:   map[string]string{"out/f.txt": "", "out/g.txt": "v2\n"},
			addrs:   []string{"data.a", "files.f"},
		},
		{
			name:      "delete",
			resources: map[string]any{"data.a": data(map[string]any{"name": "y"})},
			actions:   map[string]string{"files.f": "delete"},
			human:     []string{"# files.f will be destroyed", `- resource "local_file" "f"`, "Plan: 0 to add, 0 to change, 1 to destroy."},
			summary:   "Apply complete! Resources: 0 added, 0 changed, 1 destroyed.",
			files:     map[string]string{"out/f.txt": "", "out/g.txt": ""},
			addrs:     []string{"data.a"},
		},
	}
	var prevID any
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			p := p.in(t)
			p.writeJSON("main.json", doc(step.resources))
			if !p.exists("prov.lock.json") {
				p.expect(0, "init")
			}
			if diff := cmp.Diff(step.actions, plannedActions(t, p.expect(0, "plan", "-json"))); diff != "" {
				t.Errorf("plan -json actions (-want +got):\n%s", diff)
			}
			wantCode := 2
			if len(step.actions) == 0 {
				wantCode = 0
			}
			r := p.expect(wantCode, "plan", "-detailed-exitcode")
			contains(t, "plan", r.stdout, step.human...)
			r = p.expect(0, "apply", "-auto-approve")
			if step.summary != "" {
				contains(t, "apply", r.stdout, step.summary)
			}
			for name, want := range step.files {
				switch {
				case want == "" && p.exists(name):
					t.Errorf("%s exists after %s", name, step.name)
				case want != "" && p.read(name) != want:
					t.Errorf("%s = %q, want %q", name, p.read(name), want)
				}
			}
			st := p.state()
			if diff := cmp.Diff(step.addrs, st.addresses()); diff != "" {
				t.Errorf("state addresses (-want +got):\n%s", diff)
			}
			// data.a is updated in place: its id survives every step.
			if id := st.Resources["data.a"].Attributes["id"]; prevID != nil && id != prevID {
				t.Errorf("data.a id changed from %v to %v: an update must keep the object", prevID, id)
			} else {
				prevID = id
			}
			p.expect(0, "plan", "-detailed-exitcode")
		})
	}
}

// TestReferences checks that references resolve: a whole-string reference keeps the referenced value's
// type, interpolation builds strings, $${ escapes, and values only known after apply show as such in
// the plan and are filled in by the apply.
func TestReferences(t *testing.T) {
	t.Parallel()
	p := newProject(t)
	p.writeJSON("main.json", doc(map[string]any{
		"data.a":  data(map[string]any{"name": "x", "n": 3, "tags": []any{"t0", "t1"}}),
		"data.b":  data("${data.a.output.n}"),
		"data.c":  data("${data.a.output}"),
		"data.d":  data("${data.a.output.tags[1]}-$${literal}"),
		"files.f": file("out/f.txt", "hello ${data.a.output.name} ${data.a.id}\n"),
	}, map[string]any{"outputs": map[string]any{"n": map[string]any{"value": "${data.b.output}"}}}))
	p.expect(0, "init")

	r := p.expect(0, "plan", "-out=refs.plan")
	contains(t, "plan", r.stdout,
		"+ input  = 3", // typed: a number, not "3"
		`+ input  = "t1-${literal}"`,
		"+ content = (known after apply)", // depends on data.a.id
		"+ n = 3",
	)
	var shown struct {
		ResourceChanges []struct {
			Address string `json:"address"`
			Change  struct {
				Actions      []string       `json:"actions"`
				After        map[string]any `json:"after"`
				AfterUnknown map[string]any `json:"after_unknown"`
			} `json:"change"`
		} `json:"resource_changes"`
	}
	r = p.expect(0, "show", "-json", "refs.plan")
	if err := json.Unmarshal([]byte(r.stdout), &shown); err != nil {
		t.Fatalf("show -json: %v\n%s", err, r)
	}
	after := map[string]any{}
	unknown := map[string]any{}
	for _, rc := range shown.ResourceChanges {
		after[rc.Address] = rc.Change.After["input"]
		unknown[rc.Address] = rc.Change.AfterUnknown["content"]
	}
	wantAfter := map[string]any{"data.a": map[string]any{"name": "x", "n": 3.0, "tags": []any{"t0", "t1"}},
		"data.b": 3.0, "data.c": map[string]any{"name": "x", "n": 3.0, "tags": []any{"t0", "t1"}},
		"data.d": "t1-${literal}", "files.f": nil}
	if diff := cmp.Diff(wantAfter, after); diff != "" {
		t.Errorf("planned inputs (-want +got):\n%s", diff)
	}
	if unknown["files.f"] != true {
		t.Errorf("files.f content: after_unknown = %v, want true\n%s", unknown["files.f"], r.stdout)
	}

	p.expect(0, "apply", "refs.plan")
	st := p.state()
	id, _ := st.Resources["data.a"].Attributes["id"].(string)
	if id == "" {
		t.Fatalf("data.a has no id in the state: %+v", st.Resources["data.a"])
	}
	if got, want := p.read("out/f.txt"), "hello x "+id+"\n"; got != want {
		t.Errorf("out/f.txt = %q, want %q", got, want)
	}
	if got := st.Resources["data.b"].Attributes["output"]; got != 3.0 {
		t.Errorf("data.b output = %#v, want the number 3", got)
	}
	if diff := cmp.Diff([]string{"data.a"}, st.Resources["files.f"].Dependencies); diff != "" {
		t.Errorf("files.f dependencies (-want +got):\n%s", diff)
	}
	r = p.expect(0, "output", "n")
	if strings.TrimSpace(r.stdout) != "3" {
		t.Errorf("prov output n = %q, want 3", r.stdout)
	}
	p.expect(0, "plan", "-detailed-exitcode")
}

// TestIgnoreChanges applies a change next to an ignored one from a saved plan: the ignored attribute
// keeps its value on disk and in the state, and the next plan has nothing to do.
func TestIgnoreChanges(t *testing.T) {
	t.Parallel()
	p := newProject(t)
	withMode := func(content, mode string) map[string]any {
		f := file("out/a", content)
		f["config"].(map[string]any)["mode"] = mode
		f["lifecycle"] = map[string]any{"ignore_changes": []any{"content"}}
		return f
	}
	p.writeJSON("main.json", doc(map[string]any{"files.a": withMode("one\n", "0644")}))
	p.expect(0, "init")
	p.expect(0, "apply", "-auto-approve")
	p.writeJSON("main.json", doc(map[string]any{"files.a": withMode("two\n", "0600")}))
	r := p.expect(0, "plan", "-out=x.plan")
	contains(t, "plan", r.stdout, `~ mode = "0644" -> "0600"`, "Plan: 0 to add, 1 to change, 0 to destroy.")
	p.expect(0, "apply", "x.plan")
	if got := p.read("out/a"); got != "one\n" {
		t.Errorf("out/a = %q, want the ignored content kept", got)
	}
	if got := p.state().Resources["files.a"].Attributes["mode"]; got != "0600" {
		t.Errorf("mode = %v, want 0600", got)
	}
	p.expect(0, "plan", "-detailed-exitcode")
}

// TestConfigErrors checks that configuration mistakes are reported with the file, line, column and
// data path, in JSON and in Nickel, and that a dependency cycle is named.
func TestConfigErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, file, content string
		command             string
		want                []string
	}{
		{
			name: "cycle json", file: "main.json", command: "plan",
			content: `{ "prov": "1",
  "resources": {
    "data.a": { "type": "local_data", "config": { "input": "${data.b.output}" } },
    "data.b": { "type": "local_data", "config": { "input": "${data.c.output}" } },
    "data.c": { "type": "local_data", "config": { "input": "${data.a.output}" } }
  }
}`,
			want: []string{"dependency cycle: data.a -> data.b -> data.c -> data.a"},
		},
		{
			name: "cycle ncl through depends_on", file: "main.ncl", command: "plan",
			content: `{
  prov = "1",
  resources = {
    "data.a" = { type = "local_data", config = { input = 1 }, depends_on = ["data.b"] },
    "data.b" = { type = "local_data", config = { input = "${data.a.output}" } },
  },
}`,
			want: []string{"dependency cycle: data.a -> data.b -> data.a"},
		},
		{
			name: "dangling reference and unknown field json", file: "main.json", command: "plan",
			content: `{ "prov": "1",
  "resources": {
    "data.a": { "type": "local_data", "config": { "input": "${data.zz.output}" } },
    "data.c": { "type": "local_data", "confg": { "input": "x" } }
  }
}`,
			want: []string{
				"main.json:3:51: error: resources.data.a.config.input: reference to undeclared resource: ${data.zz.output}",
				`main.json:4:39: error: resources.data.c.confg: unknown resource field "confg"`,
			},
		},
		{
			name: "dangling reference ncl", file: "main.ncl", command: "plan",
			content: `{
  prov = "1",
  resources = {
    "data.a" = { type = "local_data", config = { input = "${data.zz.output}" } },
  },
}`,
			want: []string{"main.ncl:4:50: error: resources.data.a.config.input: reference to undeclared resource: ${data.zz.output}"},
		},
		{
			// The Nickel contract catches this one: its blame names the record, the snippet the field.
			name: "unknown field ncl", file: "main.ncl", command: "plan",
			content: `{
  prov = "1",
  resources = {
    "data.c" = {
      type = "local_data",
      confg = { input = "x" },
    },
  },
}`,
			want: []string{"main.ncl:6:7: error: resources.data.c", "confg"},
		},
		{
			name: "unknown attribute json", file: "main.json", command: "validate",
			content: `{ "prov": "1",
  "resources": {
    "data.b": { "type": "local_data", "config": { "inptu": "x" } }
  }
}`,
			want: []string{`main.json:3:51: error: resources.data.b.config.inptu: unknown attribute "inptu"`, `Did you mean "input"?`},
		},
		{
			name: "unknown attribute ncl", file: "main.ncl", command: "validate",
			content: `{
  prov = "1",
  resources = {
    "data.b" = { type = "local_data", config = { inptu = "x" } },
  },
}`,
			want: []string{"main.ncl:4:50: error: resources.data.b.config", "inptu"},
		},
		{
			name: "unknown top-level key json", file: "main.json", command: "validate",
			content: `{ "prov": "1",
  "resourcs": {}
}`,
			want: []string{"main.json:2:3: error: resourcs"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newProject(t)
			p.write(tc.file, tc.content)
			r := p.expect(1, tc.command)
			contains(t, tc.command+" stderr", r.stderr, tc.want...)
			if p.exists("prov.state.json") {
				t.Errorf("a failed %s wrote prov.state.json", tc.command)
			}
		})
	}
}

// TestStalePlan checks that a saved plan is refused once the state has moved on, and that the state
// and files are left as the newer apply made them.
func TestStalePlan(t *testing.T) {
	t.Parallel()
	p := newProject(t)
	p.writeJSON("main.json", doc(map[string]any{"files.f": file("out/f.txt", "one\n")}))
	p.expect(0, "init")
	p.expect(0, "apply", "-auto-approve")

	p.writeJSON("main.json", doc(map[string]any{"files.f": file("out/f.txt", "two\n")}))
	p.expect(0, "plan", "-out", "two.plan")
	p.writeJSON("main.json", doc(map[string]any{"files.f": file("out/f.txt", "three\n")}))
	p.expect(0, "apply", "-auto-approve")
	before := p.read("prov.state.json")

	r := p.expect(1, "apply", "two.plan")
	contains(t, "apply of a stale plan", r.stderr, "two.plan is stale")
	if got := p.read("out/f.txt"); got != "three\n" {
		t.Errorf("out/f.txt = %q after a refused plan, want %q", got, "three\n")
	}
	if p.read("prov.state.json") != before {
		t.Errorf("a refused plan changed prov.state.json")
	}

	// A fresh plan of the same change applies.
	p.expect(0, "plan", "-out", "three.plan")
	p.expect(0, "apply", "three.plan")
}

// TestDetailedExitcode checks plan -detailed-exitcode: 2 with changes, 0 without, 1 on error.
func TestDetailedExitcode(t *testing.T) {
	t.Parallel()
	p := newProject(t)
	p.writeJSON("main.json", doc(map[string]any{"data.a": data("x")}))
	p.expect(0, "init")
	steps := []struct {
		name   string
		before func(*project)
		want   int
	}{
		{"changes", func(*project) {}, 2},
		{"no changes", func(p *project) { p.expect(0, "apply", "-auto-approve") }, 0},
		{"error", func(p *project) {
			p.write("main.json", `{ "prov": "1", "resources": { "data.a": { "type": "local_data", "config": { "input": "${nope.x}" } } } }`)
		}, 1},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			p := p.in(t)
			step.before(p)
			r := p.run("plan", "-detailed-exitcode")
			if r.code != step.want {
				t.Errorf("want exit %d\n%s", step.want, r)
			}
		})
	}
}

// TestConcurrentApply starts two applies in one directory: the first holds the state lock while it
// works (slowed down by injected latency); the second fails at once naming the holder, and a third
// with -lock-timeout waits for the lock and then finds nothing to do. Exactly one creates the file.
func TestConcurrentApply(t *testing.T) {
	t.Parallel()
	p := newProject(t)
	p.setenv("PROV_FAULT_INJECTION=1", "PROV_LOCAL_CREATION_LOG="+p.path("creations.log"))
	p.writeJSON("main.json", doc(map[string]any{"files.f": file("out/f.txt", "once\n")}, faultInjection(3*time.Second)))
	p.expect(0, "init")

	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	first := p.command(ctx, "apply", "-auto-approve")
	var firstOut bytes.Buffer
	first.Stdout, first.Stderr = &firstOut, &firstOut
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	firstDone := make(chan error, 1)
	go func() { firstDone <- first.Wait() }()
	waitFor(t, 20*time.Second, "the first apply to take the state lock", func() bool { return p.exists("prov.state.lock.info") })

	second := p.run("apply", "-auto-approve")
	select {
	case err := <-firstDone:
		t.Fatalf("the first apply ended (%v) before the second was refused; raise the injected latency\n%s", err, firstOut.String())
	default:
	}
	if second.code != 1 {
		t.Errorf("second apply: want exit 1\n%s", second)
	}
	contains(t, "second apply", second.stderr, "state is locked", fmt.Sprintf("pid %d", first.Process.Pid),
		"operation apply", "prov force-unlock")

	third := p.run("apply", "-auto-approve", "-lock-timeout=50s")
	if err := <-firstDone; err != nil {
		t.Fatalf("first apply: %v\n%s", err, firstOut.String())
	}
	contains(t, "first apply", firstOut.String(), "Apply complete! Resources: 1 added")
	if third.code != 0 {
		t.Errorf("third apply (-lock-timeout): want exit 0\n%s", third)
	}
	contains(t, "third apply", third.stdout, "No changes.")
	if got := strings.Count(p.read("creations.log"), "\n"); got != 1 {
		t.Errorf("out/f.txt created %d times, want once:\n%s", got, p.read("creations.log"))
	}
	if got := p.state().Serial; got != 1 {
		t.Errorf("state serial %d, want 1", got)
	}
}

// waitFor polls cond until it holds, failing the test after limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCorruptState checks that a truncated or non-JSON state file stops every command that reads it
// with a clear error, and that the file is left byte for byte as it was.
func TestCorruptState(t *testing.T) {
	t.Parallel()
	good := newProject(t)
	good.writeJSON("main.json", doc(map[string]any{"data.a": data("x"), "data.b": data("y")}))
	good.expect(0, "init")
	good.expect(0, "apply", "-auto-approve")
	valid := good.read("prov.state.json")

	cases := []struct {
		name, content, want string
	}{
		{"truncated", valid[:len(valid)/2], "truncated"},
		{"not JSON", "this is not a state file\n", "not JSON"},
		{"one byte", "{", "truncated"},
	}
	commands := [][]string{
		{"plan"}, {"apply", "-auto-approve"}, {"destroy", "-auto-approve"}, {"state", "list"},
		{"output"}, {"show"}, {"state", "rm", "data.a"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newProject(t)
			p.write("main.json", good.read("main.json"))
			p.write("prov.lock.json", good.read("prov.lock.json"))
			p.write("prov.state.json", tc.content)
			for _, args := range commands {
				r := p.run(args...)
				if r.code != 1 {
					t.Errorf("want exit 1\n%s", r)
				}
				contains(t, "prov "+strings.Join(args, " "), r.stderr, "prov.state.json", tc.want, "left untouched")
				if got := p.read("prov.state.json"); got != tc.content {
					t.Fatalf("prov %s changed the corrupt state file to:\n%s", strings.Join(args, " "), got)
				}
			}
			if p.exists("out") || p.exists("prov.state.journal") {
				t.Errorf("a command went on with a corrupt state")
			}
		})
	}
}

// TestKillMidApply kills prov with SIGKILL in the middle of an apply of many files (slowed down by
// injected latency) and then either resumes or rolls back. A resume ends with exactly the desired
// files and state, none created twice (the local provider's creation log counts every create) and
// none lost, and a following plan has nothing to do; a rollback returns files and state to where they
// were before. Both run after a first apply that is killed, and after a later one.
func TestKillMidApply(t *testing.T) {
	t.Parallel()
	const files = 24
	for _, tc := range []struct {
		name     string
		existing int // files applied before the apply that is killed
		finish   []string
	}{
		{"first apply then resume", 0, []string{"apply", "-resume"}},
		{"first apply then rollback", 0, []string{"rollback", "-auto-approve"}},
		{"later apply then resume", 3, []string{"apply", "-resume"}},
		{"later apply then rollback", 3, []string{"rollback", "-auto-approve"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newProject(t)
			p.setenv("PROV_FAULT_INJECTION=1", "PROV_LOCAL_CREATION_LOG="+p.path("creations.log"))
			resources := func(n int) map[string]any {
				rs := map[string]any{}
				for i := range n {
					rs[fmt.Sprintf("files.f%02d", i)] = file(fmt.Sprintf("out/f%02d.txt", i), fmt.Sprintf("file %d\n", i))
				}
				return rs
			}
			settings := map[string]any{"settings": map[string]any{"parallelism": 3}}
			var priorState string
			if tc.existing > 0 {
				p.writeJSON("main.json", doc(resources(tc.existing), settings))
				p.expect(0, "init")
				p.expect(0, "apply", "-auto-approve")
				priorState = p.read("prov.state.json")
			}
			p.writeJSON("main.json", doc(resources(files), settings, faultInjection(150*time.Millisecond)))
			p.expect(0, "init")

			ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
			defer cancel()
			apply := p.command(ctx, "apply", "-auto-approve")
			var out bytes.Buffer
			apply.Stdout, apply.Stderr = &out, &out
			if err := apply.Start(); err != nil {
				t.Fatal(err)
			}
			created := func() int {
				b, _ := os.ReadFile(p.path("creations.log"))
				return bytes.Count(b, []byte("\n"))
			}
			waitFor(t, 30*time.Second, "some files to be created", func() bool { return created() >= tc.existing+4 })
			if err := apply.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			apply.Wait()
			killedAt := created()
			if killedAt >= tc.existing+files {
				t.Fatalf("the apply finished before it was killed; raise the injected latency\n%s", out.String())
			}
			if !p.exists("prov.state.journal") {
				t.Fatalf("no journal after kill -9\n%s", out.String())
			}
			// While the journal is there, plan and apply refuse to run.
			r := p.expect(1, "plan")
			contains(t, "plan after a crash", r.stderr, "interrupted", "prov apply -resume", "prov rollback")
			// The kernel released the killed prov's lock; the lock info file it left names a dead
			// process and does not stand in the way.
			r = p.run(tc.finish...)
			if r.code != 0 {
				t.Fatalf("want exit 0\n%s", r)
			}
			if p.exists("prov.state.journal") {
				t.Errorf("the journal is still there after %s", strings.Join(tc.finish, " "))
			}

			// The killed prov's plugin process must not outlive it for long.
			waitFor(t, 10*time.Second, "no process left working in the project", func() bool { return len(processesIn(p.dir)) == 0 })

			log := strings.Split(strings.TrimSpace(p.read("creations.log")), "\n")
			perPath := map[string]int{}
			for _, line := range log {
				path, _, _ := strings.Cut(line, "\t")
				perPath[filepath.Base(path)]++
			}
			for path, n := range perPath {
				if n > 1 {
					t.Errorf("%s created %d times", path, n)
				}
			}
			onDisk, _ := filepath.Glob(p.path("out/*.txt"))
			st := p.state()
			if tc.finish[0] == "apply" {
				if len(perPath) != files || len(onDisk) != files || len(st.Resources) != files {
					t.Errorf("after resume: %d files created, %d on disk, %d in the state; want %d of each",
						len(perPath), len(onDisk), len(st.Resources), files)
				}
				for i := range files {
					name := fmt.Sprintf("out/f%02d.txt", i)
					if !p.exists(name) || p.read(name) != fmt.Sprintf("file %d\n", i) {
						t.Errorf("%s missing or wrong after resume", name)
					}
				}
				p.expect(0, "plan", "-detailed-exitcode")
				return
			}
			// Rollback: back to the files and resources of before the killed apply.
			if len(onDisk) != tc.existing || len(st.Resources) != tc.existing {
				t.Errorf("after rollback: %d files on disk, %d resources in the state; want %d", len(onDisk), len(st.Resources), tc.existing)
			}
			if priorState != "" {
				var prior stateFile
				if err := json.Unmarshal([]byte(priorState), &prior); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(prior.Resources, st.Resources); diff != "" {
					t.Errorf("state resources after rollback (-before +after):\n%s", diff)
				}
				if st.Lineage != prior.Lineage {
					t.Errorf("rollback changed the lineage from %s to %s", prior.Lineage, st.Lineage)
				}
			}
		})
	}
}

// TestPluginProvider is issue 2's end to end: the example third-party provider, built as its own
// binary and installed under ./.prov/plugins as its README says, is locked by prov init, planned and
// applied; a different build in its place is refused, naming the plugin and both hashes, until
// prov init -upgrade accepts it.
func TestPluginProvider(t *testing.T) {
	t.Parallel()
	p := newProject(t)
	bin := p.path(".prov/plugins/notes/0.1.0/prov-provider-notes")
	copyFile(t, notesBins[0], bin, 0o755)
	p.write("main.ncl", `{
  prov = "1",
  providers = {
    notes = { source = "example.com/notes", version = "0.1.0", config = { file = "notes.json" } },
  },
  resources = {
    "notes.todo" = {
      type = "notes_note",
      provider = "notes",
      config = { title = "todo", body = "buy milk", tags = ["home"] },
    },
  },
}
`)
	r := p.expect(0, "init")
	contains(t, "init", r.stdout, "provider notes: example.com/notes 0.1.0")
	var lock struct {
		Plugins map[string]struct {
			Source, Version, SHA256 string
		} `json:"plugins"`
	}
	if err := json.Unmarshal([]byte(p.read("prov.lock.json")), &lock); err != nil {
		t.Fatalf("prov.lock.json: %v", err)
	}
	sum1 := sha256File(t, bin)
	if got := lock.Plugins["provider/notes"].SHA256; got != sum1 {
		t.Fatalf("prov.lock.json locks provider/notes at sha256 %q, want %s\n%s", got, sum1, p.read("prov.lock.json"))
	}

	r = p.expect(2, "plan", "-detailed-exitcode")
	contains(t, "plan", r.stdout, `+ resource "notes_note" "todo"`, "+ words = 2", "Plan: 1 to add")
	p.expect(0, "apply", "-auto-approve")
	var notes map[string]map[string]any
	if err := json.Unmarshal([]byte(p.read("notes.json")), &notes); err != nil {
		t.Fatalf("notes.json: %v", err)
	}
	if got := notes["todo"]["body"]; got != "buy milk" {
		t.Errorf("notes.json todo body = %v, want buy milk", got)
	}
	p.expect(0, "plan", "-detailed-exitcode")

	copyFile(t, notesBins[1], bin, 0o755)
	sum2 := sha256File(t, bin)
	if sum1 == sum2 {
		t.Fatal("the two builds of the notes provider have the same hash")
	}
	for _, args := range [][]string{{"plan"}, {"apply", "-auto-approve"}} {
		r = p.expect(1, args...)
		contains(t, "prov "+args[0]+" with a changed plugin", r.stderr, "notes", sum1, sum2, "prov init -upgrade")
	}
	p.expect(0, "init", "-upgrade")
	p.expect(0, "plan", "-detailed-exitcode")
}

// TestJSONOutputs checks that every -json output parses: the event streams of plan and apply line by
// line, the documents of show, validate, output and state list whole.
func TestJSONOutputs(t *testing.T) {
	t.Parallel()
	p := newProject(t)
	p.writeJSON("main.json", doc(map[string]any{"data.a": data("s3cr3t"), "files.f": file("out/f.txt", "${data.a.output}")},
		map[string]any{"outputs": map[string]any{
			"path":   map[string]any{"value": "${files.f.path}"},
			"secret": map[string]any{"value": "${data.a.output}", "sensitive": true},
		}}))
	p.expect(0, "init")
	p.expect(0, "plan", "-out=p.plan")

	apply := jsonLines(t, p.expect(0, "apply", "-json", "-auto-approve"))
	types := map[string]bool{}
	for _, ev := range apply {
		types[fmt.Sprint(ev["type"])] = true
	}
	for _, want := range []string{"apply_start", "apply_complete", "change_summary", "outputs"} {
		if !types[want] {
			t.Errorf("apply -json has no %q event: %v", want, types)
		}
	}

	cases := []struct {
		args  []string
		lines bool // a stream of JSON lines rather than one document
		check func(t *testing.T, v map[string]any)
	}{
		{[]string{"plan", "-json"}, true, nil},
		{[]string{"show", "-json"}, false, nil},
		{[]string{"show", "-json", "p.plan"}, false, func(t *testing.T, v map[string]any) {
			if v["format_version"] == nil || v["resource_changes"] == nil {
				t.Errorf("show -json PLANFILE lacks format_version or resource_changes: %v", v)
			}
		}},
		{[]string{"validate", "-json"}, false, func(t *testing.T, v map[string]any) {
			if v["valid"] != true {
				t.Errorf("validate -json: valid = %v", v["valid"])
			}
		}},
		{[]string{"output", "-json"}, false, func(t *testing.T, v map[string]any) {
			want := map[string]any{"path": map[string]any{"value": "out/f.txt", "sensitive": false},
				"secret": map[string]any{"value": nil, "sensitive": true}}
			if diff := cmp.Diff(want, v); diff != "" {
				t.Errorf("output -json (-want +got):\n%s", diff)
			}
		}},
		{[]string{"state", "list", "-json"}, false, func(t *testing.T, v map[string]any) {
			var addrs []string
			list, _ := v["resources"].([]any)
			for _, e := range list {
				m, _ := e.(map[string]any)
				addrs = append(addrs, fmt.Sprint(m["address"]))
			}
			if diff := cmp.Diff([]string{"data.a", "files.f"}, addrs); diff != "" {
				t.Errorf("state list -json addresses (-want +got):\n%s", diff)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := p.in(t).expect(0, tc.args...)
			if tc.lines {
				jsonLines(t, r)
				return
			}
			var v map[string]any
			if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
				t.Fatalf("not one JSON document: %v\n%s", err, r)
			}
			if tc.check != nil {
				tc.check(t, v)
			}
		})
	}
	r := p.expect(0, "output")
	contains(t, "output", r.stdout, `path = "out/f.txt"`, "secret = <sensitive>")
	lacks(t, "output", r.stdout, "s3cr3t")
	if r := p.expect(0, "output", "-raw", "secret"); r.stdout != "s3cr3t" {
		t.Errorf("output -raw secret = %q, want s3cr3t", r.stdout)
	}
}

// TestFlagForms checks that Terraform's single-dash long flags and the double-dash form both work,
// with a value after = or as the next argument.
func TestFlagForms(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		plan []string // writes the plan file x.plan with detailed exit code
		app  []string // applies x.plan in the project dir given to -chdir
	}{
		{"single dash", []string{"-chdir=proj", "plan", "-out=x.plan", "-detailed-exitcode", "-parallelism=2"},
			[]string{"-chdir", "proj", "apply", "-auto-approve", "x.plan"}},
		{"double dash", []string{"--chdir=proj", "plan", "--out", "x.plan", "--detailed-exitcode", "--parallelism", "2"},
			[]string{"--chdir", "proj", "apply", "--auto-approve", "x.plan"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newProject(t)
			p.writeJSON("proj/main.json", doc(map[string]any{"files.f": file("out/f.txt", "flags\n")}))
			p.expect(0, "-chdir=proj", "init")
			r := p.expect(2, tc.plan...)
			contains(t, "plan", r.stdout, "Saved the plan to: x.plan")
			if !p.exists("proj/x.plan") {
				t.Fatalf("no proj/x.plan")
			}
			p.expect(0, tc.app...)
			if got := p.read("proj/out/f.txt"); got != "flags\n" {
				t.Errorf("proj/out/f.txt = %q", got)
			}
			r = p.expect(1, "plan", "-no-such-flag")
			contains(t, "unknown flag", r.stderr, "no-such-flag", "-help")
			p.expect(0, "-chdir=proj", "destroy", "-auto-approve")
			if p.exists("proj/out/f.txt") {
				t.Errorf("destroy left proj/out/f.txt")
			}
		})
	}
}
