package upcloud

import (
	"net/http"
	"slices"
	"strconv"
)

// firewallRule is one rule of a server's firewall, in UpCloud's wire fields.
type firewallRule struct {
	Action                  string `json:"action"`
	Comment                 string `json:"comment,omitempty"`
	DestinationAddressStart string `json:"destination_address_start,omitempty"`
	DestinationAddressEnd   string `json:"destination_address_end,omitempty"`
	DestinationPortStart    string `json:"destination_port_start,omitempty"`
	DestinationPortEnd      string `json:"destination_port_end,omitempty"`
	Direction               string `json:"direction"`
	Family                  string `json:"family,omitempty"`
	ICMPType                string `json:"icmp_type,omitempty"`
	Position                num    `json:"position,omitempty"`
	Protocol                string `json:"protocol,omitempty"`
	SourceAddressStart      string `json:"source_address_start,omitempty"`
	SourceAddressEnd        string `json:"source_address_end,omitempty"`
	SourcePortStart         string `json:"source_port_start,omitempty"`
	SourcePortEnd           string `json:"source_port_end,omitempty"`
}

func (r firewallRule) check() error {
	bad := http.StatusBadRequest
	switch {
	case r.Direction == "":
		return errorf(bad, "DIRECTION_MISSING", "The direction is missing.")
	case r.Direction != "in" && r.Direction != "out":
		return errorf(bad, "DIRECTION_INVALID", "The direction %q is invalid.", r.Direction)
	case r.Action == "":
		return errorf(bad, "ACTION_MISSING", "The action is missing.")
	case r.Action != "accept" && r.Action != "reject" && r.Action != "drop":
		return errorf(bad, "ACTION_INVALID", "The action %q is invalid.", r.Action)
	case r.Family != "" && r.Family != "IPv4" && r.Family != "IPv6":
		return errorf(bad, "FAMILY_INVALID", "The family %q is invalid.", r.Family)
	case r.Protocol != "" && r.Protocol != "tcp" && r.Protocol != "udp" && r.Protocol != "icmp":
		return errorf(bad, "PROTOCOL_INVALID", "The protocol %q is invalid.", r.Protocol)
	case r.Protocol == "icmp" && (r.DestinationPortStart != "" || r.SourcePortStart != ""):
		return errorf(bad, "PORT_PROTOCOL_MISMATCH", "Ports cannot be given for icmp.")
	}
	for _, p := range []struct{ v, code string }{
		{r.DestinationPortStart, "DESTINATION_PORT_START_INVALID"}, {r.DestinationPortEnd, "DESTINATION_PORT_END_INVALID"},
		{r.SourcePortStart, "SOURCE_PORT_START_INVALID"}, {r.SourcePortEnd, "SOURCE_PORT_END_INVALID"},
	} {
		if p.v == "" {
			continue
		}
		if n, err := strconv.Atoi(p.v); err != nil || n < 1 || n > 65535 {
			return errorf(bad, p.code, "The port %q is invalid.", p.v)
		}
	}
	return nil
}

func (r firewallRule) wire(pos int) map[string]any {
	m := map[string]any{"action": r.Action, "direction": r.Direction, "position": strconv.Itoa(pos)}
	for k, v := range map[string]string{
		"comment": r.Comment, "family": r.Family, "protocol": r.Protocol, "icmp_type": r.ICMPType,
		"destination_address_start": r.DestinationAddressStart, "destination_address_end": r.DestinationAddressEnd,
		"destination_port_start": r.DestinationPortStart, "destination_port_end": r.DestinationPortEnd,
		"source_address_start": r.SourceAddressStart, "source_address_end": r.SourceAddressEnd,
		"source_port_start": r.SourcePortStart, "source_port_end": r.SourcePortEnd,
	} {
		m[k] = v
	}
	return m
}

func (s *Server) listFirewallRules(_ *http.Request, args []string, _ []byte) (int, any, error) {
	sv, err := s.server(args[0])
	if err != nil {
		return 0, nil, err
	}
	list := []any{}
	for i, r := range sv.Rules {
		list = append(list, r.wire(i+1))
	}
	return http.StatusOK, map[string]any{"firewall_rules": map[string]any{"firewall_rule": list}}, nil
}

func (s *Server) createFirewallRule(_ *http.Request, args []string, body []byte) (int, any, error) {
	sv, err := s.server(args[0])
	if err != nil {
		return 0, nil, err
	}
	var r firewallRule
	if err := decode(body, "firewall_rule", &r); err != nil {
		return 0, nil, err
	}
	if err := r.check(); err != nil {
		return 0, nil, err
	}
	if len(sv.Rules) >= 1000 {
		return 0, nil, errorf(http.StatusConflict, "FIREWALL_RULE_LIMIT_REACHED", "A server can have at most 1000 firewall rules.")
	}
	pos := int(r.Position)
	if pos < 1 || pos > len(sv.Rules)+1 {
		if r.Position != 0 {
			return 0, nil, errorf(http.StatusBadRequest, "POSITION_INVALID", "The position %d is invalid.", pos)
		}
		pos = len(sv.Rules) + 1
	}
	sv.Rules = slices.Insert(sv.Rules, pos-1, r)
	return http.StatusCreated, map[string]any{"firewall_rule": r.wire(pos)}, nil
}

func (s *Server) replaceFirewallRules(_ *http.Request, args []string, body []byte) (int, any, error) {
	sv, err := s.server(args[0])
	if err != nil {
		return 0, nil, err
	}
	var req struct {
		FirewallRule []firewallRule `json:"firewall_rule"`
	}
	if err := decode(body, "firewall_rules", &req); err != nil {
		return 0, nil, err
	}
	for _, r := range req.FirewallRule {
		if err := r.check(); err != nil {
			return 0, nil, err
		}
	}
	sv.Rules = req.FirewallRule
	return http.StatusNoContent, nil, nil
}

func (s *Server) deleteFirewallRule(_ *http.Request, args []string, _ []byte) (int, any, error) {
	sv, err := s.server(args[0])
	if err != nil {
		return 0, nil, err
	}
	pos, err := strconv.Atoi(args[1])
	if err != nil || pos < 1 || pos > len(sv.Rules) {
		return 0, nil, errorf(http.StatusNotFound, "FIREWALL_RULE_NOT_FOUND", "The firewall rule %s does not exist.", args[1])
	}
	sv.Rules = slices.Delete(sv.Rules, pos-1, pos)
	return http.StatusNoContent, nil, nil
}
