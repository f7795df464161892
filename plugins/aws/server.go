package aws

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provhq/prov/sdk"
)

// aws_server is the portable server (the servers section, DESIGN §3) on EC2: the fields every
// provider's server has, mapped onto an instance made with the machinery of aws_instance (launch.go).

// DefaultImage is the image of a server whose configuration names none: UpCloud's title of it, which
// aws_server also takes, so that a server moves between the two unchanged.
const DefaultImage = "Ubuntu Server 24.04 LTS (Noble Numbat)"

// InputsTag holds a digest of a server's inputs EC2 does not report back (image, user, ssh_keys,
// network_interfaces), so a server found by operation id after a crash is recognised as
// the one the configuration describes instead of being replaced.
const InputsTag = "prov:inputs"

// titleTag holds a server's title.
const titleTag = "prov:title"

// Plans are the portable plan names an aws_server takes besides instance types, with the instance
// type of like CPU and memory: prov.plan's sizes and UpCloud's plans.
var Plans = map[string]string{
	"small": "t3.small", "medium": "t3.medium", "large": "c5.xlarge", "xlarge": "m5.2xlarge",
	"1xCPU-1GB": "t3.micro", "1xCPU-2GB": "t3.small", "2xCPU-4GB": "t3.medium", "4xCPU-8GB": "c5.xlarge",
	"6xCPU-16GB": "m6i.xlarge", "8xCPU-32GB": "m5.2xlarge", "DEV-1xCPU-1GB-10GB": "t3.micro", "DEV-1xCPU-2GB": "t3.small",
}

// Images are the portable image names (UpCloud's template titles) an aws_server takes besides AMI ids
// and names, with the AMI name they stand for; ARCH is amd64 or arm64, after the instance type.
var Images = map[string]string{
	"Ubuntu Server 24.04 LTS (Noble Numbat)":    "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-ARCH-server-*",
	"Ubuntu Server 22.04 LTS (Jammy Jellyfish)": "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-ARCH-server-*",
	"Debian GNU/Linux 12 (Bookworm)":            "debian-12-ARCH-*",
	"Debian GNU/Linux 13 (Trixie)":              "debian-13-ARCH-*",
}

// imageOwners are the accounts whose images an AMI name is looked up among: Canonical, Debian,
// Amazon, and the caller's own. Never anybody's public image of that name.
var imageOwners = []string{"099720109477", "136693071363", "137112412989", "self"}

// tierTypes maps UpCloud's storage tiers to EBS volume types.
var tierTypes = map[string]string{"maxiops": "gp3", "hdd": "st1"}

// serverUnreported are the server inputs EC2 does not report back; changing one replaces the server.
// (User data is reported back, and changes in place.)
var serverUnreported = []string{"image", "user", "ssh_keys", "network_interfaces"}

// serverKeyTag marks the key pair prov imported for a server, which the server's deletion deletes.
const serverKeyTag = "prov:server"

var (
	instanceTypeRE = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9]+$`)
	zoneRE         = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+[a-z]?$`)
	gravitonRE     = regexp.MustCompile(`^[a-z]+[0-9]+[a-z]*g[a-z]*\.`)
)

