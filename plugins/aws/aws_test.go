package aws

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	fakeec2 "github.com/provhq/prov/internal/fakecloud/ec2"
	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/sdk/plugintest"
)

const pubKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHJbQy4IiMYSShjD1rLcCkOwNuZ5Be4DaaGwh8Hk1n2m ops@example"

// fake starts a fake EC2 with quick transitions and returns it with the provider configuration that
// points at it. The SDK's credential chain is fed static keys and no shared files, as in CI.
func fake(t *testing.T) (*fakeec2.Server, map[string]any) {
	t.Helper()
	return fakeWith(t, fakeec2.Options{Transition: 5 * time.Millisecond})
}

func fakeWith(t *testing.T, opts fakeec2.Options) (*fakeec2.Server, map[string]any) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDFAKE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fake-secret")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ENDPOINT_URL_EC2", "")
	f := fakeec2.Start(opts)
	t.Cleanup(f.Close)
	return f, map[string]any{"region": "us-east-1", "endpoint": f.URL(), "poll_interval": "2ms", "retry_max_backoff": "2ms",
		"max_retries": 3, "timeout": "10s"}
}

func live(f *fakeec2.Server) []fakeec2.Instance {
	var out []fakeec2.Instance
	for _, in := range f.Instances() {
		if in.State != fakeec2.Terminated {
			out = append(out, in)
		}
	}
	return out
}

func instanceConfig(typ string, extra map[string]any) map[string]any {
	c := map[string]any{"ami": fakeec2.UbuntuAMI, "instance_type": typ}
	for k, v := range extra {
		c[k] = v
	}
	return c
}

func TestInstance(t *testing.T) {
	f, cfg := fake(t)
	checkFake := func(want func(in fakeec2.Instance) error) func(map[string]any) error {
		return func(state map[string]any) error {
			ins := live(f)
			if len(ins) != 1 {
				return fmt.Errorf("the fake has %d live instances, want 1", len(ins))
			}
			if ins[0].ID != state["id"] {
				return fmt.Errorf("state id %v, fake %s", state["id"], ins[0].ID)
			}
			return want(ins[0])
		}
	}
	plugintest.Test(t, plugintest.Case{
		Provider: New(), ProviderConfig: cfg, Type: "aws_instance",
		Steps: []plugintest.Step{
			{Config: instanceConfig("t3.micro", map[string]any{"tags": map[string]any{"Name": "web-01"}, "user_data": "#cloud-config\n"}),
				Action: plugintest.Create,
				Check: plugintest.Attrs(
					plugintest.Attr("instance_state", "running"),
					plugintest.Attr("subnet_id", f.Subnets()[0]),
					plugintest.Attr("availability_zone", "us-east-1a"),
					plugintest.Attr("vpc_security_group_ids", []any{f.DefaultSecurityGroup()}),
					plugintest.Attr("root_block_device", map[string]any{"volume_size": 8.0, "volume_type": "gp3", "delete_on_termination": true}),
					checkFake(func(in fakeec2.Instance) error {
						if in.State != fakeec2.Running || in.Tags["Name"] != "web-01" || in.UserData != "#cloud-config\n" {
							return fmt.Errorf("fake instance %+v", in)
						}
						return nil
					}))},
			// A new type stops, modifies and starts the same instance.
			{Config: instanceConfig("t3.small", map[string]any{"tags": map[string]any{"Name": "web-01", "env": "prod"}, "user_data": "#cloud-config\n"}),
				Action: plugintest.Update,
				Check: checkFake(func(in fakeec2.Instance) error {
					if in.Type != "t3.small" || in.State != fakeec2.Running || in.Tags["env"] != "prod" {
						return fmt.Errorf("fake instance %+v", in)
					}
					return nil
				})},
			// A tag removed, user data changed.
			{Config: instanceConfig("t3.small", map[string]any{"tags": map[string]any{"env": "prod"}, "user_data": "#cloud-config\npackages: [nginx]\n"}),
				Action: plugintest.Update,
				Check: checkFake(func(in fakeec2.Instance) error {
					if len(in.Tags) != 1 || !strings.Contains(in.UserData, "nginx") {
						return fmt.Errorf("fake instance %+v", in)
					}
					return nil
				})},
			// A new AMI is a new instance.
			{Config: instanceConfig("t3.small", map[string]any{"ami": fakeec2.DebianAMI, "root_block_device": map[string]any{"volume_size": 20}}),
				Action: plugintest.Replace,
				Check: plugintest.Attrs(
					plugintest.Attr("root_block_device.volume_size", 20.0),
					checkFake(func(in fakeec2.Instance) error {
						if in.ImageID != fakeec2.DebianAMI {
							return fmt.Errorf("fake instance %+v", in)
						}
						return nil
					}))},
			// A bigger root volume of another type is modified in place.
			{Config: instanceConfig("t3.small", map[string]any{"ami": fakeec2.DebianAMI, "root_block_device": map[string]any{"volume_size": 30, "volume_type": "gp2"}}),
				Action: plugintest.Update,
				Check: plugintest.Attrs(
					plugintest.Attr("root_block_device", map[string]any{"volume_size": 30.0, "volume_type": "gp2", "delete_on_termination": true}),
					checkFake(func(in fakeec2.Instance) error {
						for _, v := range f.Volumes() {
							if v.AttachedTo == in.ID && (v.Size != 30 || v.Type != "gp2") {
								return fmt.Errorf("root volume %+v", v)
							}
						}
						return nil
					}))},
			// A smaller one is a new instance.
			{Config: instanceConfig("t3.small", map[string]any{"ami": fakeec2.DebianAMI, "root_block_device": map[string]any{"volume_size": 25, "volume_type": "gp2"}}),
				Action: plugintest.Replace,
				Check:  plugintest.Attr("root_block_device.volume_size", 25.0)},
		},
		CheckDestroyed: func(map[string]any) error {
			if n := len(live(f)); n != 0 {
				return fmt.Errorf("%d instances still live", n)
			}
			return nil
		},
	})
}

