package multicloud_test

// End-to-end test of examples/multi-cloud through the built prov binary against the fake UpCloud and
// EC2 APIs, both started in the test on 127.0.0.1: local, upcloud and aws resources referring to each
// other are applied, changed through a reference, and destroyed.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	fakeec2 "github.com/provhq/prov/internal/fakecloud/ec2"
	fakeupcloud "github.com/provhq/prov/internal/fakecloud/upcloud"
)

var provBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "prov-multicloud-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	provBin = filepath.Join(dir, "prov")
	if out, err := exec.Command("go", "build", "-o", provBin, "github.com/provhq/prov/cli/prov").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build prov: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestMultiCloud(t *testing.T) {
	uc := fakeupcloud.Start(fakeupcloud.Options{Username: "demo", Password: "demo", Transition: 20 * time.Millisecond})
	t.Cleanup(uc.Close)
	ec2 := fakeec2.Start(fakeec2.Options{Transition: 20 * time.Millisecond})
	t.Cleanup(ec2.Close)
	dir, home := t.TempDir(), t.TempDir()
	env := []string{"NO_COLOR=1", "HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"XDG_DATA_HOME=" + filepath.Join(home, "data"), "XDG_CACHE_HOME=" + filepath.Join(home, "cache"),
		"UPCLOUD_API_URL=" + uc.URL(), "UPCLOUD_USERNAME=demo", "UPCLOUD_PASSWORD=demo",
		"AWS_ENDPOINT_URL_EC2=" + ec2.URL(), "AWS_ACCESS_KEY_ID=AKIDFAKE", "AWS_SECRET_ACCESS_KEY=fake-secret",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=" + filepath.Join(home, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "aws-credentials")}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "HOME" || name == "NO_COLOR" || strings.HasPrefix(name, "XDG_"):
		case strings.HasPrefix(name, "AWS_") || strings.HasPrefix(name, "UPCLOUD_") || strings.HasPrefix(name, "PROV_") || strings.HasPrefix(name, "PROVISIONING_"):
		default:
			env = append(env, kv)
		}
	}
	run := func(want int, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, provBin, args...)
		cmd.Dir, cmd.Env, cmd.WaitDelay = dir, env, 5*time.Second
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("prov %s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		if code := cmd.ProcessState.ExitCode(); code != want {
			t.Fatalf("prov %s: exit %d, want %d\n%s", strings.Join(args, " "), code, want, out.String())
		}
		return out.String()
	}
	example := func(version string) {
		t.Helper()
		src, err := os.ReadFile("main.ncl")
		if err != nil {
			t.Fatal(err)
		}
		s := strings.ReplaceAll(string(src), `poll_interval = "1s"`, `poll_interval = "5ms"`)
		s = strings.ReplaceAll(s, `version = "1.4.0"`, `version = "`+version+`"`)
		if err := os.WriteFile(filepath.Join(dir, "main.ncl"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
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
		data, err := os.ReadFile(filepath.Join(dir, "inventory.ini"))
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