func serverResource() *sdk.Resource {
	tiers := append(slices.Sorted(maps.Keys(tierTypes)), volumeTypes...)
	return &sdk.Resource{
		Description: "A server written with prov's portable server fields (the servers section), made as an EC2 " +
			"instance. A new plan or user_data stops it, changes it and starts it again; a bigger disk or a disk's " +
			"tier changes in place; hostname, title, labels and security groups change in place; zone, image, user, " +
			"ssh_keys, network interfaces, the number of disks or a smaller disk replace it. Its state has what " +
			"taskservs need to reach it over SSH: hostname, ipv4, address and user.",
		Attributes: map[string]*sdk.Attribute{
			"hostname": {Type: sdk.String, Required: true, Validators: []sdk.Validator{sdk.Regexp(`^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,126}[a-zA-Z0-9])?$`)},
				Description: "Host name of the server, and its Name tag."},
			"title": {Type: sdk.String, Optional: true, Computed: true, Description: "A description of the server, kept in the tag prov:title. Default: the hostname."},
			"plan": {Type: sdk.String, Required: true, Validators: []sdk.Validator{validPlan},
				Description: "An instance type (t3.medium), a portable size (small, medium, large, xlarge) or an UpCloud plan (2xCPU-4GB), " +
					"which takes the instance type of like CPU and memory. A change stops and restarts the server."},
			"zone": {Type: sdk.String, Required: true, Validators: []sdk.Validator{sdk.Regexp(zoneRE.String())},
				Description: "Availability zone (eu-north-1a), or a region (eu-north-1) for its first zone; a zone of another region than the provider's is served there. " +
					"A change replaces the server unless it already runs there."},
			"image": {Type: sdk.String, Optional: true, Default: DefaultImage,
				Description: "An AMI id, an AMI name (wildcards allowed; the newest of Canonical's, Debian's, Amazon's or your own images), " +
					"or a portable image name such as \"" + DefaultImage + "\". A change replaces the server."},
			"storage": {Type: sdk.ListOf(sdk.Object(map[string]*sdk.Attribute{
				"size_gb": {Type: sdk.Number, Required: true, Validators: []sdk.Validator{sdk.Between(1, 16384)}, Description: "Size in GiB; it grows in place."},
				"tier": {Type: sdk.String, Optional: true, Default: "gp3", Validators: []sdk.Validator{sdk.OneOf(tiers...)},
					Description: "EBS volume type, or UpCloud's maxiops (gp3) or hdd (st1); it changes in place."},
				"name":  {Type: sdk.String, Optional: true, Description: "A label for the disk; EC2 does not use it."},
				"mount": {Type: sdk.String, Optional: true, Description: "Where the disk is mounted, for taskservs; EC2 does not use it."},
			})), Optional: true, Computed: true, Validators: []sdk.Validator{sdk.LengthBetween(1, 16)},
				Description: "Disks: the first is the root volume, the others blank volumes at /dev/sdf, /dev/sdg, … deleted with the server. Default: the image's root volume."},
			"network_interfaces": {Type: sdk.ListOf(sdk.Object(map[string]*sdk.Attribute{
				"type":       {Type: sdk.String, Optional: true, Default: "public", Validators: []sdk.Validator{sdk.OneOf("public", "private", "utility")}, Description: "public (a public address) or private; utility is taken as private."},
				"network":    {Type: sdk.String, Optional: true, Description: "Subnet id (subnet-…) of the interface. Default: the zone's default subnet."},
				"ip_address": {Type: sdk.String, Optional: true, Description: "A fixed private address in the subnet. Default: one is assigned."},
				"family":     {Type: sdk.String, Optional: true, Default: "IPv4", Validators: []sdk.Validator{sdk.OneOf("IPv4")}, Description: "IPv4 (IPv6 is not supported)."},
			})), Optional: true, Validators: []sdk.Validator{sdk.LengthBetween(1, 4)},
				Description: "The server's network, described as interfaces that EC2 makes one: it gets a public address when an interface is public, " +
					"and its subnet and private address from the interfaces that name them. Default: the subnet's defaults (a public address in a default VPC)."},
			"security_groups": {Type: sdk.ListOf(sdk.String), Optional: true, Computed: true, Description: "Ids of the server's security groups. Default: the VPC's default group."},
			"user":            {Type: sdk.String, Optional: true, Computed: true, Description: "Login user for SSH. Default: the image's (ubuntu, admin for Debian, ec2-user); another user is made by cloud-init, root is allowed to log in."},
			"ssh_keys": {Type: sdk.ListOf(sdk.String), Optional: true, Validators: []sdk.Validator{sdk.LengthBetween(1, 100)},
				Description: "Public keys of the login user, as authorized_keys lines. The first is imported as a key pair made and deleted with the server; cloud-init installs the others."},
			"user_data": {Type: sdk.String, Optional: true, Description: "cloud-init user data, as plain text. A change stops and restarts the server."},
			"labels":    {Type: sdk.MapOf(sdk.String), Optional: true, Description: "Labels of the server, as tags of the instance and its volumes."},

			"instance_type":     {Type: sdk.String, Computed: true, Description: "The instance type the plan stands for."},
			"ami":               {Type: sdk.String, Computed: true, Description: "Id of the AMI the image stands for."},
			"availability_zone": {Type: sdk.String, Computed: true, Description: "Zone the server runs in."},
			"subnet_id":         {Type: sdk.String, Computed: true, Description: "Subnet of the server."},
			"key_name":          {Type: sdk.String, Computed: true, Description: "Name of the key pair made from the first SSH key."},
			"state":             {Type: sdk.String, Computed: true, Description: "running, stopped, …"},
			"ipv4":              {Type: sdk.String, Computed: true, Description: "Public IPv4 address, when it has one. It changes when the server is stopped and started."},
			"private_ip":        {Type: sdk.String, Computed: true, Description: "Private IPv4 address."},
			"address":           {Type: sdk.String, Computed: true, Description: "The address to reach the server at: ipv4, else private_ip."},
			"public_dns":        {Type: sdk.String, Computed: true, Description: "Public DNS name, when it has a public address."},
			"private_dns":       {Type: sdk.String, Computed: true, Description: "Private DNS name."},
			"storage_ids":       {Type: sdk.ListOf(sdk.String), Computed: true, Description: "Ids of the EBS volumes, in the order of storage."},
			"arn":               {Type: sdk.String, Computed: true, Description: "ARN of the instance."},
			"inputs_sha256":     {Type: sdk.String, Computed: true, Description: "Digest of image, user, ssh_keys and network_interfaces (tag prov:inputs), which EC2 does not report back."},
		},
		Create: createServer,
		Read:   readServer,
		Update: updateServer,
		Delete: deleteServer,
		Import: readServer,
		Plan:   planServer,
	}
}

