package ec2

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Instance states and their codes, as EC2 reports them.
const (
	Pending      = "pending"
	Running      = "running"
	ShuttingDown = "shutting-down"
	Terminated   = "terminated"
	Stopping     = "stopping"
	Stopped      = "stopped"
)

var stateCodes = map[string]int{Pending: 0, Running: 16, ShuttingDown: 32, Terminated: 48, Stopping: 64, Stopped: 80}

type instanceState struct {
	Code int    `xml:"code"`
	Name string `xml:"name"`
}

func stateOf(name string) instanceState { return instanceState{stateCodes[name], name} }

type placement struct {
	AvailabilityZone string `xml:"availabilityZone"`
	Tenancy          string `xml:"tenancy"`
}

type groupRef struct {
	GroupID   string `xml:"groupId"`
	GroupName string `xml:"groupName"`
}

type instanceBlockDevice struct {
	DeviceName string `xml:"deviceName"`
	Ebs        struct {
		VolumeID            string `xml:"volumeId"`
		Status              string `xml:"status"`
		AttachTime          string `xml:"attachTime"`
		DeleteOnTermination bool   `xml:"deleteOnTermination"`
	} `xml:"ebs"`
}

// networkInterface is an instance's primary network interface.
type networkInterface struct {
	ID        string `xml:"networkInterfaceId"`
	SubnetID  string `xml:"subnetId"`
	VpcID     string `xml:"vpcId"`
	OwnerID   string `xml:"ownerId"`
	Status    string `xml:"status"`
	PrivateIP string `xml:"privateIpAddress"`
}

// instance is an EC2 instance; its exported fields are its XML form.
type instance struct {
	InstanceID     string                `xml:"instanceId"`
	ImageID        string                `xml:"imageId"`
	State          instanceState         `xml:"instanceState"`
	PrivateDNSName string                `xml:"privateDnsName"`
	DNSName        string                `xml:"dnsName"`
	Reason         string                `xml:"reason"`
	KeyName        string                `xml:"keyName,omitempty"`
	AMILaunchIndex int                   `xml:"amiLaunchIndex"`
	InstanceType   string                `xml:"instanceType"`
	LaunchTime     string                `xml:"launchTime"`
	Placement      placement             `xml:"placement"`
	SubnetID       string                `xml:"subnetId"`
	VpcID          string                `xml:"vpcId"`
	PrivateIP      string                `xml:"privateIpAddress"`
	PublicIP       string                `xml:"ipAddress,omitempty"`
	Groups         []groupRef            `xml:"groupSet>item"`
	Architecture   string                `xml:"architecture"`
	RootDeviceType string                `xml:"rootDeviceType"`
	RootDeviceName string                `xml:"rootDeviceName"`
	BlockDevices   []instanceBlockDevice `xml:"blockDeviceMapping>item"`
	Virtualization string                `xml:"virtualizationType"`
	ClientToken    string                `xml:"clientToken,omitempty"`
	Interfaces     []networkInterface    `xml:"networkInterfaceSet>item"`
	Tags           []tag                 `xml:"tagSet>item"`
	Hypervisor     string                `xml:"hypervisor"`

	userData string // base64, as sent
	publicIP bool   // whether it gets a public address when it runs
	next     string // the state the current one becomes, "" when stable
	at       time.Time
	reserved string // reservation id
}

// Instance is a snapshot of one instance of the fake, for tests.
type Instance struct {
	ID, State, Type, ImageID, SubnetID, KeyName, ClientToken string
	SecurityGroups                                           []string
	Tags                                                     map[string]string
	UserData                                                 string // decoded
}

