package aws

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provhq/prov/sdk"
)

func volumeResource() *sdk.Resource {
	return &sdk.Resource{
		Description: "An EBS volume. A bigger size, a new type, IOPS or throughput change it in place (EBS modifies a " +
			"volume at most once in six hours, and the file system on it is the server's to grow); a smaller size, " +
			"another zone or encryption replace it.",
		Attributes: map[string]*sdk.Attribute{
			"availability_zone": {Type: sdk.String, Required: true, ForceNew: true, Description: "Zone of the volume, e.g. eu-west-1a; it attaches only to instances there."},
			"size":              {Type: sdk.Number, Required: true, Validators: []sdk.Validator{sdk.Between(1, 16384)}, Description: "Size in GiB. It grows in place; a smaller size replaces the volume."},
			"type":              {Type: sdk.String, Optional: true, Default: "gp3", Validators: []sdk.Validator{sdk.OneOf(volumeTypes...)}, Description: "EBS volume type; it changes in place."},
			"iops":              {Type: sdk.Number, Optional: true, Computed: true, Description: "Provisioned IOPS (gp3, io1, io2)."},
			"throughput":        {Type: sdk.Number, Optional: true, Computed: true, Description: "Throughput in MiB/s (gp3)."},
			"encrypted":         {Type: sdk.Bool, Optional: true, ForceNew: true, Default: false, Description: "Encrypt the volume."},
			"tags":              {Type: sdk.MapOf(sdk.String), Optional: true, Description: "Tags of the volume."},
			"arn":               {Type: sdk.String, Computed: true, Description: "ARN of the volume."},
		},
		Create: createVolume,
		Read:   readVolume,
		Update: func(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
			c, err := clientOf(op)
			if err != nil {
				return err
			}
			if err := updateTags(ctx, c, d.ID(), d); err != nil {
				return err
			}
			if d.HasChange("size") || d.HasChange("type") || d.HasChange("iops") || d.HasChange("throughput") {
				var iops, throughput *int32
				if d.HasChange("iops") && d.IsKnown("iops") && d.Get("iops") != nil {
					iops = aws.Int32(int32(d.Int("iops")))
				}
				if d.HasChange("throughput") && d.IsKnown("throughput") && d.Get("throughput") != nil {
					throughput = aws.Int32(int32(d.Int("throughput")))
				}
				if err := c.modifyVolume(ctx, op, d.ID(), d.Int("size"), d.String("type"), iops, throughput); err != nil {
					return sdk.AttrError("size", err)
				}
			}
			return readVolume(ctx, op, d)
		},
		Delete: deleteVolume,
		Import: readVolume,
		Plan: keepOnUpdate(func(_ context.Context, op *sdk.Op, d *sdk.Data) error {
			if !d.IsNew() {
				if old, ok := d.Old("size").(float64); ok && d.IsKnown("size") && d.Float("size") < old {
					d.RequireReplace("size") // EBS never shrinks a volume
				} else if d.HasChange("type") {
					// A new type comes with its own default performance unless the configuration sets it.
					for _, k := range []string{"iops", "throughput"} {
						if !d.HasChange(k) {
							d.SetUnknown(k)
						}
					}
				}
			}
			c, ok := op.Client.(*client)
			if !ok || !d.IsKnown("size") || !d.IsKnown("type") {
				return nil
			}
			if gb, ok := prices.volumeGBMonth(c.region, d.String("type")); ok {
				d.SetMonthlyCost(gb * d.Float("size"))
			}
			return nil
		}, "arn"),
	}
}

