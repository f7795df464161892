package upcloud

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// server is a server of the fake.
type server struct {
	UUID, Title, Hostname, Plan, Zone string
	Cores, MemoryMB                   int
	Labels                            []label
	Username                          string
	SSHKeys                           []string
	UserData                          string
	Metadata                          bool
	Firewall                          string
	Storages                          []string // uuids, in address order
	Interfaces                        []*iface
	Rules                             []firewallRule
	Host                              int64

	state    string    // the state reached when busyTill passes
	busyTill time.Time // maintenance until then
}

// iface is a network interface of a server.
type iface struct {
	Index             int
	Type              string // public, utility, private
	Network           string
	Family            string
	Address           string
	MAC               string
	SourceIPFiltering bool
}

func (sv *server) State() string {
	if time.Now().Before(sv.busyTill) {
		return "maintenance"
	}
	return sv.state
}

// transition puts sv into maintenance, after which it is in state.
func (s *Server) transition(sv *server, state string) {
	sv.state = state
	sv.busyTill = time.Now().Add(s.opts.Transition)
}

func (s *Server) server(uuid string) (*server, error) {
	sv, ok := s.servers[uuid]
	if !ok {
		return nil, errorf(http.StatusNotFound, "SERVER_NOT_FOUND", "The server %s does not exist.", uuid)
	}
	return sv, nil
}

// Servers returns the uuids of the servers the fake holds, in creation order, for tests.
func (s *Server) Servers() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.order)
}

// ServerState returns the state of a server ("" when there is none), for tests.
func (s *Server) ServerState(uuid string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sv, ok := s.servers[uuid]; ok {
		return sv.State()
	}
	return ""
}

type createServerRequest struct {
	Zone         string `json:"zone"`
	Title        string `json:"title"`
	Hostname     string `json:"hostname"`
	Plan         string `json:"plan"`
	CoreNumber   num    `json:"core_number"`
	MemoryAmount num    `json:"memory_amount"`
	Labels       *struct {
		Label []label `json:"label"`
	} `json:"labels"`
	LoginUser *struct {
		Username string `json:"username"`
		SSHKeys  struct {
			SSHKey []string `json:"ssh_key"`
		} `json:"ssh_keys"`
	} `json:"login_user"`
	UserData   string `json:"user_data"`
	Metadata   yesno  `json:"metadata"`
	Firewall   string `json:"firewall"`
	Networking *struct {
		Interfaces struct {
			Interface []struct {
				Index       num    `json:"index"`
				Type        string `json:"type"`
				Network     string `json:"network"`
				IPAddresses struct {
					IPAddress []struct {
						Family  string `json:"family"`
						Address string `json:"address"`
					} `json:"ip_address"`
				} `json:"ip_addresses"`
				SourceIPFiltering yesno `json:"source_ip_filtering"`
			} `json:"interface"`
		} `json:"interfaces"`
	} `json:"networking"`
	StorageDevices struct {
		StorageDevice []struct {
			Action  string `json:"action"`
			Storage string `json:"storage"`
			Title   string `json:"title"`
			Size    num    `json:"size"`
			Tier    string `json:"tier"`
		} `json:"storage_device"`
	} `json:"storage_devices"`
}