// Instances returns every instance the fake knows, terminated ones included, in launch order.
func (s *Server) Instances() []Instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle()
	var out []Instance
	for _, id := range s.order {
		in := s.instances[id]
		ud, _ := base64.StdEncoding.DecodeString(in.userData)
		x := Instance{ID: in.InstanceID, State: in.State.Name, Type: in.InstanceType, ImageID: in.ImageID, SubnetID: in.SubnetID,
			KeyName: in.KeyName, ClientToken: in.ClientToken, Tags: map[string]string{}, UserData: string(ud)}
		for _, g := range in.Groups {
			x.SecurityGroups = append(x.SecurityGroups, g.GroupID)
		}
		for _, t := range in.Tags {
			x.Tags[t.Key] = t.Value
		}
		out = append(out, x)
	}
	return out
}

// SetInstanceState forces an instance into state, as when someone stops or terminates it outside prov;
// tests of drift use it.
func (s *Server) SetInstanceState(id, state string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.instances[id]
	if in == nil {
		return fmt.Errorf("fakecloud ec2: no instance %s", id)
	}
	in.State, in.next = stateOf(state), ""
	return nil
}

// SetInstanceType changes an instance's type behind prov's back, for drift tests.
func (s *Server) SetInstanceType(id, typ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.instances[id]
	if in == nil {
		return fmt.Errorf("fakecloud ec2: no instance %s", id)
	}
	in.InstanceType = typ
	return nil
}

// transition starts moving in from its current state through via to next.
func (s *Server) transition(in *instance, via, next string) {
	in.State, in.next, in.at = stateOf(via), next, s.now().Add(s.opts.Transition)
}

// settle finishes every transition whose time has come.
func (s *Server) settle() {
	now := s.now()
	for _, id := range s.order {
		in := s.instances[id]
		if in.next == "" || now.Before(in.at) {
			continue
		}
		in.State, in.next = stateOf(in.next), ""
		switch in.State.Name {
		case Running:
			if in.publicIP {
				in.PublicIP = fmt.Sprintf("54.%d.%d.%d", 160+len(id)%40, int(id[len(id)-2]), int(id[len(id)-1]))
				in.DNSName = "ec2-" + strings.ReplaceAll(in.PublicIP, ".", "-") + ".compute-1.amazonaws.com"
			}
		case Stopped:
			in.PublicIP, in.DNSName = "", ""
		case Terminated:
			in.PublicIP, in.DNSName = "", ""
			for _, v := range s.volumes {
				if v.attached(in.InstanceID) == nil {
					continue
				}
				if v.Attachments[0].DeleteOnTermination {
					delete(s.volumes, v.VolumeID)
					delete(s.modifications, v.VolumeID)
				} else {
					v.Attachments, v.Status = nil, "available"
				}
			}
		}
	}
	s.settleVolumes(now)
}

type reservationXML struct {
	ReservationID string      `xml:"reservationId"`
	OwnerID       string      `xml:"ownerId"`
	Groups        []groupRef  `xml:"groupSet>item"`
	Instances     []*instance `xml:"instancesSet>item"`
}

type runInstancesResponse struct {
	response
	reservationXML
}

