package aws_test

// End-to-end tests of examples/aws through prov's real command line (this test binary, acting as prov)
// against the fake EC2 API, started in the test on 127.0.0.1. main.ncl, the portable servers section:
// plan (with its cost estimate, golden), apply, a disk grown in place, destroy. ec2.ncl, the provider's
// own types: plan (golden), apply, a change in place, a change that replaces, destroy, import, a cloud
// error, and a kill -9 of prov mid-create followed by apply -resume.

import (
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	fakeec2 "github.com/provhq/prov/internal/fakecloud/ec2"
	"github.com/provhq/prov/internal/provtest"
	"github.com/provhq/prov/plugins/builtin"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestMain(m *testing.M) { provtest.Main(m) }

// project is one test's working directory with a fake EC2 behind it.
type project struct {
	*provtest.Project
	fake *fakeec2.Server
}

func newProject(t *testing.T, opts fakeec2.Options) *project {
	t.Helper()
	f := fakeec2.Start(opts)
	t.Cleanup(f.Close)
	pr := provtest.NewProject(t, []string{"AWS_"}, "AWS_ENDPOINT_URL_EC2="+f.URL(), "AWS_ACCESS_KEY_ID=AKIDFAKE",
		"AWS_SECRET_ACCESS_KEY=fake-secret", "AWS_EC2_METADATA_DISABLED=true")
	pr.AddEnv("AWS_CONFIG_FILE="+filepath.Join(pr.Home, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(pr.Home, "aws-credentials"))
	return &project{Project: pr, fake: f}
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

// TestServers walks examples/aws/main.ncl, servers written with the portable fields, through its life
// against the fake: plan with cost, apply, no-op plan, a disk grown in place, destroy. Its taskservs
// install over SSH, which the fake's machines do not speak: plans and applies target the servers (and
// with them the key pair they refer to), and when prov has no containerd taskserv the servers list none.
func TestServers(t *testing.T) {
	p := newProject(t, fakeec2.Options{Region: "eu-north-1", Transition: 20 * time.Millisecond})
	edits := []string{`config = { region = aws_region }`, `config = { region = aws_region, poll_interval = "10ms" }`}
	_, containerd := builtin.Plugins.Taskservs["containerd"]
	if !containerd {
		t.Log("prov has no containerd taskserv: the servers are planned without it")
		edits = append(edits, `taskservs = ["containerd"],`, `taskservs = [],`)
	}
	p.Example("main.ncl", edits...)
	servers := []string{"-target", "servers.web-01", "-target", "servers.web-02", "-target", "servers.db-01"}
	p.Run(0, "init")
	p.Run(0, "validate")
	if containerd {
		// The whole plan has the installs, which only an apply over SSH could make.
		provtest.Contains(t, "the whole plan", p.Run(0, "plan"), "taskservs.web-01.containerd will be created",
			"taskservs.web-02.containerd will be created", "Plan: 6 to add, 0 to change, 0 to destroy.")
	}

	p.Run(0, append([]string{"plan", "-out", "create.plan"}, servers...)...)
	md := p.Run(0, "show", "-format=markdown", "create.plan")
	provtest.Golden(t, "servers-plan.md", md, *update)
	provtest.Contains(t, "the plan", md, "Plan: 4 to add, 0 to change, 0 to destroy.", "Estimated monthly cost: **+$218.07**",
		"| `servers.db-01` | `aws_server` | aws | $149.86 |", "| `servers.web-01` | `aws_server` | aws | $34.10 |")

	out := p.Run(0, "apply", "create.plan")
	provtest.Contains(t, "apply", out, "Apply complete! Resources: 4 added, 0 changed, 0 destroyed.", `"54.`)
	want := []string{"c5.xlarge " + fakeec2.UbuntuAMI + " db-01", "t3.medium " + fakeec2.UbuntuAMI + " web-01", "t3.medium " + fakeec2.UbuntuAMI + " web-02"}
	if diff := cmp.Diff(want, p.live()); diff != "" {
		t.Fatalf("instances after apply (-want +got):\n%s", diff)
	}
	st := p.State()
	db := st["servers.db-01"]
	if db["ipv4"] != nil || db["address"] != db["private_ip"] || db["user"] != "ubuntu" || db["availability_zone"] != "eu-north-1b" {
		t.Errorf("db-01, private only: %v", db)
	}
	web := st["servers.web-01"]
	if web["address"] != web["ipv4"] || web["hostname"] != "web-01" || web["user"] != "ubuntu" {
		t.Errorf("web-01: %v", web)
	}
	if keys := p.fake.KeyPairs(); len(keys) != 3 || !slices.Contains(keys, "deploy") {
		t.Errorf("key pairs %v, want deploy and one per web server", keys)
	}
	volumes := func(id any) []string {
		var out []string
		for _, v := range p.fake.Volumes() {
			if v.AttachedTo == id {
				out = append(out, fmt.Sprintf("%s %d", v.Type, v.Size))
			}
		}
		slices.Sort(out)
		return out
	}
	if diff := cmp.Diff([]string{"gp3 200", "gp3 50"}, volumes(db["id"])); diff != "" {
		t.Errorf("volumes of db-01 (-want +got):\n%s", diff)
	}
	p.Run(0, append([]string{"plan", "-detailed-exitcode"}, servers...)...)

	t.Run("disk grown in place", func(t *testing.T) {
		p.T = t
		p.Example("main.ncl", append(edits, `size_gb = 200,`, `size_gb = 300,`)...)
		plan := p.Run(2, append([]string{"plan", "-detailed-exitcode"}, servers...)...)
		provtest.Contains(t, "plan", plan, "servers.db-01 will be updated in-place", "~ size_gb = 200 -> 300", "Plan: 0 to add, 1 to change, 0 to destroy.",
			// 100 GB more of gp3, priced against the cost the state recorded at the last apply
			"Estimated monthly cost: +$8.32 (+$0.00 for new resources, +$0.00 for destroyed ones, +$8.32 for changed ones)")
		p.Run(0, append([]string{"apply", "-auto-approve"}, servers...)...)
		if got := p.State()["servers.db-01"]["id"]; got != db["id"] {
			t.Errorf("db-01 is %v after growing a disk, was %v", got, db["id"])
		}
		if diff := cmp.Diff([]string{"gp3 300", "gp3 50"}, volumes(db["id"])); diff != "" {
			t.Errorf("volumes of db-01 (-want +got):\n%s", diff)
		}
	})

	t.Run("destroy", func(t *testing.T) {
		p.T = t
		out := p.Run(0, "destroy", "-auto-approve")
		provtest.Contains(t, "destroy", out, "Destroy complete! Resources: 4 destroyed.")
		if got := p.live(); len(got) != 0 {
			t.Errorf("instances left: %v", got)
		}
		if got := p.fake.KeyPairs(); len(got) != 0 {
			t.Errorf("key pairs left: %v", got)
		}
		if got := p.fake.Volumes(); len(got) != 0 {
			t.Errorf("volumes left: %+v", got)
		}
	})
}

// TestExample walks examples/aws/ec2.ncl through its life against the fake: plan with cost, apply, no-op plan,
// an in-place change, a replacement, and destroy.
func TestExample(t *testing.T) {
	p := newProject(t, fakeec2.Options{Transition: 20 * time.Millisecond})
	p.Example("ec2.ncl", `poll_interval = "250ms"`, `poll_interval = "10ms"`)
	p.Run(0, "init")

	p.Run(0, "plan", "-out", "create.plan")
	md := p.Run(0, "show", "-format=markdown", "create.plan")
	provtest.Golden(t, "plan.md", md, *update)
	provtest.Contains(t, "the plan", md, "Estimated monthly cost: **+$28.06**", "| `servers.web-01` | `aws_instance` | aws | $8.23 |")

	out := p.Run(0, "apply", "create.plan")
	provtest.Contains(t, "apply", out, "Apply complete! Resources: 6 added, 0 changed, 0 destroyed.", `web_01_ip = "54.`)
	want := []string{"t3.micro " + fakeec2.UbuntuAMI + " web-01", "t3.small " + fakeec2.UbuntuAMI + " web-02"}
	if diff := cmp.Diff(want, p.live()); diff != "" {
		t.Fatalf("instances after apply (-want +got):\n%s", diff)
	}
	st := p.State()
	web01 := st["servers.web-01"]["id"]
	if vols := p.fake.Volumes(); !slices.ContainsFunc(vols, func(v fakeec2.Volume) bool { return v.Size == 50 && v.AttachedTo == web01 }) {
		t.Errorf("no 50 GiB volume attached to %v: %+v", web01, vols)
	}
	p.Run(0, "plan", "-detailed-exitcode")

	t.Run("change in place", func(t *testing.T) {
		p.T = t
		p.Example("ec2.ncl", `poll_interval = "250ms"`, `poll_interval = "10ms"`, `"web-02" = "t3.small"`, `"web-02" = "t3.medium"`)
		plan := p.Run(2, "plan", "-detailed-exitcode")
		provtest.Contains(t, "plan", plan, "servers.web-02 will be updated in-place", `"t3.small" -> "t3.medium"`, "Plan: 0 to add, 1 to change, 0 to destroy.")
		p.Run(0, "apply", "-auto-approve")
		if got := p.State()["servers.web-02"]["id"]; got != st["servers.web-02"]["id"] {
			t.Errorf("web-02 is %v after an in-place change, was %v", got, st["servers.web-02"]["id"])
		}
		want := []string{"t3.medium " + fakeec2.UbuntuAMI + " web-02", "t3.micro " + fakeec2.UbuntuAMI + " web-01"}
		if diff := cmp.Diff(want, p.live()); diff != "" {
			t.Errorf("instances (-want +got):\n%s", diff)
		}
	})

	t.Run("replacement", func(t *testing.T) {
		p.T = t
		p.Example("ec2.ncl", `poll_interval = "250ms"`, `poll_interval = "10ms"`, `"web-02" = "t3.small"`, `"web-02" = "t3.medium"`,
			`let ubuntu = "ami-0e2c8caa4b6378d8c"`, `let ubuntu = "`+fakeec2.DebianAMI+`"`)
		plan := p.Run(2, "plan", "-detailed-exitcode")
		provtest.Contains(t, "plan", plan, "servers.web-01 must be replaced", "servers.web-02 must be replaced", "forces replacement")
		p.Run(0, "apply", "-auto-approve")
		want := []string{"t3.medium " + fakeec2.DebianAMI + " web-02", "t3.micro " + fakeec2.DebianAMI + " web-01"}
		if diff := cmp.Diff(want, p.live()); diff != "" {
			t.Errorf("instances (-want +got):\n%s", diff)
		}
		now := p.State()
		if now["servers.web-01"]["id"] == web01 {
			t.Error("web-01 kept its id through a replacement")
		}
		if got := now["volumes.data-attachment"]["instance_id"]; got != now["servers.web-01"]["id"] {
			t.Errorf("the data volume is attached to %v, want the new web-01 %v", got, now["servers.web-01"]["id"])
		}
		p.Run(0, "plan", "-detailed-exitcode")
	})

	t.Run("destroy", func(t *testing.T) {
		p.T = t
		out := p.Run(0, "destroy", "-auto-approve")
		provtest.Contains(t, "destroy", out, "Destroy complete! Resources: 6 destroyed.")
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
// one in the state. The server is an aws_instance, or an aws_server of the servers section.
func TestCrashMidCreate(t *testing.T) {
	const instance = `"resources": {"servers.web": {"type": "aws_instance",
    "config": {"ami": "` + fakeec2.UbuntuAMI + `", "instance_type": "t3.micro", "tags": {"Name": "web"}}}}`
	const server = `"servers": {"web": {"provider": "aws", "plan": "small", "zone": "us-east-1b",
    "ssh_keys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO2Ap4IJsLRHnHuUJ9fp1v7XJfYzP6eH2AXbVKc2Fm2Q ops@example"], "hostname": "web"}}`
	for _, tc := range []struct {
		name       string
		latency    time.Duration // of RunInstances' response
		transition time.Duration
		doc        string // the document's resources or servers
		stateKey   string // the attribute with the instance's state
		keyPairs   int
	}{
		{"response in flight", 3 * time.Second, 20 * time.Millisecond, instance, "instance_state", 0},
		{"instance pending", 0, 3 * time.Second, instance, "instance_state", 0},
		{"server pending", 0, 3 * time.Second, server, "state", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newProject(t, fakeec2.Options{Transition: tc.transition})
			p.fake.SetLatency("RunInstances", tc.latency)
			p.Write("main.json", `{"prov": "1",
  "providers": {"aws": {"source": "builtin/aws", "config": {"region": "us-east-1", "poll_interval": "20ms"}}},
  `+tc.doc+`}`)
			p.Run(0, "init")

			p.KillApply("instance launched", func() bool { return len(p.fake.Instances()) > 0 })

			resume := p.Run(0, "apply", "-resume")
			provtest.Contains(t, "apply -resume", resume, "servers.web: create in doubt", "found: recorded as created")
			var live []fakeec2.Instance
			for _, in := range p.fake.Instances() {
				if in.State != fakeec2.Terminated {
					live = append(live, in)
				}
			}
			if len(live) != 1 || len(p.fake.Instances()) != 1 {
				t.Fatalf("the fake has %d instances (%d live) after resume, want exactly 1\n%s", len(p.fake.Instances()), len(live), resume)
			}
			if got := p.State()["servers.web"]["id"]; got != live[0].ID {
				t.Errorf("the state has %v, the fake %s", got, live[0].ID)
			}
			if got := p.fake.KeyPairs(); len(got) != tc.keyPairs {
				t.Errorf("key pairs %v, want %d", got, tc.keyPairs)
			}
			if got := p.State()["servers.web"][tc.stateKey]; got != "running" {
				t.Errorf("%s %v, want running", tc.stateKey, got)
			}
			p.Run(0, "plan", "-detailed-exitcode")
		})
	}
}

// TestCloudError: an error of the cloud reaches the user with the resource address and EC2's code.
func TestCloudError(t *testing.T) {
	p := newProject(t, fakeec2.Options{Transition: 20 * time.Millisecond})
	p.Write("main.json", `{"prov": "1",
  "providers": {"aws": {"source": "builtin/aws", "config": {"region": "us-east-1", "poll_interval": "20ms"}}},
  "resources": {"servers.web": {"type": "aws_instance", "config": {"ami": "ami-0000000000000dead", "instance_type": "t3.micro"}}}}`)
	p.Run(0, "init")
	out := p.Run(1, "apply", "-auto-approve")
	provtest.Contains(t, "apply", out, "error: servers.web: RunInstances: InvalidAMIID.NotFound: The image id '[ami-0000000000000dead]' does not exist",
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
	p.Write("main.json", `{"prov": "1",
  "providers": {"aws": {"source": "builtin/aws", "config": {"region": "us-east-1", "poll_interval": "20ms"}}},
  "resources": {"servers.legacy": {"type": "aws_instance",
    "config": {"ami": "`+fakeec2.UbuntuAMI+`", "instance_type": "t3.small", "tags": {"Name": "legacy"}}}}}`)
	p.Run(0, "init")
	p.Run(0, "import", "servers.legacy", id)
	if got := p.State()["servers.legacy"]["id"]; got != id {
		t.Fatalf("state id %v, want %s", got, id)
	}
	p.Run(0, "plan", "-detailed-exitcode")
	if n := len(p.fake.Instances()); n != 1 {
		t.Errorf("the fake has %d instances after import, want 1", n)
	}
}
