package aws

import (
	"context"
	"encoding/base64"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provhq/prov/sdk"
)

var volumeTypes = []string{"gp3", "gp2", "io1", "io2", "st1", "sc1", "standard"}

func instanceResource() *sdk.Resource {
	return &sdk.Resource{
		Description: "An EC2 instance: the aws server. Changing ami, subnet_id, key_name or root_block_device " +
			"replaces it; a new instance_type or user_data stops it, changes it and starts it again; tags and " +
			"security groups change in place.",
		Attributes: map[string]*sdk.Attribute{
			"ami":           {Type: sdk.String, Required: true, ForceNew: true, Validators: []sdk.Validator{sdk.Regexp(`^ami-[0-9a-f]+$`)}, Description: "AMI to launch, e.g. ami-0e2c8caa4b6378d8c."},
			"instance_type": {Type: sdk.String, Required: true, Description: "Instance type, e.g. t3.micro. A change stops and restarts the instance."},
			"subnet_id":     {Type: sdk.String, Optional: true, Computed: true, ForceNew: true, Description: "Subnet to launch in. Default: the default subnet of the region's first zone."},
			"vpc_security_group_ids": {Type: sdk.ListOf(sdk.String), Optional: true, Computed: true,
				Description: "Security groups of the instance. Default: the VPC's default group."},
			"key_name":  {Type: sdk.String, Optional: true, ForceNew: true, Description: "Name of the key pair for SSH."},
			"user_data": {Type: sdk.String, Optional: true, Description: "User data (cloud-init), as plain text. A change stops and restarts the instance."},
			"tags":      {Type: sdk.MapOf(sdk.String), Optional: true, Description: "Tags of the instance and of its root volume."},
			"root_block_device": {Type: sdk.Object(map[string]*sdk.Attribute{
				"volume_size":           {Type: sdk.Number, Optional: true, Default: 8, Validators: []sdk.Validator{sdk.Between(1, 16384)}, Description: "Size in GiB."},
				"volume_type":           {Type: sdk.String, Optional: true, Default: "gp3", Validators: []sdk.Validator{sdk.OneOf(volumeTypes...)}, Description: "EBS volume type."},
				"delete_on_termination": {Type: sdk.Bool, Optional: true, Default: true, Description: "Delete the volume with the instance."},
			}), Optional: true, Computed: true, ForceNew: true, Description: "The root volume. Default: as the AMI has it."},
			"arn":               {Type: sdk.String, Computed: true, Description: "ARN of the instance."},
			"instance_state":    {Type: sdk.String, Computed: true, Description: "running, stopped, …"},
			"availability_zone": {Type: sdk.String, Computed: true, Description: "Zone the instance runs in."},
			"private_ip":        {Type: sdk.String, Computed: true, Description: "Private IPv4 address."},
			"public_ip":         {Type: sdk.String, Computed: true, Description: "Public IPv4 address, when the subnet gives one. It changes when the instance is stopped and started."},
			"private_dns":       {Type: sdk.String, Computed: true, Description: "Private DNS name."},
			"public_dns":        {Type: sdk.String, Computed: true, Description: "Public DNS name, when it has a public address."},
			"root_volume_id":    {Type: sdk.String, Computed: true, Description: "Id of the root EBS volume."},
		},
		Create: createInstance,
		Read:   readInstance,
		Update: updateInstance,
		Delete: deleteInstance,
		Import: readInstance,
		Plan:   keepOnUpdate(planInstance, "arn", "availability_zone", "private_ip", "private_dns", "root_volume_id"),
	}
}

func planInstance(_ context.Context, op *sdk.Op, d *sdk.Data) error {
	c, ok := op.Client.(*client)
	if !ok || !d.IsKnown("instance_type") {
		return nil
	}
	size, typ := 8.0, "gp3"
	if d.IsKnown("root_block_device") && d.Map("root_block_device") != nil {
		size, typ = d.Float("root_block_device.volume_size"), d.String("root_block_device.volume_type")
	}
	cost, ok := MonthlyCost(c.region, d.String("instance_type"), size, typ)
	if !ok {
		op.Warnf("instance_type", "the price table of %s has no price for %s in %s: no cost estimate", prices.AsOf, d.String("instance_type"), c.region)
		return nil
	}
	d.SetMonthlyCost(cost)
	return nil
}