func validPlan(v any) error {
	s, _ := v.(string)
	if _, ok := Plans[s]; ok || instanceTypeRE.MatchString(s) {
		return nil
	}
	return fmt.Errorf("%q is neither an instance type (t3.medium) nor a portable plan (%s)", s, strings.Join(slices.Sorted(maps.Keys(Plans)), ", "))
}

// instanceTypeOf is the instance type plan stands for.
func instanceTypeOf(plan string) string {
	if t, ok := Plans[plan]; ok {
		return t
	}
	return plan
}

// regionOf is the region of zone, an availability zone or a region.
func regionOf(zone string) string {
	if n := len(zone); n > 0 && zone[n-1] >= 'a' && zone[n-1] <= 'z' {
		return zone[:n-1]
	}
	return zone
}

// volumeTypeOf is the EBS volume type of a storage tier.
func volumeTypeOf(tier string) string {
	if t, ok := tierTypes[tier]; ok {
		return t
	}
	return cmp.Or(tier, "gp3")
}

// inRegion returns the client for region: c itself, or a copy whose EC2 client speaks to region.
func (c *client) inRegion(region string) *client {
	if region == "" || region == c.region {
		return c
	}
	cc := *c
	cc.region = region
	cc.ec2 = ec2.New(c.ec2.Options(), func(o *ec2.Options) { o.Region = region })
	return &cc
}

// serverClient is the client of the server's region.
func serverClient(op *sdk.Op, d *sdk.Data) (*client, error) {
	c, err := clientOf(op)
	if err != nil {
		return nil, err
	}
	zone := d.String("zone")
	if az := d.String("availability_zone"); az != "" {
		zone = az
	}
	return c.inRegion(regionOf(zone)), nil
}