func (s *Server) createServer(_ *http.Request, _ []string, body []byte) (int, any, error) {
	var req createServerRequest
	if err := decode(body, "server", &req); err != nil {
		return 0, nil, err
	}
	bad := http.StatusBadRequest
	switch {
	case req.Zone == "":
		return 0, nil, errorf(bad, "ZONE_MISSING", "The zone is missing.")
	case !knownZone(req.Zone):
		return 0, nil, errorf(bad, "ZONE_INVALID", "The zone %s is not valid.", req.Zone)
	case req.Title == "":
		return 0, nil, errorf(bad, "TITLE_MISSING", "The server title is missing.")
	case req.Hostname == "":
		return 0, nil, errorf(bad, "HOSTNAME_MISSING", "The hostname is missing.")
	case len(req.StorageDevices.StorageDevice) == 0:
		return 0, nil, errorf(bad, "STORAGE_DEVICES_MISSING", "At least one storage device is required.")
	}
	sv := &server{UUID: newUUID(0x00), Title: req.Title, Hostname: req.Hostname, Zone: req.Zone,
		UserData: req.UserData, Metadata: req.Metadata > 0, Firewall: "off", Host: 5875000000 + int64(len(s.order))}
	if req.Firewall == "on" {
		sv.Firewall = "on"
	}
	if req.Plan == "" || req.Plan == "custom" {
		sv.Plan, sv.Cores, sv.MemoryMB = "custom", int(req.CoreNumber), int(req.MemoryAmount)
		if sv.Cores < 1 {
			return 0, nil, errorf(bad, "CORE_NUMBER_INVALID", "The number of cores is invalid.")
		}
		if sv.MemoryMB < 256 {
			return 0, nil, errorf(bad, "MEMORY_AMOUNT_INVALID", "The memory amount is invalid.")
		}
	} else {
		p, ok := findPlan(req.Plan)
		if !ok {
			return 0, nil, errorf(bad, "PLAN_INVALID", "The plan %s does not exist.", req.Plan)
		}
		sv.Plan, sv.Cores, sv.MemoryMB = p.Name, p.Cores, p.MemoryMB
	}
	if req.Labels != nil {
		if err := checkLabels(req.Labels.Label); err != nil {
			return 0, nil, err
		}
		sv.Labels = req.Labels.Label
	}
	if u := req.LoginUser; u != nil {
		sv.Username, sv.SSHKeys = u.Username, u.SSHKeys.SSHKey
		if sv.Username == "" {
			sv.Username = "root"
		}
	}
	if len(req.UserData) > 32767 {
		return 0, nil, errorf(bad, "USER_DATA_INVALID", "The user data is too long.")
	}

	// Check everything before making anything, as UpCloud does: a failed create leaves nothing behind.
	for i, d := range req.StorageDevices.StorageDevice {
		switch d.Action {
		case "clone", "attach":
			src, ok := s.storages[d.Storage]
			if !ok {
				return 0, nil, errorf(http.StatusNotFound, "STORAGE_NOT_FOUND", "The storage %s does not exist.", d.Storage)
			}
			if d.Action == "attach" && src.Server != "" {
				return 0, nil, errorf(http.StatusConflict, "STORAGE_ATTACHED", "The storage %s is attached to a server.", d.Storage)
			}
			if d.Action == "clone" && int(d.Size) != 0 && int(d.Size) < src.Size {
				return 0, nil, errorf(bad, "SIZE_INVALID", "storage_devices[%d]: the size %d is smaller than the source's %d GB.", i, d.Size, src.Size)
			}
		case "create":
			if d.Size < 1 || d.Size > 4096 {
				return 0, nil, errorf(bad, "SIZE_INVALID", "storage_devices[%d]: the size %d is invalid.", i, d.Size)
			}
		default:
			return 0, nil, errorf(bad, "ACTION_INVALID", "storage_devices[%d]: the action %q is invalid.", i, d.Action)
		}
		if d.Tier != "" && storagePrices[d.Tier] == 0 {
			return 0, nil, errorf(bad, "TIER_INVALID", "storage_devices[%d]: the tier %q is invalid.", i, d.Tier)
		}
	}
	type ifaceReq = struct{ typ, network, family, address string }
	var ifaces []ifaceReq
	if req.Networking == nil || len(req.Networking.Interfaces.Interface) == 0 {
		ifaces = []ifaceReq{{"public", "", "IPv4", ""}, {"utility", "", "IPv4", ""}}
	} else {
		for _, in := range req.Networking.Interfaces.Interface {
			family := "IPv4"
			if ips := in.IPAddresses.IPAddress; len(ips) > 0 && ips[0].Family != "" {
				family = ips[0].Family
			}
			switch in.Type {
			case "public", "utility":
			case "private":
				n, ok := s.networks[in.Network]
				if !ok {
					return 0, nil, errorf(http.StatusNotFound, "NETWORK_NOT_FOUND", "The network %s does not exist.", in.Network)
				}
				if n.Zone != req.Zone {
					return 0, nil, errorf(http.StatusConflict, "ZONE_MISMATCH", "The network %s is in %s, not %s.", n.UUID, n.Zone, req.Zone)
				}
			default:
				return 0, nil, errorf(bad, "TYPE_INVALID", "The interface type %q is invalid.", in.Type)
			}
			ifaces = append(ifaces, ifaceReq{in.Type, in.Network, family, ""})
		}
	}

	for i, d := range req.StorageDevices.StorageDevice {
		st := &storage{UUID: newUUID(0x01), Zone: req.Zone, Type: "disk", Access: "private", Tier: d.Tier,
			Size: int(d.Size), Title: d.Title, Created: time.Now().UTC(), state: "online"}
		switch d.Action {
		case "attach":
			st = s.storages[d.Storage]
		case "clone":
			src := s.storages[d.Storage]
			st.Origin = src.UUID
			if st.Size == 0 {
				st.Size = src.Size
			}
			if st.Title == "" {
				st.Title = sv.Hostname + "-disk" + strconv.Itoa(i)
			}
		}
		if st.Tier == "" {
			st.Tier = "maxiops"
		}
		if d.Action != "attach" {
			s.storages[st.UUID] = st
			s.transitionStorage(st, "online")
		}
		st.Server, st.Address = sv.UUID, "virtio:"+strconv.Itoa(i)
		sv.Storages = append(sv.Storages, st.UUID)
	}
	for i, in := range ifaces {
		f := &iface{Index: i + 1, Type: in.typ, Network: in.network, Family: in.family, SourceIPFiltering: true}
		s.nextIP++
		f.MAC = fmt.Sprintf("ee:1b:db:%02x:%02x:%02x", s.nextIP>>16&0xff, s.nextIP>>8&0xff, s.nextIP&0xff)
		switch in.typ {
		case "public":
			f.Address = fmt.Sprintf("94.237.%d.%d", s.nextIP/250%250, s.nextIP%250+2)
			if in.family == "IPv6" {
				f.Address = fmt.Sprintf("2a04:3540:1000:310::%x", s.nextIP)
			}
		case "utility":
			f.Address = fmt.Sprintf("10.4.%d.%d", s.nextIP/250%250, s.nextIP%250+2)
		case "private":
			f.Address = s.networks[in.network].allocate()
		}
		sv.Interfaces = append(sv.Interfaces, f)
	}
	s.servers[sv.UUID] = sv
	s.order = append(s.order, sv.UUID)
	s.transition(sv, "started")
	return http.StatusAccepted, s.serverDetails(sv), nil
}

