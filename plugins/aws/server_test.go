package aws

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/google/go-cmp/cmp"

	fakeec2 "github.com/provhq/prov/internal/fakecloud/ec2"
	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/sdk/plugintest"
)

const pubKey2 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE2Ap4IJsLRHnHuUJ9fp1v7XJfYzP6eH2AXbVKc2Fm2Q dev@example"

// serverConfig is a portable server as the servers section writes it, with changes.
func serverConfig(changes map[string]any) map[string]any {
	c := map[string]any{"hostname": "web-01", "plan": "2xCPU-4GB", "zone": "us-east-1b",
		"storage":  []any{map[string]any{"size_gb": 20, "tier": "maxiops"}, map[string]any{"size_gb": 100, "tier": "gp2", "mount": "/data"}},
		"ssh_keys": []any{pubKey, pubKey2}, "labels": map[string]any{"role": "web"}}
	for k, v := range changes {
		c[k] = v
	}
	return c
}

// volumesOf returns the fake's volumes of instance id as "TYPE SIZE", sorted.
func volumesOf(f *fakeec2.Server, id any) []string {
	var out []string
	for _, v := range f.Volumes() {
		if v.AttachedTo == id {
			out = append(out, fmt.Sprintf("%s %d", v.Type, v.Size))
		}
	}
	slices.Sort(out)
	return out
}

// TestServer walks a portable server through its life on the fake: a portable plan and disks, SSH keys
// as a key pair and cloud-init, then a new plan, a bigger disk in place, a smaller disk that replaces it,
// and destroy, which deletes its key pair and volumes.
func TestServer(t *testing.T) {
	f, cfg := fake(t)
	var firstID any
	plugintest.Test(t, plugintest.Case{
		Provider: New(), ProviderConfig: cfg, Type: "aws_server",
		Steps: []plugintest.Step{
			{Config: serverConfig(nil), Action: plugintest.Create,
				Check: func(st map[string]any) error {
					firstID = st["id"]
					want := map[string]any{"instance_type": "t3.medium", "availability_zone": "us-east-1b", "subnet_id": f.Subnets()[1],
						"ami": fakeec2.UbuntuAMI, "user": "ubuntu", "state": "running", "title": "web-01", "address": st["ipv4"],
						"storage": []any{map[string]any{"size_gb": 20.0, "tier": "maxiops"}, map[string]any{"size_gb": 100.0, "tier": "gp2", "mount": "/data"}}}
					got := map[string]any{}
					for k := range want {
						got[k] = st[k]
					}
					if diff := cmp.Diff(want, got); diff != "" {
						return fmt.Errorf("state (-want +got):\n%s", diff)
					}
					if ip, _ := st["ipv4"].(string); !strings.HasPrefix(ip, "54.") {
						return fmt.Errorf("ipv4 %v", st["ipv4"])
					}
					ins := live(f)
					if len(ins) != 1 {
						return fmt.Errorf("%d live instances", len(ins))
					}
					in := ins[0]
					if in.KeyName != st["key_name"] || !slices.Contains(f.KeyPairs(), in.KeyName) || !strings.HasPrefix(in.KeyName, "prov-web-01-") {
						return fmt.Errorf("key pair %q of the instance, state %v, fake %v", in.KeyName, st["key_name"], f.KeyPairs())
					}
					if !strings.Contains(in.UserData, "ssh_authorized_keys:") || !strings.Contains(in.UserData, "dev@example") {
						return fmt.Errorf("user data without the second key:\n%s", in.UserData)
					}
					if in.Tags["Name"] != "web-01" || in.Tags["role"] != "web" || in.ClientToken == "" {
						return fmt.Errorf("instance %+v", in)
					}
					if diff := cmp.Diff([]string{"gp2 100", "gp3 20"}, volumesOf(f, in.ID)); diff != "" {
						return fmt.Errorf("volumes (-want +got):\n%s", diff)
					}
					return nil
				}},
			// A new plan restarts the same instance; a bigger disk grows in place; labels change.
			{Config: serverConfig(map[string]any{"plan": "large", "labels": map[string]any{"role": "web", "env": "prod"},
				"storage": []any{map[string]any{"size_gb": 20, "tier": "maxiops"}, map[string]any{"size_gb": 150, "tier": "gp2", "mount": "/data"}}}),
				Action: plugintest.Update,
				Check: func(st map[string]any) error {
					in := live(f)[0]
					if st["id"] != firstID || in.Type != "c5.xlarge" || in.Tags["env"] != "prod" {
						return fmt.Errorf("after the update: state id %v (was %v), instance %+v", st["id"], firstID, in)
					}
					if diff := cmp.Diff([]string{"gp2 150", "gp3 20"}, volumesOf(f, in.ID)); diff != "" {
						return fmt.Errorf("volumes (-want +got):\n%s", diff)
					}
					return nil
				}},
			// A smaller disk is a new server.
			{Config: serverConfig(map[string]any{"plan": "large",
				"storage": []any{map[string]any{"size_gb": 20, "tier": "maxiops"}, map[string]any{"size_gb": 120, "tier": "gp2"}}}),
				Action: plugintest.Replace,
				Check: func(st map[string]any) error {
					if st["id"] == firstID || len(live(f)) != 1 {
						return fmt.Errorf("after the replacement: state id %v, live %+v", st["id"], live(f))
					}
					if n := len(f.KeyPairs()); n != 1 {
						return fmt.Errorf("key pairs %v, want the new server's alone", f.KeyPairs())
					}
					return nil
				}},
		},
		CheckDestroyed: func(map[string]any) error {
			if n := len(live(f)); n != 0 {
				return fmt.Errorf("%d instances live", n)
			}
			if k := f.KeyPairs(); len(k) != 0 {
				return fmt.Errorf("key pairs left: %v", k)
			}
			if v := f.Volumes(); len(v) != 0 {
				return fmt.Errorf("volumes left: %+v", v)
			}
			return nil
		},
	})
}