func createInstance(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := clientOf(op)
	if err != nil {
		return err
	}
	in := &ec2.RunInstancesInput{
		ImageId:      aws.String(d.String("ami")),
		InstanceType: types.InstanceType(d.String("instance_type")),
		MinCount:     aws.Int32(1),
		MaxCount:     aws.Int32(1),
		// The operation id makes the launch idempotent: a retry, or a resume after a crash, gets the
		// instance of the first launch back instead of a second one.
		ClientToken:       aws.String(op.ID),
		TagSpecifications: append(tagSpec(types.ResourceTypeInstance, d.StringMap("tags"), ""), tagSpec(types.ResourceTypeVolume, d.StringMap("tags"), "")...),
	}
	if s := d.String("subnet_id"); s != "" {
		in.SubnetId = aws.String(s)
	}
	if k := d.String("key_name"); k != "" {
		in.KeyName = aws.String(k)
	}
	if ud := d.String("user_data"); ud != "" {
		in.UserData = aws.String(base64.StdEncoding.EncodeToString([]byte(ud)))
	}
	for _, g := range d.List("vpc_security_group_ids") {
		in.SecurityGroupIds = append(in.SecurityGroupIds, g.(string))
	}
	if d.Map("root_block_device") != nil {
		dev, err := rootDevice(ctx, c, d.String("ami"))
		if err != nil {
			return err
		}
		in.BlockDeviceMappings = []types.BlockDeviceMapping{{DeviceName: aws.String(dev), Ebs: &types.EbsBlockDevice{
			VolumeSize:          aws.Int32(int32(d.Int("root_block_device.volume_size"))),
			VolumeType:          types.VolumeType(d.String("root_block_device.volume_type")),
			DeleteOnTermination: aws.Bool(d.Bool("root_block_device.delete_on_termination")),
		}}}
	}
	op.Progress(-1, "launching %s from %s", d.String("instance_type"), d.String("ami"))
	out, err := c.ec2.RunInstances(ctx, in)
	if err != nil {
		return apiError(err)
	}
	if len(out.Instances) != 1 {
		return fmt.Errorf("RunInstances returned %d instances, want 1", len(out.Instances))
	}
	id := aws.ToString(out.Instances[0].InstanceId)
	d.SetID(id)
	op.Progress(-1, "%s is pending", id)
	inst, err := c.waitInstance(ctx, id, types.InstanceStateNameRunning)
	if err != nil {
		return err
	}
	return fillInstance(ctx, c, d, inst)
}

// rootDevice returns the root device name of the AMI.
func rootDevice(ctx context.Context, c *client, ami string) (string, error) {
	out, err := c.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{ami}})
	if err != nil {
		return "", sdk.AttrError("ami", apiError(err))
	}
	if len(out.Images) == 0 {
		return "", sdk.AttrErrorf("ami", "image %s not found", ami)
	}
	return aws.ToString(out.Images[0].RootDeviceName), nil
}

// describeInstance returns the instance id, nil when EC2 does not know it.
func (c *client) describeInstance(ctx context.Context, id string) (*types.Instance, error) {
	out, err := c.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, apiError(err)
	}
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			return &in, nil
		}
	}
	return nil, nil
}

// waitInstance polls the instance until it is in state want. An instance EC2 does not know yet is
// waited for (its API is eventually consistent); one that terminates on the way is an error.
func (c *client) waitInstance(ctx context.Context, id string, want types.InstanceStateName) (*types.Instance, error) {
	var inst *types.Instance
	err := c.wait(ctx, fmt.Sprintf("%s to be %s", id, want), func(ctx context.Context) (bool, error) {
		var err error
		inst, err = c.describeInstance(ctx, id)
		if err != nil {
			return false, err
		}
		if inst == nil {
			return want == types.InstanceStateNameTerminated, nil // gone for good, or not visible yet
		}
		st := inst.State.Name
		if st == want {
			return true, nil
		}
		if want != types.InstanceStateNameTerminated && (st == types.InstanceStateNameTerminated || st == types.InstanceStateNameShuttingDown) {
			reason := aws.ToString(inst.StateTransitionReason)
			return false, fmt.Errorf("instance %s is %s while waiting for it to be %s %s", id, st, want, reason)
		}
		return false, nil
	})
	return inst, err
}

