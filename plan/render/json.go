package render

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/plan"
	"github.com/provhq/prov/state"
)

// Versions of the JSON formats, following Terraform's numbering for the same shapes. A minor version
// adds fields; a major version would remove or change one (see docs/json-formats.md).
const (
	// PlanJSONVersion is the format_version of JSON's output.
	PlanJSONVersion = "1.2"
	// StateJSONVersion is the format_version of StateJSON's output and of a plan's prior_state.
	StateJSONVersion = "1.0"
)

type jsonPlan struct {
	FormatVersion   string                      `json:"format_version"`
	ProvVersion     string                      `json:"prov_version,omitempty"`
	PlannedValues   jsonValues                  `json:"planned_values"`
	ResourceChanges []jsonResourceChange        `json:"resource_changes"`
	OutputChanges   map[string]jsonOutputChange `json:"output_changes,omitempty"`
	PriorState      *jsonState                  `json:"prior_state,omitempty"`
	Configuration   jsonConfig                  `json:"configuration"`
	Applyable       bool                        `json:"applyable"`
	Errored         bool                        `json:"errored"`
}

type jsonValues struct {
	Outputs    map[string]jsonOutput `json:"outputs,omitempty"`
	RootModule jsonModule            `json:"root_module"`
}

type jsonOutput struct {
	Sensitive bool `json:"sensitive"`
	Value     any  `json:"value,omitempty"`
}

type jsonModule struct {
	Resources []jsonResource `json:"resources,omitempty"`
}

type jsonResource struct {
	Address         string   `json:"address"`
	Mode            string   `json:"mode"`
	Type            string   `json:"type"`
	Name            string   `json:"name"`
	ProviderName    string   `json:"provider_name"`
	SchemaVersion   int      `json:"schema_version"`
	Values          any      `json:"values"`
	SensitiveValues any      `json:"sensitive_values"`
	DependsOn       []string `json:"depends_on,omitempty"`
}

type jsonResourceChange struct {
	Address      string     `json:"address"`
	Mode         string     `json:"mode"`
	Type         string     `json:"type"`
	Name         string     `json:"name"`
	ProviderName string     `json:"provider_name"`
	Change       jsonChange `json:"change"`
	ActionReason string     `json:"action_reason,omitempty"`
	// Reason is prov's own explanation, when the planner gave one.
	Reason      string   `json:"reason,omitempty"`
	MonthlyCost *float64 `json:"monthly_cost,omitempty"`
	BeforeCost  *float64 `json:"before_monthly_cost,omitempty"`
}

type jsonChange struct {
	Actions         []string `json:"actions"`
	Before          any      `json:"before"`
	After           any      `json:"after"`
	AfterUnknown    any      `json:"after_unknown"`
	BeforeSensitive any      `json:"before_sensitive"`
	AfterSensitive  any      `json:"after_sensitive"`
	ReplacePaths    [][]any  `json:"replace_paths,omitempty"`
}

type jsonOutputChange struct {
	Actions         []string `json:"actions"`
	Before          any      `json:"before"`
	After           any      `json:"after"`
	AfterUnknown    any      `json:"after_unknown"`
	BeforeSensitive bool     `json:"before_sensitive"`
	AfterSensitive  bool     `json:"after_sensitive"`
}

type jsonState struct {
	FormatVersion string     `json:"format_version"`
	ProvVersion   string     `json:"prov_version,omitempty"`
	Lineage       string     `json:"lineage,omitempty"`
	Serial        uint64     `json:"serial"`
	Values        jsonValues `json:"values"`
}

type jsonConfig struct {
	ProviderConfig map[string]jsonProviderConfig `json:"provider_config,omitempty"`
	RootModule     jsonConfigModule              `json:"root_module"`
}

type jsonProviderConfig struct {
	Name              string `json:"name"`
	FullName          string `json:"full_name,omitempty"`
	VersionConstraint string `json:"version_constraint,omitempty"`
}

type jsonConfigModule struct {
	Outputs   map[string]jsonConfigOutput `json:"outputs,omitempty"`
	Resources []jsonConfigResource        `json:"resources,omitempty"`
}

type jsonConfigOutput struct {
	Sensitive  bool           `json:"sensitive,omitempty"`
	Expression jsonExpression `json:"expression"`
}

