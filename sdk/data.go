package sdk

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/provhq/prov/internal/value"
)

// Unknown is the value of an attribute that will be known only after apply. Get returns it for such an
// attribute; a plan hook may Set it. The typed getters (String, Int, …) return the zero value instead.
var Unknown any = value.Unknown

// Data is a resource's attributes as plain Go data, handed to the functions of a Resource. Keys are
// attribute names or paths into nested values ("ingress[0].port"). Values are decoded JSON: string,
// float64, bool, []any, map[string]any, or nil; Set also accepts ints and other JSON-encodable values.
//
// In Create and Update, Data holds the configuration (defaults applied) and the planned computed values;
// the function sets the computed attributes. In Read it holds the last known state, and the function sets
// what it finds. In a plan hook it holds the planned state, which the hook may refine. Old and HasChange
// compare with the prior state.
type Data struct {
	attrs     map[string]any
	prior     map[string]any
	replace   []value.Path
	replacing bool // in a plan hook: the SDK planned a replacement
	cost      *float64
	errs      []error
}

func newData(attrs, prior map[string]any) *Data {
	if attrs == nil {
		attrs = map[string]any{}
	}
	return &Data{attrs: attrs, prior: prior}
}

// Get returns the value at key, nil when it is not set.
func (d *Data) Get(key string) any { return get(d.attrs, key) }

// Digest returns a short hex digest (128 bits of SHA-256) of the values at keys. A provider stores it
// to recognise later, from the cloud's side, an object made from inputs the cloud does not report back
// (user data, SSH keys, passwords).
func (d *Data) Digest(keys ...string) string {
	vals := make([]any, len(keys))
	for i, k := range keys {
		vals[i] = d.Get(k)
	}
	b, _ := json.Marshal(vals) // encoding/json's escaping is part of digests already stored
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// GetOk returns the value at key and whether it is set (not nil) and known.
func (d *Data) GetOk(key string) (any, bool) {
	v := d.Get(key)
	return v, v != nil && !value.IsUnknown(v)
}

// String returns the string at key, "" when unset, unknown or not a string.
func (d *Data) String(key string) string {
	s, _ := d.Get(key).(string)
	return s
}

// Float returns the number at key, 0 when unset, unknown or not a number.
func (d *Data) Float(key string) float64 {
	n, _ := d.Get(key).(float64)
	return n
}

// Int returns the number at key truncated to an int.
func (d *Data) Int(key string) int { return int(d.Float(key)) }

// Bool returns the bool at key, false when unset, unknown or not a bool.
func (d *Data) Bool(key string) bool {
	b, _ := d.Get(key).(bool)
	return b
}

// List returns the list at key, nil when unset, unknown or not a list.
func (d *Data) List(key string) []any {
	l, _ := d.Get(key).([]any)
	return l
}

// Map returns the map or object at key, nil when unset, unknown or not a map.
func (d *Data) Map(key string) map[string]any {
	m, _ := d.Get(key).(map[string]any)
	return m
}

// StringMap returns the map at key with its string values; other values are skipped.
func (d *Data) StringMap(key string) map[string]string {
	m := d.Map(key)
	out := make(map[string]string, len(m))
	for k, v := range m {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

// IsKnown reports whether the value at key is known now (in a plan, a value computed from another
// resource may not be). Nested unknowns count.
func (d *Data) IsKnown(key string) bool { return !value.HasUnknown(d.Get(key)) }

// Set sets the value at key; setting an attribute to nil unsets it (an unset attribute and a null one
// are the same). A value that is not JSON-like (a channel, a func) is reported as an error diagnostic
// when the function returns.
func (d *Data) Set(key string, v any) {
	n, err := value.Normalize(v)
	if err != nil {
		d.errs = append(d.errs, AttrError(key, err))
		return
	}
	if !strings.ContainsAny(key, ".[") {
		if n == nil {
			delete(d.attrs, key)
		} else {
			d.attrs[key] = n
		}
		return
	}
	p, err := value.ParsePath(key)
	if err == nil {
		var out any
		if out, err = value.Set(d.attrs, p, n); err == nil {
			d.attrs = out.(map[string]any)
			return
		}
	}
	d.errs = append(d.errs, AttrError(key, err))
}

// SetUnknown marks the value at key as known only after apply. Only a plan hook may leave unknowns.
func (d *Data) SetUnknown(key string) { d.Set(key, value.Unknown) }

// Delete removes the attribute key.
func (d *Data) Delete(key string) { delete(d.attrs, key) }

// ID returns the "id" attribute.
func (d *Data) ID() string { return d.String("id") }

// SetID sets the "id" attribute, which every resource has.
func (d *Data) SetID(id string) { d.attrs["id"] = id }

// Old returns the prior value at key: nil on create or when it was unset.
func (d *Data) Old(key string) any { return get(d.prior, key) }

// IsNew reports whether a new object is being made: there is no prior state, or, in a plan hook, the
// plan replaces the prior object because a ForceNew attribute changed.
func (d *Data) IsNew() bool { return d.prior == nil || d.replacing }

// HasChange reports whether the value at key differs from the prior state.
func (d *Data) HasChange(key string) bool { return !value.Equal(d.Old(key), d.Get(key)) }

// RequireReplace, in a plan hook, says that the change of key must replace the resource.
func (d *Data) RequireReplace(key string) {
	p, err := value.ParsePath(key)
	if err != nil {
		d.errs = append(d.errs, AttrError(key, err))
		return
	}
	d.replace = append(d.replace, p)
}

// SetMonthlyCost, in a plan hook, gives the estimated monthly cost of the planned object in USD, which
// prov shows in plans and pull-request previews.
func (d *Data) SetMonthlyCost(usd float64) { d.cost = &usd }

// Raw returns the attributes as a map, for code that prefers plain maps. It is the live map: changes to
// it change d.
func (d *Data) Raw() map[string]any { return d.attrs }

func get(m map[string]any, key string) any {
	if !strings.ContainsAny(key, ".[") {
		return m[key]
	}
	p, err := value.ParsePath(key)
	if err != nil {
		return nil
	}
	v, _ := value.Get(m, p)
	return v
}

// AttrError ties err to an attribute path, so the diagnostic it becomes points at that attribute:
// return sdk.AttrError("ingress[0].port", err) from a resource function.
func AttrError(path string, err error) error { return &attrError{path: path, err: err} }

// AttrErrorf is AttrError with a formatted message.
func AttrErrorf(path, format string, args ...any) error {
	return &attrError{path: path, err: fmt.Errorf(format, args...)}
}

type attrError struct {
	path string
	err  error
}

func (e *attrError) Error() string { return e.path + ": " + e.err.Error() }
func (e *attrError) Unwrap() error { return e.err }