func readInstance(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := clientOf(op)
	if err != nil {
		return err
	}
	var inst *types.Instance
	if d.ID() == "" && op.ID != "" {
		// Settling an in-doubt create: the launch, if it happened, carries the operation id as its token.
		out, err := c.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{
			{Name: aws.String("client-token"), Values: []string{op.ID}},
		}})
		if err != nil {
			return apiError(err)
		}
		for _, r := range out.Reservations {
			for _, in := range r.Instances {
				if st := in.State.Name; st != types.InstanceStateNameTerminated && st != types.InstanceStateNameShuttingDown {
					inst = &in
				}
			}
		}
		if inst == nil {
			return sdk.ErrNotFound
		}
		// It may still be pending: wait for it as the create would have.
		if inst, err = c.waitInstance(ctx, aws.ToString(inst.InstanceId), types.InstanceStateNameRunning); err != nil {
			return err
		}
	} else {
		if inst, err = c.describeInstance(ctx, d.ID()); err != nil {
			return err
		}
		if inst == nil || inst.State.Name == types.InstanceStateNameTerminated || inst.State.Name == types.InstanceStateNameShuttingDown {
			return sdk.ErrNotFound
		}
	}
	return fillInstance(ctx, c, d, inst)
}

// fillInstance sets every attribute of d from the instance as EC2 describes it.
func fillInstance(ctx context.Context, c *client, d *sdk.Data, inst *types.Instance) error {
	id := aws.ToString(inst.InstanceId)
	d.SetID(id)
	d.Set("ami", aws.ToString(inst.ImageId))
	d.Set("instance_type", string(inst.InstanceType))
	d.Set("subnet_id", aws.ToString(inst.SubnetId))
	d.Set("key_name", orNil(aws.ToString(inst.KeyName)))
	groups := []any{}
	for _, g := range inst.SecurityGroups {
		groups = append(groups, aws.ToString(g.GroupId))
	}
	// Keep the configured order when the set is the same, so a reordering is not a change.
	if old := d.List("vpc_security_group_ids"); sameSet(old, groups) {
		groups = old
	}
	d.Set("vpc_security_group_ids", groups)
	d.Set("tags", tagMap(inst.Tags))
	d.Set("arn", c.arn(ownerOf(inst), "instance", id))
	d.Set("instance_state", string(inst.State.Name))
	d.Set("availability_zone", aws.ToString(inst.Placement.AvailabilityZone))
	d.Set("private_ip", aws.ToString(inst.PrivateIpAddress))
	d.Set("public_ip", orNil(aws.ToString(inst.PublicIpAddress)))
	d.Set("private_dns", aws.ToString(inst.PrivateDnsName))
	d.Set("public_dns", orNil(aws.ToString(inst.PublicDnsName)))

	attr, err := c.ec2.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: inst.InstanceId, Attribute: types.InstanceAttributeNameUserData})
	if err != nil {
		return apiError(err)
	}
	var ud string
	if attr.UserData != nil && attr.UserData.Value != nil {
		b, err := base64.StdEncoding.DecodeString(aws.ToString(attr.UserData.Value))
		if err != nil {
			return fmt.Errorf("user data of %s: %w", id, err)
		}
		ud = string(b)
	}
	d.Set("user_data", orNil(ud))

	d.Set("root_volume_id", nil)
	for _, bd := range inst.BlockDeviceMappings {
		if aws.ToString(bd.DeviceName) != aws.ToString(inst.RootDeviceName) || bd.Ebs == nil {
			continue
		}
		vid := aws.ToString(bd.Ebs.VolumeId)
		d.Set("root_volume_id", vid)
		vols, err := c.ec2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{vid}})
		if err != nil {
			return apiError(err)
		}
		for _, v := range vols.Volumes {
			d.Set("root_block_device", map[string]any{"volume_size": int(aws.ToInt32(v.Size)), "volume_type": string(v.VolumeType),
				"delete_on_termination": aws.ToBool(bd.Ebs.DeleteOnTermination)})
		}
	}
	return nil
}

