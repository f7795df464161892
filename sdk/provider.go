package sdk

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/plugins"
)

// Provider declares a provider plugin: its name and version, its configuration, and its resource types.
type Provider struct {
	// Name is the provider's name, e.g. "local"; resource type names start with Name + "_".
	Name        string
	Version     string
	Description string
	// Config declares the attributes of the provider's configuration block.
	Config map[string]*Attribute
	// Configure is called once with the validated configuration (defaults applied) before any resource
	// function. What it returns (an API client, settings) is handed to every function as Op.Client.
	Configure func(ctx context.Context, config *Data) (client any, err error)
	// Concurrency is the most operations the provider wants in flight at once; 0 means no limit.
	Concurrency int
	// Capabilities are optional features the provider has, e.g. "read_by_operation_id".
	Capabilities []string
	// Resources maps resource type names to their declarations.
	Resources map[string]*Resource
}

// Func is the signature of every resource function. A returned error becomes an error diagnostic: its
// first line is the summary and any further lines the detail; wrap it with AttrError to point at an
// attribute. Errors joined with errors.Join become one diagnostic each.
type Func func(ctx context.Context, op *Op, d *Data) error

// Resource declares a resource type and the functions that manage it. Every resource has a computed
// string attribute "id" that the SDK declares when the Attributes do not; Create sets it with SetID.
type Resource struct {
	Description string
	Attributes  map[string]*Attribute
	// Create makes the object and sets the computed attributes. It must be idempotent per op.ID: a create
	// retried after a crash carries the same operation id.
	Create Func
	// Read refreshes d from the real object, or returns ErrNotFound when it no longer exists. To settle
	// an operation in doubt it is called with an empty d and op.ID naming that operation: it then looks
	// the object up by operation id. A nil Read keeps the state as it is.
	Read Func
	// Update changes the object in place to match d. A nil Update records the new attributes without a
	// side effect, for types whose every real change is ForceNew.
	Update Func
	// Delete removes the object. A nil Delete only forgets it.
	Delete Func
	// Import, when set, fills d for the existing object whose id d.ID() returns.
	Import Func
	// Plan, when set, refines the planned state in d after the SDK has planned it: it may compute values
	// (SetUnknown, Set) or ask for replacement (RequireReplace). op.ID is empty.
	Plan Func
}

// Op is what a resource function gets besides the attributes: the operation id, the configured client
// and a way to report progress and warnings.
type Op struct {
	// ID is the operation id: unique per operation and stable across retries and resumes, for use as
	// an idempotency key. It is empty in plan hooks and in ordinary reads.
	ID string
	// Client is what the provider's Configure returned.
	Client any

	progress func(plugins.Progress)
	warnings diag.Diagnostics
}

// Progress reports how an operation is going; percent is 0..100, or -1 when unknown.
func (o *Op) Progress(percent int, format string, args ...any) {
	if o.progress != nil {
		o.progress(plugins.Progress{Message: fmt.Sprintf(format, args...), Percent: percent})
	}
}

// Warnf reports a warning about the attribute at path ("" for the resource as a whole).
func (o *Op) Warnf(path, format string, args ...any) {
	o.warnings = append(o.warnings, diag.Warnf(path, format, args...))
}

// ErrNotFound is what Read (and Import) return when the object does not exist.
var ErrNotFound = errors.New("object not found")

var typeName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Validate reports the mistakes in the declaration: missing names or functions, attributes that are not
// exactly one of required / optional / computed, defaults of the wrong type, and so on. NewProviderServer
// panics with the same error; a provider's unit test can call Validate directly.
func (p *Provider) Validate() error {
	var errs []error
	if !typeName.MatchString(p.Name) {
		errs = append(errs, fmt.Errorf("provider name %q: want lower case letters, digits and _", p.Name))
	}
	if err := newObject(p.Config).check("config.", false); err != nil {
		errs = append(errs, err)
	}
	for _, name := range slices.Sorted(maps.Keys(p.Resources)) {
		r := p.Resources[name]
		switch {
		case !typeName.MatchString(name):
			errs = append(errs, fmt.Errorf("resource type %q: want lower case letters, digits and _", name))
		case r == nil:
			errs = append(errs, fmt.Errorf("resource type %s: nil", name))
			continue
		case r.Create == nil:
			errs = append(errs, fmt.Errorf("resource type %s: Create is required", name))
		}
		if id := r.Attributes["id"]; id != nil && (!id.Computed || id.Type.kind != plugins.String) {
			errs = append(errs, fmt.Errorf("resource type %s: id must be a computed string", name))
		}
		if err := newObject(r.Attributes).check(name+".", false); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
