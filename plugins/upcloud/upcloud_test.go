package upcloud_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	uc "github.com/UpCloudLtd/upcloud-go-api/v8/upcloud"
	"github.com/UpCloudLtd/upcloud-go-api/v8/upcloud/client"
	"github.com/UpCloudLtd/upcloud-go-api/v8/upcloud/request"
	"github.com/UpCloudLtd/upcloud-go-api/v8/upcloud/service"
	"github.com/google/go-cmp/cmp"

	fake "github.com/provhq/prov/internal/fakecloud/upcloud"
	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/plugins/upcloud"
	"github.com/provhq/prov/sdk/plugintest"
)

func start(t *testing.T) (*fake.Server, map[string]any) {
	t.Helper()
	f := fake.Start(fake.Options{Username: "ops", Password: "s3cret", Transition: 5 * time.Millisecond})
	t.Cleanup(f.Close)
	return f, map[string]any{"endpoint": f.URL(), "username": "ops", "password": "s3cret", "poll_interval": "2ms", "retry_max_backoff": "10ms", "timeout": "5s"}
}

// direct is an SDK client of the fake, for changes made outside prov.
func direct(f *fake.Server) *service.Service {
	return service.New(client.New("ops", "s3cret", client.WithBaseURL(f.URL())))
}

func web(extra map[string]any) map[string]any {
	c := map[string]any{"hostname": "web-01", "plan": "1xCPU-2GB", "zone": "fi-hel1",
		"ssh_keys": []any{"ssh-ed25519 AAAAC3Nza test"}, "labels": map[string]any{"role": "web"}}
	for k, v := range extra {
		c[k] = v
	}
	return c
}

func noServers(f *fake.Server) func(map[string]any) error {
	return func(map[string]any) error {
		if ids := f.Servers(); len(ids) > 0 {
			return fmt.Errorf("servers left in the fake: %v", ids)
		}
		if ids := f.Storages(); len(ids) > 0 {
			return fmt.Errorf("storages left in the fake: %v", ids)
		}
		return nil
	}
}

func TestServer(t *testing.T) {
	f, cfg := start(t)
	var first string
	plugintest.Test(t, plugintest.Case{
		Provider: upcloud.New(), ProviderConfig: cfg, Type: "upcloud_server",
		Steps: []plugintest.Step{
			{Config: web(nil), Action: plugintest.Create, Check: func(s map[string]any) error {
				first, _ = s["id"].(string)
				return plugintest.Attrs(plugintest.Attr("state", "started"), plugintest.Attr("title", "web-01"),
					plugintest.Attr("storage[0].size_gb", 50), plugintest.Attr("core_number", 1),
					plugintest.Attr("labels", map[string]any{"role": "web"}),
					func(s map[string]any) error {
						if ip, _ := s["ipv4"].(string); !strings.HasPrefix(ip, "94.237.") {
							return fmt.Errorf("ipv4 = %v", s["ipv4"])
						}
						return nil
					})(s)
			}},
			{Config: web(map[string]any{"hostname": "web-02", "labels": map[string]any{"role": "web", "tier": "front"}}), Action: plugintest.Update,
				Check: plugintest.Attrs(plugintest.Attr("hostname", "web-02"), plugintest.Attr("labels.tier", "front"))},
			{Config: web(map[string]any{"hostname": "web-02", "plan": "2xCPU-4GB", "storage": []any{map[string]any{"size_gb": 80}}}), Action: plugintest.Update,
				Check: func(s map[string]any) error {
					if s["id"] != first {
						return fmt.Errorf("id changed from %s to %v: an update replaced the server", first, s["id"])
					}
					return plugintest.Attrs(plugintest.Attr("core_number", 2), plugintest.Attr("memory_mb", 4096),
						plugintest.Attr("storage[0].size_gb", 80), plugintest.Attr("state", "started"))(s)
				}},
			{Config: web(map[string]any{"hostname": "web-02", "plan": "2xCPU-4GB", "storage": []any{map[string]any{"size_gb": 80}},
				"image": "Debian GNU/Linux 12 (Bookworm)"}), Action: plugintest.Replace,
				Check: func(s map[string]any) error {
					if s["id"] == first {
						return fmt.Errorf("the server was not replaced")
					}
					if n := len(f.Servers()); n != 1 {
						return fmt.Errorf("%d servers in the fake, want 1", n)
					}
					return nil
				}},
		},
		CheckDestroyed: noServers(f),
	})
}