func createVolume(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := clientOf(op)
	if err != nil {
		return err
	}
	in := &ec2.CreateVolumeInput{AvailabilityZone: aws.String(d.String("availability_zone")), Size: aws.Int32(int32(d.Int("size"))),
		VolumeType: types.VolumeType(d.String("type")), Encrypted: aws.Bool(d.Bool("encrypted")), ClientToken: aws.String(op.ID),
		TagSpecifications: tagSpec(types.ResourceTypeVolume, d.StringMap("tags"), op.ID)}
	if v, ok := d.GetOk("iops"); ok {
		in.Iops = aws.Int32(int32(v.(float64)))
	}
	if v, ok := d.GetOk("throughput"); ok {
		in.Throughput = aws.Int32(int32(v.(float64)))
	}
	out, err := c.ec2.CreateVolume(ctx, in)
	if err != nil {
		return apiError(err)
	}
	id := aws.ToString(out.VolumeId)
	d.SetID(id)
	v, err := c.waitVolume(ctx, id, func(v *types.Volume) bool { return v != nil && v.State == types.VolumeStateAvailable })
	if err != nil {
		return err
	}
	fillVolume(c, d, v)
	return nil
}

func (c *client) describeVolume(ctx context.Context, id string) (*types.Volume, error) {
	out, err := c.ec2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{id}})
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, apiError(err)
	}
	if len(out.Volumes) == 0 {
		return nil, nil
	}
	return &out.Volumes[0], nil
}

// waitVolume polls volume id until done says so; done gets nil when the volume does not exist.
func (c *client) waitVolume(ctx context.Context, id string, done func(*types.Volume) bool) (*types.Volume, error) {
	var v *types.Volume
	err := c.wait(ctx, "volume "+id, func(ctx context.Context) (bool, error) {
		var err error
		v, err = c.describeVolume(ctx, id)
		if err != nil {
			return false, err
		}
		if v != nil && v.State == types.VolumeStateError {
			return false, fmt.Errorf("volume %s is in the error state", id)
		}
		return done(v), nil
	})
	return v, err
}

func readVolume(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := clientOf(op)
	if err != nil {
		return err
	}
	var v *types.Volume
	if d.ID() == "" && op.ID != "" {
		out, err := c.ec2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []types.Filter{
			{Name: aws.String("tag:" + OperationTag), Values: []string{op.ID}}}})
		if err != nil {
			return apiError(err)
		}
		if len(out.Volumes) > 0 {
			id := aws.ToString(out.Volumes[0].VolumeId)
			if v, err = c.waitVolume(ctx, id, func(v *types.Volume) bool { return v == nil || v.State != types.VolumeStateCreating }); err != nil {
				return err
			}
		}
	} else if v, err = c.describeVolume(ctx, d.ID()); err != nil {
		return err
	}
	if v == nil || v.State == types.VolumeStateDeleting || v.State == types.VolumeStateDeleted {
		return sdk.ErrNotFound
	}
	fillVolume(c, d, v)
	return nil
}

func fillVolume(c *client, d *sdk.Data, v *types.Volume) {
	id := aws.ToString(v.VolumeId)
	d.SetID(id)
	d.Set("availability_zone", aws.ToString(v.AvailabilityZone))
	d.Set("size", int(aws.ToInt32(v.Size)))
	d.Set("type", string(v.VolumeType))
	if v.Iops != nil {
		d.Set("iops", int(*v.Iops))
	}
	if v.Throughput != nil {
		d.Set("throughput", int(*v.Throughput))
	}
	d.Set("encrypted", aws.ToBool(v.Encrypted))
	d.Set("tags", tagMap(v.Tags))
	d.Set("arn", c.arn("", "volume", id))
}

func deleteVolume(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := clientOf(op)
	if err != nil {
		return err
	}
	id := d.ID()
	if _, err := c.ec2.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String(id)}); err != nil {
		if notFound(err) {
			return nil
		}
		return apiError(err)
	}
	_, err = c.waitVolume(ctx, id, func(v *types.Volume) bool { return v == nil })
	return err
}

