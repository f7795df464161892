package aws

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provhq/prov/sdk"
)

var volumeTypes = []string{"gp3", "gp2", "io1", "io2", "st1", "sc1", "standard"}

func instanceResource() *sdk.Resource {
	return &sdk.Resource{
		Description: "An EC2 instance. Changing ami, subnet_id, key_name, a smaller root volume or its " +
			"delete_on_termination replaces it; a new instance_type or user_data stops it, changes it and starts it " +
			"again; a bigger root volume, its type, tags and security groups change in place.",
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
				"volume_size":           {Type: sdk.Number, Optional: true, Default: 8, Validators: []sdk.Validator{sdk.Between(1, 16384)}, Description: "Size in GiB. It grows in place; a smaller size replaces the instance."},
				"volume_type":           {Type: sdk.String, Optional: true, Default: "gp3", Validators: []sdk.Validator{sdk.OneOf(volumeTypes...)}, Description: "EBS volume type; it changes in place."},
				"delete_on_termination": {Type: sdk.Bool, Optional: true, Default: true, ForceNew: true, Description: "Delete the volume with the instance."},
			}), Optional: true, Computed: true, Description: "The root volume. Default: as the AMI has it."},
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
	if o, ok := d.Old("root_block_device.volume_size").(float64); ok && !d.IsNew() && d.IsKnown("root_block_device") && d.Float("root_block_device.volume_size") < o {
		d.RequireReplace("root_block_device.volume_size") // EBS never shrinks a volume
	}
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
	l := launch{ami: d.String("ami"), instanceType: d.String("instance_type"), subnet: d.String("subnet_id"),
		keyName: d.String("key_name"), userData: d.String("user_data"), tags: d.StringMap("tags")}
	for _, g := range d.List("vpc_security_group_ids") {
		l.groups = append(l.groups, g.(string))
	}
	if d.Map("root_block_device") != nil {
		l.root = &disk{size: d.Int("root_block_device.volume_size"), typ: d.String("root_block_device.volume_type"),
			deleteOnTermination: d.Bool("root_block_device.delete_on_termination")}
	}
	id, inst, err := c.launch(ctx, op, l)
	if id != "" {
		d.SetID(id)
	}
	if err != nil {
		return err
	}
	return fillInstance(ctx, c, d, inst)
}

func readInstance(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := clientOf(op)
	if err != nil {
		return err
	}
	var inst *types.Instance
	if d.ID() == "" && op.ID != "" {
		// Settling an in-doubt create: the launch, if it happened, carries the operation id as its token.
		if inst, err = c.findLaunch(ctx, op.ID); err != nil {
			return err
		}
		if inst == nil {
			return sdk.ErrNotFound
		}
	} else if inst, err = c.liveInstance(ctx, d.ID()); err != nil {
		return err
	}
	return fillInstance(ctx, c, d, inst)
}

// fillInstance sets every attribute of d from the instance as EC2 describes it.
func fillInstance(ctx context.Context, c *client, d *sdk.Data, inst *types.Instance) error {
	o, err := c.observe(ctx, inst)
	if err != nil {
		return err
	}
	id := aws.ToString(inst.InstanceId)
	d.SetID(id)
	d.Set("ami", aws.ToString(inst.ImageId))
	d.Set("instance_type", string(inst.InstanceType))
	d.Set("subnet_id", aws.ToString(inst.SubnetId))
	d.Set("key_name", orNil(aws.ToString(inst.KeyName)))
	d.Set("vpc_security_group_ids", groupIDs(inst, d.List("vpc_security_group_ids")))
	d.Set("tags", tagMap(inst.Tags))
	d.Set("arn", c.arn(ownerOf(inst), "instance", id))
	d.Set("instance_state", string(inst.State.Name))
	d.Set("availability_zone", aws.ToString(inst.Placement.AvailabilityZone))
	d.Set("private_ip", aws.ToString(inst.PrivateIpAddress))
	d.Set("public_ip", orNil(aws.ToString(inst.PublicIpAddress)))
	d.Set("private_dns", aws.ToString(inst.PrivateDnsName))
	d.Set("public_dns", orNil(aws.ToString(inst.PublicDnsName)))
	d.Set("user_data", orNil(o.userData))
	d.Set("root_volume_id", nil)
	if o.root != nil {
		d.Set("root_volume_id", aws.ToString(o.root.VolumeId))
		d.Set("root_block_device", map[string]any{"volume_size": int(aws.ToInt32(o.root.Size)), "volume_type": string(o.root.VolumeType),
			"delete_on_termination": o.rootDeleteOnTermination})
	}
	return nil
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
		if err := c.setGroups(ctx, op, id, d.List("vpc_security_group_ids")); err != nil {
			return err
		}
	}
	if d.HasChange("root_block_device") && d.Map("root_block_device") != nil {
		vol, _ := d.Old("root_volume_id").(string)
		if err := c.modifyVolume(ctx, op, vol, d.Int("root_block_device.volume_size"), d.String("root_block_device.volume_type"), nil, nil); err != nil {
			return sdk.AttrError("root_block_device", err)
		}
	}
	var typ, ud *string
	if d.HasChange("instance_type") {
		typ = aws.String(d.String("instance_type"))
	}
	if d.HasChange("user_data") {
		ud = aws.String(d.String("user_data"))
	}
	if typ != nil || ud != nil {
		if err := c.reconfigure(ctx, op, id, typ, ud, "instance_type", "user_data"); err != nil {
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

func deleteInstance(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := clientOf(op)
	if err != nil {
		return err
	}
	return c.terminate(ctx, op, d.ID())
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// orNil is s, or nil when s is empty: an unset attribute, not an empty string.
func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}