func planServer(_ context.Context, op *sdk.Op, d *sdk.Data) error {
	if !d.IsNew() {
		var replace []string
		// A server whose digest is that of the configuration was made from it (one found after a crash
		// is read back with what EC2 reports); one without a digest was imported, and adopts the
		// configured values it has none of.
		if digest := d.Old("inputs_sha256"); digest != d.Digest(serverUnreported...) {
			for _, k := range serverUnreported {
				if d.HasChange(k) && (digest != nil || d.Old(k) != nil) {
					replace = append(replace, k)
				}
			}
		}
		// A new zone replaces the server unless it runs there already (a region for its zone).
		if az, _ := d.Old("availability_zone").(string); d.IsKnown("zone") && az != "" && az != d.String("zone") && regionOf(az) != d.String("zone") {
			replace = append(replace, "zone")
		}
		old, _ := d.Old("storage").([]any)
		if cur := d.List("storage"); d.IsKnown("storage") && len(old) != len(cur) {
			replace = append(replace, "storage")
		} else {
			for i := range cur {
				key := fmt.Sprintf("storage[%d].size_gb", i)
				if o, ok := d.Old(key).(float64); ok && d.Float(key) < o {
					replace = append(replace, key) // EBS never shrinks a volume
				}
			}
		}
		for _, k := range replace {
			d.RequireReplace(k)
		}
		if len(replace) > 0 {
			for _, k := range []string{"id", "ami", "availability_zone", "subnet_id", "key_name", "state", "ipv4", "private_ip", "address",
				"public_dns", "private_dns", "storage_ids", "arn"} {
				d.SetUnknown(k)
			}
			for _, k := range []string{"title", "storage", "security_groups", "user"} {
				if !d.HasChange(k) {
					d.SetUnknown(k)
				}
			}
		} else {
			// An update keeps what it does not change; a new plan or user data restarts the server, which
			// gives it a new public address.
			restart := d.HasChange("plan") || d.HasChange("user_data")
			for _, k := range []string{"ami", "availability_zone", "subnet_id", "key_name", "private_ip", "private_dns", "storage_ids", "arn"} {
				d.Set(k, d.Old(k))
			}
			if !restart {
				for _, k := range []string{"ipv4", "address", "public_dns", "state"} {
					d.Set(k, d.Old(k))
				}
			}
		}
	}
	if d.IsKnown("title") && d.Get("title") == nil && d.IsKnown("hostname") {
		d.Set("title", d.String("hostname"))
	}
	if slices.ContainsFunc(serverUnreported, func(k string) bool { return !d.IsKnown(k) }) {
		d.SetUnknown("inputs_sha256")
	} else {
		d.Set("inputs_sha256", d.Digest(serverUnreported...))
	}
	if d.IsKnown("network_interfaces") {
		if _, err := nicOf(d); err != nil {
			return err
		}
	}
	if !d.IsKnown("plan") || !d.IsKnown("zone") {
		return nil
	}
	typ := instanceTypeOf(d.String("plan"))
	d.Set("instance_type", typ)
	disks := []Disk{{SizeGB: 8, Type: "gp3"}}
	if l := d.List("storage"); len(l) > 0 && d.IsKnown("storage") {
		disks = nil
		for i := range l {
			disks = append(disks, Disk{SizeGB: d.Float(fmt.Sprintf("storage[%d].size_gb", i)), Type: volumeTypeOf(d.String(fmt.Sprintf("storage[%d].tier", i)))})
		}
	}
	region := regionOf(d.String("zone"))
	cost, ok := ServerMonthlyCost(region, typ, disks)
	if !ok {
		op.Warnf("plan", "the price table of %s has no price for %s in %s: no cost estimate", prices.AsOf, typ, region)
		return nil
	}
	d.SetMonthlyCost(cost)
	return nil
}