// TestClientToken: applying the same create twice (a retry, or a resume after a crash) launches one
// instance, and Read by operation id finds it.
func TestClientToken(t *testing.T) {
	f, cfg := fake(t)
	h := plugintest.New(t, New(), cfg)
	plan := h.Plan("aws_instance", nil, instanceConfig("t3.micro", nil))
	first := h.ApplyOp("op-123", "aws_instance", nil, plan.Planned, instanceConfig("t3.micro", nil))
	second := h.ApplyOp("op-123", "aws_instance", nil, plan.Planned, instanceConfig("t3.micro", nil))
	if len(first.Diagnostics)+len(second.Diagnostics) > 0 {
		t.Fatalf("diagnostics: %v %v", first.Diagnostics, second.Diagnostics)
	}
	if first.State["id"] != second.State["id"] {
		t.Errorf("two applies of one operation made %v and %v", first.State["id"], second.State["id"])
	}
	if n := len(f.Instances()); n != 1 {
		t.Errorf("the fake has %d instances, want 1", n)
	}
	found, ds := h.Settle("aws_instance", "op-123")
	if len(ds) > 0 || found["id"] != first.State["id"] {
		t.Errorf("settle op-123 = %v %v, want %v", found["id"], ds, first.State["id"])
	}
	if diff := cmp.Diff(first.State, found); diff != "" {
		t.Errorf("settled state differs from the applied one (-applied +settled):\n%s", diff)
	}
	missing, ds := h.Settle("aws_instance", "op-never")
	if len(ds) > 0 || missing != nil {
		t.Errorf("settle of an operation that never ran = %v %v, want nothing", missing, ds)
	}
}

// TestThrottling: RequestLimitExceeded is retried with backoff; past max_retries it is reported with
// EC2's code.
func TestThrottling(t *testing.T) {
	for _, tc := range []struct {
		name      string
		throttles int
		wantErr   string
	}{
		{"retried", 3, ""},
		{"gives up", 10, "RequestLimitExceeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, cfg := fake(t)
			h := plugintest.New(t, New(), cfg)
			f.Inject(fakeec2.Fault{Action: "RunInstances", Code: "RequestLimitExceeded", Times: tc.throttles})
			r := h.Apply(h.Plan("aws_instance", nil, instanceConfig("t3.micro", nil)))
			got := strings.Join(r.Diagnostics, "\n")
			if tc.wantErr == "" {
				if got != "" || r.State == nil {
					t.Fatalf("apply: %s", got)
				}
				if n := f.Requests("RunInstances"); n != tc.throttles+1 {
					t.Errorf("RunInstances requests = %d, want %d", n, tc.throttles+1)
				}
				return
			}
			if !strings.Contains(got, tc.wantErr) {
				t.Errorf("diagnostics %q lack %q", got, tc.wantErr)
			}
			if n := f.Requests("RunInstances"); n != 4 {
				t.Errorf("RunInstances requests = %d, want 4 (1 + max_retries)", n)
			}
		})
	}
}

