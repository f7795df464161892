package sdk

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/plugins"
)

// Type is the type of an attribute. Use the predeclared String, Number, Bool and Dynamic, or build
// composite types with ListOf, MapOf and Object.
type Type struct {
	kind plugins.Kind
	elem *Type
	obj  *object
}

// The scalar types. Dynamic accepts any JSON value.
var (
	String  = Type{kind: plugins.String}
	Number  = Type{kind: plugins.Number}
	Bool    = Type{kind: plugins.Bool}
	Dynamic = Type{kind: plugins.Dynamic}
)

// ListOf is the type of a list whose elements are of type elem.
func ListOf(elem Type) Type { return Type{kind: plugins.List, elem: &elem} }

// MapOf is the type of a map from strings to values of type elem.
func MapOf(elem Type) Type { return Type{kind: plugins.Map, elem: &elem} }

// Object is the type of a nested record with the given attributes; each is checked like a top-level one
// (required, defaults, validators, force_new, sensitive), with paths such as "ingress[0].port".
func Object(attrs map[string]*Attribute) Type {
	return Type{kind: plugins.Object, obj: newObject(attrs)}
}

// String describes t, e.g. "list of string".
func (t Type) String() string {
	switch t.kind {
	case plugins.List, plugins.Map:
		return fmt.Sprintf("%s of %s", t.kind, t.elem)
	case "":
		return "unset type"
	}
	return string(t.kind)
}

// Attribute declares one attribute of a resource, of a nested object or of a configuration.
// Exactly one of Required, Optional and Computed is set, except that Optional and Computed together
// mean "the user may set it; otherwise the provider decides".
type Attribute struct {
	Type        Type
	Description string
	Required    bool
	Optional    bool
	Computed    bool
	// ForceNew says a change of this attribute replaces the resource instead of updating it.
	ForceNew bool
	// Sensitive values are never shown in plans, logs or output.
	Sensitive bool
	// Default is used when the configuration does not set an Optional attribute.
	Default any
	// Validators check a known, well-typed value; each error becomes a diagnostic at the attribute's path.
	Validators []Validator
}

// computedOnly reports whether only the provider sets the attribute.
func (a *Attribute) computedOnly() bool { return a.Computed && !a.Optional }

// Validator checks an attribute's value. The value is decoded JSON: string, float64, bool, []any or
// map[string]any, never unknown.
type Validator func(v any) error

// OneOf accepts a string equal to one of values.
func OneOf(values ...string) Validator {
	return func(v any) error {
		s, _ := v.(string)
		if slices.Contains(values, s) {
			return nil
		}
		return fmt.Errorf("must be one of %s, got %q", quoteList(values), s)
	}
}

// Regexp accepts a string that matches pattern. It panics if pattern does not compile.
func Regexp(pattern string) Validator {
	re := regexp.MustCompile(pattern)
	return func(v any) error {
		s, _ := v.(string)
		if re.MatchString(s) {
			return nil
		}
		return fmt.Errorf("%q does not match %s", s, pattern)
	}
}

// Between accepts a number n with min <= n <= max.
func Between(min, max float64) Validator {
	return func(v any) error {
		n, _ := v.(float64)
		if n >= min && n <= max {
			return nil
		}
		return fmt.Errorf("must be between %g and %g, got %g", min, max, n)
	}
}

// Duration accepts a positive Go duration string such as "2s" or "500ms".
func Duration(v any) error {
	s, _ := v.(string)
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a duration such as 2s or 500ms: %w", err)
	}
	if d <= 0 {
		return fmt.Errorf("want a positive duration, got %s", s)
	}
	return nil
}

// LengthBetween accepts a string, list or map whose length is between min and max.
func LengthBetween(min, max int) Validator {
	return func(v any) error {
		var n int
		switch v := v.(type) {
		case string:
			n = len([]rune(v))
		case []any:
			n = len(v)
		case map[string]any:
			n = len(v)
		}
		if n >= min && n <= max {
			return nil
		}
		return fmt.Errorf("length must be between %d and %d, got %d", min, max, n)
	}
}

