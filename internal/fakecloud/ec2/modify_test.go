package ec2_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/google/go-cmp/cmp"

	fake "github.com/provhq/prov/internal/fakecloud/ec2"
)

// TestModifyVolume walks a volume modification through modifying → optimizing → completed with the
// fake's clock, through the SDK, and checks EBS's refusals.
func TestModifyVolume(t *testing.T) {
	clk := &clock{now: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)}
	_, c := startWith(t, fake.Options{Transition: time.Minute, Now: clk.Now})
	ctx := context.Background()
	v, err := c.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), Size: aws.Int32(10), VolumeType: types.VolumeTypeGp3})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(v.VolumeId)
	modify := func(size int32, typ types.VolumeType) error {
		_, err := c.ModifyVolume(ctx, &ec2.ModifyVolumeInput{VolumeId: aws.String(id), Size: aws.Int32(size), VolumeType: typ})
		return err
	}
	if got := code(modify(20, "")); got != "IncorrectState" {
		t.Errorf("modifying a creating volume: %q, want IncorrectState", got)
	}
	if got := code(func() error {
		_, err := c.DescribeVolumesModifications(ctx, &ec2.DescribeVolumesModificationsInput{VolumeIds: []string{id}})
		return err
	}()); got != "InvalidVolumeModification.NotFound" {
		t.Errorf("describing a modification that never was: %q", got)
	}
	clk.Add(time.Minute)

	out, err := c.ModifyVolume(ctx, &ec2.ModifyVolumeInput{VolumeId: aws.String(id), Size: aws.Int32(20)})
	if err != nil {
		t.Fatal(err)
	}
	type state struct {
		Mod            types.VolumeModificationState
		Target, Size   int32
		Progress       int64
		OriginalSize   int32
		TargetType     types.VolumeType
		TargetIops     int32
		TargetThroughp int32
	}
	describe := func() state {
		t.Helper()
		m, err := c.DescribeVolumesModifications(ctx, &ec2.DescribeVolumesModificationsInput{VolumeIds: []string{id}})
		if err != nil || len(m.VolumesModifications) != 1 {
			t.Fatalf("DescribeVolumesModifications: %v %+v", err, m)
		}
		vs, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{id}})
		if err != nil {
			t.Fatal(err)
		}
		x := m.VolumesModifications[0]
		return state{x.ModificationState, aws.ToInt32(x.TargetSize), aws.ToInt32(vs.Volumes[0].Size), aws.ToInt64(x.Progress),
			aws.ToInt32(x.OriginalSize), x.TargetVolumeType, aws.ToInt32(x.TargetIops), aws.ToInt32(x.TargetThroughput)}
	}
	if got := out.VolumeModification.ModificationState; got != types.VolumeModificationStateModifying {
		t.Errorf("ModifyVolume answered %q, want modifying", got)
	}
	for _, want := range []state{
		{types.VolumeModificationStateModifying, 20, 10, 0, 10, types.VolumeTypeGp3, 3000, 125},
		{types.VolumeModificationStateOptimizing, 20, 20, 50, 10, types.VolumeTypeGp3, 3000, 125},
		{types.VolumeModificationStateCompleted, 20, 20, 100, 10, types.VolumeTypeGp3, 3000, 125},
	} {
		if diff := cmp.Diff(want, describe()); diff != "" {
			t.Errorf("at %s (-want +got):\n%s", want.Mod, diff)
		}
		if want.Mod == types.VolumeModificationStateModifying {
			if got := code(modify(30, "")); got != "IncorrectModificationState" {
				t.Errorf("a second modification while modifying: %q, want IncorrectModificationState", got)
			}
		}
		clk.Add(time.Minute)
	}

	for _, tc := range []struct {
		name  string
		after time.Duration
		size  int32
		typ   types.VolumeType
		want  string
	}{
		{"again within six hours", 0, 30, "", "VolumeModificationRateExceeded"},
		{"shrink", fake.ModificationCooldown, 15, "", "InvalidParameterValue"},
		{"no change", 0, 20, types.VolumeTypeGp3, "InvalidParameterCombination"},
		{"bad type", 0, 20, "gp9", "InvalidParameterValue"},
		{"too big", 0, 20000, "", "InvalidParameterValue"},
		{"grow and change type", 0, 40, types.VolumeTypeGp2, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk.Add(tc.after)
			if got := code(modify(tc.size, tc.typ)); got != tc.want {
				t.Errorf("ModifyVolume(%d, %q): %q, want %q", tc.size, tc.typ, got, tc.want)
			}
		})
	}
	clk.Add(time.Minute)
	want := state{types.VolumeModificationStateOptimizing, 40, 40, 50, 20, types.VolumeTypeGp2, 120, 0}
	if diff := cmp.Diff(want, describe()); diff != "" {
		t.Errorf("after a change of type (-want +got):\n%s", diff)
	}
	if _, err := c.ModifyVolume(ctx, &ec2.ModifyVolumeInput{VolumeId: aws.String("vol-00000000000000000"), Size: aws.Int32(5)}); code(err) != "InvalidVolume.NotFound" {
		t.Errorf("modifying an unknown volume: %v", err)
	}
}