// TestServerPrivate: a server with only a private interface, a fixed address and another login user
// has no public address, is reached at its private one, and gets its user from cloud-init.
func TestServerPrivate(t *testing.T) {
	f, cfg := fake(t)
	h := plugintest.New(t, New(), cfg)
	conf := map[string]any{"hostname": "db-01", "plan": "t3.micro", "zone": "us-east-1", "user": "deploy",
		"network_interfaces": []any{map[string]any{"type": "private", "network": f.Subnets()[2], "ip_address": "172.31.32.77"}},
		"ssh_keys":           []any{pubKey}, "user_data": "#!/bin/sh\necho hello\n"}
	r := h.Apply(h.Plan("aws_server", nil, conf))
	if len(r.Diagnostics) > 0 {
		t.Fatal(r.Diagnostics)
	}
	got := map[string]any{"ipv4": r.State["ipv4"], "private_ip": r.State["private_ip"], "address": r.State["address"],
		"user": r.State["user"], "availability_zone": r.State["availability_zone"], "zone": r.State["zone"]}
	want := map[string]any{"ipv4": nil, "private_ip": "172.31.32.77", "address": "172.31.32.77", "user": "deploy",
		"availability_zone": "us-east-1c", "zone": "us-east-1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
	ud := live(f)[0].UserData
	for _, s := range []string{"multipart/mixed", "name: \"deploy\"", "ops@example", "text/x-shellscript", "echo hello"} {
		if !strings.Contains(ud, s) {
			t.Errorf("user data lacks %q:\n%s", s, ud)
		}
	}
	if p := h.Plan("aws_server", r.State, conf); p.Action != plugintest.NoOp {
		t.Errorf("plan after apply: %s %v", p.Action, p.RequiresReplace)
	}
	if p := h.Plan("aws_server", r.State, mergeMap(conf, map[string]any{"user_data": "#!/bin/sh\necho bye\n"})); p.Action != plugintest.Update {
		t.Errorf("new user data plans %s, want update", p.Action)
	}
	if p := h.Plan("aws_server", r.State, mergeMap(conf, map[string]any{"user": "root"})); p.Action != plugintest.Replace {
		t.Errorf("another user plans %s, want replace", p.Action)
	}
	// Found again by its operation id, as after a crash mid-create, it is the configured server.
	found, ds := h.Settle("aws_server", "plugintest-op-1")
	if len(ds) > 0 || found["id"] != r.State["id"] || found["inputs_sha256"] != r.State["inputs_sha256"] {
		t.Fatalf("settle: %v %v", ds, found)
	}
	if p := h.Plan("aws_server", found, conf); p.Action == plugintest.Replace {
		t.Errorf("the server found after a crash plans a replacement of %v", p.RequiresReplace)
	}
	// Imported by id, it has what EC2 reports, and adopts the configured inputs EC2 does not report.
	imported, ds := h.Import("aws_server", r.State["id"].(string))
	if len(ds) > 0 || imported["hostname"] != "db-01" || imported["private_ip"] != "172.31.32.77" || imported["plan"] != "t3.micro" {
		t.Fatalf("import: %v %v", ds, imported)
	}
	if p := h.Plan("aws_server", imported, conf); p.Action == plugintest.Replace {
		t.Errorf("the imported server plans a replacement of %v", p.RequiresReplace)
	}
}

func mergeMap(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// TestServerPlan: the portable plans and zones map to instance types and regions with their cost, and
// what EC2 cannot do is refused on the attribute.
func TestServerPlan(t *testing.T) {
	_, cfg := fake(t)
	h := plugintest.New(t, New(), cfg)
	for _, tc := range []struct {
		name    string
		config  map[string]any
		typ     string
		cost    float64
		wantErr string
	}{
		{"portable size", map[string]any{"plan": "medium"}, "t3.medium", 0.0416*730 + 8*0.08, ""},
		{"UpCloud plan with disks", map[string]any{"plan": "1xCPU-2GB", "storage": []any{map[string]any{"size_gb": 30}, map[string]any{"size_gb": 500, "tier": "hdd"}}},
			"t3.small", 0.0208*730 + 30*0.08 + 500*0.045, ""},
		{"instance type in another region", map[string]any{"plan": "t3.micro", "zone": "eu-north-1a"}, "t3.micro", 0, ""},
		{"unknown plan", map[string]any{"plan": "huge"}, "", 0, `"huge" is neither an instance type`},
		{"bad zone", map[string]any{"zone": "fi-hel1"}, "", 0, "zone"},
		{"two subnets", map[string]any{"network_interfaces": []any{map[string]any{"network": "subnet-1"}, map[string]any{"network": "subnet-2"}}},
			"", 0, "network_interfaces[1].network: an aws_server is in one subnet"},
		{"IPv6", map[string]any{"network_interfaces": []any{map[string]any{"family": "IPv6"}}}, "", 0, "network_interfaces[0].family"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := mergeMap(map[string]any{"hostname": "x", "plan": "medium", "zone": "us-east-1a"}, tc.config)
			if tc.wantErr != "" {
				ds := append(h.Validate("aws_server", conf), h.Plan("aws_server", nil, conf).Diagnostics...)
				if !strings.Contains(strings.Join(ds, "\n"), tc.wantErr) {
					t.Errorf("diagnostics %q, want %q", ds, tc.wantErr)
				}
				return
			}
			p := h.Plan("aws_server", nil, conf)
			if len(p.Diagnostics) > 0 && tc.cost != 0 {
				t.Fatal(p.Diagnostics)
			}
			if p.Planned["instance_type"] != tc.typ {
				t.Errorf("instance_type %v, want %s", p.Planned["instance_type"], tc.typ)
			}
			resp := planCost(t, h, "aws_server", conf)
			if tc.cost == 0 {
				return
			}
			if resp == nil || fmt.Sprintf("%.4f", *resp) != fmt.Sprintf("%.4f", tc.cost) {
				t.Errorf("monthly cost %v, want %.4f", resp, tc.cost)
			}
		})
	}
}

// planCost returns the monthly cost of the plan of a new typ with config.
func planCost(t *testing.T, h *plugintest.Harness, typ string, config map[string]any) *float64 {
	t.Helper()
	resp, err := h.Client().Plan(context.Background(), plugins.PlanRequest{Type: typ, Config: config})
	if err != nil {
		t.Fatal(err)
	}
	return resp.MonthlyCost
}

// TestResolveImage: portable image names, AMI names and ids resolve to the AMI of the instance type's
// architecture among the trusted owners' images, with the image's login user.
func TestResolveImage(t *testing.T) {
	f, _ := fake(t)
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	c := &client{ec2: ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.BaseEndpoint = aws.String(f.URL()) }), region: "us-east-1"}
	for _, tc := range []struct {
		image, typ, ami, user, err string
	}{
		{DefaultImage, "t3.micro", fakeec2.UbuntuAMI, "ubuntu", ""},
		{DefaultImage, "t4g.small", fakeec2.UbuntuArmAMI, "ubuntu", ""},
		{"Debian GNU/Linux 13 (Trixie)", "m6i.large", fakeec2.DebianAMI, "admin", ""},
		{"al2023-ami-2023.*-x86_64", "c5.xlarge", fakeec2.AmazonLinuxAMI, "ec2-user", ""},
		{fakeec2.DebianAMI, "t3.micro", fakeec2.DebianAMI, "admin", ""},
		{"Debian GNU/Linux 13 (Trixie)", "m7g.large", "", "", `no arm64 image named "Debian GNU/Linux 13 (Trixie)"`},
		{"ami-00000000000000bad", "t3.micro", "", "", "InvalidAMIID.NotFound"},
	} {
		t.Run(tc.image+" on "+tc.typ, func(t *testing.T) {
			ami, user, err := resolveImage(context.Background(), c, tc.image, tc.typ)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ami != tc.ami || user != tc.user {
				t.Errorf("got %s %s, want %s %s", ami, user, tc.ami, tc.user)
			}
		})
	}
}

