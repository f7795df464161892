package upcloud_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/UpCloudLtd/upcloud-go-api/v8/upcloud"
	"github.com/UpCloudLtd/upcloud-go-api/v8/upcloud/client"
	"github.com/UpCloudLtd/upcloud-go-api/v8/upcloud/request"
	"github.com/UpCloudLtd/upcloud-go-api/v8/upcloud/service"
	"github.com/google/go-cmp/cmp"

	fake "github.com/provhq/prov/internal/fakecloud/upcloud"
)

func newService(t *testing.T, opts fake.Options, auth client.ConfigFn) (*fake.Server, *service.Service) {
	t.Helper()
	f := fake.Start(opts)
	t.Cleanup(f.Close)
	return f, service.New(client.New("", "", client.WithBaseURL(f.URL()), auth))
}

func code(err error) string {
	var p *upcloud.Problem
	if errors.As(err, &p) {
		return p.ErrorCode()
	}
	return ""
}

func TestServerLifecycle(t *testing.T) {
	ctx := context.Background()
	f, svc := newService(t, fake.Options{Transition: 5 * time.Millisecond}, client.WithBearerAuth("ucat_x"))
	labels := upcloud.LabelSlice{{Key: "role", Value: "web"}}
	created, err := svc.CreateServer(ctx, &request.CreateServerRequest{
		Zone: "fi-hel1", Title: "web", Hostname: "web-01", Plan: "1xCPU-2GB", Labels: &labels,
		LoginUser:      &request.LoginUser{Username: "ops", SSHKeys: request.SSHKeySlice{"ssh-ed25519 AAAA"}},
		StorageDevices: request.CreateServerStorageDeviceSlice{{Action: "clone", Storage: fake.Templates[0].UUID, Size: 50, Tier: "maxiops"}},
		Networking: &request.CreateServerNetworking{Interfaces: request.CreateServerInterfaceSlice{
			{Type: "public", IPAddresses: request.CreateServerIPAddressSlice{{Family: "IPv4"}}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if created.State != "maintenance" || created.CoreNumber != 1 || created.MemoryAmount != 2048 {
		t.Errorf("created = %+v", created.Server)
	}
	time.Sleep(10 * time.Millisecond)
	got, err := svc.GetServerDetails(ctx, &request.GetServerDetailsRequest{UUID: created.UUID})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(labels, got.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	if got.State != "started" || len(got.StorageDevices) != 1 || got.StorageDevices[0].Size != 50 || len(got.Networking.Interfaces) != 1 {
		t.Errorf("server = %+v", got)
	}
	listed, err := svc.GetServersWithFilters(ctx, &request.GetServersWithFiltersRequest{Filters: []request.QueryFilter{request.FilterLabel{Label: labels[0]}}})
	if err != nil || len(listed.Servers) != 1 {
		t.Errorf("filtered list = %v, %v", listed, err)
	}

	err = svc.DeleteServer(ctx, &request.DeleteServerRequest{UUID: created.UUID})
	if code(err) != "SERVER_STATE_ILLEGAL" {
		t.Errorf("delete of a started server: %v", err)
	}
	if _, err := svc.StopServer(ctx, &request.StopServerRequest{UUID: created.UUID}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	if err := svc.DeleteServerAndStorages(ctx, &request.DeleteServerAndStoragesRequest{UUID: created.UUID}); err != nil {
		t.Fatal(err)
	}
	if n := len(f.Storages()); n != 0 {
		t.Errorf("%d storages left after delete with storages", n)
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		auth   client.ConfigFn
		inject *fake.Fault
		call   func(*service.Service) error
		want   string
		status int
	}{
		{"missing server", client.WithBasicAuth("u", "p"), nil, func(s *service.Service) error {
			_, err := s.GetServerDetails(ctx, &request.GetServerDetailsRequest{UUID: "00000000-0000-4000-8000-000000000000"})
			return err
		}, "SERVER_NOT_FOUND", 404},
		{"missing template", client.WithBasicAuth("u", "p"), nil, func(s *service.Service) error {
			_, err := s.CreateServer(ctx, &request.CreateServerRequest{Zone: "fi-hel1", Title: "t", Hostname: "h", Plan: "1xCPU-1GB",
				StorageDevices: request.CreateServerStorageDeviceSlice{{Action: "clone", Storage: "01000000-0000-4000-8000-999999999999"}}})
			return err
		}, "STORAGE_NOT_FOUND", 404},
		{"bad zone", client.WithBasicAuth("u", "p"), nil, func(s *service.Service) error {
			_, err := s.CreateStorage(ctx, &request.CreateStorageRequest{Zone: "xx-nowhere1", Size: 10, Title: "d"})
			return err
		}, "ZONE_INVALID", 400},
		{"wrong password", client.WithBasicAuth("u", "wrong"), nil, func(s *service.Service) error {
			_, err := s.GetZones(ctx)
			return err
		}, "AUTHENTICATION_FAILED", 401},
		{"throttled", client.WithBasicAuth("u", "p"), &fake.Fault{Op: "ListZones", Status: 429}, func(s *service.Service) error {
			_, err := s.GetZones(ctx)
			return err
		}, "TOO_MANY_REQUESTS", 429},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, svc := newService(t, fake.Options{Username: "u", Password: "p"}, tt.auth)
			if tt.inject != nil {
				f.Inject(*tt.inject)
			}
			err := tt.call(svc)
			var p *upcloud.Problem
			if !errors.As(err, &p) {
				t.Fatalf("err = %v, want an UpCloud problem", err)
			}
			if diff := cmp.Diff([]any{tt.want, tt.status}, []any{p.ErrorCode(), p.Status}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestNetworkAndFirewall(t *testing.T) {
	ctx := context.Background()
	_, svc := newService(t, fake.Options{Transition: time.Millisecond}, client.WithBasicAuth("u", "p"))
	n, err := svc.CreateNetwork(ctx, &request.CreateNetworkRequest{Name: "lan", Zone: "fi-hel1",
		IPNetworks: upcloud.IPNetworkSlice{{Address: "10.0.0.0/24", Family: "IPv4", DHCP: upcloud.True}}})
	if err != nil {
		t.Fatal(err)
	}
	sv, err := svc.CreateServer(ctx, &request.CreateServerRequest{Zone: "fi-hel1", Title: "t", Hostname: "h", Plan: "1xCPU-1GB",
		StorageDevices: request.CreateServerStorageDeviceSlice{{Action: "create", Size: 10}},
		Networking: &request.CreateServerNetworking{Interfaces: request.CreateServerInterfaceSlice{
			{Type: "private", Network: n.UUID, IPAddresses: request.CreateServerIPAddressSlice{{Family: "IPv4"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := sv.Networking.Interfaces[0].IPAddresses[0].Address; got != "10.0.0.2" {
		t.Errorf("private address = %q, want 10.0.0.2", got)
	}
	if err := svc.DeleteNetwork(ctx, &request.DeleteNetworkRequest{UUID: n.UUID}); code(err) != "NETWORK_NOT_EMPTY" {
		t.Errorf("delete of a used network: %v", err)
	}
	rules := []upcloud.FirewallRule{{Direction: "in", Action: "accept", Family: "IPv4", Protocol: "tcp", DestinationPortStart: "22", DestinationPortEnd: "22"},
		{Direction: "in", Action: "drop"}}
	if err := svc.CreateFirewallRules(ctx, &request.CreateFirewallRulesRequest{ServerUUID: sv.UUID, FirewallRules: rules}); err != nil {
		t.Fatal(err)
	}
	got, err := svc.GetFirewallRules(ctx, &request.GetFirewallRulesRequest{ServerUUID: sv.UUID})
	if err != nil {
		t.Fatal(err)
	}
	rules[0].Position, rules[1].Position = 1, 2
	if diff := cmp.Diff(rules, got.FirewallRules); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
}
