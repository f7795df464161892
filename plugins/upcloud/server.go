package upcloud

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/UpCloudLtd/upcloud-go-api/v8/upcloud"
	"github.com/UpCloudLtd/upcloud-go-api/v8/upcloud/request"

	"github.com/provhq/prov/sdk"
)

// InputsLabel holds a digest of a server's inputs UpCloud does not report back (image, user,
// ssh_keys, user_data), so a server found by operation id after a crash is recognised as the one the
// configuration describes instead of being replaced.
const InputsLabel = "prov-inputs"

// DefaultImage is the template a server's boot disk is cloned from when the configuration names none.
const DefaultImage = "Ubuntu Server 24.04 LTS (Noble Numbat)"

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// unreported are the server inputs UpCloud does not report back; changing one replaces the server.
var unreported = []string{"image", "user", "ssh_keys", "user_data"}

func serverResource() *sdk.Resource {
	return &sdk.Resource{
		Description: "An UpCloud server: the upcloud server. A new plan or a bigger disk stops the server, " +
			"changes it and starts it again; hostname, title and labels change in place; zone, image, user, " +
			"ssh_keys, user_data, network interfaces, the number of disks, a disk's tier or a smaller disk " +
			"replace it.",
		Attributes: map[string]*sdk.Attribute{
			"hostname": {Type: sdk.String, Required: true, Validators: []sdk.Validator{sdk.Regexp(`^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,126}[a-zA-Z0-9])?$`)}, Description: "Host name of the server."},
			"title":    {Type: sdk.String, Optional: true, Computed: true, Description: "Title shown in the UpCloud console. Default: the hostname."},
			"plan":     {Type: sdk.String, Required: true, Description: "Server plan, e.g. 2xCPU-4GB. A change stops and restarts the server."},
			"zone":     {Type: sdk.String, Required: true, ForceNew: true, Description: "Zone, e.g. fi-hel1."},
			"image": {Type: sdk.String, Optional: true, Default: DefaultImage,
				Description: "Template the boot disk is cloned from: its UUID or its exact title. A change replaces the server."},
			"storage": {Type: sdk.ListOf(sdk.Object(map[string]*sdk.Attribute{
				"size_gb": {Type: sdk.Number, Required: true, Validators: []sdk.Validator{sdk.Between(1, 4096)}, Description: "Size in GB; it can grow in place."},
				"name":    {Type: sdk.String, Optional: true, Description: "Title of the storage. Default: HOSTNAME-diskN."},
				"tier":    {Type: sdk.String, Optional: true, Default: "maxiops", ForceNew: true, Validators: []sdk.Validator{sdk.OneOf("maxiops", "standard", "hdd")}, Description: "Storage tier."},
				"mount":   {Type: sdk.String, Optional: true, Description: "Where the disk is mounted, for taskservs; UpCloud does not use it."},
			})), Optional: true, Computed: true, Validators: []sdk.Validator{sdk.LengthBetween(1, 16)},
				Description: "Disks, the first cloned from image, the others blank. Default: one disk of the plan's size."},
			"network_interfaces": {Type: sdk.ListOf(sdk.Object(map[string]*sdk.Attribute{
				"type":       {Type: sdk.String, Optional: true, Default: "public", Validators: []sdk.Validator{sdk.OneOf("public", "utility", "private")}, Description: "public, utility or private."},
				"network":    {Type: sdk.String, Optional: true, Description: "UUID of the private network (type private)."},
				"ip_address": {Type: sdk.String, Optional: true, Description: "A fixed address in the private network. Default: one is assigned."},
				"family":     {Type: sdk.String, Optional: true, Default: "IPv4", Validators: []sdk.Validator{sdk.OneOf("IPv4", "IPv6")}, Description: "IPv4 or IPv6."},
			})), Optional: true, ForceNew: true, Description: "Network interfaces. Default: a public and a utility IPv4 interface."},
			"user":      {Type: sdk.String, Optional: true, Default: "root", Description: "Login user created with the SSH keys."},
			"ssh_keys":  {Type: sdk.ListOf(sdk.String), Optional: true, Description: "Public keys of the login user, as authorized_keys lines."},
			"user_data": {Type: sdk.String, Optional: true, Description: "cloud-init user data, or a URL to it."},
			"labels":    {Type: sdk.MapOf(sdk.String), Optional: true, Validators: []sdk.Validator{labelKeys}, Description: "Labels of the server."},

			"state":         {Type: sdk.String, Computed: true, Description: "started, stopped, maintenance or error."},
			"ipv4":          {Type: sdk.String, Computed: true, Description: "The first public IPv4 address."},
			"ipv6":          {Type: sdk.String, Computed: true, Description: "The first public IPv6 address."},
			"private_ip":    {Type: sdk.String, Computed: true, Description: "The first address in a private network."},
			"utility_ip":    {Type: sdk.String, Computed: true, Description: "The utility network address."},
			"core_number":   {Type: sdk.Number, Computed: true, Description: "CPU cores."},
			"memory_mb":     {Type: sdk.Number, Computed: true, Description: "Memory in MiB."},
			"storage_ids":   {Type: sdk.ListOf(sdk.String), Computed: true, Description: "UUIDs of the disks, in order."},
			"inputs_sha256": {Type: sdk.String, Computed: true, Description: "Digest of image, user, ssh_keys and user_data (label prov-inputs), which UpCloud does not report back."},
		},
		Create: createServer,
		Read:   readServer,
		Update: updateServer,
		Delete: deleteServer,
		Import: readServer,
		Plan:   planServer,
	}
}