type jsonConfigResource struct {
	Address           string                    `json:"address"`
	Mode              string                    `json:"mode"`
	Type              string                    `json:"type"`
	Name              string                    `json:"name"`
	ProviderConfigKey string                    `json:"provider_config_key"`
	Expressions       map[string]jsonExpression `json:"expressions,omitempty"`
	DependsOn         []string                  `json:"depends_on,omitempty"`
}

// jsonExpression is Terraform's expression representation: the value when it is a constant, else
// the references it makes.
type jsonExpression struct {
	ConstantValue any      `json:"constant_value,omitempty"`
	References    []string `json:"references,omitempty"`
}

// JSON renders p in the shape of `terraform show -json` for a plan, so tools and policies written for
// Terraform's plan JSON read it unchanged. prior is the state the plan was made against (nil to leave
// prior_state out).
//
// Unlike Terraform, sensitive values are not written at all: each is replaced by null and flagged true
// in the matching before_sensitive / after_sensitive / sensitive_values mask.
func JSON(p *plan.Plan, prior *state.State) ([]byte, error) {
	out := jsonPlan{
		FormatVersion:   PlanJSONVersion,
		ProvVersion:     p.ProvVersion,
		ResourceChanges: []jsonResourceChange{},
		Applyable:       p.HasChanges(),
	}
	sources := providerSources(p)
	addrs := map[string]bool{}
	for addr := range p.Changes {
		addrs[addr] = true
	}
	for _, ch := range sortedChanges(p, true) {
		mode := modeOf(ch.Action)
		out.ResourceChanges = append(out.ResourceChanges, jsonResourceChange{
			Address:      ch.Addr,
			Mode:         mode,
			Type:         ch.Type,
			Name:         name(ch.Addr),
			ProviderName: sources(ch.Provider),
			Change: jsonChange{
				Actions:         actions(ch.Action),
				Before:          clean(nil, ch.Before, ch.BeforeSensitive),
				After:           clean(nil, ch.After, ch.AfterSensitive),
				AfterUnknown:    mirror(nil, ch.After, unknownAt(ch.AfterSensitive)),
				BeforeSensitive: mirror(nil, ch.Before, paths(ch.BeforeSensitive).at),
				AfterSensitive:  mirror(nil, ch.After, paths(ch.AfterSensitive).at),
				ReplacePaths:    replacePaths(ch.ReplacePaths),
			},
			ActionReason: actionReason(ch, p.Destroy),
			Reason:       ch.Reason,
			MonthlyCost:  ch.MonthlyCost,
			BeforeCost:   ch.BeforeMonthlyCost,
		})
		if ch.Action == plan.Delete || ch.After == nil {
			continue
		}
		out.PlannedValues.RootModule.Resources = append(out.PlannedValues.RootModule.Resources, jsonResource{
			Address:         ch.Addr,
			Mode:            mode,
			Type:            ch.Type,
			Name:            name(ch.Addr),
			ProviderName:    sources(ch.Provider),
			Values:          clean(nil, ch.After, ch.AfterSensitive),
			SensitiveValues: mirror(nil, ch.After, paths(ch.AfterSensitive).at),
			DependsOn:       ch.DependsOn,
		})
		if ch.Config != nil {
			out.Configuration.RootModule.Resources = append(out.Configuration.RootModule.Resources,
				configResource(ch, addrs))
		}
	}
	for _, n := range slices.Sorted(maps.Keys(p.Outputs)) {
		oc := p.Outputs[n]
		after := outputAfter(oc)
		if out.OutputChanges == nil {
			out.OutputChanges = map[string]jsonOutputChange{}
		}
		out.OutputChanges[n] = jsonOutputChange{
			Actions:         actions(oc.Action),
			Before:          cleanOutput(oc.Before, oc.Sensitive),
			After:           cleanOutput(after, oc.Sensitive),
			AfterUnknown:    mirror(nil, after, unknownAt(wholeIf(oc.Sensitive))),
			BeforeSensitive: oc.Sensitive && oc.Before != nil,
			AfterSensitive:  oc.Sensitive && after != nil,
		}
		if oc.Action != plan.Delete {
			if out.PlannedValues.Outputs == nil {
				out.PlannedValues.Outputs = map[string]jsonOutput{}
			}
			out.PlannedValues.Outputs[n] = jsonOutput{Sensitive: oc.Sensitive, Value: cleanOutput(after, oc.Sensitive)}
			if out.Configuration.RootModule.Outputs == nil {
				out.Configuration.RootModule.Outputs = map[string]jsonConfigOutput{}
			}
			sens := wholeIf(oc.Sensitive)
			out.Configuration.RootModule.Outputs[n] = jsonConfigOutput{Sensitive: oc.Sensitive,
				Expression: expression(oc.Value, nil, sens, addrs)}
		}
	}
	for _, n := range slices.Sorted(maps.Keys(p.Providers)) {
		pc := p.Providers[n]
		if out.Configuration.ProviderConfig == nil {
			out.Configuration.ProviderConfig = map[string]jsonProviderConfig{}
		}
		// The provider's own configuration is left out: it is where credentials live.
		out.Configuration.ProviderConfig[n] = jsonProviderConfig{Name: n, FullName: pc.Source,
			VersionConstraint: pc.Version}
	}
	if prior != nil {
		st := stateValues(prior, sources)
		out.PriorState = &st
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("render: plan JSON: %w", err)
	}
	return b, nil
}

