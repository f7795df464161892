package protocol

import (
	"encoding/json"
	"fmt"

	"github.com/provhq/prov/internal/diag"
	protov1 "github.com/provhq/prov/internal/protocol/v1"
	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/plugins"
)

// encodeValue turns a value into a DynamicValue; nil becomes an absent message.
func encodeValue(v any) (*protov1.DynamicValue, error) {
	if v == nil {
		return nil, nil
	}
	data, unknown, err := value.Encode(v)
	if err != nil {
		return nil, err
	}
	return &protov1.DynamicValue{Json: data, UnknownPaths: pathStrings(unknown)}, nil
}

// decodeValue is the inverse of encodeValue.
func decodeValue(dv *protov1.DynamicValue) (any, error) {
	if dv == nil || len(dv.Json) == 0 {
		return nil, nil
	}
	unknown, err := parsePaths(dv.UnknownPaths)
	if err != nil {
		return nil, err
	}
	return value.Decode(dv.Json, unknown)
}

func pathStrings(ps []value.Path) []string {
	if len(ps) == 0 {
		return nil
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

func parsePaths(ss []string) ([]value.Path, error) {
	if len(ss) == 0 {
		return nil, nil
	}
	out := make([]value.Path, len(ss))
	for i, s := range ss {
		p, err := value.ParsePath(s)
		if err != nil {
			return nil, fmt.Errorf("path %q: %w", s, err)
		}
		out[i] = p
	}
	return out, nil
}

func encodeDiags(ds diag.Diagnostics) []*protov1.Diagnostic {
	if len(ds) == 0 {
		return nil
	}
	out := make([]*protov1.Diagnostic, len(ds))
	for i, d := range ds {
		sev := protov1.Severity_SEVERITY_ERROR
		if d.Severity == diag.Warning {
			sev = protov1.Severity_SEVERITY_WARNING
		}
		out[i] = &protov1.Diagnostic{Severity: sev, Summary: d.Summary, Detail: d.Detail, AttributePath: d.Path}
	}
	return out
}

func decodeDiags(ds []*protov1.Diagnostic) diag.Diagnostics {
	if len(ds) == 0 {
		return nil
	}
	out := make(diag.Diagnostics, len(ds))
	for i, d := range ds {
		sev := diag.Error
		if d.GetSeverity() == protov1.Severity_SEVERITY_WARNING {
			sev = diag.Warning
		}
		out[i] = diag.Diagnostic{Severity: sev, Summary: d.GetSummary(), Detail: d.GetDetail(), Path: d.GetAttributePath()}
	}
	return out
}

func encodeType(t *plugins.Type) (*protov1.Type, error) {
	out := &protov1.Type{Kind: string(t.Kind)}
	if t.Elem != nil {
		elem, err := encodeType(t.Elem)
		if err != nil {
			return nil, err
		}
		out.Elem = elem
	}
	attrs, err := encodeAttributes(t.Attributes)
	if err != nil {
		return nil, err
	}
	out.Attributes = attrs
	return out, nil
}

func decodeType(t *protov1.Type) (plugins.Type, error) {
	if t == nil {
		return plugins.Type{}, nil
	}
	out := plugins.Type{Kind: plugins.Kind(t.Kind)}
	if t.Elem != nil {
		elem, err := decodeType(t.Elem)
		if err != nil {
			return plugins.Type{}, err
		}
		out.Elem = &elem
	}
	attrs, err := decodeAttributes(t.Attributes)
	if err != nil {
		return plugins.Type{}, err
	}
	out.Attributes = attrs
	return out, nil
}

func encodeAttributes(as map[string]*plugins.Attribute) (map[string]*protov1.Attribute, error) {
	if len(as) == 0 {
		return nil, nil
	}
	out := make(map[string]*protov1.Attribute, len(as))
	for name, a := range as {
		if a == nil {
			continue
		}
		typ, err := encodeType(&a.Type)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", name, err)
		}
		pa := &protov1.Attribute{
			Type: typ, Description: a.Description, Required: a.Required, Optional: a.Optional,
			Computed: a.Computed, ForceNew: a.ForceNew, Sensitive: a.Sensitive,
		}
		if a.Default != nil {
			if pa.DefaultJson, err = json.Marshal(a.Default); err != nil {
				return nil, fmt.Errorf("attribute %s: default: %w", name, err)
			}
		}
		out[name] = pa
	}
	return out, nil
}

func decodeAttributes(as map[string]*protov1.Attribute) (map[string]*plugins.Attribute, error) {
	if len(as) == 0 {
		return nil, nil
	}
	out := make(map[string]*plugins.Attribute, len(as))
	for name, a := range as {
		typ, err := decodeType(a.GetType())
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", name, err)
		}
		pa := &plugins.Attribute{
			Type: typ, Description: a.GetDescription(), Required: a.GetRequired(), Optional: a.GetOptional(),
			Computed: a.GetComputed(), ForceNew: a.GetForceNew(), Sensitive: a.GetSensitive(),
		}
		if len(a.DefaultJson) > 0 {
			if err := json.Unmarshal(a.DefaultJson, &pa.Default); err != nil {
				return nil, fmt.Errorf("attribute %s: default: %w", name, err)
			}
		}
		out[name] = pa
	}
	return out, nil
}

