package upcloud

import (
	"context"
	"errors"

	"github.com/UpCloudLtd/upcloud-go-api/v8/upcloud"
	"github.com/UpCloudLtd/upcloud-go-api/v8/upcloud/request"

	"github.com/provhq/prov/sdk"
)

func networkResource() *sdk.Resource {
	return &sdk.Resource{
		Description: "An UpCloud private (SDN) network. Name, labels and the IP network change in place; the zone " +
			"replaces it.",
		Attributes: map[string]*sdk.Attribute{
			"name": {Type: sdk.String, Required: true, Description: "Name of the network."},
			"zone": {Type: sdk.String, Required: true, ForceNew: true, Description: "Zone, e.g. fi-hel1."},
			"ip_network": {Type: sdk.Object(map[string]*sdk.Attribute{
				"address":            {Type: sdk.String, Required: true, Description: "CIDR of the network, e.g. 10.0.0.0/24."},
				"family":             {Type: sdk.String, Optional: true, Default: "IPv4", Validators: []sdk.Validator{sdk.OneOf("IPv4", "IPv6")}, Description: "IPv4 or IPv6."},
				"gateway":            {Type: sdk.String, Optional: true, Description: "Gateway address handed out by DHCP."},
				"dhcp":               {Type: sdk.Bool, Optional: true, Default: true, Description: "Whether DHCP is on."},
				"dhcp_default_route": {Type: sdk.Bool, Optional: true, Default: false, Description: "Whether DHCP hands out a default route."},
				"dhcp_dns":           {Type: sdk.ListOf(sdk.String), Optional: true, Description: "DNS servers handed out by DHCP."},
			}), Required: true, Description: "The network's address range and DHCP settings."},
			"labels": {Type: sdk.MapOf(sdk.String), Optional: true, Validators: []sdk.Validator{labelKeys}, Description: "Labels of the network."},
		},
		Create: createNetwork,
		Read:   readNetwork,
		Update: updateNetwork,
		Delete: deleteNetwork,
		Import: readNetwork,
	}
}

func ipNetworks(d *sdk.Data) upcloud.IPNetworkSlice {
	n := upcloud.IPNetwork{Address: d.String("ip_network.address"), Family: d.String("ip_network.family"),
		Gateway: d.String("ip_network.gateway"), DHCP: upcloud.FromBool(d.Bool("ip_network.dhcp")),
		DHCPDefaultRoute: upcloud.FromBool(d.Bool("ip_network.dhcp_default_route"))}
	for _, s := range d.List("ip_network.dhcp_dns") {
		n.DHCPDns = append(n.DHCPDns, s.(string))
	}
	return upcloud.IPNetworkSlice{n}
}

func fillNetwork(d *sdk.Data, n *upcloud.Network) {
	d.SetID(n.UUID)
	d.Set("name", n.Name)
	d.Set("zone", n.Zone)
	setLabels(d, n.Labels)
	if len(n.IPNetworks) > 0 {
		ipn := n.IPNetworks[0]
		m := map[string]any{"address": ipn.Address, "family": ipn.Family, "dhcp": ipn.DHCP.Bool(),
			"dhcp_default_route": ipn.DHCPDefaultRoute.Bool()}
		if ipn.Gateway != "" {
			m["gateway"] = ipn.Gateway
		}
		if len(ipn.DHCPDns) > 0 {
			m["dhcp_dns"] = ipn.DHCPDns
		}
		d.Set("ip_network", m)
	}
}

func createNetwork(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := clientOf(op)
	if err != nil {
		return err
	}
	n, err := findNetwork(ctx, c, op.ID)
	if err != nil {
		return err
	}
	if n == nil {
		op.Progress(-1, "creating network %s (%s) in %s", d.String("name"), d.String("ip_network.address"), d.String("zone"))
		n, err = c.svc.CreateNetwork(ctx, &request.CreateNetworkRequest{Name: d.String("name"), Zone: d.String("zone"),
			IPNetworks: ipNetworks(d), Labels: labelList(d.StringMap("labels"), op.ID)})
		if err != nil {
			return apiError("CreateNetwork", err)
		}
	}
	fillNetwork(d, n)
	return nil
}

// findNetwork returns the network labelled with operation id, nil when there is none.
func findNetwork(ctx context.Context, c *apiClient, id string) (*upcloud.Network, error) {
	if id == "" {
		return nil, nil
	}
	list, err := c.svc.GetNetworks(ctx, request.FilterLabel{Label: upcloud.Label{Key: OperationLabel, Value: id}})
	if err != nil {
		return nil, apiError("GetNetworks", err)
	}
	if len(list.Networks) == 0 {
		return nil, nil
	}
	return &list.Networks[0], nil
}

func readNetwork(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := clientOf(op)
	if err != nil {
		return err
	}
	if d.ID() == "" {
		n, err := findNetwork(ctx, c, op.ID)
		if err != nil || n == nil {
			return errors.Join(err, sdk.ErrNotFound)
		}
		fillNetwork(d, n)
		return nil
	}
	n, err := c.svc.GetNetworkDetails(ctx, &request.GetNetworkDetailsRequest{UUID: d.ID()})
	if errorCode(err) == upcloud.ErrCodeNetworkNotFound {
		return sdk.ErrNotFound
	}
	if err != nil {
		return apiError("GetNetworkDetails", err)
	}
	fillNetwork(d, n)
	return nil
}

func updateNetwork(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := clientOf(op)
	if err != nil {
		return err
	}
	cur, err := c.svc.GetNetworkDetails(ctx, &request.GetNetworkDetailsRequest{UUID: d.ID()})
	if err != nil {
		return apiError("GetNetworkDetails", err)
	}
	labels := labelList(d.StringMap("labels"), operationOf(cur.Labels))
	n, err := c.svc.ModifyNetwork(ctx, &request.ModifyNetworkRequest{UUID: d.ID(), Name: d.String("name"),
		IPNetworks: ipNetworks(d), Labels: &labels})
	if err != nil {
		return apiError("ModifyNetwork", err)
	}
	fillNetwork(d, n)
	return nil
}

func deleteNetwork(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := clientOf(op)
	if err != nil {
		return err
	}
	err = c.svc.DeleteNetwork(ctx, &request.DeleteNetworkRequest{UUID: d.ID()})
	if err != nil && errorCode(err) != upcloud.ErrCodeNetworkNotFound {
		return apiError("DeleteNetwork", err)
	}
	return nil
}
