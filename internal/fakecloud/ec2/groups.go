package ec2

import (
	"cmp"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// rule is one permission of a security group: a protocol and port range from or to one CIDR block or
// one other group. EC2 groups rules with the same protocol and ports into one IpPermission.
type rule struct {
	protocol     string
	from, to     int
	cidr, group  string
	description  string
	hasPortRange bool
}

func (r rule) key() string {
	return fmt.Sprintf("%s/%d/%d/%s/%s", r.protocol, r.from, r.to, r.cidr, r.group)
}

type securityGroup struct {
	OwnerID     string         `xml:"ownerId"`
	GroupID     string         `xml:"groupId"`
	GroupName   string         `xml:"groupName"`
	Description string         `xml:"groupDescription"`
	VpcID       string         `xml:"vpcId"`
	Ingress     []ipPermission `xml:"ipPermissions>item"`
	Egress      []ipPermission `xml:"ipPermissionsEgress>item"`
	Tags        []tag          `xml:"tagSet>item"`

	ingress, egress []rule
}

type ipPermission struct {
	IPProtocol string      `xml:"ipProtocol"`
	FromPort   *int        `xml:"fromPort,omitempty"`
	ToPort     *int        `xml:"toPort,omitempty"`
	Groups     []groupPair `xml:"groups>item"`
	IPRanges   []ipRange   `xml:"ipRanges>item"`
}

type groupPair struct {
	UserID      string `xml:"userId"`
	GroupID     string `xml:"groupId"`
	Description string `xml:"description,omitempty"`
}

type ipRange struct {
	CidrIP      string `xml:"cidrIp"`
	Description string `xml:"description,omitempty"`
}

// permissions groups rules into EC2's IpPermission form.
func (s *Server) permissions(rules []rule) []ipPermission {
	var out []ipPermission
	index := map[string]int{}
	for _, r := range rules {
		k := fmt.Sprintf("%s/%d/%d/%v", r.protocol, r.from, r.to, r.hasPortRange)
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			p := ipPermission{IPProtocol: r.protocol}
			if r.hasPortRange {
				from, to := r.from, r.to
				p.FromPort, p.ToPort = &from, &to
			}
			out = append(out, p)
		}
		if r.group != "" {
			out[i].Groups = append(out[i].Groups, groupPair{s.opts.OwnerID, r.group, r.description})
		} else {
			out[i].IPRanges = append(out[i].IPRanges, ipRange{r.cidr, r.description})
		}
	}
	return out
}