// nicOf maps the network interfaces of d onto the one EC2 gives an instance; nil when d has none.
func nicOf(d *sdk.Data) (*nic, error) {
	ifaces := d.List("network_interfaces")
	if len(ifaces) == 0 {
		return nil, nil
	}
	n := &nic{}
	for i := range ifaces {
		key := fmt.Sprintf("network_interfaces[%d]", i)
		if d.String(key+".type") == "public" {
			n.public = true
		}
		if s := d.String(key + ".network"); s != "" {
			if n.subnet != "" && n.subnet != s {
				return nil, sdk.AttrErrorf(key+".network", "an aws_server is in one subnet: %s and %s are two; make another interface an aws_instance's or leave out its network", n.subnet, s)
			}
			if !strings.HasPrefix(s, "subnet-") {
				return nil, sdk.AttrErrorf(key+".network", "want a subnet id (subnet-…), got %q", s)
			}
			n.subnet = s
		}
		if ip := d.String(key + ".ip_address"); ip != "" {
			if n.privateIP != "" && n.privateIP != ip {
				return nil, sdk.AttrErrorf(key+".ip_address", "an aws_server has one private address: %s and %s are two", n.privateIP, ip)
			}
			n.privateIP = ip
		}
	}
	return n, nil
}

// resolveImage returns the AMI id of image for an instance of type typ, and the default login user
// of that image.
func resolveImage(ctx context.Context, c *client, image, typ string) (ami, user string, err error) {
	arch, archName := "x86_64", "amd64"
	if gravitonRE.MatchString(typ) {
		arch, archName = "arm64", "arm64"
	}
	in := &ec2.DescribeImagesInput{}
	if strings.HasPrefix(image, "ami-") {
		in.ImageIds = []string{image}
	} else {
		name := image
		if pattern, ok := Images[image]; ok {
			name = strings.ReplaceAll(pattern, "ARCH", archName)
		}
		in.Owners = imageOwners
		in.Filters = []types.Filter{{Name: aws.String("name"), Values: []string{name}}, {Name: aws.String("architecture"), Values: []string{arch}},
			{Name: aws.String("state"), Values: []string{"available"}}}
	}
	out, err := c.ec2.DescribeImages(ctx, in)
	if err != nil {
		return "", "", sdk.AttrError("image", apiError(err))
	}
	if len(out.Images) == 0 {
		return "", "", sdk.AttrErrorf("image", "no %s image named %q in %s among Canonical's, Debian's, Amazon's and your own", arch, image, c.region)
	}
	newest := slices.MaxFunc(out.Images, func(a, b types.Image) int {
		return strings.Compare(aws.ToString(a.CreationDate), aws.ToString(b.CreationDate))
	})
	return aws.ToString(newest.ImageId), defaultUser(aws.ToString(newest.Name)), nil
}

// defaultUser is the login user of an image, after its name.
func defaultUser(name string) string {
	switch n := strings.ToLower(name); {
	case strings.Contains(n, "ubuntu"):
		return "ubuntu"
	case strings.Contains(n, "debian"):
		return "admin"
	default:
		return "ec2-user"
	}
}

// keyPairName names the key pair of a server made by operation opID.
func keyPairName(hostname, opID string) string {
	sum := sha256.Sum256([]byte(opID))
	return "prov-" + hostname + "-" + hex.EncodeToString(sum[:4])
}

func createServer(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := serverClient(op, d)
	if err != nil {
		return err
	}
	typ := instanceTypeOf(d.String("plan"))
	ami, imageUser, err := resolveImage(ctx, c, d.String("image"), typ)
	if err != nil {
		return err
	}
	user := cmp.Or(d.String("user"), imageUser)
	d.Set("user", user)
	var keys []string
	for _, k := range d.List("ssh_keys") {
		keys = append(keys, k.(string))
	}
	n, err := nicOf(d)
	if err != nil {
		return err
	}
	l := launch{ami: ami, instanceType: typ, tags: serverTags(d), nic: n,
		userData: serverUserData(d.String("user_data"), user, imageUser, keys),
		own:      []string{titleTag, cmp.Or(d.String("title"), d.String("hostname")), InputsTag, d.Digest(serverUnreported...)}}
	if z := d.String("zone"); z != regionOf(z) {
		l.zone = z
	}
	for _, g := range d.List("security_groups") {
		l.groups = append(l.groups, g.(string))
	}
	for i := range d.List("storage") {
		key := fmt.Sprintf("storage[%d]", i)
		dk := disk{size: d.Int(key + ".size_gb"), typ: volumeTypeOf(d.String(key + ".tier")), deleteOnTermination: true}
		if i == 0 {
			l.root = &dk
		} else {
			l.extra = append(l.extra, dk)
		}
	}
	if len(keys) > 0 {
		l.keyName = keyPairName(d.String("hostname"), op.ID)
		op.Progress(-1, "importing key pair %s", l.keyName)
		if err := c.importKey(ctx, l.keyName, keys[0], d.StringMap("labels"), op.ID, serverKeyTag, d.String("hostname")); err != nil {
			return sdk.AttrError("ssh_keys[0]", err)
		}
	}
	id, inst, err := c.launch(ctx, op, l)
	if id != "" {
		d.SetID(id)
	}
	if err != nil {
		return err
	}
	return fillServer(ctx, c, d, inst)
}

