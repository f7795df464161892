package aws

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provhq/prov/sdk"
)

// The EC2 instance machinery aws_instance and aws_server share: launching, describing, changing while
// stopped, terminating, and growing volumes in place. Each resource maps its own attributes onto it.

// launch is what RunInstances makes: an instance and its volumes.
type launch struct {
	ami, instanceType string
	subnet, zone      string // at most one; neither: the region's first default subnet
	groups            []string
	keyName           string
	userData          string            // plain text
	tags              map[string]string // of the instance and its volumes
	own               []string          // prov's own tags of the instance, as key, value pairs
	root              *disk             // nil: as the AMI has it
	extra             []disk            // blank volumes at /dev/sdf, /dev/sdg, …
	nic               *nic              // nil: the subnet's defaults
}

// disk is an EBS volume made with an instance.
type disk struct {
	size                int
	typ                 string
	deleteOnTermination bool
}

// nic is the primary network interface of an instance, when it is not the subnet's default.
type nic struct {
	subnet, privateIP string
	public            bool
}

// extraDevice is the device name of the i-th extra volume: /dev/sdf, /dev/sdg, …
func extraDevice(i int) string { return fmt.Sprintf("/dev/sd%c", 'f'+i) }

// launch runs the instance l describes with the operation id as ClientToken, so that a retry, or a
// resume after a crash, gets the first launch's instance back instead of a second one, and waits
// until it runs. id is set as soon as EC2 has launched the instance, even when the wait fails.
func (c *client) launch(ctx context.Context, op *sdk.Op, l launch) (id string, inst *types.Instance, err error) {
	in := &ec2.RunInstancesInput{
		ImageId:      aws.String(l.ami),
		InstanceType: types.InstanceType(l.instanceType),
		MinCount:     aws.Int32(1),
		MaxCount:     aws.Int32(1),
		ClientToken:  aws.String(op.ID),
		TagSpecifications: append(tagSpec(types.ResourceTypeInstance, l.tags, "", l.own...),
			tagSpec(types.ResourceTypeVolume, l.tags, "")...),
	}
	if l.keyName != "" {
		in.KeyName = aws.String(l.keyName)
	}
	if l.userData != "" {
		in.UserData = aws.String(base64.StdEncoding.EncodeToString([]byte(l.userData)))
	}
	if l.zone != "" {
		in.Placement = &types.Placement{AvailabilityZone: aws.String(l.zone)}
	}
	if l.nic != nil {
		in.NetworkInterfaces = []types.InstanceNetworkInterfaceSpecification{{DeviceIndex: aws.Int32(0),
			AssociatePublicIpAddress: aws.Bool(l.nic.public), Groups: l.groups, DeleteOnTermination: aws.Bool(true)}}
		if s := cmp.Or(l.nic.subnet, l.subnet); s != "" {
			in.NetworkInterfaces[0].SubnetId = aws.String(s)
		}
		if l.nic.privateIP != "" {
			in.NetworkInterfaces[0].PrivateIpAddress = aws.String(l.nic.privateIP)
		}
	} else {
		if l.subnet != "" {
			in.SubnetId = aws.String(l.subnet)
		}
		in.SecurityGroupIds = l.groups
	}
	if l.root != nil || len(l.extra) > 0 {
		dev, err := rootDevice(ctx, c, l.ami)
		if err != nil {
			return "", nil, err
		}
		if l.root != nil {
			in.BlockDeviceMappings = append(in.BlockDeviceMappings, blockDevice(dev, *l.root))
		}
		for i, d := range l.extra {
			in.BlockDeviceMappings = append(in.BlockDeviceMappings, blockDevice(extraDevice(i), d))
		}
	}
	op.Progress(-1, "launching %s from %s", l.instanceType, l.ami)
	out, err := c.ec2.RunInstances(ctx, in)
	if err != nil {
		return "", nil, apiError(err)
	}
	if len(out.Instances) != 1 {
		return "", nil, fmt.Errorf("RunInstances returned %d instances, want 1", len(out.Instances))
	}
	id = aws.ToString(out.Instances[0].InstanceId)
	op.Progress(-1, "%s is pending", id)
	inst, err = c.waitInstance(ctx, id, types.InstanceStateNameRunning)
	return id, inst, err
}