func planServer(_ context.Context, op *sdk.Op, d *sdk.Data) error {
	disks := disksOf(d) // before a replacement makes the disks the provider decided unknown
	if !d.IsNew() {
		var replace []string
		for _, k := range unreported {
			// A prior without the value is a server found after a crash, which is the configured one if
			// its digest says so, or an imported one, which has no digest: its values are adopted.
			if digest := d.Old("inputs_sha256"); d.HasChange(k) && (d.Old(k) != nil || digest != nil && digest != d.Digest(unreported...)) {
				replace = append(replace, k)
			}
		}
		old, _ := d.Old("storage").([]any)
		if cur := d.List("storage"); d.IsKnown("storage") && len(old) != len(cur) {
			replace = append(replace, "storage")
		} else {
			for i := range cur {
				key := fmt.Sprintf("storage[%d].size_gb", i)
				if o, ok := d.Old(key).(float64); ok && d.Float(key) < o {
					replace = append(replace, key)
				}
			}
		}
		if len(replace) > 0 {
			requireReplace(d, replace)
		}
	}
	if slices.ContainsFunc(unreported, func(k string) bool { return !d.IsKnown(k) }) {
		d.SetUnknown("inputs_sha256")
	} else {
		d.Set("inputs_sha256", d.Digest(unreported...))
	}
	if !d.IsKnown("plan") || !d.IsKnown("zone") {
		return nil
	}
	var priced []Disk
	for _, v := range disks {
		m := v.(map[string]any)
		size, _ := m["size_gb"].(float64)
		tier, _ := m["tier"].(string)
		priced = append(priced, Disk{SizeGB: size, Tier: tier})
	}
	cost, ok := ServerMonthlyCost(d.String("zone"), d.String("plan"), priced)
	if !ok {
		op.Warnf("plan", "the price table of %s has no price for plan %s in %s: no cost estimate", prices.AsOf, d.String("plan"), d.String("zone"))
		return nil
	}
	d.SetMonthlyCost(cost)
	return nil
}

// requireReplace asks for a new server because of keys, and, as the SDK does for a replacement it
// plans itself, makes what the provider decides unknown again: the computed values, and the title and
// disks the configuration left to the provider (those equal to the prior ones).
func requireReplace(d *sdk.Data, keys []string) {
	for _, k := range keys {
		d.RequireReplace(k)
	}
	for _, k := range []string{"id", "state", "ipv4", "ipv6", "private_ip", "utility_ip", "core_number", "memory_mb", "storage_ids"} {
		d.SetUnknown(k)
	}
	for _, k := range []string{"title", "storage"} {
		if !d.HasChange(k) {
			d.SetUnknown(k)
		}
	}
}

// disksOf returns the configured disks, or when the configuration sets none (or they are not known
// yet) the one disk of the plan's size that a server gets by default.
func disksOf(d *sdk.Data) []any {
	if l := d.List("storage"); len(l) > 0 && d.IsKnown("storage") {
		return l
	}
	size := prices.PlanStorageGB[d.String("plan")]
	if size == 0 {
		size = 25
	}
	return []any{map[string]any{"size_gb": size, "tier": "maxiops"}}
}

