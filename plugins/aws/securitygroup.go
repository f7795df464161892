package aws

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provhq/prov/sdk"
)

func ruleType() sdk.Type {
	return sdk.ListOf(sdk.Object(map[string]*sdk.Attribute{
		"protocol": {Type: sdk.String, Required: true, Validators: []sdk.Validator{sdk.OneOf("tcp", "udp", "icmp", "-1")},
			Description: "tcp, udp, icmp, or -1 for every protocol."},
		"from_port":       {Type: sdk.Number, Optional: true, Default: 0, Validators: []sdk.Validator{sdk.Between(-1, 65535)}, Description: "First port (ICMP type for icmp); 0 with protocol -1."},
		"to_port":         {Type: sdk.Number, Optional: true, Default: 0, Validators: []sdk.Validator{sdk.Between(-1, 65535)}, Description: "Last port (ICMP code for icmp); 0 with protocol -1."},
		"cidr_blocks":     {Type: sdk.ListOf(sdk.String), Optional: true, Description: "IPv4 ranges, e.g. 0.0.0.0/0."},
		"security_groups": {Type: sdk.ListOf(sdk.String), Optional: true, Description: "Ids of security groups whose members the rule admits."},
		"description":     {Type: sdk.String, Optional: true, Description: "What the rule is for."},
	}))
}

func securityGroupResource() *sdk.Resource {
	return &sdk.Resource{
		Description: "A VPC security group with its ingress and egress rules, which change in place. Without egress " +
			"rules in the configuration the group keeps EC2's default (all traffic out).",
		Attributes: map[string]*sdk.Attribute{
			"name":        {Type: sdk.String, Required: true, ForceNew: true, Validators: []sdk.Validator{sdk.LengthBetween(1, 255)}, Description: "Name of the group, unique in its VPC."},
			"description": {Type: sdk.String, Optional: true, ForceNew: true, Default: "Managed by prov", Description: "Description of the group."},
			"vpc_id":      {Type: sdk.String, Optional: true, Computed: true, ForceNew: true, Description: "VPC of the group. Default: the region's default VPC."},
			"ingress":     {Type: ruleType(), Optional: true, Description: "Inbound rules."},
			"egress":      {Type: ruleType(), Optional: true, Computed: true, Description: "Outbound rules. Default: EC2's, all traffic out."},
			"tags":        {Type: sdk.MapOf(sdk.String), Optional: true, Description: "Tags of the group."},
			"arn":         {Type: sdk.String, Computed: true, Description: "ARN of the group."},
			"owner_id":    {Type: sdk.String, Computed: true, Description: "Account that owns the group."},
		},
		Create: createSecurityGroup,
		Read:   readSecurityGroup,
		Update: updateSecurityGroup,
		Delete: deleteSecurityGroup,
		Import: readSecurityGroup,
		Plan:   keepOnUpdate(nil, "arn", "owner_id"),
	}
}

// perm is one atom of a rule: a protocol and port range with one CIDR block or one group.
type perm struct {
	protocol    string
	from, to    int
	cidr, group string
	description string
}

func (p perm) key() string {
	return fmt.Sprintf("%s/%d/%d/%s/%s", p.protocol, p.from, p.to, p.cidr, p.group)
}

// perms expands the rules of attribute key of d into atoms.
func perms(rules []any) []perm {
	var out []perm
	for _, r := range rules {
		m, _ := r.(map[string]any)
		base := perm{protocol: fmt.Sprint(m["protocol"]), from: toInt(m["from_port"]), to: toInt(m["to_port"])}
		base.description, _ = m["description"].(string)
		if base.protocol == "-1" {
			base.from, base.to = 0, 0
		}
		for _, c := range asList(m["cidr_blocks"]) {
			p := base
			p.cidr = c
			out = append(out, p)
		}
		for _, g := range asList(m["security_groups"]) {
			p := base
			p.group = g
			out = append(out, p)
		}
	}
	return out
}

func toInt(v any) int { f, _ := v.(float64); return int(f) }

