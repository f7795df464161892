package render

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/plan"
	"github.com/provhq/prov/state"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites the file under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// secret is a sensitive value planted in every fixture; no rendered output may contain it.
const secret = "hunter2-s3cr3t-Pa55"

func path(t testing.TB, s string) value.Path {
	t.Helper()
	p, err := value.ParsePath(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func paths_(t testing.TB, ss ...string) []value.Path {
	out := make([]value.Path, len(ss))
	for i, s := range ss {
		out[i] = path(t, s)
	}
	return out
}

func cost(f float64) *float64 { return &f }

// fixtures are the plans every renderer is tested on.
func fixtures(t testing.TB) map[string]*plan.Plan {
	return map[string]*plan.Plan{
		"every_action": everyAction(t),
		"no_changes":   noChanges(),
		"outputs_only": outputsOnly(),
		"long":         longPlan(600),
	}
}

func basePlan() *plan.Plan {
	return &plan.Plan{
		FormatVersion:  plan.FormatVersion,
		ProvVersion:    "0.1.0-test",
		Lineage:        "5f0c6d1e-lineage",
		Serial:         7,
		DocumentDigest: "sha256:abc",
		Providers: map[string]plan.ProviderConfig{
			"local":   {Source: "builtin/local"},
			"upcloud": {Source: "builtin/upcloud", Config: map[string]any{"password": secret}},
		},
		Changes: map[string]*plan.Change{},
		Outputs: map[string]*plan.OutputChange{},
	}
}

// everyAction has one change per action, with unknowns, sensitive values, nested records and lists.
func everyAction(t testing.TB) *plan.Plan {
	p := basePlan()
	add := func(c *plan.Change) { p.Changes[c.Addr] = c }
	add(&plan.Change{
		Addr: "servers.web-10", Type: "upcloud_server", Provider: "upcloud", Action: plan.Create,
		After: map[string]any{
			"hostname": "web-10", "plan": "2xCPU-4GB", "zone": "fi-hel1",
			"id": value.Unknown, "ipv4": value.Unknown,
			"labels":   map[string]any{"role": "web", "team.name": "platform"},
			"storage":  []any{map[string]any{"size_gb": 50.0, "tier": "maxiops"}},
			"password": secret,
			"empty":    map[string]any{},
			"nothing":  nil,
		},
		AfterSensitive: paths_(t, "password"),
		Config: map[string]any{
			"hostname": "web-10", "plan": "2xCPU-4GB", "zone": "fi-hel1",
			"labels":   map[string]any{"role": "web", "team.name": "platform"},
			"storage":  []any{map[string]any{"size_gb": 50.0}},
			"password": secret,
		},
		MonthlyCost: cost(30),
	})
	add(&plan.Change{
		Addr: "servers.web-2", Type: "upcloud_server", Provider: "upcloud", Action: plan.Update,
		Before: map[string]any{
			"id": "00a1-web-2", "hostname": "web-2", "plan": "1xCPU-2GB", "zone": "fi-hel1",
			"labels":    map[string]any{"role": "web", "tier": "front", "owner": "ops"},
			"storage":   []any{map[string]any{"size_gb": 25.0, "tier": "maxiops"}, map[string]any{"size_gb": 10.0, "tier": "hdd"}},
			"ssh_keys":  []any{"ssh-ed25519 AAAA1", "ssh-ed25519 AAAA2", "ssh-ed25519 AAAA3"},
			"ports":     []any{22.0, 80.0, 443.0},
			"password":  "old-" + secret,
			"ipv4":      "10.0.0.2",
			"backup":    true,
			"user_data": "#cloud-config\npackages:\n  - nginx\nruncmd:\n  - systemctl enable nginx\n",
		},
		After: map[string]any{
			"id": "00a1-web-2", "hostname": "web-2", "plan": "2xCPU-4GB", "zone": "fi-hel1",
			"labels":    map[string]any{"role": "web", "tier": "edge", "env": "prod"},
			"storage":   []any{map[string]any{"size_gb": 50.0, "tier": "maxiops"}, map[string]any{"size_gb": 10.0, "tier": "hdd"}},
			"ssh_keys":  []any{"ssh-ed25519 AAAA1", "ssh-ed25519 AAAA3", "ssh-ed25519 AAAA4"},
			"ports":     []any{22.0, 80.0, 443.0},
			"password":  secret,
			"ipv4":      value.Unknown,
			"backup":    true,
			"user_data": "#cloud-config\npackages:\n  - nginx\n  - certbot\nruncmd:\n  - systemctl enable nginx\n",
		},
		BeforeSensitive: paths_(t, "password"),
		AfterSensitive:  paths_(t, "password"),
		Config: map[string]any{
			"hostname": "web-2", "plan": "2xCPU-4GB", "zone": "fi-hel1",
			"labels":   map[string]any{"role": "web", "tier": "edge", "env": "prod"},
			"ssh_keys": []any{"ssh-ed25519 AAAA1", "ssh-ed25519 AAAA3", "ssh-ed25519 AAAA4"},
			"password": secret,
		},
		DependsOn:   []string{"networks.main"},
		MonthlyCost: cost(30),
	})
	add(&plan.Change{
		Addr: "servers.db", Type: "upcloud_server", Provider: "upcloud", Action: plan.DeleteThenCreate,
		Before: map[string]any{"id": "00b2-db", "hostname": "db", "zone": "fi-hel1", "plan": "2xCPU-4GB",
			"storage": []any{map[string]any{"size_gb": 100.0}}},
		After: map[string]any{"id": value.Unknown, "hostname": "db", "zone": "de-fra1", "plan": "2xCPU-4GB",
			"storage": []any{map[string]any{"size_gb": 100.0}}},
		ReplacePaths:      paths_(t, "zone"),
		Config:            map[string]any{"hostname": "db", "zone": "de-fra1", "plan": "2xCPU-4GB"},
		MonthlyCost:       cost(60),
		BeforeMonthlyCost: cost(45),
	})
	add(&plan.Change{
		Addr: "files.motd", Type: "local_file", Provider: "local", Action: plan.CreateThenDelete,
		Before: map[string]any{"path": "out/motd", "content": "hello from 10.0.0.2", "mode": "0644"},
		After:  map[string]any{"path": "out/motd", "content": value.Unknown, "mode": "0644"},
		Config: map[string]any{"path": "out/motd", "content": "hello from ${servers.web-2.ipv4}",
			"mode": "0644"},
		ReplacePaths: paths_(t, "content"),
		Reason:       "replacement requested with -replace",
		DependsOn:    []string{"servers.web-2"},
	})
	add(&plan.Change{
		Addr: "servers.old", Type: "upcloud_server", Provider: "upcloud", Action: plan.Delete,
		Before: map[string]any{"id": "00c3-old", "hostname": "old", "zone": "fi-hel1",
			"labels": map[string]any{"role": "legacy"}, "password": secret},
		BeforeSensitive:   paths_(t, "password"),
		Reason:            "servers.old is not in the configuration",
		BeforeMonthlyCost: cost(12.5),
	})
	add(&plan.Change{
		Addr: "data.images.ubuntu", Type: "upcloud_image", Provider: "upcloud", Action: plan.Read,
		After:  map[string]any{"name": "ubuntu-24.04", "id": value.Unknown},
		Config: map[string]any{"name": "ubuntu-24.04"},
	})
	add(&plan.Change{
		Addr: "networks.main", Type: "upcloud_network", Provider: "upcloud", Action: plan.NoOp,
		Before: map[string]any{"id": "net-1", "cidr": "10.0.0.0/24"},
		After:  map[string]any{"id": "net-1", "cidr": "10.0.0.0/24"},
		Config: map[string]any{"cidr": "10.0.0.0/24"},
	})
	p.Outputs["web_ip"] = &plan.OutputChange{Name: "web_ip", Action: plan.Create,
		Value: "${servers.web-10.ipv4}"}
	p.Outputs["db_password"] = &plan.OutputChange{Name: "db_password", Action: plan.Update,
		Before: "old-" + secret, After: secret, Value: secret, Sensitive: true}
	p.Outputs["zone"] = &plan.OutputChange{Name: "zone", Action: plan.Update,
		Before: "fi-hel1", After: "de-fra1", Value: "de-fra1"}
	p.Outputs["legacy"] = &plan.OutputChange{Name: "legacy", Action: plan.Delete, Before: "old"}
	p.Outputs["net"] = &plan.OutputChange{Name: "net", Action: plan.NoOp,
		Before: "10.0.0.0/24", After: "10.0.0.0/24", Value: "${networks.main.cidr}"}
	return p
}

func noChanges() *plan.Plan {
	p := basePlan()
	p.Changes["files.motd"] = &plan.Change{Addr: "files.motd", Type: "local_file", Provider: "local",
		Before: map[string]any{"path": "out/motd"}, After: map[string]any{"path": "out/motd"}}
	return p
}

func outputsOnly() *plan.Plan {
	p := noChanges()
	p.Outputs["motd_path"] = &plan.OutputChange{Name: "motd_path", Action: plan.Create,
		After: "out/motd", Value: "${files.motd.path}"}
	return p
}

// longPlan creates n resources with some bulk each, enough to need truncation in Markdown.
func longPlan(n int) *plan.Plan {
	p := basePlan()
	for i := range n {
		addr := fmt.Sprintf("items.item-%d", i)
		action := plan.Create
		var before any
		if i%7 == 0 {
			action = plan.Delete
			before = map[string]any{"input": fmt.Sprintf("value %d", i), "output": "x"}
		}
		var after any
		if action == plan.Create {
			after = map[string]any{"input": fmt.Sprintf("value %d", i), "output": value.Unknown,
				"tags": []any{"bulk", "generated", fmt.Sprintf("n%d", i)}}
		}
		c := &plan.Change{Addr: addr, Type: "local_data", Provider: "local", Action: action,
			Before: before, After: after, MonthlyCost: cost(0.25), BeforeMonthlyCost: cost(0.25)}
		switch action {
		case plan.Create:
			c.BeforeMonthlyCost = nil
		case plan.Delete:
			c.MonthlyCost = nil
		}
		p.Changes[addr] = c
	}
	return p
}

// priorState is the state everyAction was planned against.
func priorState(t testing.TB) *state.State {
	p := everyAction(t)
	s := &state.State{Version: state.FormatVersion, Lineage: p.Lineage, Serial: p.Serial,
		ProvVersion: "0.1.0-test", Resources: map[string]*state.Resource{}, Outputs: map[string]*state.Output{
			"db_password": {Value: "old-" + secret, Sensitive: true},
			"zone":        {Value: "fi-hel1"},
			"legacy":      {Value: "old"},
			"net":         {Value: map[string]any{"cidr": "10.0.0.0/24", "hosts": []any{"a", "b"}}},
		}}
	for addr, ch := range p.Changes {
		if ch.Before == nil {
			continue
		}
		s.Resources[addr] = &state.Resource{Type: ch.Type, Provider: ch.Provider, Attributes: ch.Before,
			Sensitive: ch.BeforeSensitive, Dependencies: ch.DependsOn}
	}
	return s
}