// templateUUID resolves image, a template UUID or title, to the template's UUID.
func templateUUID(ctx context.Context, c *apiClient, image string) (string, error) {
	if uuidRE.MatchString(image) {
		return image, nil
	}
	ts, err := c.svc.GetStorages(ctx, &request.GetStoragesRequest{Access: "public", Type: "template"})
	if err != nil {
		return "", sdk.AttrError("image", apiError("GetStorages", err))
	}
	var titles []string
	for _, t := range ts.Storages {
		if t.Title == image {
			return t.UUID, nil
		}
		titles = append(titles, t.Title)
	}
	slices.Sort(titles)
	return "", sdk.AttrErrorf("image", "no public template is titled %q; have %s", image, strings.Join(titles, ", "))
}

func createServer(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := clientOf(op)
	if err != nil {
		return err
	}
	tmpl, err := templateUUID(ctx, c, d.String("image"))
	if err != nil {
		return err
	}
	labels := upcloud.LabelSlice(labelList(d.StringMap("labels"), op.ID))
	labels = append(labels, upcloud.Label{Key: InputsLabel, Value: d.Digest(unreported...)})
	req := &request.CreateServerRequest{
		Zone: d.String("zone"), Hostname: d.String("hostname"), Title: cmp.Or(d.String("title"), d.String("hostname")), Plan: d.String("plan"),
		Labels: &labels, UserData: d.String("user_data"), Metadata: upcloud.True,
		LoginUser: &request.LoginUser{Username: d.String("user"), CreatePassword: "no"},
	}
	for _, k := range d.List("ssh_keys") {
		req.LoginUser.SSHKeys = append(req.LoginUser.SSHKeys, k.(string))
	}
	for i, v := range disksOf(d) {
		m := v.(map[string]any)
		size, _ := m["size_gb"].(float64)
		tier, _ := m["tier"].(string)
		title, _ := m["name"].(string)
		dev := request.CreateServerStorageDevice{Action: request.CreateServerStorageDeviceActionCreate,
			Size: int(size), Tier: tier, Title: title}
		if dev.Title == "" {
			dev.Title = fmt.Sprintf("%s-disk%d", d.String("hostname"), i)
		}
		if i == 0 {
			dev.Action, dev.Storage = request.CreateServerStorageDeviceActionClone, tmpl
		}
		req.StorageDevices = append(req.StorageDevices, dev)
	}
	ifaces := d.List("network_interfaces")
	if len(ifaces) == 0 {
		ifaces = []any{map[string]any{"type": "public", "family": "IPv4"}, map[string]any{"type": "utility", "family": "IPv4"}}
	}
	req.Networking = &request.CreateServerNetworking{}
	for i, v := range ifaces {
		m, _ := v.(map[string]any)
		str := func(k string) string { s, _ := m[k].(string); return s }
		req.Networking.Interfaces = append(req.Networking.Interfaces, request.CreateServerInterface{
			Index: i + 1, Type: str("type"), Network: str("network"),
			IPAddresses: request.CreateServerIPAddressSlice{{Family: str("family"), Address: str("ip_address")}},
		})
	}

	// A retry of this operation, or a resume after a crash, finds the server the first attempt made.
	sv, err := findByOperation(ctx, c, op.ID)
	if err != nil {
		return err
	}
	if sv == nil {
		op.Progress(-1, "creating %s (%s) in %s", d.String("hostname"), d.String("plan"), d.String("zone"))
		sv, err = c.svc.CreateServer(ctx, req)
		if err != nil {
			return apiError("CreateServer", err)
		}
	}
	d.SetID(sv.UUID)
	op.Progress(-1, "%s is %s", sv.UUID, sv.State)
	sv, err = c.waitServer(ctx, sv.UUID, upcloud.ServerStateStarted)
	if err != nil {
		return err
	}
	fillServer(d, sv)
	return nil
}