// TestRateLimited: against an API that throttles past 20 requests a second, a create polling every
// 2ms is throttled and still completes, the SDK's retryer backing off.
func TestRateLimited(t *testing.T) {
	f, cfg := fakeWith(t, fakeec2.Options{Transition: 100 * time.Millisecond, RequestsPerSecond: 20})
	cfg["max_retries"], cfg["retry_max_backoff"] = 50, "20ms"
	h := plugintest.New(t, New(), cfg)
	r := h.Apply(h.Plan("aws_instance", nil, instanceConfig("t3.micro", nil)))
	if len(r.Diagnostics) > 0 {
		t.Fatal(r.Diagnostics)
	}
	if r.State["instance_state"] != "running" {
		t.Errorf("instance_state %v", r.State["instance_state"])
	}
	if f.Throttled() == 0 {
		t.Error("the fake throttled nothing: the test does not test throttling")
	}
}

// TestErrors: EC2's own error codes reach the user, at the attribute when there is one.
func TestErrors(t *testing.T) {
	_, cfg := fake(t)
	h := plugintest.New(t, New(), cfg)
	for _, tc := range []struct {
		name, typ string
		config    map[string]any
		want      []string
	}{
		{"unknown ami", "aws_instance", instanceConfig("t3.micro", map[string]any{"ami": "ami-0000000000000dead"}),
			[]string{"RunInstances: InvalidAMIID.NotFound: The image id '[ami-0000000000000dead]' does not exist", "AWS request id"}},
		{"arm type on x86 ami", "aws_instance", instanceConfig("t4g.micro", nil), []string{"InvalidParameterValue", "architecture 'arm64'"}},
		{"unknown key", "aws_instance", instanceConfig("t3.micro", map[string]any{"key_name": "nobody"}), []string{"InvalidKeyPair.NotFound"}},
		{"unknown subnet", "aws_instance", instanceConfig("t3.micro", map[string]any{"subnet_id": "subnet-0123"}), []string{"InvalidSubnetID.NotFound"}},
		{"bad key material", "aws_key_pair", map[string]any{"key_name": "k", "public_key": "ssh-rsa AAAA"}, []string{"ImportKeyPair: InvalidKey.Format"}},
		{"volume in a zone that is not", "aws_ebs_volume", map[string]any{"availability_zone": "us-east-1z", "size": 10}, []string{"CreateVolume: InvalidParameterValue"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.Apply(h.Plan(tc.typ, nil, tc.config))
			got := strings.Join(r.Diagnostics, "\n")
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("diagnostics lack %q:\n%s", w, got)
				}
			}
		})
	}
}

// TestDrift: Read reports what changed outside prov, and an instance terminated outside prov is gone.
func TestDrift(t *testing.T) {
	f, cfg := fake(t)
	h := plugintest.New(t, New(), cfg)
	r := h.Apply(h.Plan("aws_instance", nil, instanceConfig("t3.micro", nil)))
	if len(r.Diagnostics) > 0 {
		t.Fatal(r.Diagnostics)
	}
	id := r.State["id"].(string)
	if err := f.SetInstanceType(id, "t3.large"); err != nil {
		t.Fatal(err)
	}
	got, ds := h.Read("aws_instance", r.State)
	if len(ds) > 0 || got["instance_type"] != "t3.large" {
		t.Fatalf("read after a type change = %v %v", got["instance_type"], ds)
	}
	p := h.Plan("aws_instance", got, instanceConfig("t3.micro", nil))
	if p.Action != plugintest.Update {
		t.Errorf("plan after drift: %s, want update", p.Action)
	}
	// An in-place update keeps what it cannot change known in the plan.
	for _, k := range []string{"arn", "availability_zone", "private_ip", "root_volume_id"} {
		if p.Planned[k] != got[k] {
			t.Errorf("planned %s = %v, want %v", k, p.Planned[k], got[k])
		}
	}
	if !strings.Contains(got["arn"].(string), ":123456789012:instance/") {
		t.Errorf("arn %v lacks the account", got["arn"])
	}
	if err := f.SetInstanceState(id, fakeec2.Terminated); err != nil {
		t.Fatal(err)
	}
	if gone, ds := h.Read("aws_instance", r.State); gone != nil || len(ds) > 0 {
		t.Errorf("read of a terminated instance = %v %v, want gone", gone, ds)
	}
}