func (s *Server) runInstances(p params) (responder, error) {
	if err := p.require("ImageId"); err != nil {
		return nil, err
	}
	if token := p.str("ClientToken"); token != "" {
		if rid, ok := s.tokens[token]; ok {
			return &runInstancesResponse{reservationXML: s.reservation(rid)}, nil
		}
	}
	minCount, err := p.int("MinCount", 1)
	if err != nil {
		return nil, err
	}
	maxCount, err := p.int("MaxCount", 1)
	if err != nil {
		return nil, err
	}
	if minCount < 1 || maxCount < minCount {
		return nil, badRequest("InvalidParameterValue", "Invalid value '%d' for MinCount. Must be between 1 and MaxCount.", minCount)
	}
	im, err := s.launchImage(p.str("ImageId"))
	if err != nil {
		return nil, err
	}
	typ := p.str("InstanceType")
	if typ == "" {
		typ = "m1.small"
	}
	arch, ok := instanceTypes[typ]
	if !ok {
		return nil, badRequest("InvalidParameterValue", "Invalid value '%s' for InstanceType.", typ)
	}
	if arch != im.Architecture {
		return nil, badRequest("InvalidParameterValue", "The architecture '%s' of the specified instance type does not match the architecture '%s' of the specified AMI. Specify an instance type and an AMI that have matching architectures, and try again.", arch, im.Architecture)
	}
	nic, err := primaryInterface(p)
	if err != nil {
		return nil, err
	}
	sn := s.subnets[0]
	subnetID := p.str("SubnetId")
	if nic != nil {
		subnetID = nic.str("SubnetId")
	}
	if subnetID != "" {
		if sn = s.subnet(subnetID); sn == nil {
			return nil, badRequest("InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", subnetID)
		}
	}
	if z := p.str("Placement.AvailabilityZone"); z != "" {
		if subnetID == "" {
			if i := slices.IndexFunc(s.subnets, func(sn *subnet) bool { return sn.AvailabilityZone == z }); i >= 0 {
				sn = s.subnets[i]
			} else {
				return nil, badRequest("InvalidParameterValue", "Invalid availability zone: [%s]", z)
			}
		} else if z != sn.AvailabilityZone {
			return nil, badRequest("InvalidParameterCombination", "The specified subnet '%s' is not in the availability zone '%s'", sn.SubnetID, z)
		}
	}
	groupIDs := p.list("SecurityGroupId")
	if nic != nil {
		groupIDs = nic.list("SecurityGroupId")
	}
	groups, err := s.groupRefs(groupIDs)
	if err != nil {
		return nil, err
	}
	if len(groups) == 0 {
		groups = []groupRef{{s.DefaultSecurityGroup(), "default"}}
	}
	if k := p.str("KeyName"); k != "" && s.keys[k] == nil {
		return nil, badRequest("InvalidKeyPair.NotFound", "The key pair '%s' does not exist", k)
	}
	ud := p.str("UserData")
	if _, err := base64.StdEncoding.DecodeString(ud); err != nil {
		return nil, badRequest("InvalidParameterValue", "Invalid BASE64 encoding of user data.")
	}
	tags, err := tagSpecs(p, "instance")
	if err != nil {
		return nil, err
	}
	volTags, err := tagSpecs(p, "volume")
	if err != nil {
		return nil, err
	}
	devs, err := blockDevices(p, im)
	if err != nil {
		return nil, err
	}

	rid := newID("r")
	resv := make([]string, 0, maxCount)
	for i := range maxCount {
		id := newID("i")
		sn.next++
		ip := fmt.Sprintf("172.31.%d.%d", sn.third+sn.next/250, sn.next%250+4)
		if nic != nil && nic.str("PrivateIpAddress") != "" && maxCount == 1 {
			ip = nic.str("PrivateIpAddress")
		}
		in := &instance{InstanceID: id, ImageID: im.ImageID, PrivateDNSName: "ip-" + strings.ReplaceAll(ip, ".", "-") + ".ec2.internal",
			KeyName: p.str("KeyName"), AMILaunchIndex: i, InstanceType: typ, LaunchTime: s.timestamp(),
			Placement: placement{sn.AvailabilityZone, "default"}, SubnetID: sn.SubnetID, VpcID: sn.VpcID, PrivateIP: ip,
			Groups: groups, Architecture: im.Architecture, RootDeviceType: "ebs", RootDeviceName: im.RootDeviceName,
			Virtualization: "hvm", ClientToken: p.str("ClientToken"), Tags: slices.Clone(tags), Hypervisor: "xen",
			userData: ud, reserved: rid, publicIP: sn.MapPublicIPOnLaunch}
		if nic != nil && nic.has("AssociatePublicIpAddress") {
			in.publicIP = nic.bool("AssociatePublicIpAddress")
		}
		in.Interfaces = []networkInterface{{ID: newID("eni"), SubnetID: sn.SubnetID, VpcID: sn.VpcID, OwnerID: s.opts.OwnerID, Status: "in-use", PrivateIP: ip}}
		s.transition(in, Pending, Running)
		s.instances[id] = in
		s.order = append(s.order, id)
		resv = append(resv, id)
		for _, d := range devs {
			v := s.newVolume(sn.AvailabilityZone, d.size, d.typ, slices.Clone(volTags))
			v.Status = "in-use"
			v.Attachments = []*attachment{{VolumeID: v.VolumeID, InstanceID: id, Device: d.name, Status: "attached",
				AttachTime: s.timestamp(), DeleteOnTermination: d.deleteOnTermination}}
		}
	}
	s.reservations[rid] = resv
	if token := p.str("ClientToken"); token != "" {
		s.tokens[token] = rid
	}
	return &runInstancesResponse{reservationXML: s.reservation(rid)}, nil
}