// findByOperation returns the details of the server labelled with operation id, nil when there is none.
func findByOperation(ctx context.Context, c *apiClient, id string) (*upcloud.ServerDetails, error) {
	if id == "" {
		return nil, nil
	}
	list, err := c.svc.GetServersWithFilters(ctx, &request.GetServersWithFiltersRequest{
		Filters: []request.QueryFilter{request.FilterLabel{Label: upcloud.Label{Key: OperationLabel, Value: id}}}})
	if err != nil {
		return nil, apiError("GetServers", err)
	}
	if len(list.Servers) == 0 {
		return nil, nil
	}
	sv, err := c.svc.GetServerDetails(ctx, &request.GetServerDetailsRequest{UUID: list.Servers[0].UUID})
	if err != nil {
		return nil, apiError("GetServerDetails", err)
	}
	return sv, nil
}

// waitServer polls the server until it is in state, and fails if it goes into error.
func (c *apiClient) waitServer(ctx context.Context, uuid, state string) (*upcloud.ServerDetails, error) {
	var sv *upcloud.ServerDetails
	err := c.wait(ctx, "server "+uuid+" to be "+state, func(ctx context.Context) (bool, error) {
		var err error
		sv, err = c.svc.GetServerDetails(ctx, &request.GetServerDetailsRequest{UUID: uuid})
		if err != nil {
			return false, apiError("GetServerDetails", err)
		}
		if sv.State == upcloud.ServerStateError {
			return false, fmt.Errorf("server %s is in state error", uuid)
		}
		return sv.State == state, nil
	})
	return sv, err
}

func fillServer(d *sdk.Data, sv *upcloud.ServerDetails) {
	d.SetID(sv.UUID)
	d.Set("hostname", sv.Hostname)
	d.Set("title", sv.Title)
	d.Set("plan", sv.Plan)
	d.Set("zone", sv.Zone)
	d.Set("state", sv.State)
	d.Set("core_number", sv.CoreNumber)
	d.Set("memory_mb", sv.MemoryAmount)
	for _, l := range sv.Labels {
		if l.Key == InputsLabel {
			d.Set("inputs_sha256", l.Value)
		}
	}
	setLabels(d, sv.Labels)
	var ids []any
	old := d.List("storage")
	var disks []any
	for i, dev := range sv.StorageDevices {
		ids = append(ids, dev.UUID)
		disk := map[string]any{"size_gb": dev.Size, "tier": dev.Tier}
		if i < len(old) {
			if m, ok := old[i].(map[string]any); ok {
				for _, k := range []string{"name", "mount"} {
					if v, ok := m[k]; ok {
						disk[k] = v
					}
				}
			}
		}
		disks = append(disks, disk)
	}
	d.Set("storage_ids", ids)
	d.Set("storage", disks)
	for _, k := range []string{"ipv4", "ipv6", "private_ip", "utility_ip"} {
		d.Delete(k)
	}
	for _, in := range sv.Networking.Interfaces {
		for _, ip := range in.IPAddresses {
			var key string
			switch {
			case in.Type == "public" && ip.Family == "IPv4":
				key = "ipv4"
			case in.Type == "public" && ip.Family == "IPv6":
				key = "ipv6"
			case in.Type == "private":
				key = "private_ip"
			case in.Type == "utility":
				key = "utility_ip"
			}
			if key != "" && d.Get(key) == nil {
				d.Set(key, ip.Address)
			}
		}
	}
}

func readServer(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := clientOf(op)
	if err != nil {
		return err
	}
	if d.ID() == "" {
		sv, err := findByOperation(ctx, c, op.ID)
		if err != nil || sv == nil {
			return errors.Join(err, sdk.ErrNotFound)
		}
		if sv.State == upcloud.ServerStateMaintenance {
			// The create was cut short while the server was being made: finish waiting, as it would have.
			if sv, err = c.waitServer(ctx, sv.UUID, upcloud.ServerStateStarted); err != nil {
				return err
			}
		}
		fillServer(d, sv)
		return nil
	}
	sv, err := c.svc.GetServerDetails(ctx, &request.GetServerDetailsRequest{UUID: d.ID()})
	if errorCode(err) == upcloud.ErrCodeServerNotFound {
		return sdk.ErrNotFound
	}
	if err != nil {
		return apiError("GetServerDetails", err)
	}
	fillServer(d, sv)
	return nil
}

