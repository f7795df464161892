package upcloud_test

// End-to-end tests of examples/upcloud/web.ncl through the built prov binary against the fake UpCloud API,
// started in the test on 127.0.0.1: plan (with its cost estimate, golden), apply, a change in place, a
// change that replaces, destroy, and a kill -9 of prov mid-create followed by apply -resume.

import (
	"context"
	"flag"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	uc "github.com/UpCloudLtd/upcloud-go-api/v8/upcloud"
	"github.com/UpCloudLtd/upcloud-go-api/v8/upcloud/client"
	"github.com/UpCloudLtd/upcloud-go-api/v8/upcloud/request"
	"github.com/UpCloudLtd/upcloud-go-api/v8/upcloud/service"
	"github.com/google/go-cmp/cmp"

	fake "github.com/provhq/prov/internal/fakecloud/upcloud"
	"github.com/provhq/prov/internal/provtest"
	"github.com/provhq/prov/internal/secrets"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestMain(m *testing.M) { provtest.Main(m) }

// example writes examples/upcloud/web.ncl into the project as main.ncl, with a fast poll interval and
// each edit (old → new) made.
func (p *project) example(edits ...string) {
	p.T.Helper()
	p.Example("web.ncl", append([]string{`poll_interval = "1s"`, `poll_interval = "5ms"`}, edits...)...)
}

const (
	ubuntu = "01000000-0000-4000-8000-000030240200"
	debian = "01000000-0000-4000-8000-000020070100"
)

// project is one test's working directory with a fake UpCloud behind it.
type project struct {
	*provtest.Project
	fake *fake.Server
}

func newProject(t *testing.T, opts fake.Options) *project {
	t.Helper()
	opts.Username, opts.Password = "prov-e2e", "e2e-secret"
	f := fake.Start(opts)
	t.Cleanup(f.Close)
	pr := provtest.NewProject(t, []string{"UPCLOUD_"}, "UPCLOUD_API_URL="+f.URL(), "UPCLOUD_USERNAME=prov-e2e",
		"UPCLOUD_PASSWORD=e2e-secret")
	return &project{Project: pr, fake: f}
}

// live returns the fake's servers as "HOSTNAME PLAN IMAGE STATE", sorted.
func (p *project) live() []string {
	var out []string
	for _, sv := range p.fake.ServerInfos() {
		out = append(out, strings.Join([]string{sv.Hostname, sv.Plan, sv.Image, sv.State}, " "))
	}
	slices.Sort(out)
	return out
}

// TestExample walks examples/upcloud/web.ncl through its life against the fake: plan with cost, apply, no-op
// plan, an in-place change, a replacement, and destroy.
func TestExample(t *testing.T) {
	p := newProject(t, fake.Options{Transition: 20 * time.Millisecond})
	p.example()
	p.Run(0, "init")

	p.Run(0, "plan", "-out", "create.plan")
	md := p.Run(0, "show", "-format=markdown", "create.plan")
	provtest.Golden(t, "plan.md", md, *update)
	provtest.Contains(t, "the plan", md, "Estimated monthly cost: **+$32.00**", "| `servers.web-01` | `upcloud_server` | upcloud | $13.00 |",
		"| `disks.data` | `upcloud_storage` | upcloud | $6.00 |")

	out := p.Run(0, "apply", "create.plan")
	provtest.Contains(t, "apply", out, "Apply complete! Resources: 5 added, 0 changed, 0 destroyed.", `web_01_ip = "94.237.`, `web_02_private_ip = "10.20.0.`)
	want := []string{"web-01 1xCPU-2GB " + ubuntu + " started", "web-02 1xCPU-2GB " + ubuntu + " started"}
	if diff := cmp.Diff(want, p.live()); diff != "" {
		t.Fatalf("servers after apply (-want +got):\n%s", diff)
	}
	st := p.State()
	web01 := st["servers.web-01"]["id"]
	if fw := p.fake.ServerInfos()[slices.IndexFunc(p.fake.ServerInfos(), func(s fake.ServerInfo) bool { return s.UUID == web01 })]; fw.Firewall != "on" || fw.Rules != 3 {
		t.Errorf("web-01 firewall %s with %d rules, want on with 3", fw.Firewall, fw.Rules)
	}
	if n := len(p.fake.Storages()); n != 3 {
		t.Errorf("%d storages, want 3 (two boot disks and the data disk)", n)
	}
	p.Run(0, "plan", "-detailed-exitcode")

	t.Run("change in place", func(t *testing.T) {
		p.T = t
		p.example(`prov.plan "upcloud" "small"`, `prov.plan "upcloud" "medium"`, `role = "web"`, `role = "frontend"`)
		plan := p.Run(2, "plan", "-detailed-exitcode")
		provtest.Contains(t, "plan", plan, "servers.web-01 will be updated in-place", `"1xCPU-2GB" -> "2xCPU-4GB"`, "Plan: 0 to add, 2 to change, 0 to destroy.")
		p.Run(0, "apply", "-auto-approve")
		if got := p.State()["servers.web-01"]["id"]; got != web01 {
			t.Errorf("web-01 is %v after an in-place change, was %v", got, web01)
		}
		want := []string{"web-01 2xCPU-4GB " + ubuntu + " started", "web-02 2xCPU-4GB " + ubuntu + " started"}
		if diff := cmp.Diff(want, p.live()); diff != "" {
			t.Errorf("servers (-want +got):\n%s", diff)
		}
		p.Run(0, "plan", "-detailed-exitcode")
	})

	t.Run("replacement", func(t *testing.T) {
		p.T = t
		p.example(`prov.plan "upcloud" "small"`, `prov.plan "upcloud" "medium"`, `role = "web"`, `role = "frontend"`,
			`image = "Ubuntu Server 24.04 LTS (Noble Numbat)"`, `image = "Debian GNU/Linux 12 (Bookworm)"`)
		plan := p.Run(2, "plan", "-detailed-exitcode")
		provtest.Contains(t, "plan", plan, "servers.web-01 must be replaced", "servers.web-02 must be replaced", "forces replacement")
		p.Run(0, "apply", "-auto-approve")
		want := []string{"web-01 2xCPU-4GB " + debian + " started", "web-02 2xCPU-4GB " + debian + " started"}
		if diff := cmp.Diff(want, p.live()); diff != "" {
			t.Errorf("servers (-want +got):\n%s", diff)
		}
		now := p.State()
		if now["servers.web-01"]["id"] == web01 {
			t.Error("web-01 kept its id through a replacement")
		}
		if got := now["firewall.web-01"]["server_id"]; got != now["servers.web-01"]["id"] {
			t.Errorf("the firewall rules are on %v, want the new web-01 %v", got, now["servers.web-01"]["id"])
		}
		p.Run(0, "plan", "-detailed-exitcode")
	})

	t.Run("destroy", func(t *testing.T) {
		p.T = t
		out := p.Run(0, "destroy", "-auto-approve")
		provtest.Contains(t, "destroy", out, "Destroy complete! Resources: 5 destroyed.")
		if got := p.live(); len(got) != 0 {
			t.Errorf("servers left: %v", got)
		}
		if got := p.fake.Storages(); len(got) != 0 {
			t.Errorf("storages left: %v", got)
		}
		if got := p.fake.Networks(); len(got) != 0 {
			t.Errorf("networks left: %v", got)
		}
	})
}

// TestServers plans and applies examples/upcloud/main.ncl against the fake: the provider's password
// comes from a SOPS file (written here, encrypted to a fresh age key), the servers from the portable
// servers section. Their containerd and kubernetes installs run over SSH, which the fake's machines
// do not speak, so the whole plan is shown and the apply targets the servers and the network.
func TestServers(t *testing.T) {
	p := newProject(t, fake.Options{Transition: 20 * time.Millisecond})
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	enc, err := secrets.Encrypt([]byte("password: e2e-secret\nk8s_token: abcdef.0123456789abcdef\n"), p.Path("secrets/upcloud.sops.yaml"),
		secrets.EncryptOptions{AgeRecipients: []string{id.Recipient().String()}})
	if err != nil {
		t.Fatal(err)
	}
	p.Write("secrets/upcloud.sops.yaml", string(enc))
	p.AddEnv("SOPS_AGE_KEY=" + id.String())
	p.Example("main.ncl", `username = "prov-ci"`, `username = "prov-e2e", poll_interval = "5ms"`)
	p.Run(0, "init")
	p.Run(0, "validate")
	provtest.Contains(t, "the whole plan", p.Run(0, "plan"), "taskservs.cp-01.kubernetes will be created",
		"taskservs.wk-01.containerd will be created", "Plan: 7 to add, 0 to change, 0 to destroy.")

	targets := []string{"-target", "servers.cp-01", "-target", "servers.wk-01"}
	p.Run(0, append([]string{"plan", "-out", "servers.plan"}, targets...)...)
	md := p.Run(0, "show", "-format=markdown", "servers.plan")
	provtest.Golden(t, "servers-plan.md", md, *update)
	provtest.Contains(t, "the plan", md, "Plan: 3 to add, 0 to change, 0 to destroy.")
	provtest.Contains(t, "apply", p.Run(0, "apply", "servers.plan"), "Apply complete! Resources: 3 added, 0 changed, 0 destroyed.")
	if got := p.live(); len(got) != 2 || !strings.HasPrefix(got[0], "cp-01 ") || !strings.HasPrefix(got[1], "wk-01 ") {
		t.Errorf("servers after apply: %v", got)
	}
	st := p.State()
	if cp := st["servers.cp-01"]; cp["private_ip"] == nil || cp["private_ip"] == "" || cp["ipv4"] == nil {
		t.Errorf("cp-01 has no public and private addresses: %v", cp)
	}
	p.Run(0, append([]string{"plan", "-detailed-exitcode"}, targets...)...)
	// The state keeps each object's cost from its apply: what a destroy saves.
	provtest.Contains(t, "the destroy plan", p.Run(0, "plan", "-destroy"),
		"Estimated monthly cost: −$99.84 (+$0.00 for new resources, −$99.84 for destroyed ones)")
	provtest.Contains(t, "destroy", p.Run(0, "destroy", "-auto-approve"), "Destroy complete! Resources: 3 destroyed.")
	if got := p.live(); len(got) != 0 {
		t.Errorf("servers after destroy: %v", got)
	}
}

// TestCrashMidCreate kills prov (and its plugin) with SIGKILL while the answer to CreateServer is in
// flight, or while the new server is still in maintenance, then finishes with apply -resume: exactly
// one server exists, and it is the one in the state.
func TestCrashMidCreate(t *testing.T) {
	for _, tc := range []struct {
		name       string
		latency    time.Duration // of CreateServer's answer
		transition time.Duration
	}{
		{"answer in flight", 3 * time.Second, 20 * time.Millisecond},
		{"server in maintenance", 0, 3 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newProject(t, fake.Options{Transition: tc.transition})
			p.fake.SetLatency("CreateServer", tc.latency)
			p.Write("main.json", `{"prov": "1",
  "providers": {"upcloud": {"source": "builtin/upcloud", "config": {"poll_interval": "20ms"}}},
  "resources": {"servers.web": {"type": "upcloud_server",
    "config": {"hostname": "web", "plan": "1xCPU-1GB", "zone": "de-fra1", "labels": {"role": "web"}}}}}`)
			p.Run(0, "init")

			p.KillApply("server created", func() bool { return len(p.fake.Servers()) > 0 })

			resume := p.Run(0, "apply", "-resume")
			provtest.Contains(t, "apply -resume", resume, "servers.web: create in doubt", "found: recorded as created")
			live := p.fake.ServerInfos()
			if len(live) != 1 {
				t.Fatalf("the fake has %d servers after resume, want exactly 1\n%s", len(live), resume)
			}
			st := p.State()["servers.web"]
			if diff := cmp.Diff([]any{live[0].UUID, "started"}, []any{st["id"], st["state"]}); diff != "" {
				t.Errorf("state of servers.web (-want +got):\n%s", diff)
			}
			p.Run(0, "plan", "-detailed-exitcode")
		})
	}
}