// primaryInterface returns the NetworkInterface.1 of a RunInstances request (device index 0), nil when
// there is none. As on EC2, it excludes an instance-level subnet and security groups.
func primaryInterface(p params) (params, error) {
	nics := p.members("NetworkInterface")
	if len(nics) == 0 {
		return nil, nil
	}
	if len(nics) > 1 {
		return nil, badRequest("InvalidParameterValue", "The fake supports only the primary network interface (DeviceIndex 0)")
	}
	nic := nics[0]
	if nic.str("DeviceIndex") != "0" {
		return nil, badRequest("InvalidParameterValue", "Each network interface requires a device index.")
	}
	if p.str("SubnetId") != "" {
		return nil, badRequest("InvalidParameterCombination", "Network interfaces and an instance-level subnet ID may not be specified on the same request")
	}
	if len(p.list("SecurityGroupId")) > 0 {
		return nil, badRequest("InvalidParameterCombination", "Network interfaces and an instance-level security groups may not be specified on the same request")
	}
	return nic, nil
}

// blockDevice is a volume RunInstances makes for an instance.
type blockDevice struct {
	name                string
	size                int
	typ                 string
	deleteOnTermination bool
}

// blockDevices returns the volumes of a launch: the image's root device, changed by a mapping of the
// same name, and a blank volume for every other mapping.
func blockDevices(p params, im *image) ([]blockDevice, error) {
	root := im.BlockDevices[0]
	out := []blockDevice{{im.RootDeviceName, root.Ebs.VolumeSize, root.Ebs.VolumeType, true}}
	for _, bd := range p.members("BlockDeviceMapping") {
		name := bd.str("DeviceName")
		if name == "" {
			return nil, badRequest("MissingParameter", "The request must contain the parameter BlockDeviceMapping.DeviceName")
		}
		if slices.ContainsFunc(out[1:], func(d blockDevice) bool { return d.name == name }) {
			return nil, badRequest("InvalidBlockDeviceMapping", "The device '%s' is used in more than one block-device mapping", name)
		}
		d := blockDevice{name: name, typ: "gp2", deleteOnTermination: true}
		if name == im.RootDeviceName {
			d = out[0]
		} else if !bd.has("Ebs.VolumeSize") {
			return nil, badRequest("InvalidBlockDeviceMapping", "The volume size of device '%s' must be given: it is not created from a snapshot", name)
		}
		var err error
		if d.size, err = bd.int("Ebs.VolumeSize", d.size); err != nil {
			return nil, err
		}
		if name == im.RootDeviceName && d.size < root.Ebs.VolumeSize {
			return nil, badRequest("InvalidBlockDeviceMapping", "Volume of size %dGB is smaller than snapshot '%s', expect size >= %dGB", d.size, root.Ebs.SnapshotID, root.Ebs.VolumeSize)
		}
		if d.size < 1 || d.size > 16384 {
			return nil, badRequest("InvalidParameterValue", "Volume size must be between 1 and 16384 GiB, got %d", d.size)
		}
		if t := bd.str("Ebs.VolumeType"); t != "" {
			if !validVolumeType(t) {
				return nil, badRequest("InvalidParameterValue", "Value (%s) for parameter volumeType is invalid.", t)
			}
			d.typ = t
		}
		if bd.has("Ebs.DeleteOnTermination") {
			d.deleteOnTermination = bd.bool("Ebs.DeleteOnTermination")
		}
		if name == im.RootDeviceName {
			out[0] = d
		} else {
			out = append(out, d)
		}
	}
	return out, nil
}

