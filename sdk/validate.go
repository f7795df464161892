package sdk

import (
	"fmt"
	"maps"
	"slices"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/suggest"
	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/plugins"
)

// checkConfig checks a configuration value against o and appends every problem to ds: wrong types,
// missing required attributes, unknown attributes, attributes only the provider may set, and validator
// failures. Unknown values pass; they are checked when they become known.
func (o *object) checkConfig(v any, p value.Path, ds *diag.Diagnostics) {
	if value.IsUnknown(v) {
		return
	}
	m, ok := v.(map[string]any)
	if !ok {
		if v == nil && len(p) == 0 {
			m = nil // an empty top-level configuration
		} else {
			*ds = append(*ds, diag.Errorf(p.String(), "expected an object, got %s", kindOf(v)))
			return
		}
	}
	if len(m) > 0 {
		var extra []string
		for k := range m {
			if _, ok := o.attrs[k]; !ok {
				extra = append(extra, k)
			}
		}
		slices.Sort(extra)
		for _, k := range extra {
			d := diag.Errorf(p.Key(k).String(), "unknown attribute %q", k)
			if s := suggest.Closest(k, o.names); s != "" {
				d.Detail = fmt.Sprintf("Did you mean %q?", s)
			}
			*ds = append(*ds, d)
		}
	}
	for _, name := range o.names {
		a := o.attrs[name]
		v := m[name]
		switch {
		case v == nil && a.Required:
			*ds = append(*ds, diag.Errorf(p.Key(name).String(), "missing required attribute"))
		case v == nil:
		case a.computedOnly():
			*ds = append(*ds, diag.Errorf(p.Key(name).String(), "attribute is computed by the provider and cannot be set"))
		default:
			before := len(*ds)
			checkType(a.Type, v, p.Key(name), ds)
			if len(*ds) == before && len(a.Validators) > 0 && !value.HasUnknown(v) {
				for _, validate := range a.Validators {
					if err := safely(validate, v); err != nil {
						*ds = append(*ds, diag.Errorf(p.Key(name).String(), "%v", err))
					}
				}
			}
		}
	}
}

// safely runs a validator, turning a panic into an error so a buggy validator cannot take the plugin down.
func safely(validate Validator, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("validator crashed: %v", r)
		}
	}()
	return validate(v)
}

// checkType checks that v is a value of type t.
func checkType(t Type, v any, p value.Path, ds *diag.Diagnostics) {
	if value.IsUnknown(v) {
		return
	}
	ok := true
	switch t.kind {
	case plugins.Dynamic:
	case plugins.String:
		_, ok = v.(string)
	case plugins.Number:
		_, ok = v.(float64)
	case plugins.Bool:
		_, ok = v.(bool)
	case plugins.List:
		var l []any
		if l, ok = v.([]any); ok {
			for i, e := range l {
				checkType(*t.elem, e, p.Index(i), ds)
			}
		}
	case plugins.Map:
		var m map[string]any
		if m, ok = v.(map[string]any); ok {
			for _, k := range slices.Sorted(maps.Keys(m)) {
				checkType(*t.elem, m[k], p.Key(k), ds)
			}
		}
	case plugins.Object:
		t.obj.checkConfig(v, p, ds)
	}
	if !ok {
		*ds = append(*ds, diag.Errorf(p.String(), "expected %s, got %s", article(t), kindOf(v)))
	}
}