// TestLaunchVolumesAndInterface launches an instance with extra blank volumes and a primary network
// interface without a public address, and checks what EC2 refuses.
func TestLaunchVolumesAndInterface(t *testing.T) {
	s, c := start(t)
	ctx := context.Background()
	subnet := s.Subnets()[1]
	in := &ec2.RunInstancesInput{ImageId: aws.String(fake.UbuntuAMI), InstanceType: types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		BlockDeviceMappings: []types.BlockDeviceMapping{
			{DeviceName: aws.String("/dev/sda1"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(30)}},
			{DeviceName: aws.String("/dev/sdf"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(100), VolumeType: types.VolumeTypeIo2}},
		},
		NetworkInterfaces: []types.InstanceNetworkInterfaceSpecification{{DeviceIndex: aws.Int32(0), SubnetId: aws.String(subnet),
			AssociatePublicIpAddress: aws.Bool(false), PrivateIpAddress: aws.String("172.31.16.50")}},
	}
	out, err := c.RunInstances(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.Instances[0].InstanceId)
	if err := ec2.NewInstanceRunningWaiter(c, func(o *ec2.InstanceRunningWaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 50*time.Millisecond
	}).
		Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	inst := d.Reservations[0].Instances[0]
	type got struct {
		Subnet, PrivateIP, PublicIP string
		Devices                     []string
	}
	g := got{aws.ToString(inst.SubnetId), aws.ToString(inst.PrivateIpAddress), aws.ToString(inst.PublicIpAddress), nil}
	for _, bd := range inst.BlockDeviceMappings {
		g.Devices = append(g.Devices, aws.ToString(bd.DeviceName))
	}
	if diff := cmp.Diff(got{subnet, "172.31.16.50", "", []string{"/dev/sda1", "/dev/sdf"}}, g); diff != "" {
		t.Errorf("instance (-want +got):\n%s", diff)
	}
	var vols []string
	for _, v := range s.Volumes() {
		if v.AttachedTo == id {
			vols = append(vols, fmt.Sprintf("%s %d", v.Type, v.Size))
		}
	}
	slices.Sort(vols)
	if diff := cmp.Diff([]string{"gp3 30", "io2 100"}, vols); diff != "" {
		t.Errorf("volumes of the instance (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		name   string
		change func(*ec2.RunInstancesInput)
		want   string
	}{
		{"interface and subnet", func(in *ec2.RunInstancesInput) { in.SubnetId = aws.String(subnet) }, "InvalidParameterCombination"},
		{"interface and groups", func(in *ec2.RunInstancesInput) { in.SecurityGroupIds = []string{s.DefaultSecurityGroup()} }, "InvalidParameterCombination"},
		{"blank volume without size", func(in *ec2.RunInstancesInput) {
			in.BlockDeviceMappings = []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/sdg"), Ebs: &types.EbsBlockDevice{}}}
		}, "InvalidBlockDeviceMapping"},
		{"zone of another subnet", func(in *ec2.RunInstancesInput) {
			in.Placement = &types.Placement{AvailabilityZone: aws.String("us-east-1a")}
		}, "InvalidParameterCombination"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := *in
			bad.ClientToken = nil // the SDK filled in the first launch's
			tc.change(&bad)
			if _, err := c.RunInstances(ctx, &bad); code(err) != tc.want {
				t.Errorf("RunInstances: %v, want %s", err, tc.want)
			}
		})
	}
}