// StateJSON renders s in the shape of `terraform show -json` for a state, sensitive values redacted as
// in JSON.
func StateJSON(s *state.State) ([]byte, error) {
	if s == nil {
		s = &state.State{}
	}
	st := stateValues(s, func(name string) string { return name })
	b, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("render: state JSON: %w", err)
	}
	return b, nil
}

func stateValues(s *state.State, sources func(string) string) jsonState {
	st := jsonState{FormatVersion: StateJSONVersion, ProvVersion: s.ProvVersion, Lineage: s.Lineage,
		Serial: s.Serial}
	for _, addr := range slices.SortedFunc(maps.Keys(s.Resources), compareAddr) {
		r := s.Resources[addr]
		st.Values.RootModule.Resources = append(st.Values.RootModule.Resources, jsonResource{
			Address:         addr,
			Mode:            "managed",
			Type:            r.Type,
			Name:            name(addr),
			ProviderName:    sources(r.Provider),
			Values:          clean(nil, r.Attributes, r.Sensitive),
			SensitiveValues: mirror(nil, r.Attributes, paths(r.Sensitive).at),
			DependsOn:       r.Dependencies,
		})
	}
	for _, n := range slices.Sorted(maps.Keys(s.Outputs)) {
		o := s.Outputs[n]
		if st.Values.Outputs == nil {
			st.Values.Outputs = map[string]jsonOutput{}
		}
		st.Values.Outputs[n] = jsonOutput{Sensitive: o.Sensitive, Value: cleanOutput(o.Value, o.Sensitive)}
	}
	return st
}

// providerSources returns a function mapping a provider name to its source address, Terraform's
// provider_name.
func providerSources(p *plan.Plan) func(string) string {
	return func(name string) string {
		if pc, ok := p.Providers[name]; ok && pc.Source != "" {
			return pc.Source
		}
		return name
	}
}

func modeOf(a plan.Action) string {
	if a == plan.Read {
		return "data"
	}
	return "managed"
}

// actions is Terraform's action list for a.
func actions(a plan.Action) []string {
	switch a {
	case plan.Create:
		return []string{"create"}
	case plan.Update:
		return []string{"update"}
	case plan.Delete:
		return []string{"delete"}
	case plan.Read:
		return []string{"read"}
	case plan.DeleteThenCreate:
		return []string{"delete", "create"}
	case plan.CreateThenDelete:
		return []string{"create", "delete"}
	}
	return []string{"no-op"}
}

// actionReason is Terraform's action_reason, where prov knows it.
func actionReason(ch *plan.Change, destroy bool) string {
	switch {
	case ch.Action.IsReplace() && strings.Contains(ch.Reason, "-replace"):
		return "replace_by_request"
	case ch.Action.IsReplace():
		return "replace_because_cannot_update"
	case ch.Action == plan.Delete && !destroy:
		return "delete_because_no_resource_config"
	}
	return ""
}

// at reports whether p is sensitive; it matches mirror's predicate.
func (ps paths) at(p value.Path, _ any) bool { return ps.covers(p) }

// unknownAt returns mirror's predicate for after_unknown. A sensitive position is never reported
// unknown: a saved plan stores secrets as unknown so that it holds none, and whether a secret is known
// yet is not the reader's business either way.
func unknownAt(sens paths) func(value.Path, any) bool {
	return func(p value.Path, v any) bool { return value.IsUnknown(v) && !sens.covers(p) }
}