// TestImport: an instance made outside prov is imported by id with every attribute, and planning its
// configuration afterwards changes nothing.
func TestImport(t *testing.T) {
	f, cfg := fake(t)
	h := plugintest.New(t, New(), cfg)
	made := h.Apply(h.Plan("aws_instance", nil, instanceConfig("t3.micro", map[string]any{"tags": map[string]any{"Name": "legacy"}})))
	if len(made.Diagnostics) > 0 {
		t.Fatal(made.Diagnostics)
	}
	got, ds := h.Import("aws_instance", made.State["id"].(string))
	if len(ds) > 0 {
		t.Fatal(ds)
	}
	if diff := cmp.Diff(made.State, got); diff != "" {
		t.Errorf("imported state differs (-created +imported):\n%s", diff)
	}
	if p := h.Plan("aws_instance", got, instanceConfig("t3.micro", map[string]any{"tags": map[string]any{"Name": "legacy"}})); p.Action != plugintest.NoOp {
		t.Errorf("plan after import: %s, want no-op", p.Action)
	}
	if _, ds := h.Import("aws_instance", "i-0000000000000dead"); len(ds) == 0 {
		t.Error("import of a missing instance: no diagnostics")
	}
	_ = f
}

func TestKeyPair(t *testing.T) {
	_, cfg := fake(t)
	plugintest.Test(t, plugintest.Case{
		Provider: New(), ProviderConfig: cfg, Type: "aws_key_pair",
		Steps: []plugintest.Step{
			{Config: map[string]any{"key_name": "ops", "public_key": pubKey}, Action: plugintest.Create,
				Check: plugintest.Attrs(plugintest.Attr("id", "ops"), plugintest.Attr("key_type", "ed25519"),
					plugintest.Attr("public_key", pubKey))},
			{Config: map[string]any{"key_name": "ops", "public_key": pubKey, "tags": map[string]any{"team": "ops"}}, Action: plugintest.Update,
				Check: plugintest.Attr("tags", map[string]any{"team": "ops"})},
			{Config: map[string]any{"key_name": "ops2", "public_key": pubKey}, Action: plugintest.Replace,
				Check: plugintest.Attr("id", "ops2")},
		},
	})
}

// TestKeyPairRetry: a create retried after its first attempt got through adopts its own key; a key of
// the same name made by someone else is a conflict.
func TestKeyPairRetry(t *testing.T) {
	_, cfg := fake(t)
	h := plugintest.New(t, New(), cfg)
	config := map[string]any{"key_name": "ops", "public_key": pubKey}
	plan := h.Plan("aws_key_pair", nil, config)
	a := h.ApplyOp("op-1", "aws_key_pair", nil, plan.Planned, config)
	b := h.ApplyOp("op-1", "aws_key_pair", nil, plan.Planned, config)
	if len(a.Diagnostics)+len(b.Diagnostics) > 0 || a.State["key_pair_id"] != b.State["key_pair_id"] {
		t.Fatalf("retry: %v %v / %v %v", a.State["key_pair_id"], a.Diagnostics, b.State["key_pair_id"], b.Diagnostics)
	}
	if got, _ := h.Settle("aws_key_pair", "op-1"); got["key_pair_id"] != a.State["key_pair_id"] {
		t.Errorf("settle found %v", got)
	}
	c := h.ApplyOp("op-2", "aws_key_pair", nil, plan.Planned, config)
	if got := strings.Join(c.Diagnostics, "\n"); !strings.Contains(got, "InvalidKeyPair.Duplicate") || !strings.Contains(got, "key_name") {
		t.Errorf("another operation's create: %q, want InvalidKeyPair.Duplicate at key_name", got)
	}
}

