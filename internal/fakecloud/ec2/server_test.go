package ec2_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	fake "github.com/provhq/prov/internal/fakecloud/ec2"
)

const transition = 20 * time.Millisecond

// clock is a settable clock for the fake.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

// start serves a fake and returns an SDK client of it that does not retry, so faults show.
func start(t *testing.T) (*fake.Server, *ec2.Client) {
	return startWith(t, fake.Options{Transition: transition})
}

func startWith(t *testing.T, opts fake.Options) (*fake.Server, *ec2.Client) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDFAKE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fake")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	s := fake.Start(opts)
	t.Cleanup(s.Close)
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"),
		config.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }))
	if err != nil {
		t.Fatal(err)
	}
	return s, ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.BaseEndpoint = aws.String(s.URL()) })
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return "not an API error: " + err.Error()
	}
	return ""
}

func run(t *testing.T, c *ec2.Client, token string) string {
	t.Helper()
	out, err := c.RunInstances(context.Background(), &ec2.RunInstancesInput{ImageId: aws.String(fake.UbuntuAMI),
		InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1), ClientToken: aws.String(token),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String(token)}}}}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Instances[0].InstanceId)
}

func stateOf(t *testing.T, c *ec2.Client, id string) string {
	t.Helper()
	out, err := c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	return string(out.Reservations[0].Instances[0].State.Name)
}

// TestInstanceLifecycle: states move on their own after the transition time, as on EC2.
func TestInstanceLifecycle(t *testing.T) {
	clk := &clock{now: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)}
	_, c := startWith(t, fake.Options{Transition: time.Minute, Now: clk.Now})
	ctx := context.Background()
	id := run(t, c, "a")
	steps := []struct {
		do          func() error
		now, settle string
	}{
		{func() error { return nil }, "pending", "running"},
		{func() error {
			_, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}})
			return err
		}, "stopping", "stopped"},
		{func() error {
			_, err := c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}})
			return err
		}, "pending", "running"},
		{func() error {
			_, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
			return err
		}, "shutting-down", "terminated"},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatal(err)
		}
		clk.Add(59 * time.Second)
		if got := stateOf(t, c, id); got != s.now {
			t.Errorf("state %s, want %s", got, s.now)
		}
		clk.Add(time.Second)
		if got := stateOf(t, c, id); got != s.settle {
			t.Errorf("state %s, want %s", got, s.settle)
		}
	}
	_, err := c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}})
	if code(err) != "IncorrectInstanceState" {
		t.Errorf("start of a terminated instance: %v", err)
	}
}

func TestClientToken(t *testing.T) {
	s, c := start(t)
	a, b, other := run(t, c, "tok-1"), run(t, c, "tok-1"), run(t, c, "tok-2")
	if a != b || a == other {
		t.Errorf("ids %s %s %s: want the same token to give the same instance", a, b, other)
	}
	if n := len(s.Instances()); n != 2 {
		t.Errorf("%d instances, want 2", n)
	}
}

func TestDescribeFilters(t *testing.T) {
	_, c := start(t)
	a, b := run(t, c, "alpha"), run(t, c, "beta")
	for _, tc := range []struct {
		name    string
		filters map[string][]string
		want    []string
		code    string
	}{
		{"client token", map[string][]string{"client-token": {"beta"}}, []string{b}, ""},
		{"tag", map[string][]string{"tag:Name": {"alpha"}}, []string{a}, ""},
		{"tag wildcard", map[string][]string{"tag:Name": {"*a"}}, []string{a, b}, ""},
		{"state", map[string][]string{"instance-state-name": {"pending", "running"}}, []string{a, b}, ""},
		{"no match", map[string][]string{"instance-state-name": {"stopped"}}, nil, ""},
		{"two filters", map[string][]string{"tag:Name": {"alpha", "beta"}, "instance-id": {b}}, []string{b}, ""},
		{"unknown filter", map[string][]string{"colour": {"red"}}, nil, "InvalidParameterValue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := &ec2.DescribeInstancesInput{}
			for name, values := range tc.filters {
				in.Filters = append(in.Filters, types.Filter{Name: aws.String(name), Values: values})
			}
			out, err := c.DescribeInstances(context.Background(), in)
			if code(err) != tc.code {
				t.Fatalf("error %v, want code %q", err, tc.code)
			}
			if err != nil {
				return
			}
			var got []string
			for _, r := range out.Reservations {
				for _, in := range r.Instances {
					got = append(got, aws.ToString(in.InstanceId))
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("instances (-want +got):\n%s", diff)
			}
		})
	}
}

