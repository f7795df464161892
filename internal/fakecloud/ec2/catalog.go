package ec2

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// tag is a resource tag as EC2 writes it in a tagSet.
type tag struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

// setTags adds or replaces tags, keeping them sorted by key.
func setTags(tags []tag, add []tag) []tag {
	for _, a := range add {
		i := slices.IndexFunc(tags, func(t tag) bool { return t.Key == a.Key })
		if i >= 0 {
			tags[i].Value = a.Value
		} else {
			tags = append(tags, a)
		}
	}
	slices.SortFunc(tags, func(a, b tag) int { return strings.Compare(a.Key, b.Key) })
	return tags
}

// tagFields answers the tag filters (tag:KEY, tag-key, tag-value) for tags.
func tagFields(tags []tag, name string) ([]string, bool) {
	var out []string
	switch {
	case strings.HasPrefix(name, "tag:"):
		for _, t := range tags {
			if t.Key == name[4:] {
				out = append(out, t.Value)
			}
		}
	case name == "tag-key":
		for _, t := range tags {
			out = append(out, t.Key)
		}
	case name == "tag-value":
		for _, t := range tags {
			out = append(out, t.Value)
		}
	default:
		return nil, false
	}
	return out, true
}

// tagSpecs returns the tags of the TagSpecification.N entries for resourceType.
func tagSpecs(p params, resourceType string) ([]tag, error) {
	var out []tag
	for _, spec := range p.members("TagSpecification") {
		if spec.str("ResourceType") != resourceType {
			continue
		}
		ts, err := tagList(spec, "Tag")
		if err != nil {
			return nil, err
		}
		out = setTags(out, ts)
	}
	return out, nil
}

func tagList(p params, key string) ([]tag, error) {
	var out []tag
	for _, m := range p.members(key) {
		k := m.str("Key")
		if k == "" {
			return nil, badRequest("InvalidParameterValue", "Tag keys must not be empty.")
		}
		if strings.HasPrefix(k, "aws:") {
			return nil, badRequest("InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use")
		}
		out = append(out, tag{k, m.str("Value")})
	}
	return out, nil
}

// filter is one Filter.N of a Describe request: it matches when any value of the field matches any of
// its values, which may hold the wildcards * and ?.
type filter struct {
	name   string
	values []string
}

func filters(p params) []filter {
	var out []filter
	for _, m := range p.members("Filter") {
		out = append(out, filter{m.str("Name"), m.list("Value")})
	}
	return out
}

// match reports whether an object whose fields are given by fields passes every filter; a filter
// fields does not know is an error, as on EC2.
func match(fs []filter, fields func(name string) ([]string, bool)) (bool, error) {
	for _, f := range fs {
		have, ok := fields(f.name)
		if !ok {
			return false, badRequest("InvalidParameterValue", "The filter '%s' is invalid", f.name)
		}
		if !slices.ContainsFunc(have, func(h string) bool {
			return slices.ContainsFunc(f.values, func(v string) bool { ok, _ := path.Match(v, h); return ok })
		}) {
			return false, nil
		}
	}
	return true, nil
}

// image is a public AMI of the fake's catalogue.
type image struct {
	ImageID        string             `xml:"imageId"`
	ImageLocation  string             `xml:"imageLocation"`
	ImageState     string             `xml:"imageState"`
	OwnerID        string             `xml:"imageOwnerId"`
	CreationDate   string             `xml:"creationDate"`
	IsPublic       bool               `xml:"isPublic"`
	Architecture   string             `xml:"architecture"`
	ImageType      string             `xml:"imageType"`
	Name           string             `xml:"name"`
	Description    string             `xml:"description"`
	RootDeviceType string             `xml:"rootDeviceType"`
	RootDeviceName string             `xml:"rootDeviceName"`
	Virtualization string             `xml:"virtualizationType"`
	Hypervisor     string             `xml:"hypervisor"`
	EnaSupport     bool               `xml:"enaSupport"`
	BlockDevices   []imageBlockDevice `xml:"blockDeviceMapping>item"`
}

type imageBlockDevice struct {
	DeviceName string   `xml:"deviceName"`
	Ebs        imageEbs `xml:"ebs"`
}

type imageEbs struct {
	SnapshotID          string `xml:"snapshotId"`
	VolumeSize          int    `xml:"volumeSize"`
	VolumeType          string `xml:"volumeType"`
	DeleteOnTermination bool   `xml:"deleteOnTermination"`
}