func (s *Server) launchImage(id string) (*image, error) {
	if !strings.HasPrefix(id, "ami-") {
		return nil, badRequest("InvalidAMIID.Malformed", "Invalid id: \"%s\" (expecting \"ami-...\")", id)
	}
	im := s.image(id)
	if im == nil {
		return nil, badRequest("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", id)
	}
	return im, nil
}

func (s *Server) groupRefs(ids []string) ([]groupRef, error) {
	var out []groupRef
	for _, id := range ids {
		g := s.groups[id]
		if g == nil {
			return nil, badRequest("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
		}
		out = append(out, groupRef{g.GroupID, g.GroupName})
	}
	return out, nil
}

// reservation renders reservation rid with its instances as they are now.
func (s *Server) reservation(rid string) reservationXML {
	r := reservationXML{ReservationID: rid, OwnerID: s.opts.OwnerID}
	for _, id := range s.reservations[rid] {
		r.Instances = append(r.Instances, s.render(s.instances[id]))
	}
	return r
}

// render is a copy of in with its block devices as they are attached now.
func (s *Server) render(in *instance) *instance {
	out := *in
	out.BlockDevices = nil
	for _, v := range s.sortedVolumes() {
		a := v.attached(in.InstanceID)
		if a == nil {
			continue
		}
		var bd instanceBlockDevice
		bd.DeviceName = a.Device
		bd.Ebs.VolumeID, bd.Ebs.Status, bd.Ebs.AttachTime, bd.Ebs.DeleteOnTermination = v.VolumeID, a.Status, a.AttachTime, a.DeleteOnTermination
		out.BlockDevices = append(out.BlockDevices, bd)
	}
	slices.SortFunc(out.BlockDevices, func(a, b instanceBlockDevice) int { return strings.Compare(a.DeviceName, b.DeviceName) })
	return &out
}

// instanceIDs checks the InstanceId.N of a request: every one must exist.
func (s *Server) instanceIDs(p params, required bool) ([]string, error) {
	ids := p.list("InstanceId")
	if required && len(ids) == 0 {
		return nil, badRequest("MissingParameter", "The request must contain the parameter InstanceId")
	}
	var missing []string
	for _, id := range ids {
		if !strings.HasPrefix(id, "i-") {
			return nil, badRequest("InvalidInstanceID.Malformed", "Invalid id: \"%s\"", id)
		}
		if s.instances[id] == nil {
			missing = append(missing, id)
		}
	}
	if len(missing) == 1 {
		return nil, badRequest("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", missing[0])
	} else if len(missing) > 1 {
		return nil, badRequest("InvalidInstanceID.NotFound", "The instance IDs '%s' do not exist", strings.Join(missing, ", "))
	}
	return ids, nil
}

type describeInstancesResponse struct {
	response
	Reservations []reservationXML `xml:"reservationSet>item"`
}

func (s *Server) describeInstances(p params) (responder, error) {
	ids, err := s.instanceIDs(p, false)
	if err != nil {
		return nil, err
	}
	fs := filters(p)
	resp := &describeInstancesResponse{}
	byResv := map[string]int{}
	for _, id := range s.order {
		in := s.instances[id]
		if len(ids) > 0 && !slices.Contains(ids, id) {
			continue
		}
		ok, err := match(fs, func(name string) ([]string, bool) { return in.field(name) })
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		i, seen := byResv[in.reserved]
		if !seen {
			i = len(resp.Reservations)
			byResv[in.reserved] = i
			resp.Reservations = append(resp.Reservations, reservationXML{ReservationID: in.reserved, OwnerID: s.opts.OwnerID})
		}
		resp.Reservations[i].Instances = append(resp.Reservations[i].Instances, s.render(in))
	}
	return resp, nil
}

// field answers DescribeInstances filters.
func (in *instance) field(name string) ([]string, bool) {
	one := func(v string) ([]string, bool) { return []string{v}, true }
	switch name {
	case "instance-id":
		return one(in.InstanceID)
	case "instance-state-name":
		return one(in.State.Name)
	case "instance-state-code":
		return one(fmt.Sprint(in.State.Code))
	case "instance-type":
		return one(in.InstanceType)
	case "image-id":
		return one(in.ImageID)
	case "client-token":
		return one(in.ClientToken)
	case "key-name":
		return one(in.KeyName)
	case "subnet-id":
		return one(in.SubnetID)
	case "vpc-id":
		return one(in.VpcID)
	case "availability-zone":
		return one(in.Placement.AvailabilityZone)
	case "private-ip-address":
		return one(in.PrivateIP)
	case "ip-address":
		return one(in.PublicIP)
	case "reservation-id":
		return one(in.reserved)
	case "instance.group-id":
		var out []string
		for _, g := range in.Groups {
			out = append(out, g.GroupID)
		}
		return out, true
	}
	return tagFields(in.Tags, name)
}

type stateChange struct {
	InstanceID    string        `xml:"instanceId"`
	CurrentState  instanceState `xml:"currentState"`
	PreviousState instanceState `xml:"previousState"`
}

type stateChangeResponse struct {
	response
	Instances []stateChange `xml:"instancesSet>item"`
}

// changeState moves every instance of the request: from is the states it may be in (others are an
// IncorrectInstanceState error, except those already at or going to target, which stay).
func (s *Server) changeState(p params, via, target string, from ...string) (responder, error) {
	ids, err := s.instanceIDs(p, true)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		in := s.instances[id]
		st := in.State.Name
		if st != via && st != target && !slices.Contains(from, st) {
			return nil, badRequest("IncorrectInstanceState", "The instance '%s' is not in a state from which it can be %s.", id, map[string]string{Stopped: "stopped", Running: "started", Terminated: "terminated"}[target])
		}
	}
	resp := &stateChangeResponse{}
	for _, id := range ids {
		in := s.instances[id]
		prev := in.State
		if slices.Contains(from, prev.Name) {
			s.transition(in, via, target)
		}
		resp.Instances = append(resp.Instances, stateChange{id, in.State, prev})
	}
	return resp, nil
}