func (s *Server) getServer(_ *http.Request, args []string, _ []byte) (int, any, error) {
	sv, err := s.server(args[0])
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.serverDetails(sv), nil
}

func (s *Server) listServers(r *http.Request, _ []string, _ []byte) (int, any, error) {
	filters := r.URL.Query()["label"]
	list := []any{}
	for _, id := range s.order {
		sv := s.servers[id]
		if !matchLabels(sv.Labels, filters) {
			continue
		}
		list = append(list, s.serverSummary(sv))
	}
	return http.StatusOK, map[string]any{"servers": map[string]any{"server": list}}, nil
}

func (s *Server) modifyServer(_ *http.Request, args []string, body []byte) (int, any, error) {
	sv, err := s.server(args[0])
	if err != nil {
		return 0, nil, err
	}
	var req createServerRequest
	if err := decode(body, "server", &req); err != nil {
		return 0, nil, err
	}
	if sv.State() == "maintenance" {
		return 0, nil, errorf(http.StatusConflict, "SERVER_STATE_ILLEGAL", "The server %s is in maintenance.", sv.UUID)
	}
	resize := req.Plan != "" && req.Plan != sv.Plan || req.CoreNumber != 0 && int(req.CoreNumber) != sv.Cores ||
		req.MemoryAmount != 0 && int(req.MemoryAmount) != sv.MemoryMB
	if resize && sv.State() != "stopped" {
		return 0, nil, errorf(http.StatusConflict, "SERVER_STATE_ILLEGAL", "The server %s must be stopped to change its plan, cores or memory.", sv.UUID)
	}
	if req.Zone != "" && req.Zone != sv.Zone {
		return 0, nil, errorf(http.StatusBadRequest, "ZONE_INVALID", "The zone of a server cannot be changed here.")
	}
	if req.Labels != nil {
		if err := checkLabels(req.Labels.Label); err != nil {
			return 0, nil, err
		}
	}
	if req.Plan != "" && req.Plan != "custom" {
		p, ok := findPlan(req.Plan)
		if !ok {
			return 0, nil, errorf(http.StatusBadRequest, "PLAN_INVALID", "The plan %s does not exist.", req.Plan)
		}
		sv.Plan, sv.Cores, sv.MemoryMB = p.Name, p.Cores, p.MemoryMB
	} else if req.Plan == "custom" || req.CoreNumber != 0 || req.MemoryAmount != 0 {
		sv.Plan = "custom"
		if req.CoreNumber != 0 {
			sv.Cores = int(req.CoreNumber)
		}
		if req.MemoryAmount != 0 {
			sv.MemoryMB = int(req.MemoryAmount)
		}
	}
	if req.Labels != nil {
		sv.Labels = req.Labels.Label
	}
	if req.Title != "" {
		sv.Title = req.Title
	}
	if req.Hostname != "" {
		sv.Hostname = req.Hostname
	}
	if req.Firewall != "" {
		sv.Firewall = req.Firewall
	}
	return http.StatusAccepted, s.serverDetails(sv), nil
}