// TestCloudError: an error of the cloud reaches the user with the resource address and UpCloud's code.
func TestCloudError(t *testing.T) {
	p := newProject(t, fake.Options{Transition: 20 * time.Millisecond})
	p.Write("main.json", `{"prov": "1",
  "providers": {"upcloud": {"source": "builtin/upcloud", "config": {"poll_interval": "20ms"}}},
  "resources": {"servers.web": {"type": "upcloud_server",
    "config": {"hostname": "web", "plan": "1xCPU-1GB", "zone": "de-fra1", "image": "01000000-0000-4000-8000-00000000dead"}}}}`)
	p.Run(0, "init")
	out := p.Run(1, "apply", "-auto-approve")
	provtest.Contains(t, "apply", out, "error: servers.web: CreateServer: STORAGE_NOT_FOUND: The storage 01000000-0000-4000-8000-00000000dead does not exist.",
		"HTTP status 404")
}

// TestImport: prov import brings a server made outside prov under management, and the plan of a
// configuration that matches it changes nothing in the cloud.
func TestImport(t *testing.T) {
	p := newProject(t, fake.Options{Transition: 20 * time.Millisecond})
	svc := service.New(client.New("prov-e2e", "e2e-secret", client.WithBaseURL(p.fake.URL())))
	labels := uc.LabelSlice{{Key: "role", Value: "legacy"}}
	sv, err := svc.CreateServer(context.Background(), &request.CreateServerRequest{Zone: "de-fra1", Title: "legacy",
		Hostname: "legacy", Plan: "1xCPU-1GB", Labels: &labels,
		StorageDevices: request.CreateServerStorageDeviceSlice{{Action: "clone", Storage: ubuntu, Size: 25, Tier: "maxiops"}}})
	if err != nil {
		t.Fatal(err)
	}
	p.Write("main.json", `{"prov": "1",
  "providers": {"upcloud": {"source": "builtin/upcloud", "config": {"poll_interval": "20ms"}}},
  "resources": {"servers.legacy": {"type": "upcloud_server",
    "config": {"hostname": "legacy", "plan": "1xCPU-1GB", "zone": "de-fra1", "labels": {"role": "legacy"}}}}}`)
	p.Run(0, "init")
	p.Run(0, "import", "servers.legacy", sv.UUID)
	if got := p.State()["servers.legacy"]["id"]; got != sv.UUID {
		t.Fatalf("state id %v, want %s", got, sv.UUID)
	}
	// The inputs UpCloud does not report (image, user, …) are recorded, in place.
	p.Run(0, "apply", "-auto-approve")
	p.Run(0, "plan", "-detailed-exitcode")
	if got := p.fake.Servers(); len(got) != 1 || got[0] != sv.UUID {
		t.Errorf("the fake has %v after import, want just %s", got, sv.UUID)
	}
}