func TestSecurityGroup(t *testing.T) {
	_, cfg := fake(t)
	ssh := map[string]any{"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": []any{"10.0.0.0/8", "192.168.0.0/16"}, "description": "ssh"}
	web := map[string]any{"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": []any{"0.0.0.0/0"}}
	plugintest.Test(t, plugintest.Case{
		Provider: New(), ProviderConfig: cfg, Type: "aws_security_group",
		Steps: []plugintest.Step{
			{Config: map[string]any{"name": "web", "ingress": []any{web, ssh}}, Action: plugintest.Create,
				Check: plugintest.Attrs(
					plugintest.Attr("ingress[1].cidr_blocks", []any{"10.0.0.0/8", "192.168.0.0/16"}),
					plugintest.Attr("egress", []any{map[string]any{"protocol": "-1", "from_port": 0.0, "to_port": 0.0, "cidr_blocks": []any{"0.0.0.0/0"}}}))},
			// Rules change in place; a configured egress replaces EC2's default.
			{Config: map[string]any{"name": "web", "ingress": []any{web},
				"egress": []any{map[string]any{"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": []any{"0.0.0.0/0"}}}},
				Action: plugintest.Update,
				Check: plugintest.Attrs(plugintest.Attr("ingress", []any{map[string]any{"protocol": "tcp", "from_port": 443.0, "to_port": 443.0, "cidr_blocks": []any{"0.0.0.0/0"}}}),
					plugintest.Attr("egress[0].from_port", 443.0))},
			{Config: map[string]any{"name": "web2", "ingress": []any{web}}, Action: plugintest.Replace},
		},
	})
}

func TestVolumes(t *testing.T) {
	f, cfg := fake(t)
	h := plugintest.New(t, New(), cfg)
	inst := h.Apply(h.Plan("aws_instance", nil, instanceConfig("t3.micro", nil)))
	if len(inst.Diagnostics) > 0 {
		t.Fatal(inst.Diagnostics)
	}
	volCfg := map[string]any{"availability_zone": "us-east-1a", "size": 50, "tags": map[string]any{"Name": "data"}}
	plan := h.Plan("aws_ebs_volume", nil, volCfg)
	vol := h.Apply(plan)
	if len(vol.Diagnostics) > 0 {
		t.Fatal(vol.Diagnostics)
	}
	attCfg := map[string]any{"device_name": "/dev/sdf", "volume_id": vol.State["id"], "instance_id": inst.State["id"]}
	att := h.Apply(h.Plan("aws_volume_attachment", nil, attCfg))
	if len(att.Diagnostics) > 0 {
		t.Fatal(att.Diagnostics)
	}
	attached := func() string {
		for _, v := range f.Volumes() {
			if v.ID == vol.State["id"] {
				return v.AttachedTo + "/" + v.Status
			}
		}
		return "gone"
	}
	if got, want := attached(), inst.State["id"].(string)+"/in-use"; got != want {
		t.Errorf("volume after attach: %s, want %s", got, want)
	}
	if got, ds := h.Read("aws_volume_attachment", att.State); got == nil || len(ds) > 0 {
		t.Errorf("read attachment: %v %v", got, ds)
	}
	if again := h.ApplyOp("op-again", "aws_volume_attachment", nil, att.State, attCfg); len(again.Diagnostics) > 0 {
		t.Errorf("a retried attach: %v", again.Diagnostics)
	}
	if p := h.Plan("aws_ebs_volume", vol.State, map[string]any{"availability_zone": "us-east-1a", "size": 50}); p.Action != plugintest.Update {
		t.Errorf("tag removal plans %s, want update", p.Action)
	}
	if p := h.Plan("aws_ebs_volume", vol.State, map[string]any{"availability_zone": "us-east-1a", "size": 40}); p.Action != plugintest.Replace {
		t.Errorf("a smaller size plans %s, want replace", p.Action)
	}
	// A bigger size grows the attached volume in place.
	grow := h.Apply(h.Plan("aws_ebs_volume", vol.State, map[string]any{"availability_zone": "us-east-1a", "size": 60}))
	if len(grow.Diagnostics) > 0 || grow.State["id"] != vol.State["id"] || grow.State["size"] != 60.0 {
		t.Fatalf("growing the volume: %v %v", grow.Diagnostics, grow.State)
	}
	if mods := f.Modifications(); len(mods) != 1 || mods[0].OriginalSize != 50 || mods[0].TargetSize != 60 {
		t.Errorf("modifications: %+v", mods)
	}
	// A second modification (still optimizing, or within EBS's six hours) reaches the user as the
	// cloud's error on the attribute.
	again := h.Apply(h.Plan("aws_ebs_volume", grow.State, map[string]any{"availability_zone": "us-east-1a", "size": 70}))
	if len(again.Diagnostics) == 0 || !strings.Contains(again.Diagnostics[0], "error: size: ModifyVolume: ") {
		t.Errorf("a second modification: %v", again.Diagnostics)
	}
	vol = grow
	if r := h.Apply(h.Plan("aws_volume_attachment", att.State, nil)); len(r.Diagnostics) > 0 {
		t.Fatal(r.Diagnostics)
	}
	if got := attached(); got != "/available" {
		t.Errorf("volume after detach: %s, want available", got)
	}
	if r := h.Apply(h.Plan("aws_ebs_volume", vol.State, nil)); len(r.Diagnostics) > 0 {
		t.Fatal(r.Diagnostics)
	}
	if got := attached(); got != "gone" {
		t.Errorf("volume after delete: %s", got)
	}
}