// Images of the catalogue, as ids: tests and examples name them.
const (
	// UbuntuAMI is Ubuntu 24.04 for x86_64.
	UbuntuAMI = "ami-0e2c8caa4b6378d8c"
	// UbuntuArmAMI is Ubuntu 24.04 for arm64.
	UbuntuArmAMI = "ami-0a7a4e87939439934"
	// AmazonLinuxAMI is Amazon Linux 2023 for x86_64.
	AmazonLinuxAMI = "ami-0453ec754f44f9a4a"
	// DebianAMI is Debian 13 for x86_64.
	DebianAMI = "ami-064519b8c76274859"
)

// instanceTypes are the types the fake launches, with their architecture.
var instanceTypes = map[string]string{
	"t3.nano": "x86_64", "t3.micro": "x86_64", "t3.small": "x86_64", "t3.medium": "x86_64", "t3.large": "x86_64", "t3.xlarge": "x86_64",
	"t3a.micro": "x86_64", "t3a.small": "x86_64", "t3a.medium": "x86_64",
	"t4g.nano": "arm64", "t4g.micro": "arm64", "t4g.small": "arm64", "t4g.medium": "arm64", "t4g.large": "arm64",
	"c5.large": "x86_64", "c5.xlarge": "x86_64", "m5.large": "x86_64", "m5.xlarge": "x86_64", "m5.2xlarge": "x86_64",
	"m6i.large": "x86_64", "m6i.xlarge": "x86_64", "m7i.large": "x86_64", "m7i.xlarge": "x86_64", "m7g.large": "arm64",
	"c6i.large": "x86_64", "c7i.large": "x86_64", "c7g.large": "arm64", "r6i.large": "x86_64", "r7i.large": "x86_64",
}

// subnet is a subnet of the default VPC.
type subnet struct {
	SubnetID            string `xml:"subnetId"`
	State               string `xml:"state"`
	VpcID               string `xml:"vpcId"`
	CidrBlock           string `xml:"cidrBlock"`
	AvailableIPs        int    `xml:"availableIpAddressCount"`
	AvailabilityZone    string `xml:"availabilityZone"`
	DefaultForAz        bool   `xml:"defaultForAz"`
	MapPublicIPOnLaunch bool   `xml:"mapPublicIpOnLaunch"`
	Tags                []tag  `xml:"tagSet>item"`
	third               int    // third octet of the subnet's addresses
	next                int    // last host number handed out
}

// seed makes the default VPC (a subnet per zone, the default security group) and the AMI catalogue.
func (s *Server) seed() {
	s.vpcID = "vpc-0d3fa0171a5e0d001"
	for i, z := range []string{"a", "b", "c"} {
		s.subnets = append(s.subnets, &subnet{SubnetID: fmt.Sprintf("subnet-0d3fa0171a5e0d0%02d", 10+i), State: "available",
			VpcID: s.vpcID, CidrBlock: fmt.Sprintf("172.31.%d.0/20", 16*i), AvailableIPs: 4091, AvailabilityZone: s.opts.Region + z,
			DefaultForAz: true, MapPublicIPOnLaunch: true, third: 16 * i, next: 3})
	}
	sg := &securityGroup{GroupID: "sg-0d3fa0171a5e0d100", GroupName: "default", Description: "default VPC security group",
		VpcID: s.vpcID, OwnerID: s.opts.OwnerID}
	sg.egress = []rule{{protocol: "-1", cidr: "0.0.0.0/0"}}
	sg.ingress = []rule{{protocol: "-1", group: sg.GroupID}}
	s.groups[sg.GroupID] = sg
	for _, im := range []struct{ id, owner, name, arch, root string }{
		{UbuntuAMI, "099720109477", "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20261101", "x86_64", "/dev/sda1"},
		{UbuntuArmAMI, "099720109477", "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-arm64-server-20261101", "arm64", "/dev/sda1"},
		{AmazonLinuxAMI, "137112412989", "al2023-ami-2023.9.20261101.0-kernel-6.12-x86_64", "x86_64", "/dev/xvda"},
		{DebianAMI, "136693071363", "debian-13-amd64-20261101-2300", "x86_64", "/dev/xvda"},
	} {
		img := &image{ImageID: im.id, ImageLocation: im.owner + "/" + im.name, ImageState: "available", OwnerID: im.owner,
			CreationDate: "2026-11-01T12:00:00.000Z", IsPublic: true, Architecture: im.arch, ImageType: "machine", Name: im.name,
			Description: im.name, RootDeviceType: "ebs", RootDeviceName: im.root, Virtualization: "hvm", Hypervisor: "xen",
			EnaSupport: true, BlockDevices: []imageBlockDevice{{DeviceName: im.root,
				Ebs: imageEbs{SnapshotID: "snap-" + im.id[4:], VolumeSize: 8, VolumeType: "gp3", DeleteOnTermination: true}}}}
		s.images = append(s.images, img)
	}
}

