package upcloud

import (
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// storage is a storage device or a template of the fake.
type storage struct {
	UUID, Title, Tier, Zone string
	Type                    string // disk or template
	Access                  string // private or public
	Size                    int
	Labels                  []label
	Origin                  string
	Created                 time.Time
	Server, Address         string // the server it is attached to, and where

	state    string
	busyTill time.Time
}

func (st *storage) State() string {
	if st.Type == "template" {
		return "online"
	}
	if time.Now().Before(st.busyTill) {
		return "maintenance"
	}
	return st.state
}

func (s *Server) transitionStorage(st *storage, state string) {
	st.state = state
	st.busyTill = time.Now().Add(s.opts.Transition)
}

// Storages returns the uuids of the private storages the fake holds, for tests.
func (s *Server) Storages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for id, st := range s.storages {
		if st.Access == "private" {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func (s *Server) storage(uuid string) (*storage, error) {
	st, ok := s.storages[uuid]
	if !ok {
		return nil, errorf(http.StatusNotFound, "STORAGE_NOT_FOUND", "The storage %s does not exist.", uuid)
	}
	return st, nil
}

func isStorageFilter(seg string) bool {
	switch seg {
	case "public", "private", "normal", "backup", "cdrom", "template", "favorite":
		return true
	}
	return false
}

func (s *Server) storageWire(st *storage) map[string]any {
	servers := []any{}
	if st.Server != "" {
		servers = append(servers, st.Server)
	}
	typ := "normal"
	if st.Type == "template" {
		typ = "template"
	}
	return map[string]any{
		"uuid": st.UUID, "title": st.Title, "access": st.Access, "type": typ, "size": st.Size, "tier": st.Tier,
		"zone": st.Zone, "state": st.State(), "license": 0, "encrypted": "no", "origin": st.Origin,
		"created": st.Created.Format(time.RFC3339), "labels": labelsWire(st.Labels), "part_of_plan": "",
		"servers": map[string]any{"server": servers}, "backups": map[string]any{"backup": []any{}},
	}
}

func (s *Server) listStorages(r *http.Request, args []string, _ []byte) (int, any, error) {
	filters := r.URL.Query()["label"]
	var list []any
	ids := make([]string, 0, len(s.storages))
	for id := range s.storages {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		st := s.storages[id]
		w := s.storageWire(st)
		keep := matchLabels(st.Labels, filters)
		for _, a := range args {
			keep = keep && (a == st.Access || a == w["type"])
		}
		if keep {
			delete(w, "servers")
			delete(w, "backups")
			list = append(list, w)
		}
	}
	return http.StatusOK, map[string]any{"storages": map[string]any{"storage": orEmpty(list)}}, nil
}

func (s *Server) getStorage(_ *http.Request, args []string, _ []byte) (int, any, error) {
	st, err := s.storage(args[0])
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"storage": s.storageWire(st)}, nil
}

type storageRequest struct {
	Size   num      `json:"size"`
	Tier   string   `json:"tier"`
	Title  string   `json:"title"`
	Zone   string   `json:"zone"`
	Labels *[]label `json:"labels"`
}

func (s *Server) createStorage(_ *http.Request, _ []string, body []byte) (int, any, error) {
	var req storageRequest
	if err := decode(body, "storage", &req); err != nil {
		return 0, nil, err
	}
	bad := http.StatusBadRequest
	switch {
	case req.Zone == "":
		return 0, nil, errorf(bad, "ZONE_MISSING", "The zone is missing.")
	case !knownZone(req.Zone):
		return 0, nil, errorf(bad, "ZONE_INVALID", "The zone %s is not valid.", req.Zone)
	case req.Size == 0:
		return 0, nil, errorf(bad, "SIZE_MISSING", "The size is missing.")
	case req.Size < 1 || req.Size > 4096:
		return 0, nil, errorf(bad, "SIZE_INVALID", "The size %d is invalid.", req.Size)
	case req.Title == "":
		return 0, nil, errorf(bad, "TITLE_MISSING", "The title is missing.")
	case req.Tier != "" && storagePrices[req.Tier] == 0:
		return 0, nil, errorf(bad, "TIER_INVALID", "The tier %q is invalid.", req.Tier)
	}
	st := &storage{UUID: newUUID(0x01), Title: req.Title, Tier: req.Tier, Zone: req.Zone, Type: "disk",
		Access: "private", Size: int(req.Size), Created: time.Now().UTC()}
	if st.Tier == "" {
		st.Tier = "maxiops"
	}
	if req.Labels != nil {
		if err := checkLabels(*req.Labels); err != nil {
			return 0, nil, err
		}
		st.Labels = *req.Labels
	}
	s.storages[st.UUID] = st
	s.transitionStorage(st, "online")
	return http.StatusCreated, map[string]any{"storage": s.storageWire(st)}, nil
}

func (s *Server) modifyStorage(_ *http.Request, args []string, body []byte) (int, any, error) {
	st, err := s.storage(args[0])
	if err != nil {
		return 0, nil, err
	}
	var req storageRequest
	if err := decode(body, "storage", &req); err != nil {
		return 0, nil, err
	}
	if st.Access == "public" {
		return 0, nil, errorf(http.StatusForbidden, "STORAGE_FORBIDDEN", "The storage %s is public.", st.UUID)
	}
	if st.State() != "online" {
		return 0, nil, errorf(http.StatusConflict, "STORAGE_STATE_ILLEGAL", "The storage %s is %s.", st.UUID, st.State())
	}
	if req.Size != 0 && int(req.Size) != st.Size {
		if int(req.Size) < st.Size || req.Size > 4096 {
			return 0, nil, errorf(http.StatusBadRequest, "SIZE_INVALID", "The size %d is invalid: a storage can only grow, up to 4096 GB.", req.Size)
		}
		if sv, ok := s.servers[st.Server]; ok && sv.State() != "stopped" {
			return 0, nil, errorf(http.StatusConflict, "SERVER_STATE_ILLEGAL", "The server %s must be stopped to resize its storage.", sv.UUID)
		}
		st.Size = int(req.Size)
	}
	if req.Labels != nil {
		if err := checkLabels(*req.Labels); err != nil {
			return 0, nil, err
		}
		st.Labels = *req.Labels
	}
	if req.Title != "" {
		st.Title = req.Title
	}
	return http.StatusAccepted, map[string]any{"storage": s.storageWire(st)}, nil
}

func (s *Server) deleteStorage(_ *http.Request, args []string, _ []byte) (int, any, error) {
	st, err := s.storage(args[0])
	if err != nil {
		return 0, nil, err
	}
	if st.Access == "public" {
		return 0, nil, errorf(http.StatusForbidden, "STORAGE_FORBIDDEN", "The storage %s is public.", st.UUID)
	}
	if st.Server != "" {
		return 0, nil, errorf(http.StatusConflict, "STORAGE_ATTACHED", "The storage %s is attached to server %s.", st.UUID, st.Server)
	}
	delete(s.storages, st.UUID)
	return http.StatusNoContent, nil, nil
}

// network is a private SDN network of the fake.
type network struct {
	UUID, Name, Zone, Router string
	Labels                   []label
	IPNetworks               []ipNetwork
	used                     map[string]bool
}

type ipNetwork struct {
	Address          string   `json:"address"`
	Family           string   `json:"family"`
	Gateway          string   `json:"gateway"`
	DHCP             yesno    `json:"dhcp"`
	DHCPDefaultRoute yesno    `json:"dhcp_default_route"`
	DHCPDns          []string `json:"dhcp_dns"`
}

// allocate gives out the next free host address of the network's first IPv4 range.
func (n *network) allocate() string {
	for _, ipn := range n.IPNetworks {
		p, err := netip.ParsePrefix(ipn.Address)
		if err != nil {
			continue
		}
		for a := p.Masked().Addr().Next().Next(); p.Contains(a); a = a.Next() {
			if !n.used[a.String()] && a.String() != ipn.Gateway {
				n.used[a.String()] = true
				return a.String()
			}
		}
	}
	return ""
}

func (n *network) release(addr string) { delete(n.used, addr) }

func (s *Server) network(uuid string) (*network, error) {
	n, ok := s.networks[uuid]
	if !ok {
		return nil, errorf(http.StatusNotFound, "NETWORK_NOT_FOUND", "The network %s does not exist.", uuid)
	}
	return n, nil
}

func (s *Server) networkWire(n *network) map[string]any {
	var ipns, servers []any
	for _, ipn := range n.IPNetworks {
		ipns = append(ipns, map[string]any{"address": ipn.Address, "family": ipn.Family, "gateway": ipn.Gateway,
			"dhcp": ipn.DHCP.wire(), "dhcp_default_route": ipn.DHCPDefaultRoute.wire(), "dhcp_dns": orEmpty(strs(ipn.DHCPDns))})
	}
	for _, id := range s.order {
		sv := s.servers[id]
		if slices.ContainsFunc(sv.Interfaces, func(f *iface) bool { return f.Network == n.UUID }) {
			servers = append(servers, map[string]any{"uuid": sv.UUID, "title": sv.Title})
		}
	}
	return map[string]any{"uuid": n.UUID, "name": n.Name, "type": "private", "zone": n.Zone, "router": n.Router,
		"labels": labelsWire(n.Labels), "ip_networks": map[string]any{"ip_network": orEmpty(ipns)},
		"servers": map[string]any{"server": orEmpty(servers)}}
}

func strs(l []string) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}

type networkRequest struct {
	Name       string `json:"name"`
	Zone       string `json:"zone"`
	Router     string `json:"router"`
	IPNetworks *struct {
		IPNetwork []ipNetwork `json:"ip_network"`
	} `json:"ip_networks"`
	Labels *[]label `json:"labels"`
}

func checkIPNetworks(ipns []ipNetwork) error {
	for _, ipn := range ipns {
		p, err := netip.ParsePrefix(ipn.Address)
		if err != nil || p.Addr().Is4() != (ipn.Family != "IPv6") {
			return errorf(http.StatusBadRequest, "ADDRESS_INVALID", "The address %q is not a valid %s network.", ipn.Address, ipn.Family)
		}
		if ipn.Gateway != "" {
			if g, err := netip.ParseAddr(ipn.Gateway); err != nil || !p.Contains(g) {
				return errorf(http.StatusBadRequest, "GATEWAY_INVALID", "The gateway %q is not in %s.", ipn.Gateway, ipn.Address)
			}
		}
	}
	return nil
}

func (s *Server) createNetwork(_ *http.Request, _ []string, body []byte) (int, any, error) {
	var req networkRequest
	if err := decode(body, "network", &req); err != nil {
		return 0, nil, err
	}
	bad := http.StatusBadRequest
	switch {
	case strings.TrimSpace(req.Name) == "":
		return 0, nil, errorf(bad, "NETWORK_NAME_MISSING", "The network name is missing.")
	case req.Zone == "":
		return 0, nil, errorf(bad, "ZONE_MISSING", "The zone is missing.")
	case !knownZone(req.Zone):
		return 0, nil, errorf(bad, "ZONE_INVALID", "The zone %s is not valid.", req.Zone)
	case req.IPNetworks == nil || len(req.IPNetworks.IPNetwork) == 0:
		return 0, nil, errorf(bad, "IP_NETWORKS_MISSING", "At least one IP network is required.")
	}
	if err := checkIPNetworks(req.IPNetworks.IPNetwork); err != nil {
		return 0, nil, err
	}
	n := &network{UUID: newUUID(0x03), Name: req.Name, Zone: req.Zone, Router: req.Router,
		IPNetworks: req.IPNetworks.IPNetwork, used: map[string]bool{}}
	if req.Labels != nil {
		if err := checkLabels(*req.Labels); err != nil {
			return 0, nil, err
		}
		n.Labels = *req.Labels
	}
	s.networks[n.UUID] = n
	return http.StatusCreated, map[string]any{"network": s.networkWire(n)}, nil
}

func (s *Server) getNetwork(_ *http.Request, args []string, _ []byte) (int, any, error) {
	n, err := s.network(args[0])
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"network": s.networkWire(n)}, nil
}