func attachmentResource() *sdk.Resource {
	return &sdk.Resource{
		Description: "An EBS volume attached to an instance; any change detaches it and attaches anew.",
		Attributes: map[string]*sdk.Attribute{
			"device_name": {Type: sdk.String, Required: true, ForceNew: true, Validators: []sdk.Validator{sdk.Regexp(`^/dev/`)}, Description: "Device name on the instance, e.g. /dev/sdf."},
			"volume_id":   {Type: sdk.String, Required: true, ForceNew: true, Description: "Volume to attach."},
			"instance_id": {Type: sdk.String, Required: true, ForceNew: true, Description: "Instance to attach it to, in the same zone."},
		},
		Create: createAttachment,
		Read:   readAttachment,
		Delete: deleteAttachment,
		Import: func(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
			dev, vol, inst, ok := parseAttachmentID(d.ID())
			if !ok {
				return sdk.AttrErrorf("id", "want DEVICE:VOLUME-ID:INSTANCE-ID, e.g. /dev/sdf:vol-0123:i-0456, got %q", d.ID())
			}
			d.Set("device_name", dev)
			d.Set("volume_id", vol)
			d.Set("instance_id", inst)
			return readAttachment(ctx, op, d)
		},
	}
}

func attachmentID(d *sdk.Data) string {
	return d.String("device_name") + ":" + d.String("volume_id") + ":" + d.String("instance_id")
}

func parseAttachmentID(id string) (dev, vol, inst string, ok bool) {
	parts := strings.Split(id, ":")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

// attachment returns the volume's attachment to the instance, nil when there is none.
func attachmentOf(v *types.Volume, instance string) *types.VolumeAttachment {
	if v == nil {
		return nil
	}
	for _, a := range v.Attachments {
		if aws.ToString(a.InstanceId) == instance {
			return &a
		}
	}
	return nil
}

func createAttachment(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := clientOf(op)
	if err != nil {
		return err
	}
	vol, inst, dev := d.String("volume_id"), d.String("instance_id"), d.String("device_name")
	v, err := c.describeVolume(ctx, vol)
	if err != nil {
		return err
	}
	if v == nil {
		return sdk.AttrErrorf("volume_id", "volume %s not found", vol)
	}
	// An attachment already in place (a retried create) is adopted rather than attached twice.
	if a := attachmentOf(v, inst); a == nil || aws.ToString(a.Device) != dev {
		if _, err := c.ec2.AttachVolume(ctx, &ec2.AttachVolumeInput{Device: aws.String(dev), InstanceId: aws.String(inst), VolumeId: aws.String(vol)}); err != nil {
			return apiError(err)
		}
	}
	d.SetID(attachmentID(d))
	_, err = c.waitVolume(ctx, vol, func(v *types.Volume) bool {
		a := attachmentOf(v, inst)
		return a != nil && a.State == types.VolumeAttachmentStateAttached
	})
	return err
}

func readAttachment(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := clientOf(op)
	if err != nil {
		return err
	}
	if d.ID() == "" {
		// An in-doubt create has nothing to look up by: reporting it missing makes prov attach again,
		// which adopts an attachment that is already there.
		return sdk.ErrNotFound
	}
	v, err := c.describeVolume(ctx, d.String("volume_id"))
	if err != nil {
		return err
	}
	a := attachmentOf(v, d.String("instance_id"))
	if a == nil || aws.ToString(a.Device) != d.String("device_name") || a.State == types.VolumeAttachmentStateDetached {
		return sdk.ErrNotFound
	}
	return nil
}

func deleteAttachment(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := clientOf(op)
	if err != nil {
		return err
	}
	vol, inst := d.String("volume_id"), d.String("instance_id")
	if _, err := c.ec2.DetachVolume(ctx, &ec2.DetachVolumeInput{VolumeId: aws.String(vol), InstanceId: aws.String(inst), Device: aws.String(d.String("device_name"))}); err != nil {
		if notFound(err) || errorCode(err) == "IncorrectState" {
			return nil // already detached, or the volume is gone
		}
		return apiError(err)
	}
	_, err = c.waitVolume(ctx, vol, func(v *types.Volume) bool { return attachmentOf(v, inst) == nil })
	return err
}