// TestServerUserData: the cloud-config a server's user and keys need, alone or before the configured
// user data.
func TestServerUserData(t *testing.T) {
	for _, tc := range []struct {
		name, userData, user string
		keys                 []string
		want                 []string // in order
		same                 bool     // the user data as configured
	}{
		{"image user, one key", "#cloud-config\n", "ubuntu", []string{pubKey}, nil, true},
		{"image user, two keys", "", "ubuntu", []string{pubKey, pubKey2}, []string{"#cloud-config\n", "ssh_authorized_keys:", "ops@example", "dev@example"}, false},
		{"root", "", "root", []string{pubKey}, []string{"#cloud-config\ndisable_root: false\n"}, false},
		{"another user with a script", "#!/bin/sh\necho hi\n", "deploy", []string{pubKey},
			[]string{"multipart/mixed", "text/cloud-config", `name: "deploy"`, "ops@example", "text/x-shellscript", "echo hi"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := serverUserData(tc.userData, tc.user, "ubuntu", tc.keys)
			if tc.same != (got == tc.userData) {
				t.Fatalf("user data:\n%s", got)
			}
			rest := got
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("user data lacks %q (in order):\n%s", w, got)
				}
				rest = rest[i+len(w):]
			}
			if again := serverUserData(tc.userData, tc.user, "ubuntu", tc.keys); again != got {
				t.Error("the user data is not the same twice")
			}
		})
	}
}