// serverTags are the tags of a server's instance and volumes: its labels and its hostname as Name.
func serverTags(d *sdk.Data) map[string]string {
	tags := d.StringMap("labels")
	if tags == nil {
		tags = map[string]string{}
	}
	tags["Name"] = d.String("hostname")
	return tags
}

// serverUserData is the user data of a server: userData, with a cloud-config first when the login user
// is not the image's or there are SSH keys beyond the key pair's, as a MIME multipart when both are
// there (cloud-init runs every part).
func serverUserData(userData, user, imageUser string, keys []string) string {
	var cc strings.Builder
	quoted := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	switch {
	case user == "root":
		cc.WriteString("disable_root: false\n") // root gets the keys of the default user
		fallthrough
	case user == imageUser:
		if len(keys) > 1 {
			cc.WriteString("ssh_authorized_keys:\n")
			for _, k := range keys {
				cc.WriteString("  - " + quoted(k) + "\n")
			}
		}
	default:
		cc.WriteString("users:\n  - default\n  - name: " + quoted(user) + "\n    shell: /bin/bash\n    sudo: \"ALL=(ALL) NOPASSWD:ALL\"\n")
		if len(keys) > 0 {
			cc.WriteString("    ssh_authorized_keys:\n")
			for _, k := range keys {
				cc.WriteString("      - " + quoted(k) + "\n")
			}
		}
	}
	if cc.Len() == 0 {
		return userData
	}
	config := "#cloud-config\n" + cc.String()
	if userData == "" {
		return config
	}
	typ := "text/x-shellscript"
	if strings.HasPrefix(userData, "#cloud-config") {
		typ = "text/cloud-config"
	}
	sum := sha256.Sum256([]byte(config + userData))
	boundary := "prov-" + hex.EncodeToString(sum[:8])
	return "Content-Type: multipart/mixed; boundary=\"" + boundary + "\"\nMIME-Version: 1.0\n\n" +
		"--" + boundary + "\nContent-Type: text/cloud-config; charset=\"utf-8\"\n\n" + config + "\n" +
		"--" + boundary + "\nContent-Type: " + typ + "; charset=\"utf-8\"\n\n" + userData + "\n" +
		"--" + boundary + "--\n"
}

func readServer(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := clientOf(op)
	if err != nil {
		return err
	}
	var inst *types.Instance
	if d.ID() == "" && op.ID != "" {
		// Settling an in-doubt create, whose zone is not known here: the provider's region.
		if inst, err = c.findLaunch(ctx, op.ID); err != nil {
			return err
		}
		if inst == nil {
			return sdk.ErrNotFound
		}
	} else {
		if c, err = serverClient(op, d); err != nil {
			return err
		}
		if inst, err = c.liveInstance(ctx, d.ID()); err != nil {
			return err
		}
	}
	return fillServer(ctx, c, d, inst)
}