func encodeSchema(s *plugins.ProviderSchema) (*protov1.ProviderSchema, error) {
	if s == nil {
		return nil, nil
	}
	config, err := encodeAttributes(s.Config)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	out := &protov1.ProviderSchema{
		Name: s.Name, Version: s.Version, Config: config,
		Concurrency: int32(s.Concurrency), Capabilities: s.Capabilities,
		Resources: make(map[string]*protov1.ResourceSchema, len(s.Resources)),
	}
	for typ, r := range s.Resources {
		if r == nil {
			continue
		}
		attrs, err := encodeAttributes(r.Attributes)
		if err != nil {
			return nil, fmt.Errorf("resource %s: %w", typ, err)
		}
		out.Resources[typ] = &protov1.ResourceSchema{
			Description: r.Description, Attributes: attrs, Importable: r.Importable, DataSource: r.DataSource,
		}
	}
	return out, nil
}

func decodeSchema(s *protov1.ProviderSchema) (*plugins.ProviderSchema, error) {
	if s == nil {
		return nil, nil
	}
	config, err := decodeAttributes(s.Config)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	out := &plugins.ProviderSchema{
		Name: s.Name, Version: s.Version, Config: config,
		Concurrency: int(s.Concurrency), Capabilities: s.Capabilities,
		Resources: make(map[string]*plugins.ResourceSchema, len(s.Resources)),
	}
	for typ, r := range s.Resources {
		attrs, err := decodeAttributes(r.Attributes)
		if err != nil {
			return nil, fmt.Errorf("resource %s: %w", typ, err)
		}
		if attrs == nil {
			attrs = map[string]*plugins.Attribute{}
		}
		out.Resources[typ] = &plugins.ResourceSchema{
			Description: r.Description, Attributes: attrs, Importable: r.Importable, DataSource: r.DataSource,
		}
	}
	return out, nil
}

func encodeDescription(d *plugins.TaskservDescription) (*protov1.TaskservDescription, error) {
	if d == nil {
		return nil, nil
	}
	config, err := encodeAttributes(d.Config)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return &protov1.TaskservDescription{
		Name: d.Name, Category: d.Category, Versions: d.Versions, Dependencies: d.Dependencies,
		Conflicts: d.Conflicts, Config: config,
	}, nil
}

func decodeDescription(d *protov1.TaskservDescription) (*plugins.TaskservDescription, error) {
	if d == nil {
		return nil, nil
	}
	config, err := decodeAttributes(d.Config)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return &plugins.TaskservDescription{
		Name: d.Name, Category: d.Category, Versions: d.Versions, Dependencies: d.Dependencies,
		Conflicts: d.Conflicts, Config: config,
	}, nil
}