func quoteList(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}

// object is a set of attributes with their names sorted once, so every walk is deterministic and cheap.
type object struct {
	names        []string
	attrs        map[string]*Attribute
	defaults     map[string]any // normalized Default values
	hasDefaults  bool           // a default is set here or in a nested object
	hasSensitive bool           // a sensitive attribute is here or in a nested object
	errs         []error        // declaration mistakes found while building
}

func newObject(attrs map[string]*Attribute) *object {
	o := &object{names: slices.Sorted(maps.Keys(attrs)), attrs: attrs, defaults: map[string]any{}}
	for _, name := range o.names {
		a := attrs[name]
		if a == nil {
			continue
		}
		if a.Default != nil {
			d, err := value.Normalize(a.Default)
			if err != nil {
				o.errs = append(o.errs, fmt.Errorf("%s: Default: %w", name, err))
				continue
			}
			o.defaults[name] = d
			o.hasDefaults = true
		}
		o.hasDefaults = o.hasDefaults || a.Type.hasDefaults()
		o.hasSensitive = o.hasSensitive || a.Sensitive || a.Type.hasSensitive()
	}
	return o
}

// check reports declaration mistakes (programmer errors) under prefix.
func (o *object) check(prefix string, nested bool) error {
	errs := slices.Clone(o.errs)
	for _, name := range o.names {
		a := o.attrs[name]
		where := prefix + name
		if a == nil {
			errs = append(errs, fmt.Errorf("%s: nil attribute", where))
			continue
		}
		switch {
		case a.Required && (a.Optional || a.Computed):
			errs = append(errs, fmt.Errorf("%s: Required excludes Optional and Computed", where))
		case !a.Required && !a.Optional && !a.Computed:
			errs = append(errs, fmt.Errorf("%s: set one of Required, Optional or Computed", where))
		case a.Default != nil && !a.Optional:
			errs = append(errs, fmt.Errorf("%s: Default needs Optional", where))
		case nested && a.Computed:
			errs = append(errs, fmt.Errorf("%s: Computed is supported on top-level attributes only", where))
		}
		if err := a.Type.check(where); err != nil {
			errs = append(errs, err)
		}
		if d, ok := o.defaults[name]; ok {
			var ds diag.Diagnostics
			checkType(a.Type, d, nil, &ds)
			if len(ds) > 0 {
				errs = append(errs, fmt.Errorf("%s: Default: %s", where, ds[0].Summary))
			}
		}
	}
	return errors.Join(errs...)
}

func (t Type) check(where string) error {
	switch t.kind {
	case plugins.String, plugins.Number, plugins.Bool, plugins.Dynamic:
		return nil
	case plugins.List, plugins.Map:
		return t.elem.check(where + "[]")
	case plugins.Object:
		return t.obj.check(where+".", true)
	}
	return fmt.Errorf("%s: attribute has no Type", where)
}

// wire converts the declaration into the plugins schema form.
func (o *object) wire() map[string]*plugins.Attribute {
	out := make(map[string]*plugins.Attribute, len(o.attrs))
	for name, a := range o.attrs {
		out[name] = &plugins.Attribute{
			Type:        a.Type.wire(),
			Description: a.Description,
			Required:    a.Required,
			Optional:    a.Optional,
			Computed:    a.Computed,
			ForceNew:    a.ForceNew,
			Sensitive:   a.Sensitive,
			Default:     a.Default,
		}
	}
	return out
}

func (t Type) wire() plugins.Type {
	w := plugins.Type{Kind: t.kind}
	if t.elem != nil {
		e := t.elem.wire()
		w.Elem = &e
	}
	if t.obj != nil {
		w.Attributes = t.obj.wire()
	}
	return w
}
