package sdk

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/provhq/prov/plugins"
)

// Markdown renders a reference of p for its users: the description, the configuration, and each
// resource type with a table of its attributes. Generate a provider's README from it so the
// documentation cannot drift from the code.
func (p *Provider) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# The %s provider\n\n", p.Name)
	if p.Description != "" {
		fmt.Fprintf(&b, "%s\n\n", strings.TrimSpace(p.Description))
	}
	if p.Version != "" {
		fmt.Fprintf(&b, "Version %s.\n\n", p.Version)
	}
	if len(p.Config) > 0 {
		b.WriteString("## Configuration\n\n")
		writeAttrs(&b, newObject(p.Config), "")
	}
	for _, name := range slices.Sorted(maps.Keys(p.Resources)) {
		r := p.Resources[name]
		fmt.Fprintf(&b, "## %s\n\n", name)
		if r.Description != "" {
			fmt.Fprintf(&b, "%s\n\n", strings.TrimSpace(r.Description))
		}
		attrs := maps.Clone(r.Attributes)
		if attrs == nil {
			attrs = map[string]*Attribute{}
		}
		if attrs["id"] == nil {
			attrs["id"] = &Attribute{Type: String, Computed: true, Description: "The object's identifier."}
		}
		writeAttrs(&b, newObject(attrs), "")
		if r.Import != nil {
			b.WriteString("Can be imported by id.\n\n")
		}
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

func writeAttrs(b *strings.Builder, o *object, prefix string) {
	b.WriteString("| attribute | type | | description |\n|---|---|---|---|\n")
	var nested []string
	for _, name := range o.names {
		a := o.attrs[name]
		var flags []string
		switch {
		case a.Required:
			flags = append(flags, "required")
		case a.Optional && a.Computed:
			flags = append(flags, "optional, computed")
		case a.Optional:
			flags = append(flags, "optional")
		default:
			flags = append(flags, "computed")
		}
		if a.ForceNew {
			flags = append(flags, "forces replacement")
		}
		if a.Sensitive {
			flags = append(flags, "sensitive")
		}
		if d, ok := o.defaults[name]; ok {
			j, _ := json.Marshal(d)
			flags = append(flags, "default `"+string(j)+"`")
		}
		fmt.Fprintf(b, "| `%s%s` | %s | %s | %s |\n", prefix, name, a.Type, strings.Join(flags, ", "),
			strings.ReplaceAll(a.Description, "|", `\|`))
		if inner := a.Type.object(); inner != nil {
			nested = append(nested, name)
		}
	}
	b.WriteString("\n")
	for _, name := range nested {
		t := o.attrs[name].Type
		inner, each := prefix+name, "Each "
		switch t.kind {
		case plugins.List:
			inner += "[]"
		case plugins.Map:
			inner += ".*"
		default:
			each = ""
		}
		fmt.Fprintf(b, "%s`%s` holds:\n\n", each, inner)
		writeAttrs(b, t.object(), inner+".")
	}
}

// object returns the attributes of an Object type, or of the elements of a list or map of objects.
func (t Type) object() *object {
	switch t.kind {
	case plugins.Object:
		return t.obj
	case plugins.List, plugins.Map:
		return t.elem.object()
	}
	return nil
}