// fillServer sets the attributes of d from the instance as EC2 describes it. The inputs EC2 does not
// report back keep their values in d.
func fillServer(ctx context.Context, c *client, d *sdk.Data, inst *types.Instance) error {
	o, err := c.observe(ctx, inst)
	if err != nil {
		return err
	}
	id := aws.ToString(inst.InstanceId)
	d.SetID(id)
	az := aws.ToString(inst.Placement.AvailabilityZone)
	if d.Get("zone") == nil {
		d.Set("zone", az)
	}
	d.Set("availability_zone", az)
	d.Set("instance_type", string(inst.InstanceType))
	if d.Get("plan") == nil || instanceTypeOf(d.String("plan")) != string(inst.InstanceType) {
		d.Set("plan", string(inst.InstanceType))
	}
	d.Set("ami", aws.ToString(inst.ImageId))
	tags := map[string]string{}
	for _, t := range inst.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	d.Set("hostname", orNil(tags["Name"]))
	d.Set("title", orNil(tags[titleTag]))
	d.Set("inputs_sha256", orNil(tags[InputsTag]))
	labels := map[string]any{}
	for k, v := range tags {
		if k != "Name" && !strings.HasPrefix(k, "prov:") {
			labels[k] = v
		}
	}
	if len(labels) == 0 {
		d.Set("labels", nil)
	} else {
		d.Set("labels", labels)
	}
	d.Set("subnet_id", aws.ToString(inst.SubnetId))
	d.Set("key_name", orNil(aws.ToString(inst.KeyName)))
	d.Set("security_groups", groupIDs(inst, d.List("security_groups")))
	d.Set("state", string(inst.State.Name))
	ipv4, private := aws.ToString(inst.PublicIpAddress), aws.ToString(inst.PrivateIpAddress)
	d.Set("ipv4", orNil(ipv4))
	d.Set("private_ip", private)
	d.Set("address", cmp.Or(ipv4, private))
	d.Set("public_dns", orNil(aws.ToString(inst.PublicDnsName)))
	d.Set("private_dns", aws.ToString(inst.PrivateDnsName))
	d.Set("arn", c.arn(ownerOf(inst), "instance", id))

	// User data: the configured text when the instance has what it makes, else what the instance has.
	var keys []string
	for _, k := range d.List("ssh_keys") {
		k, _ := k.(string)
		keys = append(keys, k)
	}
	_, imageUser, err := resolveImageUser(ctx, c, aws.ToString(inst.ImageId))
	if err != nil {
		return err
	}
	if d.Get("user") == nil {
		d.Set("user", imageUser)
	}
	if serverUserData(d.String("user_data"), d.String("user"), imageUser, keys) != o.userData {
		d.Set("user_data", orNil(o.userData))
	}

	var vols []types.Volume
	if o.root != nil {
		vols = append(vols, *o.root)
	}
	vols = append(vols, o.extra...)
	old := d.List("storage")
	disks, ids := []any{}, []any{}
	for i, v := range vols {
		ids = append(ids, aws.ToString(v.VolumeId))
		disk := map[string]any{"size_gb": int(aws.ToInt32(v.Size)), "tier": string(v.VolumeType)}
		if i < len(old) {
			if m, ok := old[i].(map[string]any); ok {
				if t, _ := m["tier"].(string); volumeTypeOf(t) == string(v.VolumeType) {
					disk["tier"] = t // UpCloud's name of it, as configured
				}
				for _, k := range []string{"name", "mount"} {
					if x, ok := m[k]; ok {
						disk[k] = x
					}
				}
			}
		}
		disks = append(disks, disk)
	}
	d.Set("storage", disks)
	d.Set("storage_ids", ids)
	return nil
}

// resolveImageUser returns the name and default login user of AMI id.
func resolveImageUser(ctx context.Context, c *client, id string) (name, user string, err error) {
	out, err := c.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
	if notFound(err) || err == nil && len(out.Images) == 0 {
		return "", "ec2-user", nil // a deregistered image: its instances live on
	}
	if err != nil {
		return "", "", apiError(err)
	}
	name = aws.ToString(out.Images[0].Name)
	return name, defaultUser(name), nil
}