func (s *Server) deleteServer(r *http.Request, args []string, _ []byte) (int, any, error) {
	sv, err := s.server(args[0])
	if err != nil {
		return 0, nil, err
	}
	if st := sv.State(); st != "stopped" {
		return 0, nil, errorf(http.StatusConflict, "SERVER_STATE_ILLEGAL", "The server %s is %s; stop it before deleting it.", sv.UUID, st)
	}
	withStorages := r.URL.Query().Get("storages") == "1" || r.URL.Query().Get("storages") == "true"
	for _, id := range sv.Storages {
		if withStorages {
			delete(s.storages, id)
		} else if st, ok := s.storages[id]; ok {
			st.Server, st.Address = "", ""
		}
	}
	for _, f := range sv.Interfaces {
		if n, ok := s.networks[f.Network]; ok {
			n.release(f.Address)
		}
	}
	delete(s.servers, sv.UUID)
	s.order = slices.DeleteFunc(s.order, func(id string) bool { return id == sv.UUID })
	return http.StatusNoContent, nil, nil
}

func (s *Server) startServer(_ *http.Request, args []string, _ []byte) (int, any, error) {
	sv, err := s.server(args[0])
	if err != nil {
		return 0, nil, err
	}
	if st := sv.State(); st != "stopped" {
		return 0, nil, errorf(http.StatusConflict, "SERVER_STATE_ILLEGAL", "The server %s is %s, not stopped.", sv.UUID, st)
	}
	s.transition(sv, "started")
	return http.StatusOK, s.serverDetails(sv), nil
}

func (s *Server) stopServer(_ *http.Request, args []string, body []byte) (int, any, error) {
	sv, err := s.server(args[0])
	if err != nil {
		return 0, nil, err
	}
	var req struct {
		StopType string `json:"stop_type"`
	}
	if len(body) > 0 {
		if err := decode(body, "stop_server", &req); err != nil {
			return 0, nil, err
		}
	}
	if req.StopType != "" && req.StopType != "soft" && req.StopType != "hard" {
		return 0, nil, errorf(http.StatusBadRequest, "STOP_TYPE_INVALID", "The stop type %q is invalid.", req.StopType)
	}
	if st := sv.State(); st != "started" {
		return 0, nil, errorf(http.StatusConflict, "SERVER_STATE_ILLEGAL", "The server %s is %s, not started.", sv.UUID, st)
	}
	s.transition(sv, "stopped")
	return http.StatusOK, s.serverDetails(sv), nil
}