// wholeIf returns the paths covering a whole value when sensitive is set.
func wholeIf(sensitive bool) paths {
	if sensitive {
		return paths{nil}
	}
	return nil
}

// mirror builds Terraform's mask of v: true where marked, records holding only the keys that have
// something marked inside, lists with one entry per element, false elsewhere.
func mirror(p value.Path, v any, marked func(value.Path, any) bool) any {
	if marked(p, v) {
		return true
	}
	switch c := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range c {
			m := mirror(p.Key(k), e, marked)
			if m == false {
				continue
			}
			if mm, ok := m.(map[string]any); ok && len(mm) == 0 {
				continue
			}
			out[k] = m
		}
		return out
	case []any:
		out := make([]any, len(c))
		for i, e := range c {
			out[i] = mirror(p.Index(i), e, marked)
		}
		return out
	}
	return false
}

// clean returns v fit for JSON output: sensitive positions replaced by null, unknown record entries
// left out and unknown list elements null, as Terraform writes planned values.
func clean(p value.Path, v any, sens paths) any {
	if sens.covers(p) || value.IsUnknown(v) {
		return nil
	}
	switch c := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(c))
		for k, e := range c {
			if value.IsUnknown(e) {
				continue
			}
			out[k] = clean(p.Key(k), e, sens)
		}
		return out
	case []any:
		out := make([]any, len(c))
		for i, e := range c {
			out[i] = clean(p.Index(i), e, sens)
		}
		return out
	}
	return v
}

func cleanOutput(v any, sensitive bool) any {
	if sensitive {
		return nil
	}
	return clean(nil, v, nil)
}

// replacePaths writes paths as Terraform does: each a list of keys (strings) and indexes (numbers).
func replacePaths(ps []value.Path) [][]any {
	var out [][]any
	for _, p := range ps {
		steps := make([]any, len(p))
		for i, s := range p {
			if s.IsIndex {
				steps[i] = s.Index
			} else {
				steps[i] = s.Key
			}
		}
		out = append(out, steps)
	}
	return out
}

func configResource(ch *plan.Change, addrs map[string]bool) jsonConfigResource {
	r := jsonConfigResource{
		Address:           ch.Addr,
		Mode:              modeOf(ch.Action),
		Type:              ch.Type,
		Name:              name(ch.Addr),
		ProviderConfigKey: ch.Provider,
		DependsOn:         ch.DependsOn,
	}
	if cfg, ok := ch.Config.(map[string]any); ok && len(cfg) > 0 {
		r.Expressions = make(map[string]jsonExpression, len(cfg))
		for k, v := range cfg {
			r.Expressions[k] = expression(v, value.KeyPath(k), ch.AfterSensitive, addrs)
		}
	}
	return r
}

var refPattern = regexp.MustCompile(`\$+\{([^}]*)\}`)

// expression describes a configuration value: its references when it makes any, else the constant
// with sensitive positions (the attribute paths marked sensitive) redacted.
func expression(v any, p value.Path, sens paths, addrs map[string]bool) jsonExpression {
	var refs []string
	seen := map[string]bool{}
	note := func(r string) {
		if r != "" && !seen[r] {
			seen[r] = true
			refs = append(refs, r)
		}
	}
	value.Walk(v, func(_ value.Path, e any) bool {
		s, ok := e.(string)
		if !ok {
			return true
		}
		for _, m := range refPattern.FindAllStringSubmatch(s, -1) {
			if strings.HasPrefix(m[0], "$$") && (len(m[0])-len(strings.TrimLeft(m[0], "$")))%2 == 0 {
				continue // $${ is an escaped literal
			}
			ref := strings.TrimSpace(m[1])
			note(ref)
			note(resourceOf(ref, addrs))
		}
		return true
	})
	if len(refs) > 0 {
		return jsonExpression{References: refs}
	}
	c := clean(p, v, sens)
	if c == nil {
		// Redacted or null: Terraform still writes the key, with an explicit null.
		return jsonExpression{ConstantValue: json.RawMessage("null")}
	}
	return jsonExpression{ConstantValue: c}
}

// resourceOf returns the longest prefix of ref that names a resource, as references resolve.
func resourceOf(ref string, addrs map[string]bool) string {
	ref, _, _ = strings.Cut(ref, "[")
	for r := ref; r != ""; {
		if addrs[r] {
			return r
		}
		i := strings.LastIndexByte(r, '.')
		if i < 0 {
			break
		}
		r = r[:i]
	}
	return ""
}