// TestCost: plans carry the monthly estimate of the price table.
func TestCost(t *testing.T) {
	_, cfg := fake(t)
	h := plugintest.New(t, New(), cfg)
	for _, tc := range []struct {
		name, typ string
		config    map[string]any
		want      *float64
	}{
		{"t3.micro with 8 GiB gp3", "aws_instance", instanceConfig("t3.micro", nil), ptr(0.0104*730 + 8*0.08)},
		{"m7i.large with 100 GiB gp2", "aws_instance", instanceConfig("m7i.large", map[string]any{"root_block_device": map[string]any{"volume_size": 100, "volume_type": "gp2"}}), ptr(0.1008*730 + 100*0.10)},
		{"type without a price", "aws_instance", instanceConfig("x9.huge", nil), nil},
		{"100 GiB gp3 volume", "aws_ebs_volume", map[string]any{"availability_zone": "us-east-1a", "size": 100}, ptr(8.0)},
		{"key pairs are free", "aws_key_pair", map[string]any{"key_name": "k", "public_key": pubKey}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := h.Client().Plan(context.Background(), plugins.PlanRequest{Type: tc.typ, Config: tc.config})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Diagnostics.HasErrors() {
				t.Fatal(resp.Diagnostics)
			}
			if diff := cmp.Diff(tc.want, resp.MonthlyCost, cmp.Comparer(func(a, b float64) bool { return fmt.Sprintf("%.4f", a) == fmt.Sprintf("%.4f", b) })); diff != "" {
				t.Errorf("monthly cost (-want +got):\n%s", diff)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestProviderValid(t *testing.T) {
	if err := New().Validate(); err != nil {
		t.Fatal(err)
	}
	for region, types := range prices.Instances {
		if _, ok := prices.EBSGBMonth[region]; !ok {
			t.Errorf("prices.json: region %s has instance prices but no EBS prices", region)
		}
		if types["t3.micro"] == 0 {
			t.Errorf("prices.json: region %s has no t3.micro", region)
		}
	}
}

// TestSecurityGroupInUse: a group an instance still uses is retried until the timeout, then reported
// with EC2's code.
func TestSecurityGroupInUse(t *testing.T) {
	_, cfg := fake(t)
	cfg["timeout"] = "200ms"
	h := plugintest.New(t, New(), cfg)
	sg := h.Apply(h.Plan("aws_security_group", nil, map[string]any{"name": "busy"}))
	if len(sg.Diagnostics) > 0 {
		t.Fatal(sg.Diagnostics)
	}
	in := h.Apply(h.Plan("aws_instance", nil, instanceConfig("t3.micro", map[string]any{"vpc_security_group_ids": []any{sg.State["id"]}})))
	if len(in.Diagnostics) > 0 {
		t.Fatal(in.Diagnostics)
	}
	r := h.Apply(h.Plan("aws_security_group", sg.State, nil))
	got := strings.Join(r.Diagnostics, "\n")
	for _, w := range []string{"DeleteSecurityGroup: DependencyViolation", "timed out after 200ms"} {
		if !strings.Contains(got, w) {
			t.Errorf("diagnostics lack %q:\n%s", w, got)
		}
	}
	if r := h.Apply(h.Plan("aws_instance", in.State, nil)); len(r.Diagnostics) > 0 {
		t.Fatal(r.Diagnostics)
	}
	if r := h.Apply(h.Plan("aws_security_group", sg.State, nil)); len(r.Diagnostics) > 0 {
		t.Errorf("delete after the instance is gone: %v", r.Diagnostics)
	}
}

// TestIdempotentCreates: for every resource type that makes an object, a create applied twice with one
// operation id (a retry, or a resume after a crash) makes one object, and Read by that operation id
// finds it.
func TestIdempotentCreates(t *testing.T) {
	for _, tc := range []struct {
		typ    string
		config map[string]any
		count  func(f *fakeec2.Server) int
	}{
		{"aws_instance", instanceConfig("t3.micro", nil), func(f *fakeec2.Server) int { return len(f.Instances()) }},
		{"aws_ebs_volume", map[string]any{"availability_zone": "us-east-1b", "size": 10}, func(f *fakeec2.Server) int { return len(f.Volumes()) }},
		{"aws_security_group", map[string]any{"name": "web", "ingress": []any{map[string]any{"protocol": "tcp", "from_port": 80, "to_port": 80, "cidr_blocks": []any{"0.0.0.0/0"}}}}, nil},
		{"aws_key_pair", map[string]any{"key_name": "ops", "public_key": pubKey}, nil},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			f, cfg := fake(t)
			h := plugintest.New(t, New(), cfg)
			plan := h.Plan(tc.typ, nil, tc.config)
			a := h.ApplyOp("op-7", tc.typ, nil, plan.Planned, tc.config)
			b := h.ApplyOp("op-7", tc.typ, nil, plan.Planned, tc.config)
			if len(a.Diagnostics)+len(b.Diagnostics) > 0 {
				t.Fatalf("diagnostics: %v %v", a.Diagnostics, b.Diagnostics)
			}
			if diff := cmp.Diff(a.State, b.State); diff != "" {
				t.Errorf("the second apply made something else (-first +second):\n%s", diff)
			}
			if tc.count != nil {
				if n := tc.count(f); n != 1 {
					t.Errorf("the fake has %d objects, want 1", n)
				}
			}
			settled, ds := h.Settle(tc.typ, "op-7")
			if len(ds) > 0 {
				t.Fatal(ds)
			}
			if diff := cmp.Diff(a.State, settled); diff != "" {
				t.Errorf("settled state (-applied +settled):\n%s", diff)
			}
			if none, ds := h.Settle(tc.typ, "op-other"); none != nil || len(ds) > 0 {
				t.Errorf("settle of another operation = %v %v", none, ds)
			}
		})
	}
}

// TestInstanceSecurityGroups: the groups of an instance change in place, without a restart.
func TestInstanceSecurityGroups(t *testing.T) {
	f, cfg := fake(t)
	h := plugintest.New(t, New(), cfg)
	sg := h.Apply(h.Plan("aws_security_group", nil, map[string]any{"name": "web"}))
	if len(sg.Diagnostics) > 0 {
		t.Fatal(sg.Diagnostics)
	}
	in := h.Apply(h.Plan("aws_instance", nil, instanceConfig("t3.micro", nil)))
	if len(in.Diagnostics) > 0 {
		t.Fatal(in.Diagnostics)
	}
	groups := []any{sg.State["id"], f.DefaultSecurityGroup()}
	p := h.Plan("aws_instance", in.State, instanceConfig("t3.micro", map[string]any{"vpc_security_group_ids": groups}))
	if p.Action != plugintest.Update {
		t.Fatalf("plan: %s, want update", p.Action)
	}
	r := h.Apply(p)
	if len(r.Diagnostics) > 0 {
		t.Fatal(r.Diagnostics)
	}
	if diff := cmp.Diff(groups, r.State["vpc_security_group_ids"]); diff != "" {
		t.Errorf("state groups (-want +got):\n%s", diff)
	}
	got := live(f)[0]
	if diff := cmp.Diff([]string{sg.State["id"].(string), f.DefaultSecurityGroup()}, got.SecurityGroups); diff != "" {
		t.Errorf("fake groups (-want +got):\n%s", diff)
	}
	if f.Requests("StopInstances") != 0 {
		t.Error("a change of security groups stopped the instance")
	}
	if r.State["id"] != in.State["id"] {
		t.Errorf("the instance was replaced: %v → %v", in.State["id"], r.State["id"])
	}
}