func article(t Type) string {
	switch t.kind {
	case plugins.Object, plugins.List, plugins.Map:
		return "an " + t.String()
	}
	return "a " + t.String()
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "list"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// withDefaults returns m with the defaults of unset Optional attributes filled in, at every depth, and
// whether it filled any. It copies only what it changes, so m is never modified.
func (o *object) withDefaults(m map[string]any) (map[string]any, bool) {
	if !o.hasDefaults {
		return m, false
	}
	out, copied := m, false
	set := func(k string, v any) {
		if !copied {
			out = make(map[string]any, len(m)+1)
			maps.Copy(out, m)
			copied = true
		}
		out[k] = v
	}
	for _, name := range o.names {
		v := m[name]
		if v == nil {
			if d, ok := o.defaults[name]; ok {
				set(name, value.Copy(d))
			}
			continue
		}
		if t := o.attrs[name].Type; t.hasDefaults() {
			if nv, changed := t.withDefaults(v); changed {
				set(name, nv)
			}
		}
	}
	return out, copied
}

func (t Type) hasDefaults() bool {
	switch t.kind {
	case plugins.Object:
		return t.obj.hasDefaults
	case plugins.List, plugins.Map:
		return t.elem.hasDefaults()
	}
	return false
}

// withDefaults fills defaults inside a composite value; changed says whether anything was filled.
func (t Type) withDefaults(v any) (any, bool) {
	switch c := v.(type) {
	case map[string]any:
		switch t.kind {
		case plugins.Object:
			return t.obj.withDefaults(c)
		case plugins.Map:
			var out map[string]any
			for k, e := range c {
				if ne, ok := t.elem.withDefaults(e); ok {
					if out == nil {
						out = maps.Clone(c)
					}
					out[k] = ne
				}
			}
			return out, out != nil
		}
	case []any:
		if t.kind == plugins.List {
			var out []any
			for i, e := range c {
				if ne, ok := t.elem.withDefaults(e); ok {
					if out == nil {
						out = slices.Clone(c)
					}
					out[i] = ne
				}
			}
			return out, out != nil
		}
	}
	return v, false
}

// sensitivePaths appends the paths of the sensitive values present in m.
func (o *object) sensitivePaths(p value.Path, m map[string]any, out *[]value.Path) {
	if !o.hasSensitive {
		return
	}
	for _, name := range o.names {
		a := o.attrs[name]
		v := m[name]
		if v == nil {
			continue
		}
		if a.Sensitive {
			*out = append(*out, p.Key(name))
			continue
		}
		a.Type.sensitivePaths(p.Key(name), v, out)
	}
}

func (t Type) hasSensitive() bool {
	switch t.kind {
	case plugins.Object:
		return t.obj.hasSensitive
	case plugins.List, plugins.Map:
		return t.elem.hasSensitive()
	}
	return false
}

func (t Type) sensitivePaths(p value.Path, v any, out *[]value.Path) {
	if !t.hasSensitive() {
		return
	}
	switch c := v.(type) {
	case map[string]any:
		if t.kind == plugins.Object {
			t.obj.sensitivePaths(p, c, out)
			return
		}
		for _, k := range slices.Sorted(maps.Keys(c)) {
			t.elem.sensitivePaths(p.Key(k), c[k], out)
		}
	case []any:
		for i, e := range c {
			t.elem.sensitivePaths(p.Index(i), e, out)
		}
	}
}

// replacePaths appends the paths of ForceNew attributes whose value differs between prior and planned,
// descending into nested objects, lists and maps of objects.
func (o *object) replacePaths(p value.Path, prior, planned map[string]any, out *[]value.Path) {
	for _, name := range o.names {
		a := o.attrs[name]
		if a.computedOnly() {
			continue
		}
		pv, nv := prior[name], planned[name]
		if value.Equal(pv, nv) {
			continue
		}
		if a.ForceNew {
			*out = append(*out, p.Key(name))
			continue
		}
		a.Type.replacePaths(p.Key(name), pv, nv, out)
	}
}

// replacePaths finds changed ForceNew attributes inside objects, including the objects of lists and
// maps; elements present on one side only are additions or removals, which do not force anything.
func (t Type) replacePaths(p value.Path, prior, planned any, out *[]value.Path) {
	if t.object() == nil {
		return
	}
	switch t.kind {
	case plugins.Object:
		pm, ok1 := prior.(map[string]any)
		nm, ok2 := planned.(map[string]any)
		if ok1 && ok2 {
			t.obj.replacePaths(p, pm, nm, out)
		}
	case plugins.List:
		pl, _ := prior.([]any)
		nl, _ := planned.([]any)
		for i := range min(len(pl), len(nl)) {
			t.elem.replacePaths(p.Index(i), pl[i], nl[i], out)
		}
	case plugins.Map:
		pm, _ := prior.(map[string]any)
		nm, _ := planned.(map[string]any)
		for _, k := range slices.Sorted(maps.Keys(nm)) {
			if pv, ok := pm[k]; ok {
				t.elem.replacePaths(p.Key(k), pv, nm[k], out)
			}
		}
	}
}

// changed reports whether an attribute the configuration controls differs between prior and planned.
func (o *object) changed(prior, planned map[string]any) bool {
	for _, name := range o.names {
		if o.attrs[name].computedOnly() {
			continue
		}
		if !value.Equal(prior[name], planned[name]) {
			return true
		}
	}
	return false
}