func (s *Server) listNetworks(r *http.Request, _ []string, _ []byte) (int, any, error) {
	zone, filters := r.URL.Query().Get("zone"), r.URL.Query()["label"]
	ids := make([]string, 0, len(s.networks))
	for id := range s.networks {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var list []any
	for _, id := range ids {
		n := s.networks[id]
		if (zone == "" || n.Zone == zone) && matchLabels(n.Labels, filters) {
			list = append(list, s.networkWire(n))
		}
	}
	return http.StatusOK, map[string]any{"networks": map[string]any{"network": orEmpty(list)}}, nil
}

func (s *Server) modifyNetwork(_ *http.Request, args []string, body []byte) (int, any, error) {
	n, err := s.network(args[0])
	if err != nil {
		return 0, nil, err
	}
	var req networkRequest
	if err := decode(body, "network", &req); err != nil {
		return 0, nil, err
	}
	if req.Zone != "" && req.Zone != n.Zone {
		return 0, nil, errorf(http.StatusBadRequest, "ZONE_INVALID", "The zone of a network cannot be changed.")
	}
	if req.IPNetworks != nil {
		if err := checkIPNetworks(req.IPNetworks.IPNetwork); err != nil {
			return 0, nil, err
		}
		n.IPNetworks = req.IPNetworks.IPNetwork
	}
	if req.Labels != nil {
		if err := checkLabels(*req.Labels); err != nil {
			return 0, nil, err
		}
		n.Labels = *req.Labels
	}
	if req.Name != "" {
		n.Name = req.Name
	}
	return http.StatusAccepted, map[string]any{"network": s.networkWire(n)}, nil
}

func (s *Server) deleteNetwork(_ *http.Request, args []string, _ []byte) (int, any, error) {
	n, err := s.network(args[0])
	if err != nil {
		return 0, nil, err
	}
	if len(n.used) > 0 {
		return 0, nil, errorf(http.StatusConflict, "NETWORK_NOT_EMPTY", "The network %s has servers attached.", n.UUID)
	}
	delete(s.networks, n.UUID)
	return http.StatusNoContent, nil, nil
}