// Subnets returns the ids of the default VPC's subnets, one per availability zone (REGION + a, b, c).
func (s *Server) Subnets() []string {
	var out []string
	for _, sn := range s.subnets {
		out = append(out, sn.SubnetID)
	}
	return out
}

// DefaultSecurityGroup returns the id of the default VPC's default security group.
func (s *Server) DefaultSecurityGroup() string { return "sg-0d3fa0171a5e0d100" }

func (s *Server) subnet(id string) *subnet {
	for _, sn := range s.subnets {
		if sn.SubnetID == id {
			return sn
		}
	}
	return nil
}

func (s *Server) image(id string) *image {
	for _, im := range s.images {
		if im.ImageID == id {
			return im
		}
	}
	return nil
}

type describeImagesResponse struct {
	response
	Images []*image `xml:"imagesSet>item"`
}

func (s *Server) describeImages(p params) (responder, error) {
	ids, owners, fs := p.list("ImageId"), p.list("Owner"), filters(p)
	for _, id := range ids {
		if !strings.HasPrefix(id, "ami-") {
			return nil, badRequest("InvalidAMIID.Malformed", "Invalid id: \"%s\" (expecting \"ami-...\")", id)
		}
		if s.image(id) == nil {
			return nil, badRequest("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", id)
		}
	}
	resp := &describeImagesResponse{}
	for _, im := range s.images {
		if len(ids) > 0 && !slices.Contains(ids, im.ImageID) || len(owners) > 0 && !slices.Contains(owners, im.OwnerID) {
			continue
		}
		ok, err := match(fs, func(name string) ([]string, bool) {
			switch name {
			case "image-id":
				return []string{im.ImageID}, true
			case "name":
				return []string{im.Name}, true
			case "architecture":
				return []string{im.Architecture}, true
			case "owner-id":
				return []string{im.OwnerID}, true
			case "state":
				return []string{im.ImageState}, true
			case "root-device-type":
				return []string{im.RootDeviceType}, true
			case "virtualization-type":
				return []string{im.Virtualization}, true
			}
			return nil, false
		})
		if err != nil {
			return nil, err
		}
		if ok {
			resp.Images = append(resp.Images, im)
		}
	}
	return resp, nil
}

type describeSubnetsResponse struct {
	response
	Subnets []*subnet `xml:"subnetSet>item"`
}

func (s *Server) describeSubnets(p params) (responder, error) {
	ids, fs := p.list("SubnetId"), filters(p)
	for _, id := range ids {
		if s.subnet(id) == nil {
			return nil, badRequest("InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", id)
		}
	}
	resp := &describeSubnetsResponse{}
	for _, sn := range s.subnets {
		if len(ids) > 0 && !slices.Contains(ids, sn.SubnetID) {
			continue
		}
		ok, err := match(fs, func(name string) ([]string, bool) {
			switch name {
			case "subnet-id":
				return []string{sn.SubnetID}, true
			case "vpc-id":
				return []string{sn.VpcID}, true
			case "availability-zone":
				return []string{sn.AvailabilityZone}, true
			case "default-for-az":
				return []string{fmt.Sprint(sn.DefaultForAz)}, true
			}
			return tagFields(sn.Tags, name)
		})
		if err != nil {
			return nil, err
		}
		if ok {
			resp.Subnets = append(resp.Subnets, sn)
		}
	}
	return resp, nil
}

type describeZonesResponse struct {
	response
	Zones []zone `xml:"availabilityZoneInfo>item"`
}

type zone struct {
	ZoneName   string `xml:"zoneName"`
	ZoneID     string `xml:"zoneId"`
	State      string `xml:"zoneState"`
	RegionName string `xml:"regionName"`
}

func (s *Server) describeAvailabilityZones(params) (responder, error) {
	resp := &describeZonesResponse{}
	for i, z := range []string{"a", "b", "c"} {
		resp.Zones = append(resp.Zones, zone{s.opts.Region + z, fmt.Sprintf("use1-az%d", i+1), "available", s.opts.Region})
	}
	return resp, nil
}