func blockDevice(name string, d disk) types.BlockDeviceMapping {
	return types.BlockDeviceMapping{DeviceName: aws.String(name), Ebs: &types.EbsBlockDevice{
		VolumeSize: aws.Int32(int32(d.size)), VolumeType: types.VolumeType(d.typ), DeleteOnTermination: aws.Bool(d.deleteOnTermination)}}
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

// findLaunch returns the live instance launched with ClientToken token, waiting until it runs; nil
// when there is none.
func (c *client) findLaunch(ctx context.Context, token string) (*types.Instance, error) {
	out, err := c.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{
		{Name: aws.String("client-token"), Values: []string{token}},
	}})
	if err != nil {
		return nil, apiError(err)
	}
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			if st := in.State.Name; st != types.InstanceStateNameTerminated && st != types.InstanceStateNameShuttingDown {
				// It may still be pending: wait for it as the create would have.
				return c.waitInstance(ctx, aws.ToString(in.InstanceId), types.InstanceStateNameRunning)
			}
		}
	}
	return nil, nil
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

// liveInstance returns the instance id unless it is gone or going: sdk.ErrNotFound then.
func (c *client) liveInstance(ctx context.Context, id string) (*types.Instance, error) {
	inst, err := c.describeInstance(ctx, id)
	if err != nil {
		return nil, err
	}
	if inst == nil || inst.State.Name == types.InstanceStateNameTerminated || inst.State.Name == types.InstanceStateNameShuttingDown {
		return nil, sdk.ErrNotFound
	}
	return inst, nil
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

// observed is an instance as EC2 describes it, with what takes more calls to learn: its user data and
// its volumes.
type observed struct {
	*types.Instance
	userData string // plain text
	root     *types.Volume
	extra    []types.Volume // attached at /dev/sdf, /dev/sdg, … in that order
	// deleteOnTermination of the root volume.
	rootDeleteOnTermination bool
}

// observe describes the user data and volumes of inst.
func (c *client) observe(ctx context.Context, inst *types.Instance) (*observed, error) {
	o := &observed{Instance: inst}
	id := aws.ToString(inst.InstanceId)
	attr, err := c.ec2.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: inst.InstanceId, Attribute: types.InstanceAttributeNameUserData})
	if err != nil {
		return nil, apiError(err)
	}
	if attr.UserData != nil && attr.UserData.Value != nil {
		b, err := base64.StdEncoding.DecodeString(aws.ToString(attr.UserData.Value))
		if err != nil {
			return nil, fmt.Errorf("user data of %s: %w", id, err)
		}
		o.userData = string(b)
	}
	byDevice := map[string]string{}
	var ids []string
	for _, bd := range inst.BlockDeviceMappings {
		if bd.Ebs == nil {
			continue
		}
		byDevice[aws.ToString(bd.DeviceName)] = aws.ToString(bd.Ebs.VolumeId)
		ids = append(ids, aws.ToString(bd.Ebs.VolumeId))
		if aws.ToString(bd.DeviceName) == aws.ToString(inst.RootDeviceName) {
			o.rootDeleteOnTermination = aws.ToBool(bd.Ebs.DeleteOnTermination)
		}
	}
	if len(ids) == 0 {
		return o, nil
	}
	vols, err := c.ec2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: ids})
	if err != nil {
		return nil, apiError(err)
	}
	byID := map[string]types.Volume{}
	for _, v := range vols.Volumes {
		byID[aws.ToString(v.VolumeId)] = v
	}
	if v, ok := byID[byDevice[aws.ToString(inst.RootDeviceName)]]; ok {
		o.root = &v
	}
	for i := 0; ; i++ {
		v, ok := byID[byDevice[extraDevice(i)]]
		if !ok {
			break
		}
		o.extra = append(o.extra, v)
	}
	return o, nil
}