func asList(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// ipPermissions turns atoms into EC2's request form, one IpPermission per atom.
func ipPermissions(ps []perm) []types.IpPermission {
	var out []types.IpPermission
	for _, p := range ps {
		ip := types.IpPermission{IpProtocol: aws.String(p.protocol)}
		if p.protocol != "-1" {
			ip.FromPort, ip.ToPort = aws.Int32(int32(p.from)), aws.Int32(int32(p.to))
		}
		desc := (*string)(nil)
		if p.description != "" {
			desc = aws.String(p.description)
		}
		if p.cidr != "" {
			ip.IpRanges = []types.IpRange{{CidrIp: aws.String(p.cidr), Description: desc}}
		} else {
			ip.UserIdGroupPairs = []types.UserIdGroupPair{{GroupId: aws.String(p.group), Description: desc}}
		}
		out = append(out, ip)
	}
	return out
}

// fromIPPermissions expands EC2's permissions into atoms.
func fromIPPermissions(ips []types.IpPermission) []perm {
	var out []perm
	for _, ip := range ips {
		base := perm{protocol: aws.ToString(ip.IpProtocol), from: int(aws.ToInt32(ip.FromPort)), to: int(aws.ToInt32(ip.ToPort))}
		for _, r := range ip.IpRanges {
			p := base
			p.cidr, p.description = aws.ToString(r.CidrIp), aws.ToString(r.Description)
			out = append(out, p)
		}
		for _, g := range ip.UserIdGroupPairs {
			p := base
			p.group, p.description = aws.ToString(g.GroupId), aws.ToString(g.Description)
			out = append(out, p)
		}
	}
	return out
}

// rulesOf turns the atoms EC2 has back into rules, keeping the rules of prior that still hold as they
// were written, so the order and grouping of the configuration are not a change.
func rulesOf(prior []any, have []perm) []any {
	left := map[string]perm{}
	for _, p := range have {
		left[p.key()+"/"+p.description] = p
	}
	var out []any
	for _, r := range prior {
		ps := perms([]any{r})
		if len(ps) == 0 || !slices.ContainsFunc(ps, func(p perm) bool { _, ok := left[p.key()+"/"+p.description]; return !ok }) {
			for _, p := range ps {
				delete(left, p.key()+"/"+p.description)
			}
			if len(ps) > 0 {
				out = append(out, r)
			}
		}
	}
	var rest []perm
	for _, p := range have {
		if _, ok := left[p.key()+"/"+p.description]; ok {
			rest = append(rest, p)
		}
	}
	// What is left is grouped by protocol, ports and description, in a stable order.
	type group struct {
		protocol, description string
		from, to              int
		cidrs, groups         []any
	}
	var groups []*group
	for _, p := range rest {
		i := slices.IndexFunc(groups, func(g *group) bool {
			return g.protocol == p.protocol && g.from == p.from && g.to == p.to && g.description == p.description
		})
		if i < 0 {
			groups = append(groups, &group{protocol: p.protocol, description: p.description, from: p.from, to: p.to})
			i = len(groups) - 1
		}
		if p.cidr != "" {
			groups[i].cidrs = append(groups[i].cidrs, p.cidr)
		} else {
			groups[i].groups = append(groups[i].groups, p.group)
		}
	}
	slices.SortStableFunc(groups, func(a, b *group) int {
		return cmp.Or(strings.Compare(a.protocol, b.protocol), cmp.Compare(a.from, b.from), cmp.Compare(a.to, b.to))
	})
	for _, g := range groups {
		r := map[string]any{"protocol": g.protocol, "from_port": g.from, "to_port": g.to}
		if g.cidrs != nil {
			r["cidr_blocks"] = g.cidrs
		}
		if g.groups != nil {
			r["security_groups"] = g.groups
		}
		if g.description != "" {
			r["description"] = g.description
		}
		out = append(out, r)
	}
	if out == nil {
		return []any{}
	}
	return out
}

// diffPerms returns the atoms of want that have lacks, and those of have that want lacks.
func diffPerms(have, want []perm) (add, remove []perm) {
	in := func(ps []perm, p perm) bool {
		return slices.ContainsFunc(ps, func(q perm) bool { return q.key() == p.key() && q.description == p.description })
	}
	for _, p := range want {
		if !in(have, p) {
			add = append(add, p)
		}
	}
	for _, p := range have {
		if !in(want, p) {
			remove = append(remove, p)
		}
	}
	return add, remove
}

func createSecurityGroup(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := clientOf(op)
	if err != nil {
		return err
	}
	g, err := c.groupByOperation(ctx, op.ID)
	if err != nil {
		return err
	}
	var id string
	if g != nil { // a retried create whose first attempt got through
		id = aws.ToString(g.GroupId)
	} else {
		in := &ec2.CreateSecurityGroupInput{GroupName: aws.String(d.String("name")), Description: aws.String(d.String("description")),
			TagSpecifications: tagSpec(types.ResourceTypeSecurityGroup, d.StringMap("tags"), op.ID)}
		if v := d.String("vpc_id"); v != "" {
			in.VpcId = aws.String(v)
		}
		out, err := c.ec2.CreateSecurityGroup(ctx, in)
		if err != nil {
			return apiError(err)
		}
		id = aws.ToString(out.GroupId)
	}
	d.SetID(id)
	if err := c.syncRules(ctx, d, id); err != nil {
		return err
	}
	return readSecurityGroup(ctx, op, d)
}

func (c *client) groupByOperation(ctx context.Context, opID string) (*types.SecurityGroup, error) {
	out, err := c.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{
		{Name: aws.String("tag:" + OperationTag), Values: []string{opID}}}})
	if err != nil {
		return nil, apiError(err)
	}
	if len(out.SecurityGroups) == 0 {
		return nil, nil
	}
	return &out.SecurityGroups[0], nil
}

