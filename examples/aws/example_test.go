package aws_test

// End-to-end tests of examples/aws/ec2.ncl through prov's real command line (this test binary, acting as prov) against the fake EC2 API, started in
// the test on 127.0.0.1: plan (with its cost estimate, golden), apply, a change in place, a change that
// replaces, destroy, and a kill -9 of prov mid-create followed by apply -resume.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/cli"
	fakeec2 "github.com/provhq/prov/internal/fakecloud/ec2"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// envAsProv makes the test binary act as prov, so the tests need no separate build of prov: they run
// the test binary as prov, and prov runs it again as its aws plugin (the variable is inherited).
const envAsProv = "PROV_AWS_EXAMPLE_AS_PROV"

// provBin is the prov under test: this test binary.
var provBin string

func TestMain(m *testing.M) {
	if os.Getenv(envAsProv) == "1" {
		os.Exit(cli.Main(os.Args[1:]))
	}
	flag.Parse()
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	provBin = exe
	os.Exit(m.Run())
}

// project is one test's working directory with a fake EC2 behind it.
type project struct {
	t    *testing.T
	dir  string
	env  []string
	fake *fakeec2.Server
}

func newProject(t *testing.T, opts fakeec2.Options) *project {
	t.Helper()
	f := fakeec2.Start(opts)
	t.Cleanup(f.Close)
	dir, home := t.TempDir(), t.TempDir()
	env := []string{"NO_COLOR=1", "HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"XDG_DATA_HOME=" + filepath.Join(home, "data"), "XDG_CACHE_HOME=" + filepath.Join(home, "cache"),
		"AWS_ENDPOINT_URL_EC2=" + f.URL(), "AWS_ACCESS_KEY_ID=AKIDFAKE", "AWS_SECRET_ACCESS_KEY=fake-secret",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=" + filepath.Join(home, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "aws-credentials"), envAsProv + "=1"}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "HOME" || name == "NO_COLOR" || strings.HasPrefix(name, "XDG_"):
		case strings.HasPrefix(name, "AWS_") || strings.HasPrefix(name, "PROV_") || strings.HasPrefix(name, "PROVISIONING_"):
		default:
			env = append(env, kv)
		}
	}
	return &project{t: t, dir: dir, env: env, fake: f}
}