// groupIDs returns the ids of the instance's security groups, in prior's order when they are the same
// set, so that a reordering is not a change.
func groupIDs(inst *types.Instance, prior []any) []any {
	groups := []any{}
	for _, g := range inst.SecurityGroups {
		groups = append(groups, aws.ToString(g.GroupId))
	}
	if sameSet(prior, groups) {
		return prior
	}
	return groups
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

// ownerOf is the account of an instance, from its network interfaces when EC2 gives them.
func ownerOf(inst *types.Instance) string {
	for _, ni := range inst.NetworkInterfaces {
		if o := aws.ToString(ni.OwnerId); o != "" {
			return o
		}
	}
	return ""
}

// setGroups makes groups the security groups of instance id.
func (c *client) setGroups(ctx context.Context, op *sdk.Op, id string, groups []any) error {
	var ids []string
	for _, g := range groups {
		ids = append(ids, g.(string))
	}
	op.Progress(-1, "setting the security groups of %s", id)
	if _, err := c.ec2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id), Groups: ids}); err != nil {
		return apiError(err)
	}
	return nil
}

// reconfigure gives instance id a new type and/or user data (those not nil), which EC2 changes only
// while the instance is stopped: it stops the instance, changes it and starts it again. typeKey and
// userDataKey name the attributes an error is about.
func (c *client) reconfigure(ctx context.Context, op *sdk.Op, id string, typ, userData *string, typeKey, userDataKey string) error {
	return c.whileStopped(ctx, op, id, func() error {
		if typ != nil {
			op.Progress(-1, "changing the type of %s to %s", id, *typ)
			if _, err := c.ec2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id),
				InstanceType: &types.AttributeValue{Value: typ}}); err != nil {
				return sdk.AttrError(typeKey, apiError(err))
			}
		}
		if userData != nil {
			if _, err := c.ec2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id),
				UserData: &types.SecureBlobAttributeValue{Value: []byte(*userData)}}); err != nil {
				return sdk.AttrError(userDataKey, apiError(err))
			}
		}
		return nil
	})
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

// terminate terminates instance id and waits until it is gone; an instance already gone is fine.
func (c *client) terminate(ctx context.Context, op *sdk.Op, id string) error {
	op.Progress(-1, "terminating %s", id)
	if _, err := c.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
		if notFound(err) {
			return nil
		}
		return apiError(err)
	}
	_, err := c.waitInstance(ctx, id, types.InstanceStateNameTerminated)
	return err
}

// modifyVolume changes volume id in place to size GiB of type typ (and iops or throughput, when not
// nil), waiting until EBS has the new size in service (the modification is optimizing or completed).
// EBS grows a volume but never shrinks it, and modifies a volume at most once in six hours: its
// refusal is returned as the cloud's error. The file system on the volume is the server's to grow.
func (c *client) modifyVolume(ctx context.Context, op *sdk.Op, id string, size int, typ string, iops, throughput *int32) error {
	op.Progress(-1, "modifying volume %s to %d GiB %s", id, size, typ)
	in := &ec2.ModifyVolumeInput{VolumeId: aws.String(id), Size: aws.Int32(int32(size)), Iops: iops, Throughput: throughput}
	if typ != "" {
		in.VolumeType = types.VolumeType(typ)
	}
	if _, err := c.ec2.ModifyVolume(ctx, in); err != nil {
		return apiError(err)
	}
	return c.wait(ctx, "the modification of volume "+id, func(ctx context.Context) (bool, error) {
		out, err := c.ec2.DescribeVolumesModifications(ctx, &ec2.DescribeVolumesModificationsInput{VolumeIds: []string{id}})
		if err != nil {
			return false, apiError(err)
		}
		for _, m := range out.VolumesModifications {
			switch m.ModificationState {
			case types.VolumeModificationStateFailed:
				return false, fmt.Errorf("the modification of volume %s failed: %s", id, aws.ToString(m.StatusMessage))
			case types.VolumeModificationStateOptimizing, types.VolumeModificationStateCompleted:
				return true, nil
			}
		}
		return false, nil
	})
}