// parseRules reads IpPermissions.N of a request.
func (s *Server) parseRules(p params) ([]rule, error) {
	var out []rule
	for _, m := range p.members("IpPermissions") {
		proto := strings.ToLower(m.str("IpProtocol"))
		switch proto {
		case "tcp", "udp", "icmp", "-1":
		case "6":
			proto = "tcp"
		case "17":
			proto = "udp"
		case "1":
			proto = "icmp"
		case "all":
			proto = "-1"
		default:
			return nil, badRequest("InvalidParameterValue", "Invalid value '%s' for IP protocol. Unknown protocol.", m.str("IpProtocol"))
		}
		base := rule{protocol: proto}
		if proto != "-1" {
			from, err := m.int("FromPort", -2)
			if err != nil {
				return nil, err
			}
			to, err := m.int("ToPort", -2)
			if err != nil {
				return nil, err
			}
			if from == -2 || to == -2 {
				return nil, badRequest("MissingParameter", "The request must contain the parameter fromPort and toPort for protocol %s", proto)
			}
			if proto != "icmp" && (from < 0 || to > 65535 || from > to) {
				return nil, badRequest("InvalidParameterValue", "Invalid port range %d-%d", from, to)
			}
			base.from, base.to, base.hasPortRange = from, to, true
		}
		n := len(out)
		for _, r := range m.members("IpRanges") {
			cidr := r.str("CidrIp")
			if !validCIDR(cidr) {
				return nil, badRequest("InvalidParameterValue", "CIDR block %s is malformed", cidr)
			}
			x := base
			x.cidr, x.description = cidr, r.str("Description")
			out = append(out, x)
		}
		for _, g := range m.members("Groups") {
			id := g.str("GroupId")
			if s.groups[id] == nil {
				return nil, badRequest("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
			}
			x := base
			x.group, x.description = id, g.str("Description")
			out = append(out, x)
		}
		if len(out) == n {
			return nil, badRequest("InvalidParameterValue", "A source or destination (CIDR block or security group) is required")
		}
	}
	if len(out) == 0 {
		return nil, badRequest("MissingParameter", "The request must contain the parameter ipPermissions")
	}
	return out, nil
}

func validCIDR(c string) bool {
	addr, bits, ok := strings.Cut(c, "/")
	if !ok {
		return false
	}
	n, err := strconv.Atoi(bits)
	if err != nil || n < 0 || n > 32 {
		return false
	}
	parts := strings.Split(addr, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if v, err := strconv.Atoi(p); err != nil || v < 0 || v > 255 {
			return false
		}
	}
	return true
}

func (s *Server) group(p params) (*securityGroup, error) {
	id := p.str("GroupId")
	if id == "" && p.str("GroupName") != "" {
		for _, g := range s.groups {
			if g.GroupName == p.str("GroupName") {
				return g, nil
			}
		}
		return nil, badRequest("InvalidGroup.NotFound", "The security group '%s' does not exist in default VPC '%s'", p.str("GroupName"), s.vpcID)
	}
	if id == "" {
		return nil, badRequest("MissingParameter", "The request must contain the parameter groupId")
	}
	if !strings.HasPrefix(id, "sg-") {
		return nil, badRequest("InvalidGroupId.Malformed", "Invalid id: \"%s\" (expecting \"sg-...\")", id)
	}
	g := s.groups[id]
	if g == nil {
		return nil, badRequest("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
	}
	return g, nil
}

type createGroupResponse struct {
	response
	Return  bool   `xml:"return"`
	GroupID string `xml:"groupId"`
	Tags    []tag  `xml:"tagSet>item"`
}

func (s *Server) createSecurityGroup(p params) (responder, error) {
	if err := p.require("GroupName", "GroupDescription"); err != nil {
		return nil, err
	}
	name := p.str("GroupName")
	vpc := cmp.Or(p.str("VpcId"), s.vpcID)
	if vpc != s.vpcID {
		return nil, badRequest("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", vpc)
	}
	if strings.HasPrefix(name, "sg-") {
		return nil, badRequest("InvalidParameterValue", "Group names may not be in the format sg-*.")
	}
	for _, g := range s.groups {
		if g.GroupName == name && g.VpcID == vpc {
			return nil, badRequest("InvalidGroup.Duplicate", "The security group '%s' already exists for VPC '%s'", name, vpc)
		}
	}
	tags, err := tagSpecs(p, "security-group")
	if err != nil {
		return nil, err
	}
	g := &securityGroup{OwnerID: s.opts.OwnerID, GroupID: newID("sg"), GroupName: name, Description: p.str("GroupDescription"),
		VpcID: vpc, Tags: tags, egress: []rule{{protocol: "-1", cidr: "0.0.0.0/0"}}}
	s.groups[g.GroupID] = g
	return &createGroupResponse{Return: true, GroupID: g.GroupID, Tags: tags}, nil
}

type describeGroupsResponse struct {
	response
	Groups []*securityGroup `xml:"securityGroupInfo>item"`
}

func (s *Server) describeSecurityGroups(p params) (responder, error) {
	ids, names, fs := p.list("GroupId"), p.list("GroupName"), filters(p)
	for _, id := range ids {
		if s.groups[id] == nil {
			return nil, badRequest("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
		}
	}
	resp := &describeGroupsResponse{}
	for _, id := range slices.Sorted(maps.Keys(s.groups)) {
		g := s.groups[id]
		if len(ids) > 0 && !slices.Contains(ids, id) || len(names) > 0 && !slices.Contains(names, g.GroupName) {
			continue
		}
		ok, err := match(fs, func(name string) ([]string, bool) {
			switch name {
			case "group-id":
				return []string{g.GroupID}, true
			case "group-name":
				return []string{g.GroupName}, true
			case "vpc-id":
				return []string{g.VpcID}, true
			case "description":
				return []string{g.Description}, true
			}
			return tagFields(g.Tags, name)
		})
		if err != nil {
			return nil, err
		}
		if ok {
			out := *g
			out.Ingress, out.Egress = s.permissions(g.ingress), s.permissions(g.egress)
			resp.Groups = append(resp.Groups, &out)
		}
	}
	return resp, nil
}

func (s *Server) deleteSecurityGroup(p params) (responder, error) {
	g, err := s.group(p)
	if err != nil {
		return nil, err
	}
	if g.GroupName == "default" {
		return nil, badRequest("CannotDelete", "the specified group: \"%s\" name: \"default\" cannot be deleted by a user", g.GroupID)
	}
	for _, id := range s.order {
		in := s.instances[id]
		if in.State.Name != Terminated && slices.ContainsFunc(in.Groups, func(r groupRef) bool { return r.GroupID == g.GroupID }) {
			return nil, badRequest("DependencyViolation", "resource %s has a dependent object", g.GroupID)
		}
	}
	for _, other := range s.groups {
		if other != g && slices.ContainsFunc(slices.Concat(other.ingress, other.egress), func(r rule) bool { return r.group == g.GroupID }) {
			return nil, badRequest("DependencyViolation", "resource %s has a dependent object", g.GroupID)
		}
	}
	delete(s.groups, g.GroupID)
	return &returnResponse{Return: true}, nil
}

func (s *Server) authorizeIngress(p params) (responder, error) { return s.authorize(p, false) }
func (s *Server) authorizeEgress(p params) (responder, error)  { return s.authorize(p, true) }
func (s *Server) revokeIngress(p params) (responder, error)    { return s.revoke(p, false) }
func (s *Server) revokeEgress(p params) (responder, error)     { return s.revoke(p, true) }

func (s *Server) authorize(p params, egress bool) (responder, error) {
	g, err := s.group(p)
	if err != nil {
		return nil, err
	}
	rules, err := s.parseRules(p)
	if err != nil {
		return nil, err
	}
	list := &g.ingress
	if egress {
		list = &g.egress
	}
	for _, r := range rules {
		if slices.ContainsFunc(*list, func(x rule) bool { return x.key() == r.key() }) {
			return nil, badRequest("InvalidPermission.Duplicate", "the specified rule \"peer: %s, %s, ALLOW\" already exists", cmp.Or(r.cidr, r.group), strings.ToUpper(r.protocol))
		}
	}
	*list = append(*list, rules...)
	return &returnResponse{Return: true}, nil
}

func (s *Server) revoke(p params, egress bool) (responder, error) {
	g, err := s.group(p)
	if err != nil {
		return nil, err
	}
	rules, err := s.parseRules(p)
	if err != nil {
		return nil, err
	}
	list := &g.ingress
	if egress {
		list = &g.egress
	}
	for _, r := range rules {
		if !slices.ContainsFunc(*list, func(x rule) bool { return x.key() == r.key() }) {
			return nil, badRequest("InvalidPermission.NotFound", "The specified rule does not exist in this security group.")
		}
	}
	*list = slices.DeleteFunc(*list, func(x rule) bool {
		return slices.ContainsFunc(rules, func(r rule) bool { return x.key() == r.key() })
	})
	return &returnResponse{Return: true}, nil
}

// keyPair is an imported key pair.
type keyPair struct {
	KeyPairID   string `xml:"keyPairId"`
	KeyName     string `xml:"keyName"`
	Fingerprint string `xml:"keyFingerprint"`
	KeyType     string `xml:"keyType"`
	PublicKey   string `xml:"publicKey,omitempty"`
	CreateTime  string `xml:"createTime"`
	Tags        []tag  `xml:"tagSet>item"`
}

type importKeyPairResponse struct {
	response
	Fingerprint string `xml:"keyFingerprint"`
	KeyName     string `xml:"keyName"`
	KeyPairID   string `xml:"keyPairId"`
	Tags        []tag  `xml:"tagSet>item"`
}

func (s *Server) importKeyPair(p params) (responder, error) {
	if err := p.require("KeyName", "PublicKeyMaterial"); err != nil {
		return nil, err
	}
	name := p.str("KeyName")
	if s.keys[name] != nil {
		return nil, badRequest("InvalidKeyPair.Duplicate", "The keypair already exists")
	}
	material, err := base64.StdEncoding.DecodeString(p.str("PublicKeyMaterial"))
	if err != nil {
		return nil, badRequest("InvalidParameterValue", "Value for parameter PublicKeyMaterial is invalid. Expected a base64-encoded value.")
	}
	fields := strings.Fields(string(material))
	if len(fields) < 2 {
		return nil, badRequest("InvalidKey.Format", "Key is not in valid OpenSSH public key format")
	}
	blob, err := base64.StdEncoding.DecodeString(fields[1])
	var typ string
	switch fields[0] {
	case "ssh-ed25519":
		typ = "ed25519"
	case "ssh-rsa":
		typ = "rsa"
	}
	if err != nil || typ == "" || !strings.Contains(string(blob), fields[0]) {
		return nil, badRequest("InvalidKey.Format", "Key is not in valid OpenSSH public key format")
	}
	tags, err := tagSpecs(p, "key-pair")
	if err != nil {
		return nil, err
	}
	// EC2 fingerprints imported RSA keys with MD5 and ED25519 keys with SHA-256.
	var fp string
	if typ == "rsa" {
		sum := md5.Sum(blob)
		hexes := make([]string, len(sum))
		for i, b := range sum {
			hexes[i] = fmt.Sprintf("%02x", b)
		}
		fp = strings.Join(hexes, ":")
	} else {
		sum := sha256.Sum256(blob)
		fp = base64.RawStdEncoding.EncodeToString(sum[:]) + "="
	}
	k := &keyPair{KeyPairID: newID("key"), KeyName: name, Fingerprint: fp, KeyType: typ,
		PublicKey: strings.Join(fields[:2], " "), CreateTime: s.timestamp(), Tags: tags}
	s.keys[name] = k
	return &importKeyPairResponse{Fingerprint: fp, KeyName: name, KeyPairID: k.KeyPairID, Tags: tags}, nil
}

type describeKeyPairsResponse struct {
	response
	Keys []keyPair `xml:"keySet>item"`
}

func (s *Server) describeKeyPairs(p params) (responder, error) {
	names, ids, fs := p.list("KeyName"), p.list("KeyPairId"), filters(p)
	for _, n := range names {
		if s.keys[n] == nil {
			return nil, badRequest("InvalidKeyPair.NotFound", "The key pair '%s' does not exist", n)
		}
	}
	for _, id := range ids {
		if !slices.ContainsFunc(slices.Collect(maps.Values(s.keys)), func(k *keyPair) bool { return k.KeyPairID == id }) {
			return nil, badRequest("InvalidKeyPair.NotFound", "The key pair '%s' does not exist", id)
		}
	}
	resp := &describeKeyPairsResponse{}
	for _, name := range slices.Sorted(maps.Keys(s.keys)) {
		k := s.keys[name]
		if len(names) > 0 && !slices.Contains(names, name) || len(ids) > 0 && !slices.Contains(ids, k.KeyPairID) {
			continue
		}
		ok, err := match(fs, func(f string) ([]string, bool) {
			switch f {
			case "key-name":
				return []string{k.KeyName}, true
			case "key-pair-id":
				return []string{k.KeyPairID}, true
			case "fingerprint":
				return []string{k.Fingerprint}, true
			case "key-type":
				return []string{k.KeyType}, true
			}
			return tagFields(k.Tags, f)
		})
		if err != nil {
			return nil, err
		}
		if ok {
			out := *k
			if !p.bool("IncludePublicKey") {
				out.PublicKey = ""
			}
			resp.Keys = append(resp.Keys, out)
		}
	}
	return resp, nil
}

type deleteKeyPairResponse struct {
	response
	Return    bool   `xml:"return"`
	KeyPairID string `xml:"keyPairId,omitempty"`
}

func (s *Server) deleteKeyPair(p params) (responder, error) {
	resp := &deleteKeyPairResponse{Return: true}
	for name, k := range s.keys {
		if name == p.str("KeyName") || k.KeyPairID == p.str("KeyPairId") {
			resp.KeyPairID = k.KeyPairID
			delete(s.keys, name)
		}
	}
	if p.str("KeyName") == "" && p.str("KeyPairId") == "" {
		return nil, badRequest("MissingParameter", "The request must contain the parameter KeyName or KeyPairId")
	}
	return resp, nil
}

// KeyPairs returns the names of the fake's key pairs, sorted.
func (s *Server) KeyPairs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.keys))
}