func updateServer(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := serverClient(op, d)
	if err != nil {
		return err
	}
	id := d.ID()
	if d.HasChange("labels") || d.HasChange("hostname") || d.HasChange("title") || d.HasChange("inputs_sha256") {
		if err := c.setServerTags(ctx, id, d); err != nil {
			return err
		}
	}
	if d.HasChange("security_groups") && d.List("security_groups") != nil {
		if err := c.setGroups(ctx, op, id, d.List("security_groups")); err != nil {
			return sdk.AttrError("security_groups", err)
		}
	}
	inst, err := c.liveInstance(ctx, id)
	if err != nil {
		return err
	}
	o, err := c.observe(ctx, inst)
	if err != nil {
		return err
	}
	// Disks grow and change tier in place, the instance running.
	vols := append([]types.Volume{}, o.extra...)
	if o.root != nil {
		vols = append([]types.Volume{*o.root}, vols...)
	}
	for i := range d.List("storage") {
		key := fmt.Sprintf("storage[%d]", i)
		if i >= len(vols) {
			break
		}
		v := vols[i]
		size, typ := d.Int(key+".size_gb"), volumeTypeOf(d.String(key+".tier"))
		if size == int(aws.ToInt32(v.Size)) && typ == string(v.VolumeType) {
			continue
		}
		if err := c.modifyVolume(ctx, op, aws.ToString(v.VolumeId), size, typ, nil, nil); err != nil {
			return sdk.AttrError(key+".size_gb", err)
		}
	}
	var typ, ud *string
	if t := instanceTypeOf(d.String("plan")); t != string(inst.InstanceType) {
		typ = aws.String(t)
	}
	_, imageUser, err := resolveImageUser(ctx, c, aws.ToString(inst.ImageId))
	if err != nil {
		return err
	}
	var keys []string
	for _, k := range d.List("ssh_keys") {
		keys = append(keys, k.(string))
	}
	if want := serverUserData(d.String("user_data"), d.String("user"), imageUser, keys); want != o.userData {
		ud = aws.String(want)
	}
	if typ != nil || ud != nil {
		if err := c.reconfigure(ctx, op, id, typ, ud, "plan", "user_data"); err != nil {
			return err
		}
	}
	if inst, err = c.liveInstance(ctx, id); err != nil {
		return err
	}
	return fillServer(ctx, c, d, inst)
}

// setServerTags makes the instance's tags (and its volumes') those of d, keeping the operation tag.
func (c *client) setServerTags(ctx context.Context, id string, d *sdk.Data) error {
	inst, err := c.liveInstance(ctx, id)
	if err != nil {
		return err
	}
	want := serverTags(d)
	want[titleTag] = cmp.Or(d.String("title"), d.String("hostname"))
	want[InputsTag] = d.Digest(serverUnreported...)
	ids := []string{id}
	for _, bd := range inst.BlockDeviceMappings {
		if bd.Ebs != nil {
			ids = append(ids, aws.ToString(bd.Ebs.VolumeId))
		}
	}
	var del, set []types.Tag
	for _, t := range inst.Tags {
		k := aws.ToString(t.Key)
		if _, ok := want[k]; !ok && k != OperationTag {
			del = append(del, types.Tag{Key: t.Key})
		}
	}
	for _, k := range sortedKeys(want) {
		set = append(set, types.Tag{Key: aws.String(k), Value: aws.String(want[k])})
	}
	if len(del) > 0 {
		if _, err := c.ec2.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: ids, Tags: del}); err != nil {
			return sdk.AttrError("labels", apiError(err))
		}
	}
	if _, err := c.ec2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: ids, Tags: set}); err != nil {
		return sdk.AttrError("labels", apiError(err))
	}
	return nil
}

func deleteServer(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := serverClient(op, d)
	if err != nil {
		return err
	}
	if err := c.terminate(ctx, op, d.ID()); err != nil {
		return err
	}
	k := d.String("key_name")
	if k == "" {
		return nil
	}
	// The key pair prov imported for this server is the server's alone; any other is left be.
	kp, err := c.describeKeyPair(ctx, k)
	if err != nil || kp == nil || tagValue(kp.Tags, serverKeyTag) == "" {
		return err
	}
	if _, err := c.ec2.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyName: aws.String(k)}); err != nil && !notFound(err) {
		return apiError(err)
	}
	return nil
}