func TestStorage(t *testing.T) {
	f, cfg := start(t)
	var first string
	plugintest.Test(t, plugintest.Case{
		Provider: upcloud.New(), ProviderConfig: cfg, Type: "upcloud_storage",
		Steps: []plugintest.Step{
			{Config: map[string]any{"title": "data", "zone": "de-fra1", "size_gb": 20}, Action: plugintest.Create,
				Check: func(s map[string]any) error {
					first, _ = s["id"].(string)
					return plugintest.Attrs(plugintest.Attr("state", "online"), plugintest.Attr("tier", "maxiops"))(s)
				}},
			{Config: map[string]any{"title": "data2", "zone": "de-fra1", "size_gb": 30, "labels": map[string]any{"k": "v"}}, Action: plugintest.Update,
				Check: func(s map[string]any) error {
					if s["id"] != first {
						return fmt.Errorf("replaced")
					}
					return plugintest.Attrs(plugintest.Attr("size_gb", 30), plugintest.Attr("title", "data2"))(s)
				}},
			{Config: map[string]any{"title": "data2", "zone": "de-fra1", "size_gb": 10, "labels": map[string]any{"k": "v"}}, Action: plugintest.Replace},
			{Config: map[string]any{"title": "data2", "zone": "de-fra1", "size_gb": 10, "tier": "hdd"}, Action: plugintest.Replace},
		},
		CheckDestroyed: noServers(f),
	})
}

func TestNetwork(t *testing.T) {
	f, cfg := start(t)
	plugintest.Test(t, plugintest.Case{
		Provider: upcloud.New(), ProviderConfig: cfg, Type: "upcloud_network",
		Steps: []plugintest.Step{
			{Config: map[string]any{"name": "lan", "zone": "fi-hel1", "ip_network": map[string]any{"address": "10.0.0.0/24"}}, Action: plugintest.Create,
				Check: plugintest.Attr("ip_network.dhcp", true)},
			{Config: map[string]any{"name": "lan2", "zone": "fi-hel1", "ip_network": map[string]any{"address": "10.0.0.0/24", "dhcp_dns": []any{"10.0.0.53"}}},
				Action: plugintest.Update, Check: plugintest.Attr("ip_network.dhcp_dns[0]", "10.0.0.53")},
			{Config: map[string]any{"name": "lan2", "zone": "de-fra1", "ip_network": map[string]any{"address": "10.0.0.0/24"}}, Action: plugintest.Replace},
		},
		CheckDestroyed: func(map[string]any) error {
			ns, err := direct(f).GetNetworks(context.Background())
			if err != nil || len(ns.Networks) > 0 {
				return fmt.Errorf("networks left: %v %v", ns, err)
			}
			return nil
		},
	})
}

func TestFirewallRules(t *testing.T) {
	f, cfg := start(t)
	h := plugintest.New(t, upcloud.New(), cfg)
	sv := h.Apply(h.Plan("upcloud_server", nil, web(nil)))
	if len(sv.Diagnostics) > 0 {
		t.Fatal(sv.Diagnostics)
	}
	id := sv.State["id"].(string)
	ssh := map[string]any{"direction": "in", "action": "accept", "family": "IPv4", "protocol": "tcp", "destination_port_start": 22, "destination_port_end": 22}
	drop := map[string]any{"direction": "in", "action": "drop"}
	plugintest.Test(t, plugintest.Case{
		Provider: upcloud.New(), ProviderConfig: cfg, Type: "upcloud_firewall_rules",
		Steps: []plugintest.Step{
			{Config: map[string]any{"server_id": id, "rules": []any{ssh, drop}}, Action: plugintest.Create,
				Check: plugintest.Attr("rules[0].destination_port_start", 22)},
			{Config: map[string]any{"server_id": id, "rules": []any{drop}}, Action: plugintest.Update},
		},
		CheckDestroyed: func(map[string]any) error {
			rs, err := direct(f).GetFirewallRules(context.Background(), &request.GetFirewallRulesRequest{ServerUUID: id})
			if err != nil || len(rs.FirewallRules) > 0 {
				return fmt.Errorf("rules left: %v %v", rs, err)
			}
			return nil
		},
	})
}