// ownerOf is the account of an instance, from its network interfaces when EC2 gives them.
func ownerOf(inst *types.Instance) string {
	for _, ni := range inst.NetworkInterfaces {
		if o := aws.ToString(ni.OwnerId); o != "" {
			return o
		}
	}
	return ""
}

func sameSet(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

func updateInstance(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := clientOf(op)
	if err != nil {
		return err
	}
	id := d.ID()
	if err := updateTags(ctx, c, id, d); err != nil {
		return err
	}
	if d.HasChange("vpc_security_group_ids") && d.List("vpc_security_group_ids") != nil {
		var groups []string
		for _, g := range d.List("vpc_security_group_ids") {
			groups = append(groups, g.(string))
		}
		op.Progress(-1, "setting the security groups of %s", id)
		if _, err := c.ec2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id), Groups: groups}); err != nil {
			return apiError(err)
		}
	}
	if d.HasChange("instance_type") || d.HasChange("user_data") {
		if err := c.whileStopped(ctx, op, id, func() error {
			if d.HasChange("instance_type") {
				op.Progress(-1, "changing the type of %s to %s", id, d.String("instance_type"))
				if _, err := c.ec2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id),
					InstanceType: &types.AttributeValue{Value: aws.String(d.String("instance_type"))}}); err != nil {
					return sdk.AttrError("instance_type", apiError(err))
				}
			}
			if d.HasChange("user_data") {
				if _, err := c.ec2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id),
					UserData: &types.SecureBlobAttributeValue{Value: []byte(d.String("user_data"))}}); err != nil {
					return sdk.AttrError("user_data", apiError(err))
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	inst, err := c.describeInstance(ctx, id)
	if err != nil {
		return err
	}
	if inst == nil {
		return fmt.Errorf("instance %s disappeared during the update", id)
	}
	return fillInstance(ctx, c, d, inst)
}

// whileStopped runs change with the instance stopped, starting it again if it was running.
func (c *client) whileStopped(ctx context.Context, op *sdk.Op, id string, change func() error) error {
	inst, err := c.describeInstance(ctx, id)
	if err != nil {
		return err
	}
	if inst == nil {
		return fmt.Errorf("instance %s not found", id)
	}
	wasRunning := inst.State.Name != types.InstanceStateNameStopped
	if wasRunning {
		if inst.State.Name == types.InstanceStateNamePending {
			if _, err := c.waitInstance(ctx, id, types.InstanceStateNameRunning); err != nil {
				return err
			}
		}
		op.Progress(-1, "stopping %s", id)
		if _, err := c.ec2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}); err != nil {
			return apiError(err)
		}
	}
	if _, err := c.waitInstance(ctx, id, types.InstanceStateNameStopped); err != nil {
		return err
	}
	if err := change(); err != nil {
		return err
	}
	if !wasRunning {
		return nil
	}
	op.Progress(-1, "starting %s", id)
	if _, err := c.ec2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}}); err != nil {
		return apiError(err)
	}
	_, err = c.waitInstance(ctx, id, types.InstanceStateNameRunning)
	return err
}

func deleteInstance(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := clientOf(op)
	if err != nil {
		return err
	}
	id := d.ID()
	op.Progress(-1, "terminating %s", id)
	if _, err := c.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
		if notFound(err) {
			return nil
		}
		return apiError(err)
	}
	_, err = c.waitInstance(ctx, id, types.InstanceStateNameTerminated)
	return err
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// orNil is s, or nil when s is empty: an unset attribute, not an empty string.
func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}