// TestErrorWireFormat: errors are EC2's <Response><Errors><Error> document with the HTTP status EC2
// uses, and the SDK reads their codes.
func TestErrorWireFormat(t *testing.T) {
	s, c := start(t)
	resp, err := http.PostForm(s.URL(), url.Values{"Action": {"DescribeInstances"}, "Version": {"2016-11-15"}, "InstanceId.1": {"i-0123456789abcdef0"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(body), "<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code><Message>The instance ID &#39;i-0123456789abcdef0&#39; does not exist</Message></Error></Errors><RequestID>") {
		t.Errorf("status %d, body:\n%s", resp.StatusCode, body)
	}
	resp, err = http.PostForm(s.URL(), url.Values{"Action": {"LaunchRocket"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(body), "<Code>InvalidAction</Code>") {
		t.Errorf("unknown action: status %d, body:\n%s", resp.StatusCode, body)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		call func() error
		want string
	}{
		{"missing instance", func() error {
			_, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{"i-0000000000000dead"}})
			return err
		}, "InvalidInstanceID.NotFound"},
		{"malformed instance id", func() error {
			_, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"web-01"}})
			return err
		}, "InvalidInstanceID.Malformed"},
		{"missing ami", func() error {
			_, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{"ami-0000000000000dead"}})
			return err
		}, "InvalidAMIID.NotFound"},
		{"missing group", func() error {
			_, err := c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String("sg-0000000000000dead")})
			return err
		}, "InvalidGroup.NotFound"},
		{"missing volume", func() error {
			_, err := c.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String("vol-0000000000000dead")})
			return err
		}, "InvalidVolume.NotFound"},
		{"missing key", func() error {
			_, err := c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{"nobody"}})
			return err
		}, "InvalidKeyPair.NotFound"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := code(tc.call()); got != tc.want {
				t.Errorf("code %q, want %q", got, tc.want)
			}
		})
	}
}

// TestFaults: injected faults answer the next requests of an action; After does the work first.
func TestFaults(t *testing.T) {
	s, c := start(t)
	ctx := context.Background()
	s.Inject(fake.Fault{Action: "DescribeInstances", Code: "RequestLimitExceeded", Times: 2})
	for i, want := range []string{"RequestLimitExceeded", "RequestLimitExceeded", ""} {
		_, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
		if got := code(err); got != want {
			t.Errorf("request %d: code %q, want %q", i+1, got, want)
		}
	}
	s.Inject(fake.Fault{Action: "RunInstances", Code: "InternalError", After: true})
	_, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(fake.UbuntuAMI), InstanceType: types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), ClientToken: aws.String("lost")})
	if code(err) != "InternalError" {
		t.Errorf("RunInstances: %v, want InternalError", err)
	}
	if got := s.Instances(); len(got) != 1 || got[0].ClientToken != "lost" {
		t.Errorf("after a lost response the fake has %+v, want the launched instance", got)
	}
	if got := s.Requests("RunInstances"); got != 1 {
		t.Errorf("Requests(RunInstances) = %d", got)
	}
}

// TestSecurityGroupRules: rules are grouped per protocol and ports as EC2 does, duplicates and unknown
// rules are EC2's errors, and a group in use cannot be deleted.
func TestSecurityGroupRules(t *testing.T) {
	_, c := start(t)
	ctx := context.Background()
	g, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(g.GroupId)
	ssh := func(cidrs ...string) []types.IpPermission {
		p := types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22)}
		for _, c := range cidrs {
			p.IpRanges = append(p.IpRanges, types.IpRange{CidrIp: aws.String(c)})
		}
		return []types.IpPermission{p}
	}
	if _, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: &id, IpPermissions: ssh("10.0.0.0/8")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: &id, IpPermissions: ssh("192.168.0.0/16")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: &id, IpPermissions: ssh("10.0.0.0/8")})
	if code(err) != "InvalidPermission.Duplicate" {
		t.Errorf("duplicate rule: %v", err)
	}
	_, err = c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: &id, IpPermissions: ssh("172.16.0.0/12")})
	if code(err) != "InvalidPermission.NotFound" {
		t.Errorf("revoke of a missing rule: %v", err)
	}
	out, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range out.SecurityGroups[0].IpPermissions {
		for _, r := range p.IpRanges {
			got = append(got, aws.ToString(p.IpProtocol)+"/"+aws.ToString(r.CidrIp))
		}
	}
	if diff := cmp.Diff([]string{"tcp/10.0.0.0/8", "tcp/192.168.0.0/16"}, got); diff != "" || len(out.SecurityGroups[0].IpPermissions) != 1 {
		t.Errorf("ingress (-want +got):\n%s\n%+v", diff, out.SecurityGroups[0].IpPermissions)
	}
	if e := out.SecurityGroups[0].IpPermissionsEgress; len(e) != 1 || aws.ToString(e[0].IpProtocol) != "-1" {
		t.Errorf("default egress: %+v", e)
	}
	if _, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(fake.UbuntuAMI), InstanceType: types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SecurityGroupIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: &id})
	if code(err) != "DependencyViolation" {
		t.Errorf("delete of a group in use: %v", err)
	}
	_, err = c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("again")})
	if code(err) != "InvalidGroup.Duplicate" {
		t.Errorf("second group of the same name: %v", err)
	}
}

