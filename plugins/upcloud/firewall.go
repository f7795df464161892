package upcloud

import (
	"context"
	"fmt"
	"strconv"

	"github.com/UpCloudLtd/upcloud-go-api/v8/upcloud"
	"github.com/UpCloudLtd/upcloud-go-api/v8/upcloud/request"

	"github.com/provhq/prov/sdk"
)

func firewallResource() *sdk.Resource {
	port := func(desc string) *sdk.Attribute {
		return &sdk.Attribute{Type: sdk.Number, Optional: true, Validators: []sdk.Validator{sdk.Between(1, 65535)}, Description: desc}
	}
	addr := func(desc string) *sdk.Attribute {
		return &sdk.Attribute{Type: sdk.String, Optional: true, Description: desc}
	}
	return &sdk.Resource{
		Description: "The firewall rules of an UpCloud server, as a whole: the rules are the server's only ones, in " +
			"order, and the server's firewall is on while they exist. Rules change in place; the server replaces " +
			"the resource.",
		Attributes: map[string]*sdk.Attribute{
			"server_id": {Type: sdk.String, Required: true, ForceNew: true, Description: "UUID of the server."},
			"rules": {Type: sdk.ListOf(sdk.Object(map[string]*sdk.Attribute{
				"direction":                 {Type: sdk.String, Required: true, Validators: []sdk.Validator{sdk.OneOf("in", "out")}, Description: "in or out."},
				"action":                    {Type: sdk.String, Required: true, Validators: []sdk.Validator{sdk.OneOf("accept", "reject", "drop")}, Description: "accept, reject or drop."},
				"family":                    {Type: sdk.String, Optional: true, Validators: []sdk.Validator{sdk.OneOf("IPv4", "IPv6")}, Description: "IPv4 or IPv6; needed with addresses, ports or a protocol."},
				"protocol":                  {Type: sdk.String, Optional: true, Validators: []sdk.Validator{sdk.OneOf("tcp", "udp", "icmp")}, Description: "tcp, udp or icmp."},
				"icmp_type":                 {Type: sdk.String, Optional: true, Description: "ICMP type, with protocol icmp."},
				"source_address_start":      addr("First source address."),
				"source_address_end":        addr("Last source address."),
				"source_port_start":         port("First source port."),
				"source_port_end":           port("Last source port."),
				"destination_address_start": addr("First destination address."),
				"destination_address_end":   addr("Last destination address."),
				"destination_port_start":    port("First destination port."),
				"destination_port_end":      port("Last destination port."),
				"comment":                   {Type: sdk.String, Optional: true, Description: "A note on the rule."},
			})), Required: true, Description: "The rules, first match wins."},
		},
		Create: putFirewallRules,
		Read:   readFirewallRules,
		Update: putFirewallRules,
		Delete: deleteFirewallRules,
		Import: readFirewallRules,
	}
}

var ruleStrings = []string{"direction", "action", "family", "protocol", "icmp_type", "source_address_start",
	"source_address_end", "destination_address_start", "destination_address_end", "comment"}
var rulePorts = []string{"source_port_start", "source_port_end", "destination_port_start", "destination_port_end"}

func rulesOf(d *sdk.Data) []upcloud.FirewallRule {
	var out []upcloud.FirewallRule
	for i := range d.List("rules") {
		get := func(k string) string { return d.String(fmt.Sprintf("rules[%d].%s", i, k)) }
		port := func(k string) string {
			if n := d.Int(fmt.Sprintf("rules[%d].%s", i, k)); n > 0 {
				return strconv.Itoa(n)
			}
			return ""
		}
		out = append(out, upcloud.FirewallRule{Direction: get("direction"), Action: get("action"), Family: get("family"),
			Protocol: get("protocol"), ICMPType: get("icmp_type"), Comment: get("comment"),
			SourceAddressStart: get("source_address_start"), SourceAddressEnd: get("source_address_end"),
			DestinationAddressStart: get("destination_address_start"), DestinationAddressEnd: get("destination_address_end"),
			SourcePortStart: port("source_port_start"), SourcePortEnd: port("source_port_end"),
			DestinationPortStart: port("destination_port_start"), DestinationPortEnd: port("destination_port_end"),
			Position: i + 1})
	}
	return out
}

func ruleAttrs(r upcloud.FirewallRule) map[string]any {
	m := map[string]any{}
	for k, v := range map[string]string{"direction": r.Direction, "action": r.Action, "family": r.Family,
		"protocol": r.Protocol, "icmp_type": r.ICMPType, "comment": r.Comment,
		"source_address_start": r.SourceAddressStart, "source_address_end": r.SourceAddressEnd,
		"destination_address_start": r.DestinationAddressStart, "destination_address_end": r.DestinationAddressEnd} {
		if v != "" {
			m[k] = v
		}
	}
	for k, v := range map[string]string{"source_port_start": r.SourcePortStart, "source_port_end": r.SourcePortEnd,
		"destination_port_start": r.DestinationPortStart, "destination_port_end": r.DestinationPortEnd} {
		if n, err := strconv.Atoi(v); err == nil {
			m[k] = n
		}
	}
	return m
}

// putFirewallRules makes the server's rules those of d, in one call that replaces them all (so a retry
// is harmless), and turns the server's firewall on.
func putFirewallRules(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := clientOf(op)
	if err != nil {
		return err
	}
	id := d.String("server_id")
	op.Progress(-1, "setting %d firewall rules of %s", len(d.List("rules")), id)
	if err := c.svc.CreateFirewallRules(ctx, &request.CreateFirewallRulesRequest{ServerUUID: id, FirewallRules: rulesOf(d)}); err != nil {
		if errorCode(err) == upcloud.ErrCodeServerNotFound {
			return sdk.AttrError("server_id", apiError("CreateFirewallRules", err))
		}
		return apiError("CreateFirewallRules", err)
	}
	if _, err := c.svc.ModifyServer(ctx, &request.ModifyServerRequest{UUID: id, Firewall: "on"}); err != nil {
		return apiError("ModifyServer", err)
	}
	d.SetID(id)
	return nil
}

func readFirewallRules(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := clientOf(op)
	if err != nil {
		return err
	}
	if d.ID() == "" {
		// Setting the rules replaces them all, so a create in doubt is simply made again.
		return sdk.ErrNotFound
	}
	rs, err := c.svc.GetFirewallRules(ctx, &request.GetFirewallRulesRequest{ServerUUID: d.ID()})
	if errorCode(err) == upcloud.ErrCodeServerNotFound {
		return sdk.ErrNotFound
	}
	if err != nil {
		return apiError("GetFirewallRules", err)
	}
	rules := make([]any, 0, len(rs.FirewallRules))
	for _, r := range rs.FirewallRules {
		rules = append(rules, ruleAttrs(r))
	}
	d.Set("server_id", d.ID())
	d.Set("rules", rules)
	return nil
}

func deleteFirewallRules(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := clientOf(op)
	if err != nil {
		return err
	}
	err = c.svc.CreateFirewallRules(ctx, &request.CreateFirewallRulesRequest{ServerUUID: d.ID(), FirewallRules: []upcloud.FirewallRule{}})
	if errorCode(err) == upcloud.ErrCodeServerNotFound {
		return nil
	}
	if err != nil {
		return apiError("CreateFirewallRules", err)
	}
	if _, err := c.svc.ModifyServer(ctx, &request.ModifyServerRequest{UUID: d.ID(), Firewall: "off"}); err != nil && errorCode(err) != upcloud.ErrCodeServerNotFound {
		return apiError("ModifyServer", err)
	}
	return nil
}
