package render

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// tfPlan holds the fields that consumers of Terraform's plan JSON read (policy engines, cost
// estimators, PR bots): the test decodes prov's JSON into it exactly as they would.
type tfPlan struct {
	FormatVersion   string `json:"format_version"`
	ResourceChanges []struct {
		Address      string `json:"address"`
		Mode         string `json:"mode"`
		Type         string `json:"type"`
		Name         string `json:"name"`
		ProviderName string `json:"provider_name"`
		Change       struct {
			Actions         []string `json:"actions"`
			Before          any      `json:"before"`
			After           any      `json:"after"`
			AfterUnknown    any      `json:"after_unknown"`
			BeforeSensitive any      `json:"before_sensitive"`
			AfterSensitive  any      `json:"after_sensitive"`
			ReplacePaths    [][]any  `json:"replace_paths"`
		} `json:"change"`
	} `json:"resource_changes"`
	PlannedValues struct {
		RootModule struct {
			Resources []struct {
				Address         string         `json:"address"`
				Values          map[string]any `json:"values"`
				SensitiveValues map[string]any `json:"sensitive_values"`
			} `json:"resources"`
		} `json:"root_module"`
	} `json:"planned_values"`
	OutputChanges map[string]struct {
		Actions        []string `json:"actions"`
		After          any      `json:"after"`
		AfterUnknown   bool     `json:"after_unknown"`
		AfterSensitive bool     `json:"after_sensitive"`
	} `json:"output_changes"`
}

// TestJSONConsumerFields checks, for each action, the fields Terraform plan JSON consumers read.
func TestJSONConsumerFields(t *testing.T) {
	b, err := JSON(secretPlan(t), priorState(t))
	if err != nil {
		t.Fatal(err)
	}
	var got tfPlan
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.FormatVersion != "1.2" {
		t.Errorf("format_version = %q, want 1.2", got.FormatVersion)
	}
	type want struct {
		mode, name, provider string
		actions              []string
		beforeNull           bool
		afterNull            bool
		// unknown and sensitive are the top-level attributes marked in after_unknown / after_sensitive.
		unknown, sensitive, beforeSensitive []string
		// redacted are top-level attributes whose after value must be null.
		redacted []string
		replace  [][]any
	}
	tests := map[string]want{
		"servers.web-10": {mode: "managed", name: "web-10", provider: "builtin/upcloud", actions: []string{"create"},
			beforeNull: true, unknown: []string{"id", "ipv4"}, sensitive: []string{"password"}, redacted: []string{"password"}},
		"servers.web-2": {mode: "managed", name: "web-2", provider: "builtin/upcloud", actions: []string{"update"},
			unknown: []string{"ipv4"}, sensitive: []string{"password"}, beforeSensitive: []string{"password"},
			redacted: []string{"password"}},
		"servers.db": {mode: "managed", name: "db", provider: "builtin/upcloud", actions: []string{"delete", "create"},
			unknown: []string{"id"}, replace: [][]any{{"zone"}}},
		"files.motd": {mode: "managed", name: "motd", provider: "builtin/local", actions: []string{"create", "delete"},
			unknown: []string{"content"}, replace: [][]any{{"content"}}},
		"servers.old": {mode: "managed", name: "old", provider: "builtin/upcloud", actions: []string{"delete"},
			afterNull: true, beforeSensitive: []string{"password"}},
		"data.images.ubuntu": {mode: "data", name: "ubuntu", provider: "builtin/upcloud", actions: []string{"read"},
			beforeNull: true, unknown: []string{"id"}},
		"networks.main": {mode: "managed", name: "main", provider: "builtin/upcloud", actions: []string{"no-op"}},
		"secrets.app": {mode: "managed", name: "app", provider: "builtin/local", actions: []string{"update"},
			sensitive: []string{"blob", "token"}, beforeSensitive: []string{"blob"}, redacted: []string{"blob"}},
	}
	seen := map[string]bool{}
	for _, rc := range got.ResourceChanges {
		w, ok := tests[rc.Address]
		if !ok {
			continue
		}
		seen[rc.Address] = true
		t.Run(rc.Address, func(t *testing.T) {
			c := rc.Change
			if diff := cmp.Diff(w.actions, c.Actions); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{w.mode, w.name, w.provider}, []string{rc.Mode, rc.Name, rc.ProviderName}); diff != "" {
				t.Errorf("mode, name, provider_name (-want +got):\n%s", diff)
			}
			if (c.Before == nil) != w.beforeNull || (c.After == nil) != w.afterNull {
				t.Errorf("before null = %v, after null = %v; want %v, %v", c.Before == nil, c.After == nil, w.beforeNull, w.afterNull)
			}
			if diff := cmp.Diff(w.unknown, trueKeys(c.AfterUnknown)); diff != "" {
				t.Errorf("after_unknown (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(w.sensitive, trueKeys(c.AfterSensitive)); diff != "" {
				t.Errorf("after_sensitive (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(w.beforeSensitive, trueKeys(c.BeforeSensitive)); diff != "" {
				t.Errorf("before_sensitive (-want +got):\n%s", diff)
			}
			after, _ := c.After.(map[string]any)
			for _, k := range w.redacted {
				if v, present := after[k]; !present || v != nil {
					t.Errorf("after.%s = %v (present %v), want a redacted null", k, v, present)
				}
			}
			for _, k := range w.unknown {
				if _, present := after[k]; present {
					t.Errorf("after has unknown attribute %s; Terraform leaves unknowns out of after", k)
				}
			}
			if diff := cmp.Diff(w.replace, c.ReplacePaths, cmp.Transformer("num", func(f float64) int { return int(f) })); diff != "" {
				t.Errorf("replace_paths (-want +got):\n%s", diff)
			}
		})
	}
	for addr := range tests {
		if !seen[addr] {
			t.Errorf("resource_changes lacks %s", addr)
		}
	}
	for _, r := range got.PlannedValues.RootModule.Resources {
		if r.Address == "servers.old" {
			t.Error("planned_values lists the deleted servers.old")
		}
	}
	oc := got.OutputChanges["web_ip"]
	if diff := cmp.Diff([]any{[]string{"create"}, nil, true}, []any{oc.Actions, oc.After, oc.AfterUnknown}); diff != "" {
		t.Errorf("output_changes.web_ip (-want +got):\n%s", diff)
	}
	if tok := got.OutputChanges["token"]; tok.After != nil || !tok.AfterSensitive {
		t.Errorf("output_changes.token = %+v, want after null and after_sensitive true", tok)
	}
}

// trueKeys returns the top-level keys of a mask that are exactly true, sorted (nil when none).
func trueKeys(mask any) []string {
	m, _ := mask.(map[string]any)
	var keys []string
	for k, v := range m {
		if v == true {
			keys = append(keys, k)
		}
	}
	if keys == nil {
		return nil
	}
	slices.Sort(keys)
	return keys
}