// TestVolumes: a volume is creating, then available; attaching, then attached (in-use); detaching,
// then available again; a volume in use cannot be deleted.
func TestVolumes(t *testing.T) {
	clk := &clock{now: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)}
	s, c := startWith(t, fake.Options{Transition: time.Minute, Now: clk.Now})
	ctx := context.Background()
	inst := run(t, c, "host")
	clk.Add(time.Minute)
	v, err := c.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), Size: aws.Int32(10), VolumeType: types.VolumeTypeGp3})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(v.VolumeId)
	status := func() string {
		for _, x := range s.Volumes() {
			if x.ID == id {
				return x.Status + " " + x.AttachedTo
			}
		}
		return "gone"
	}
	if got := status(); got != "creating " {
		t.Errorf("new volume: %q", got)
	}
	clk.Add(time.Minute)
	if _, err := c.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: &id, InstanceId: &inst, Device: aws.String("/dev/sdf")}); err != nil {
		t.Fatal(err)
	}
	if got := status(); got != "in-use "+inst {
		t.Errorf("attached volume: %q", got)
	}
	if _, err := c.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: &id}); code(err) != "VolumeInUse" {
		t.Errorf("delete of an attached volume: %v", err)
	}
	if _, err := c.DetachVolume(ctx, &ec2.DetachVolumeInput{VolumeId: &id}); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Minute)
	if got := status(); got != "available " {
		t.Errorf("detached volume: %q", got)
	}
	other, err := c.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1b"), Size: aws.Int32(10)})
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Minute)
	if _, err := c.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: other.VolumeId, InstanceId: &inst, Device: aws.String("/dev/sdg")}); code(err) != "InvalidVolume.ZoneMismatch" {
		t.Errorf("attach across zones: %v", err)
	}
	if _, err := c.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: &id}); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Minute)
	if got := status(); got != "gone" {
		t.Errorf("deleted volume: %q", got)
	}
}

func TestKeyPairs(t *testing.T) {
	_, c := start(t)
	ctx := context.Background()
	key := []byte("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHJbQy4IiMYSShjD1rLcCkOwNuZ5Be4DaaGwh8Hk1n2m me@host")
	out, err := c.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: aws.String("me"), PublicKeyMaterial: key})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(aws.ToString(out.KeyPairId), "key-") || aws.ToString(out.KeyFingerprint) == "" {
		t.Errorf("import: %+v", out)
	}
	if _, err := c.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: aws.String("me"), PublicKeyMaterial: key}); code(err) != "InvalidKeyPair.Duplicate" {
		t.Errorf("second import: %v", err)
	}
	if _, err := c.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: aws.String("bad"), PublicKeyMaterial: []byte("not a key")}); code(err) != "InvalidKey.Format" {
		t.Errorf("bad key: %v", err)
	}
	d, err := c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{"me"}, IncludePublicKey: aws.Bool(true)})
	if err != nil || len(d.KeyPairs) != 1 || d.KeyPairs[0].KeyType != types.KeyTypeEd25519 || !strings.HasPrefix(aws.ToString(d.KeyPairs[0].PublicKey), "ssh-ed25519 AAAA") {
		t.Fatalf("describe: %+v %v", d, err)
	}
	if _, err := c.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyName: aws.String("me")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{"me"}}); code(err) != "InvalidKeyPair.NotFound" {
		t.Errorf("describe after delete: %v", err)
	}
}

// TestRateLimit: past RequestsPerSecond (a burst of as many) requests are throttled until the bucket
// refills.
func TestRateLimit(t *testing.T) {
	clk := &clock{now: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)}
	s, c := startWith(t, fake.Options{RequestsPerSecond: 2, Now: clk.Now})
	ctx := context.Background()
	var got []string
	for i := range 5 {
		if i == 3 {
			clk.Add(500 * time.Millisecond) // one token back
		}
		_, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
		got = append(got, code(err))
	}
	if diff := cmp.Diff([]string{"", "", "RequestLimitExceeded", "", "RequestLimitExceeded"}, got); diff != "" {
		t.Errorf("codes (-want +got):\n%s", diff)
	}
	if n := s.Throttled(); n != 2 {
		t.Errorf("Throttled() = %d, want 2", n)
	}
}
