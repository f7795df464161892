package multicloud_test

// End-to-end test of examples/multi-cloud through prov's real command line (this test binary, acting
// as prov) against the fake UpCloud and EC2 APIs, both started in the test on 127.0.0.1: local, upcloud
// and aws resources referring to each other are applied, changed through a reference, and destroyed.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	fakeec2 "github.com/provhq/prov/internal/fakecloud/ec2"
	fakeupcloud "github.com/provhq/prov/internal/fakecloud/upcloud"
	"github.com/provhq/prov/internal/provtest"
)

func TestMain(m *testing.M) { provtest.Main(m) }

func TestMultiCloud(t *testing.T) {
	uc := fakeupcloud.Start(fakeupcloud.Options{Username: "demo", Password: "demo", Transition: 20 * time.Millisecond})
	t.Cleanup(uc.Close)
	ec2 := fakeec2.Start(fakeec2.Options{Transition: 20 * time.Millisecond})
	t.Cleanup(ec2.Close)
	p := provtest.NewProject(t, []string{"AWS_", "UPCLOUD_"},
		"UPCLOUD_API_URL="+uc.URL(), "UPCLOUD_USERNAME=demo", "UPCLOUD_PASSWORD=demo",
		"AWS_ENDPOINT_URL_EC2="+ec2.URL(), "AWS_ACCESS_KEY_ID=AKIDFAKE", "AWS_SECRET_ACCESS_KEY=fake-secret",
		"AWS_EC2_METADATA_DISABLED=true")
	p.AddEnv("AWS_CONFIG_FILE="+filepath.Join(p.Home, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(p.Home, "aws-credentials"))
	run := p.Run
	example := func(version string) {
		t.Helper()
		p.Example("main.ncl", `poll_interval = "1s"`, `poll_interval = "5ms"`, `version = "1.4.0"`, `version = "`+version+`"`)
	}
	inventory := func() string {
		t.Helper()
		live := 0
		for _, in := range ec2.Instances() {
			if in.State != fakeec2.Terminated {
				live++
			}
		}
		if n := len(uc.Servers()); n != 1 || live != 1 {
			t.Fatalf("the fakes hold %d upcloud servers and %d live instances, want 1 and 1", n, live)
		}
		data, err := os.ReadFile(p.Path("inventory.ini"))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}

	example("1.4.0")
	run(0, "init")
	plan := run(0, "plan")
	if !strings.Contains(plan, "Plan: 5 to add, 0 to change, 0 to destroy.") {
		t.Fatalf("plan:\n%s", plan)
	}
	out := run(0, "apply", "-auto-approve")
	if !strings.Contains(out, "Apply complete! Resources: 5 added") {
		t.Fatalf("apply:\n%s", out)
	}
	got := inventory()
	web, api := ipOf(t, out, "web_ip"), ipOf(t, out, "api_ip")
	want := "# prov-demo 1.4.0\n[web]\n" + web + "\n[api]\n" + api
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("inventory.ini (-want +got):\n%s", diff)
	}
	run(0, "plan", "-detailed-exitcode")

	// A new release relabels the UpCloud server and retags the EC2 instance in place.
	example("1.5.0")
	plan = run(2, "plan", "-detailed-exitcode")
	for _, w := range []string{"servers.web will be updated in-place", "servers.api will be updated in-place"} {
		if !strings.Contains(plan, w) {
			t.Errorf("plan lacks %q:\n%s", w, plan)
		}
	}
	run(0, "apply", "-auto-approve")
	if got := inventory(); !strings.HasPrefix(got, "# prov-demo 1.5.0\n") {
		t.Errorf("inventory.ini after the release:\n%s", got)
	}

	run(0, "destroy", "-auto-approve")
	if n := len(uc.Servers()); n != 0 {
		t.Errorf("%d upcloud servers left", n)
	}
	for _, in := range ec2.Instances() {
		if in.State != fakeec2.Terminated {
			t.Errorf("instance %s left %s", in.ID, in.State)
		}
	}
}

// ipOf returns the value of output name in prov's apply output (`name = "1.2.3.4"`).
func ipOf(t *testing.T, out, name string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, name+" = "); ok {
			return strings.Trim(v, `"`)
		}
	}
	t.Fatalf("no output %s in:\n%s", name, out)
	return ""
}