func TestCreateIsIdempotentByLabel(t *testing.T) {
	f, cfg := start(t)
	h := plugintest.New(t, upcloud.New(), cfg)
	p := h.Plan("upcloud_server", nil, web(nil))
	first := h.ApplyOp("op-1", "upcloud_server", nil, p.Planned, web(nil))
	again := h.ApplyOp("op-1", "upcloud_server", nil, p.Planned, web(nil))
	if len(first.Diagnostics)+len(again.Diagnostics) > 0 {
		t.Fatal(first.Diagnostics, again.Diagnostics)
	}
	if diff := cmp.Diff(first.State, again.State); diff != "" {
		t.Errorf("retried create (-first +again):\n%s", diff)
	}
	if n := len(f.Servers()); n != 1 {
		t.Errorf("%d servers after a retried create, want 1", n)
	}

	tests := []struct {
		op     string
		wantID any
	}{{"op-1", first.State["id"]}, {"op-2", nil}}
	for _, tt := range tests {
		t.Run("settle "+tt.op, func(t *testing.T) {
			got, ds := h.Settle("upcloud_server", tt.op)
			if len(ds) > 0 {
				t.Fatal(ds)
			}
			if diff := cmp.Diff(tt.wantID, got["id"]); diff != "" {
				t.Errorf("settled id (-want +got):\n%s", diff)
			}
			if got != nil {
				// Found after a crash, the server is recognised as the configured one: the plan records
				// the inputs UpCloud does not report back instead of replacing it, and then holds.
				p := h.Plan("upcloud_server", got, web(nil))
				if p.Action != plugintest.Update {
					t.Fatalf("plan after settle = %s %v, want update", p.Action, p.RequiresReplace)
				}
				r := h.Apply(p)
				if len(r.Diagnostics) > 0 || r.State["id"] != got["id"] {
					t.Fatalf("apply after settle: id %v, %v", r.State["id"], r.Diagnostics)
				}
				if p := h.Plan("upcloud_server", r.State, web(nil)); p.Action != plugintest.NoOp {
					t.Errorf("plan after adopting = %s, want no-op", p.Action)
				}
			}
		})
	}
}

func TestThrottlingIsRetried(t *testing.T) {
	f, cfg := start(t)
	f.Inject(fake.Fault{Op: "CreateServer", Status: 429, Times: 3})
	h := plugintest.New(t, upcloud.New(), cfg)
	r := h.Apply(h.Plan("upcloud_server", nil, web(nil)))
	if len(r.Diagnostics) > 0 {
		t.Fatal(r.Diagnostics)
	}
	if got := f.Requests("CreateServer"); got != 4 {
		t.Errorf("CreateServer requests = %d, want 4 (3 throttled, 1 served)", got)
	}
}

func TestErrorsCarryUpCloudCodes(t *testing.T) {
	tests := []struct {
		name   string
		config map[string]any
		fault  *fake.Fault
		want   string
	}{
		{"unknown template uuid", web(map[string]any{"image": "01000000-0000-4000-8000-000000000099"}), nil,
			"CreateServer: STORAGE_NOT_FOUND: The storage 01000000-0000-4000-8000-000000000099 does not exist."},
		{"unknown template title", web(map[string]any{"image": "Plan 9"}), nil, `image: no public template is titled "Plan 9"`},
		{"unknown plan", web(map[string]any{"plan": "99xCPU"}), nil, "CreateServer: PLAN_INVALID"},
		{"injected", web(nil), &fake.Fault{Op: "CreateServer", Code: "SERVER_CREATING_LIMIT_REACHED"}, "CreateServer: SERVER_CREATING_LIMIT_REACHED: Injected fault."},
		{"throttled for good", web(nil), &fake.Fault{Op: "CreateServer", Status: 429, Times: 100}, "CreateServer: TOO_MANY_REQUESTS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, cfg := start(t)
			cfg["max_retries"] = 2
			if tt.fault != nil {
				f.Inject(*tt.fault)
			}
			h := plugintest.New(t, upcloud.New(), cfg)
			r := h.Apply(h.Plan("upcloud_server", nil, tt.config))
			if got := strings.Join(r.Diagnostics, "\n"); !strings.Contains(got, tt.want) {
				t.Errorf("diagnostics:\n%s\nwant them to contain %q", got, tt.want)
			}
			if n := len(f.Servers()); n != 0 {
				t.Errorf("%d servers after a failed create", n)
			}
		})
	}
}