func (p *project) write(name, content string) {
	p.t.Helper()
	if err := os.WriteFile(filepath.Join(p.dir, name), []byte(content), 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// example writes examples/aws/ec2.ncl into the project as its main.ncl, with each edit (old → new)
// made.
func (p *project) example(edits ...string) {
	p.t.Helper()
	src, err := os.ReadFile("ec2.ncl")
	if err != nil {
		p.t.Fatal(err)
	}
	s := string(src)
	for i := 0; i+1 < len(edits); i += 2 {
		if !strings.Contains(s, edits[i]) {
			p.t.Fatalf("ec2.ncl lacks %q", edits[i])
		}
		s = strings.ReplaceAll(s, edits[i], edits[i+1])
	}
	p.write("main.ncl", s)
}

func (p *project) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, provBin, args...)
	cmd.Dir, cmd.Env = p.dir, p.env
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// run runs prov and fails the test unless it exits with want; it returns stdout and stderr together.
func (p *project) run(want int, args ...string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := p.command(ctx, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		p.t.Fatalf("prov %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != want {
		p.t.Fatalf("prov %s: exit %d, want %d\n%s", strings.Join(args, " "), code, want, out.String())
	}
	return out.String()
}

// state returns the resources of prov.state.json: address → attributes.
func (p *project) state() map[string]map[string]any {
	p.t.Helper()
	data, err := os.ReadFile(filepath.Join(p.dir, "prov.state.json"))
	if err != nil {
		p.t.Fatal(err)
	}
	var s struct {
		Resources map[string]struct {
			Attributes map[string]any `json:"attributes"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(data, &s); err != nil {
		p.t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for addr, r := range s.Resources {
		out[addr] = r.Attributes
	}
	return out
}

// live returns the fake's instances that are not terminated, as "TYPE AMI Name-tag".
func (p *project) live() []string {
	var out []string
	for _, in := range p.fake.Instances() {
		if in.State != fakeec2.Terminated && in.State != fakeec2.ShuttingDown {
			out = append(out, in.Type+" "+in.ImageID+" "+in.Tags["Name"])
		}
	}
	slices.Sort(out)
	return out
}

func contains(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}

// TestExample walks examples/aws/ec2.ncl through its life against the fake: plan with cost, apply, no-op plan,
// an in-place change, a replacement, and destroy.
func TestExample(t *testing.T) {
	p := newProject(t, fakeec2.Options{Transition: 20 * time.Millisecond})
	p.example(`poll_interval = "250ms"`, `poll_interval = "10ms"`)
	p.run(0, "init")

	p.run(0, "plan", "-out", "create.plan")
	md := p.run(0, "show", "-format=markdown", "create.plan")
	golden(t, "plan.md", md)
	contains(t, "the plan", md, "Estimated monthly cost: **+$28.06**", "| `servers.web-01` | `aws_instance` | aws | $8.23 |")

	out := p.run(0, "apply", "create.plan")
	contains(t, "apply", out, "Apply complete! Resources: 6 added, 0 changed, 0 destroyed.", `web_01_ip = "54.`)
	want := []string{"t3.micro " + fakeec2.UbuntuAMI + " web-01", "t3.small " + fakeec2.UbuntuAMI + " web-02"}
	if diff := cmp.Diff(want, p.live()); diff != "" {
		t.Fatalf("instances after apply (-want +got):\n%s", diff)
	}
	st := p.state()
	web01 := st["servers.web-01"]["id"]
	if vols := p.fake.Volumes(); !slices.ContainsFunc(vols, func(v fakeec2.Volume) bool { return v.Size == 50 && v.AttachedTo == web01 }) {
		t.Errorf("no 50 GiB volume attached to %v: %+v", web01, vols)
	}
	p.run(0, "plan", "-detailed-exitcode")

	t.Run("change in place", func(t *testing.T) {
		p.t = t
		p.example(`poll_interval = "250ms"`, `poll_interval = "10ms"`, `"web-02" = "t3.small"`, `"web-02" = "t3.medium"`)
		plan := p.run(2, "plan", "-detailed-exitcode")
		contains(t, "plan", plan, "servers.web-02 will be updated in-place", `"t3.small" -> "t3.medium"`, "Plan: 0 to add, 1 to change, 0 to destroy.")
		p.run(0, "apply", "-auto-approve")
		if got := p.state()["servers.web-02"]["id"]; got != st["servers.web-02"]["id"] {
			t.Errorf("web-02 is %v after an in-place change, was %v", got, st["servers.web-02"]["id"])
		}
		want := []string{"t3.medium " + fakeec2.UbuntuAMI + " web-02", "t3.micro " + fakeec2.UbuntuAMI + " web-01"}
		if diff := cmp.Diff(want, p.live()); diff != "" {
			t.Errorf("instances (-want +got):\n%s", diff)
		}
	})

	t.Run("replacement", func(t *testing.T) {
		p.t = t
		p.example(`poll_interval = "250ms"`, `poll_interval = "10ms"`, `"web-02" = "t3.small"`, `"web-02" = "t3.medium"`,
			`let ubuntu = "ami-0e2c8caa4b6378d8c"`, `let ubuntu = "`+fakeec2.DebianAMI+`"`)
		plan := p.run(2, "plan", "-detailed-exitcode")
		contains(t, "plan", plan, "servers.web-01 must be replaced", "servers.web-02 must be replaced", "forces replacement")
		p.run(0, "apply", "-auto-approve")
		want := []string{"t3.medium " + fakeec2.DebianAMI + " web-02", "t3.micro " + fakeec2.DebianAMI + " web-01"}
		if diff := cmp.Diff(want, p.live()); diff != "" {
			t.Errorf("instances (-want +got):\n%s", diff)
		}
		now := p.state()
		if now["servers.web-01"]["id"] == web01 {
			t.Error("web-01 kept its id through a replacement")
		}
		if got := now["volumes.data-attachment"]["instance_id"]; got != now["servers.web-01"]["id"] {
			t.Errorf("the data volume is attached to %v, want the new web-01 %v", got, now["servers.web-01"]["id"])
		}
		p.run(0, "plan", "-detailed-exitcode")
	})

	t.Run("destroy", func(t *testing.T) {
		p.t = t
		out := p.run(0, "destroy", "-auto-approve")
		contains(t, "destroy", out, "Destroy complete! Resources: 6 destroyed.")
		if got := p.live(); len(got) != 0 {
			t.Errorf("instances left: %v", got)
		}
		if got := p.fake.Volumes(); len(got) != 0 {
			t.Errorf("volumes left: %+v", got)
		}
	})
}

// TestCrashMidCreate kills prov (and its plugin) with SIGKILL while RunInstances is in flight, or just
// after it returned, then finishes with apply -resume: exactly one instance exists, and it is the
// one in the state.
func TestCrashMidCreate(t *testing.T) {
	for _, tc := range []struct {
		name       string
		latency    time.Duration // of RunInstances' response
		transition time.Duration
	}{
		{"response in flight", 3 * time.Second, 20 * time.Millisecond},
		{"instance pending", 0, 3 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newProject(t, fakeec2.Options{Transition: tc.transition})
			p.fake.SetLatency("RunInstances", tc.latency)
			p.write("main.json", `{"prov": "1",
  "providers": {"aws": {"source": "builtin/aws", "config": {"region": "us-east-1", "poll_interval": "20ms"}}},
  "resources": {"servers.web": {"type": "aws_instance",
    "config": {"ami": "`+fakeec2.UbuntuAMI+`", "instance_type": "t3.micro", "tags": {"Name": "web"}}}}}`)
			p.run(0, "init")

			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			apply := p.command(ctx, "apply", "-auto-approve")
			apply.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			var out bytes.Buffer
			apply.Stdout, apply.Stderr = &out, &out
			if err := apply.Start(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(30 * time.Second)
			for len(p.fake.Instances()) == 0 {
				if time.Now().After(deadline) {
					t.Fatalf("no instance launched\n%s", out.String())
				}
				time.Sleep(5 * time.Millisecond)
			}
			// kill -9 of prov and its plugin process: nothing gets to clean up.
			syscall.Kill(-apply.Process.Pid, syscall.SIGKILL)
			apply.Wait()
			if strings.Contains(out.String(), "Apply complete") {
				t.Fatalf("the apply finished before it was killed\n%s", out.String())
			}

			resume := p.run(0, "apply", "-resume")
			contains(t, "apply -resume", resume, "servers.web: create in doubt", "found: recorded as created")
			var live []fakeec2.Instance
			for _, in := range p.fake.Instances() {
				if in.State != fakeec2.Terminated {
					live = append(live, in)
				}
			}
			if len(live) != 1 || len(p.fake.Instances()) != 1 {
				t.Fatalf("the fake has %d instances (%d live) after resume, want exactly 1\n%s", len(p.fake.Instances()), len(live), resume)
			}
			if got := p.state()["servers.web"]["id"]; got != live[0].ID {
				t.Errorf("the state has %v, the fake %s", got, live[0].ID)
			}
			if got := p.state()["servers.web"]["instance_state"]; got != "running" {
				t.Errorf("instance_state %v, want running", got)
			}
			p.run(0, "plan", "-detailed-exitcode")
		})
	}
}

// TestCloudError: an error of the cloud reaches the user with the resource address and EC2's code.
func TestCloudError(t *testing.T) {
	p := newProject(t, fakeec2.Options{Transition: 20 * time.Millisecond})
	p.write("main.json", `{"prov": "1",
  "providers": {"aws": {"source": "builtin/aws", "config": {"region": "us-east-1", "poll_interval": "20ms"}}},
  "resources": {"servers.web": {"type": "aws_instance", "config": {"ami": "ami-0000000000000dead", "instance_type": "t3.micro"}}}}`)
	p.run(0, "init")
	out := p.run(1, "apply", "-auto-approve")
	contains(t, "apply", out, "error: servers.web: RunInstances: InvalidAMIID.NotFound: The image id '[ami-0000000000000dead]' does not exist",
		"AWS request id ")
}

// TestImport: prov import brings an instance made outside prov under management, and the plan of a
// configuration that matches it is empty.
func TestImport(t *testing.T) {
	p := newProject(t, fakeec2.Options{Transition: 20 * time.Millisecond})
	resp, err := http.PostForm(p.fake.URL(), url.Values{"Action": {"RunInstances"}, "Version": {"2016-11-15"},
		"ImageId": {fakeec2.UbuntuAMI}, "InstanceType": {"t3.small"}, "MinCount": {"1"}, "MaxCount": {"1"},
		"TagSpecification.1.ResourceType": {"instance"}, "TagSpecification.1.Tag.1.Key": {"Name"}, "TagSpecification.1.Tag.1.Value": {"legacy"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(p.fake.Instances()) != 1 {
		t.Fatalf("RunInstances: %s", resp.Status)
	}
	id := p.fake.Instances()[0].ID
	p.write("main.json", `{"prov": "1",
  "providers": {"aws": {"source": "builtin/aws", "config": {"region": "us-east-1", "poll_interval": "20ms"}}},
  "resources": {"servers.legacy": {"type": "aws_instance",
    "config": {"ami": "`+fakeec2.UbuntuAMI+`", "instance_type": "t3.small", "tags": {"Name": "legacy"}}}}}`)
	p.run(0, "init")
	p.run(0, "import", "servers.legacy", id)
	if got := p.state()["servers.legacy"]["id"]; got != id {
		t.Fatalf("state id %v, want %s", got, id)
	}
	p.run(0, "plan", "-detailed-exitcode")
	if n := len(p.fake.Instances()); n != 1 {
		t.Errorf("the fake has %d instances after import, want 1", n)
	}
}