func (s *Server) serverSummary(sv *server) map[string]any {
	return map[string]any{
		"uuid": sv.UUID, "title": sv.Title, "hostname": sv.Hostname, "plan": sv.Plan, "zone": sv.Zone,
		"state": sv.State(), "core_number": strconv.Itoa(sv.Cores), "memory_amount": strconv.Itoa(sv.MemoryMB),
		"license": 0, "tags": map[string]any{"tag": []any{}}, "labels": map[string]any{"label": labelsWire(sv.Labels)},
		"created": 0,
	}
}

func (s *Server) serverDetails(sv *server) map[string]any {
	out := s.serverSummary(sv)
	delete(out, "created")
	var devices, ips, ifaces []any
	for i, id := range sv.Storages {
		st, ok := s.storages[id]
		if !ok {
			continue
		}
		devices = append(devices, map[string]any{
			"address": st.Address, "storage": st.UUID, "storage_size": st.Size, "storage_tier": st.Tier,
			"storage_title": st.Title, "type": "disk", "boot_disk": boolDigit(i == 0), "part_of_plan": yn(i == 0 && sv.Plan != "custom"),
			"storage_encrypted": "no", "labels": labelsWire(st.Labels),
		})
	}
	for _, f := range sv.Interfaces {
		ip := map[string]any{"access": f.Type, "address": f.Address, "family": f.Family, "part_of_plan": yn(f.Type == "public")}
		if f.Type != "private" {
			ips = append(ips, ip)
		}
		ifaces = append(ifaces, map[string]any{
			"index": f.Index, "type": f.Type, "network": f.Network, "mac": f.MAC, "bootable": "no",
			"source_ip_filtering": yn(f.SourceIPFiltering),
			"ip_addresses":        map[string]any{"ip_address": []any{map[string]any{"address": f.Address, "family": f.Family, "floating": "no"}}},
		})
	}
	out["storage_devices"] = map[string]any{"storage_device": orEmpty(devices)}
	out["ip_addresses"] = map[string]any{"ip_address": orEmpty(ips)}
	out["networking"] = map[string]any{"interfaces": map[string]any{"interface": orEmpty(ifaces)}}
	out["boot_order"] = "disk"
	out["firewall"] = sv.Firewall
	out["host"] = sv.Host
	out["metadata"] = yn(sv.Metadata)
	out["nic_model"] = "virtio"
	out["simple_backup"] = "no"
	out["timezone"] = "UTC"
	out["video_model"] = "vga"
	out["remote_access_enabled"] = "no"
	out["server_group"] = ""
	return map[string]any{"server": out}
}

func boolDigit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func orEmpty(l []any) []any {
	if l == nil {
		return []any{}
	}
	return l
}

// ServerInfo is what tests see of a server of the fake.
type ServerInfo struct {
	UUID, Hostname, Plan, Zone, State string
	// Image is the template the boot disk was cloned from.
	Image string
	// Firewall is "on" or "off"; Rules is the number of firewall rules.
	Firewall string
	Rules    int
}

// ServerInfos describes the servers the fake holds, in creation order, for tests.
func (s *Server) ServerInfos() []ServerInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ServerInfo
	for _, id := range s.order {
		sv := s.servers[id]
		info := ServerInfo{UUID: sv.UUID, Hostname: sv.Hostname, Plan: sv.Plan, Zone: sv.Zone, State: sv.State(),
			Firewall: sv.Firewall, Rules: len(sv.Rules)}
		if len(sv.Storages) > 0 {
			if st, ok := s.storages[sv.Storages[0]]; ok {
				info.Image = st.Origin
			}
		}
		out = append(out, info)
	}
	return out
}

// Networks returns the uuids of the networks the fake holds, for tests.
func (s *Server) Networks() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for id := range s.networks {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}