func TestDriftAndImport(t *testing.T) {
	f, cfg := start(t)
	h := plugintest.New(t, upcloud.New(), cfg)
	r := h.Apply(h.Plan("upcloud_server", nil, web(nil)))
	if len(r.Diagnostics) > 0 {
		t.Fatal(r.Diagnostics)
	}
	id := r.State["id"].(string)
	// Someone relabels the server and renames it in the console.
	labels := uc.LabelSlice{{Key: "role", Value: "db"}, {Key: upcloud.OperationLabel, Value: "x"}}
	if _, err := direct(f).ModifyServer(context.Background(), &request.ModifyServerRequest{UUID: id, Title: "renamed", Labels: &labels}); err != nil {
		t.Fatal(err)
	}
	got, ds := h.Read("upcloud_server", r.State)
	if len(ds) > 0 {
		t.Fatal(ds)
	}
	if diff := cmp.Diff([]any{"renamed", map[string]any{"role": "db"}}, []any{got["title"], got["labels"]}); diff != "" {
		t.Errorf("drift not read (-want +got):\n%s", diff)
	}
	p := h.Plan("upcloud_server", got, web(nil))
	if p.Action != plugintest.Update {
		t.Fatalf("plan after drift = %s, want update", p.Action)
	}
	fixed := h.Apply(p)
	if len(fixed.Diagnostics) > 0 {
		t.Fatal(fixed.Diagnostics)
	}
	if again, _ := h.Read("upcloud_server", fixed.State); !cmp.Equal(again["labels"], map[string]any{"role": "web"}) {
		t.Errorf("after the fix: labels %v", again["labels"])
	}

	imported, ds := h.Import("upcloud_server", id)
	if len(ds) > 0 {
		t.Fatal(ds)
	}
	want := map[string]any{"id": id, "hostname": "web-01", "plan": "1xCPU-2GB", "zone": "fi-hel1", "labels": map[string]any{"role": "web"}}
	for k, v := range want {
		if diff := cmp.Diff(v, imported[k]); diff != "" {
			t.Errorf("imported %s (-want +got):\n%s", k, diff)
		}
	}
	// An imported server has no digest of the inputs UpCloud does not report: they are adopted.
	if p := h.Plan("upcloud_server", imported, web(nil)); p.Action == plugintest.Replace {
		t.Errorf("plan after import replaces the server: %v", p.RequiresReplace)
	}
	// One that has a digest is replaced when they change.
	if p := h.Plan("upcloud_server", fixed.State, web(map[string]any{"ssh_keys": []any{"ssh-ed25519 AAAAother"}})); p.Action != plugintest.Replace {
		t.Errorf("plan with new ssh_keys = %s, want replace", p.Action)
	}
	if gone, _ := h.Read("upcloud_server", map[string]any{"id": "00000000-0000-4000-8000-000000000000"}); gone != nil {
		t.Errorf("read of a missing server = %v, want nil", gone)
	}
}

func TestMonthlyCost(t *testing.T) {
	_, cfg := start(t)
	h := plugintest.New(t, upcloud.New(), cfg)
	tests := []struct {
		typ    string
		config map[string]any
		want   *float64
	}{
		{"upcloud_server", web(nil), ptr(13)},
		{"upcloud_server", web(map[string]any{"storage": []any{map[string]any{"size_gb": 60}, map[string]any{"size_gb": 100, "tier": "hdd"}}}), ptr(13 + 10*0.22 + 100*0.056)},
		{"upcloud_server", web(map[string]any{"zone": "xx-nowhere1"}), nil},
		{"upcloud_storage", map[string]any{"title": "d", "zone": "fi-hel1", "size_gb": 100, "tier": "standard"}, ptr(6)},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			resp, err := h.Client().Plan(context.Background(), plugins.PlanRequest{Type: tt.typ, Config: tt.config})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, resp.MonthlyCost, cmpFloat); diff != "" {
				t.Errorf("cost (-want +got):\n%s", diff)
			}
		})
	}
}

var cmpFloat = cmp.Comparer(func(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 })

func ptr(f float64) *float64 { return &f }

// TestPriceTableCoversTheCatalogue: every plan of every zone the fake (UpCloud's catalogue as of the
// table's date) offers has a price, the same the fake's /price serves.
func TestPriceTableCoversTheCatalogue(t *testing.T) {
	for _, z := range fake.Zones {
		for _, p := range fake.Plans {
			t.Run(z.ID+"/"+p.Name, func(t *testing.T) {
				got, ok := upcloud.ServerMonthlyCost(z.ID, p.Name, []upcloud.Disk{{SizeGB: float64(p.StorageGB), Tier: p.StorageTier}})
				if !ok {
					t.Fatal("no price")
				}
				if diff := cmp.Diff(p.MonthlyPrice, got, cmpFloat); diff != "" {
					t.Errorf("(-fake +table):\n%s", diff)
				}
			})
		}
	}
}

// TestRefreshPrices: a table refreshed from the fake's /price and /plan has the embedded table's prices.
func TestRefreshPrices(t *testing.T) {
	f, _ := start(t)
	data, err := upcloud.RefreshPrices(context.Background(), direct(f), "2026-11-01")
	if err != nil {
		t.Fatal(err)
	}
	embedded, err := os.ReadFile("prices.json")
	if err != nil {
		t.Fatal(err)
	}
	var got, want map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(embedded, &want); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"as_of", "currency", "plans", "plan_storage_gb", "storage_gb_month"} {
		if diff := cmp.Diff(want[k], got[k]); diff != "" {
			t.Errorf("%s (-embedded +refreshed):\n%s", k, diff)
		}
	}
}