func (c *client) describeGroup(ctx context.Context, id string) (*types.SecurityGroup, error) {
	out, err := c.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, apiError(err)
	}
	if len(out.SecurityGroups) == 0 {
		return nil, nil
	}
	return &out.SecurityGroups[0], nil
}

// syncRules makes the group's rules those of d: ingress always, egress when configured.
func (c *client) syncRules(ctx context.Context, d *sdk.Data, id string) error {
	g, err := c.describeGroup(ctx, id)
	if err != nil {
		return err
	}
	if g == nil {
		return fmt.Errorf("security group %s not found", id)
	}
	add, remove := diffPerms(fromIPPermissions(g.IpPermissions), perms(d.List("ingress")))
	if len(remove) > 0 {
		if _, err := c.ec2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(id), IpPermissions: ipPermissions(remove)}); err != nil {
			return sdk.AttrError("ingress", apiError(err))
		}
	}
	if len(add) > 0 {
		if _, err := c.ec2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(id), IpPermissions: ipPermissions(add)}); err != nil {
			return sdk.AttrError("ingress", apiError(err))
		}
	}
	if !d.IsKnown("egress") || d.Get("egress") == nil {
		return nil
	}
	add, remove = diffPerms(fromIPPermissions(g.IpPermissionsEgress), perms(d.List("egress")))
	if len(remove) > 0 {
		if _, err := c.ec2.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: aws.String(id), IpPermissions: ipPermissions(remove)}); err != nil {
			return sdk.AttrError("egress", apiError(err))
		}
	}
	if len(add) > 0 {
		if _, err := c.ec2.AuthorizeSecurityGroupEgress(ctx, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: aws.String(id), IpPermissions: ipPermissions(add)}); err != nil {
			return sdk.AttrError("egress", apiError(err))
		}
	}
	return nil
}

func readSecurityGroup(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := clientOf(op)
	if err != nil {
		return err
	}
	var g *types.SecurityGroup
	if d.ID() == "" && op.ID != "" {
		g, err = c.groupByOperation(ctx, op.ID)
	} else {
		g, err = c.describeGroup(ctx, d.ID())
	}
	if err != nil {
		return err
	}
	if g == nil {
		return sdk.ErrNotFound
	}
	d.SetID(aws.ToString(g.GroupId))
	d.Set("name", aws.ToString(g.GroupName))
	d.Set("description", aws.ToString(g.Description))
	d.Set("vpc_id", aws.ToString(g.VpcId))
	d.Set("owner_id", aws.ToString(g.OwnerId))
	d.Set("arn", c.arn(aws.ToString(g.OwnerId), "security-group", aws.ToString(g.GroupId)))
	d.Set("tags", tagMap(g.Tags))
	ingress := rulesOf(d.List("ingress"), fromIPPermissions(g.IpPermissions))
	if len(ingress) == 0 && d.Get("ingress") == nil {
		d.Set("ingress", nil)
	} else {
		d.Set("ingress", ingress)
	}
	d.Set("egress", rulesOf(d.List("egress"), fromIPPermissions(g.IpPermissionsEgress)))
	return nil
}

func updateSecurityGroup(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := clientOf(op)
	if err != nil {
		return err
	}
	if err := updateTags(ctx, c, d.ID(), d); err != nil {
		return err
	}
	if err := c.syncRules(ctx, d, d.ID()); err != nil {
		return err
	}
	return readSecurityGroup(ctx, op, d)
}

func deleteSecurityGroup(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := clientOf(op)
	if err != nil {
		return err
	}
	// An instance terminated a moment ago still holds the group for a while: DependencyViolation is
	// retried until the timeout, and then reported.
	var inUse error
	err = c.wait(ctx, "security group "+d.ID()+" to be deletable", func(ctx context.Context) (bool, error) {
		_, err := c.ec2.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(d.ID())})
		switch {
		case err == nil || notFound(err):
			return true, nil
		case errorCode(err) == "DependencyViolation":
			inUse = err
			return false, nil
		}
		return false, apiError(err)
	})
	if err != nil && inUse != nil {
		return fmt.Errorf("%w\n%v", apiError(inUse), err)
	}
	return err
}