func (s *Server) terminateInstances(p params) (responder, error) {
	return s.changeState(p, ShuttingDown, Terminated, Pending, Running, Stopping, Stopped)
}

func (s *Server) stopInstances(p params) (responder, error) {
	return s.changeState(p, Stopping, Stopped, Running, Pending)
}

func (s *Server) startInstances(p params) (responder, error) {
	return s.changeState(p, Pending, Running, Stopped)
}

func (s *Server) modifyInstanceAttribute(p params) (responder, error) {
	if err := p.require("InstanceId"); err != nil {
		return nil, err
	}
	id := p.str("InstanceId")
	in := s.instances[id]
	if in == nil {
		return nil, badRequest("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
	}
	attr, val := p.str("Attribute"), p.str("Value")
	needStopped := func() error {
		if in.State.Name != Stopped {
			return badRequest("IncorrectInstanceState", "The instance '%s' is not in the 'stopped' state.", id)
		}
		return nil
	}
	switch {
	case p.has("InstanceType.Value") || attr == "instanceType":
		typ := p.str("InstanceType.Value")
		if attr == "instanceType" {
			typ = val
		}
		if err := needStopped(); err != nil {
			return nil, err
		}
		arch, ok := instanceTypes[typ]
		if !ok {
			return nil, badRequest("InvalidInstanceAttributeValue", "Value (%s) for parameter instanceType is invalid. Unknown instance type.", typ)
		}
		if arch != in.Architecture {
			return nil, badRequest("InvalidParameterValue", "The architecture '%s' of the instance type %s does not match the instance's architecture '%s'.", arch, typ, in.Architecture)
		}
		in.InstanceType = typ
	case p.has("UserData.Value") || attr == "userData":
		if err := needStopped(); err != nil {
			return nil, err
		}
		ud := p.str("UserData.Value")
		if attr == "userData" {
			ud = val
		}
		if _, err := base64.StdEncoding.DecodeString(ud); err != nil {
			return nil, badRequest("InvalidParameterValue", "Invalid BASE64 encoding of user data.")
		}
		in.userData = ud
	case len(p.list("GroupId")) > 0:
		groups, err := s.groupRefs(p.list("GroupId"))
		if err != nil {
			return nil, err
		}
		in.Groups = groups
	default:
		return nil, badRequest("InvalidParameterCombination", "No attributes specified.")
	}
	return &returnResponse{Return: true}, nil
}

type attributeValue struct {
	Value string `xml:"value"`
}

type describeAttributeResponse struct {
	response
	InstanceID   string          `xml:"instanceId"`
	InstanceType *attributeValue `xml:"instanceType,omitempty"`
	UserData     *attributeValue `xml:"userData,omitempty"`
	Groups       []groupRef      `xml:"groupSet>item"`
}

func (s *Server) describeInstanceAttribute(p params) (responder, error) {
	if err := p.require("InstanceId", "Attribute"); err != nil {
		return nil, err
	}
	id := p.str("InstanceId")
	in := s.instances[id]
	if in == nil {
		return nil, badRequest("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
	}
	resp := &describeAttributeResponse{InstanceID: id}
	switch a := p.str("Attribute"); a {
	case "instanceType":
		resp.InstanceType = &attributeValue{in.InstanceType}
	case "userData":
		resp.UserData = &attributeValue{in.userData}
	case "groupSet":
		resp.Groups = in.Groups
	default:
		return nil, badRequest("InvalidParameterValue", "Value (%s) for parameter attribute is invalid. The fake answers instanceType, userData and groupSet.", a)
	}
	return resp, nil
}

// tagged returns a pointer to the tags of the resource id, or an error naming it.
func (s *Server) tagged(id string) (*[]tag, error) {
	switch {
	case strings.HasPrefix(id, "i-") && s.instances[id] != nil:
		return &s.instances[id].Tags, nil
	case strings.HasPrefix(id, "sg-") && s.groups[id] != nil:
		return &s.groups[id].Tags, nil
	case strings.HasPrefix(id, "vol-") && s.volumes[id] != nil:
		return &s.volumes[id].Tags, nil
	case strings.HasPrefix(id, "key-"):
		for _, k := range s.keys {
			if k.KeyPairID == id {
				return &k.Tags, nil
			}
		}
	case strings.HasPrefix(id, "subnet-") && s.subnet(id) != nil:
		return &s.subnet(id).Tags, nil
	}
	kind := map[string]string{"i": "InvalidInstanceID", "sg": "InvalidGroup", "vol": "InvalidVolume", "key": "InvalidKeyPair", "subnet": "InvalidSubnetID"}
	prefix, _, _ := strings.Cut(id, "-")
	if k, ok := kind[prefix]; ok {
		return nil, badRequest(k+".NotFound", "The ID '%s' does not exist", id)
	}
	return nil, badRequest("InvalidID", "The ID '%s' is not valid", id)
}

func (s *Server) createTags(p params) (responder, error) {
	tags, err := tagList(p, "Tag")
	if err != nil {
		return nil, err
	}
	for _, id := range p.list("ResourceId") {
		ts, err := s.tagged(id)
		if err != nil {
			return nil, err
		}
		*ts = setTags(*ts, tags)
	}
	return &returnResponse{Return: true}, nil
}

func (s *Server) deleteTags(p params) (responder, error) {
	for _, id := range p.list("ResourceId") {
		ts, err := s.tagged(id)
		if err != nil {
			return nil, err
		}
		members := p.members("Tag")
		if len(members) == 0 {
			*ts = nil
			continue
		}
		*ts = slices.DeleteFunc(*ts, func(t tag) bool {
			return slices.ContainsFunc(members, func(m params) bool {
				return m.str("Key") == t.Key && (!m.has("Value") || m.str("Value") == t.Value)
			})
		})
	}
	return &returnResponse{Return: true}, nil
}