func updateServer(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := clientOf(op)
	if err != nil {
		return err
	}
	id := d.ID()
	cur, err := c.svc.GetServerDetails(ctx, &request.GetServerDetailsRequest{UUID: id})
	if err != nil {
		return apiError("GetServerDetails", err)
	}
	var grow []int
	for i := range d.List("storage") {
		if key := fmt.Sprintf("storage[%d].size_gb", i); d.HasChange(key) && i < len(cur.StorageDevices) {
			grow = append(grow, i)
		}
	}
	if d.HasChange("plan") || len(grow) > 0 {
		if err := c.stopServer(ctx, op, cur); err != nil {
			return err
		}
		if d.HasChange("plan") {
			op.Progress(-1, "changing the plan of %s to %s", id, d.String("plan"))
			if _, err := c.svc.ModifyServer(ctx, &request.ModifyServerRequest{UUID: id, Plan: d.String("plan")}); err != nil {
				return sdk.AttrError("plan", apiError("ModifyServer", err))
			}
		}
		for _, i := range grow {
			key := fmt.Sprintf("storage[%d].size_gb", i)
			if _, err := c.svc.ModifyStorage(ctx, &request.ModifyStorageRequest{UUID: cur.StorageDevices[i].UUID, Size: d.Int(key)}); err != nil {
				return sdk.AttrError(key, apiError("ModifyStorage", err))
			}
		}
		op.Progress(-1, "starting %s", id)
		if _, err := c.svc.StartServer(ctx, &request.StartServerRequest{UUID: id}); err != nil {
			return apiError("StartServer", err)
		}
		if _, err := c.waitServer(ctx, id, upcloud.ServerStateStarted); err != nil {
			return err
		}
	}
	if d.HasChange("hostname") || d.HasChange("title") || d.HasChange("labels") || d.HasChange("inputs_sha256") {
		labels := upcloud.LabelSlice(labelList(d.StringMap("labels"), operationOf(cur.Labels)))
		labels = append(labels, upcloud.Label{Key: InputsLabel, Value: d.Digest(unreported...)})
		if _, err := c.svc.ModifyServer(ctx, &request.ModifyServerRequest{UUID: id, Hostname: d.String("hostname"),
			Title: d.String("title"), Labels: &labels}); err != nil {
			return apiError("ModifyServer", err)
		}
	}
	sv, err := c.svc.GetServerDetails(ctx, &request.GetServerDetailsRequest{UUID: id})
	if err != nil {
		return apiError("GetServerDetails", err)
	}
	fillServer(d, sv)
	return nil
}

// stopServer stops the server (waiting out a maintenance first) and waits until it is stopped.
func (c *apiClient) stopServer(ctx context.Context, op *sdk.Op, sv *upcloud.ServerDetails) error {
	if sv.State == upcloud.ServerStateMaintenance {
		var err error
		if sv, err = c.waitServer(ctx, sv.UUID, upcloud.ServerStateStarted); err != nil {
			return err
		}
	}
	if sv.State == upcloud.ServerStateStopped {
		return nil
	}
	op.Progress(-1, "stopping %s", sv.UUID)
	if _, err := c.svc.StopServer(ctx, &request.StopServerRequest{UUID: sv.UUID, StopType: request.ServerStopTypeSoft, Timeout: c.timeout}); err != nil &&
		errorCode(err) != upcloud.ErrCodeServerStateIllegal {
		return apiError("StopServer", err)
	}
	_, err := c.waitServer(ctx, sv.UUID, upcloud.ServerStateStopped)
	return err
}

func deleteServer(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := clientOf(op)
	if err != nil {
		return err
	}
	sv, err := c.svc.GetServerDetails(ctx, &request.GetServerDetailsRequest{UUID: d.ID()})
	if errorCode(err) == upcloud.ErrCodeServerNotFound {
		return nil
	}
	if err != nil {
		return apiError("GetServerDetails", err)
	}
	if err := c.stopServer(ctx, op, sv); err != nil {
		return err
	}
	op.Progress(-1, "deleting %s and its storages", d.ID())
	err = c.svc.DeleteServerAndStorages(ctx, &request.DeleteServerAndStoragesRequest{UUID: d.ID()})
	if err != nil && errorCode(err) != upcloud.ErrCodeServerNotFound {
		return apiError("DeleteServer", err)
	}
	return nil
}
