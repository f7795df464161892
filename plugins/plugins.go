// Package plugins is what the engine sees of a plugin: the Provider and Taskserv interfaces and their
// request and response types, in plain Go. The same interfaces are implemented by the gRPC client of an
// out-of-process plugin (plugins/host), by the SDK in process (sdk), and by test fakes, so the planner
// and the walker never know which one they talk to.
//
// Values are value package values (decoded JSON with Unknown marks). Problems the plugin reports travel
// as diag.Diagnostics in the responses; a method returns a Go error only for transport failure (the
// plugin crashed, hung or could not be reached).
package plugins

import (
	"context"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/value"
)

// ProtocolVersion is the plugin protocol version this build speaks.
const ProtocolVersion = 1

// Type is an attribute's type.
type Type struct {
	Kind Kind `json:"kind"`
	// Elem is the element type of a List or Map.
	Elem *Type `json:"elem,omitempty"`
	// Attributes are the fields of an Object.
	Attributes map[string]*Attribute `json:"attributes,omitempty"`
}

// Kind is the kind of a Type.
type Kind string

// The attribute kinds.
const (
	String  Kind = "string"
	Number  Kind = "number"
	Bool    Kind = "bool"
	List    Kind = "list"
	Map     Kind = "map"
	Object  Kind = "object"
	Dynamic Kind = "dynamic" // any JSON value
)

// Attribute describes one attribute of a resource type or of a provider's configuration.
type Attribute struct {
	Type        Type   `json:"type"`
	Description string `json:"description,omitempty"`
	Required    bool   `json:"required,omitempty"`
	Optional    bool   `json:"optional,omitempty"`
	Computed    bool   `json:"computed,omitempty"`
	ForceNew    bool   `json:"force_new,omitempty"`
	Sensitive   bool   `json:"sensitive,omitempty"`
	Default     any    `json:"default,omitempty"`
}

// ResourceSchema describes one resource type.
type ResourceSchema struct {
	Description string                `json:"description,omitempty"`
	Attributes  map[string]*Attribute `json:"attributes"`
	// Importable says the type implements Import.
	Importable bool `json:"importable,omitempty"`
	// DataSource says the type is read-only (planned as a read).
	DataSource bool `json:"data_source,omitempty"`
}

// ProviderSchema is everything a provider declares about itself.
type ProviderSchema struct {
	Name      string                     `json:"name"`
	Version   string                     `json:"version"`
	Config    map[string]*Attribute      `json:"config,omitempty"`
	Resources map[string]*ResourceSchema `json:"resources"`
	// Concurrency is the most operations the provider wants in flight at once; 0 means no limit.
	Concurrency int `json:"concurrency,omitempty"`
	// Capabilities are optional features, e.g. "read_by_operation_id", "cost_estimate".
	Capabilities []string `json:"capabilities,omitempty"`
}

// PlanRequest asks for the planned new state of one resource.
type PlanRequest struct {
	Type string
	// Prior is the state's attributes, nil when the resource does not exist yet.
	Prior any
	// Config is the desired configuration with references resolved; it may hold Unknown. Nil means delete.
	Config any
}

// PlanResponse is the provider's plan for one resource.
type PlanResponse struct {
	// Planned is the new state after apply, with Unknown where it is not yet known.
	Planned any
	// RequiresReplace lists the attribute paths whose change forces replacement.
	RequiresReplace []value.Path
	// Sensitive lists the attribute paths whose values are sensitive.
	Sensitive []value.Path
	// MonthlyCost is the estimated monthly cost of the planned resource in USD, when the provider knows it.
	MonthlyCost *float64
	Diagnostics diag.Diagnostics
}

// ApplyRequest makes one planned change real.
type ApplyRequest struct {
	Type string
	// OperationID is unique per operation and stable across retries and resumes; providers use it as an
	// idempotency key (AWS ClientToken, UpCloud label, …).
	OperationID string
	Prior       any // nil for a create
	Planned     any // nil for a delete
	Config      any // nil for a delete; fully known
}

// ApplyResponse is the state after Apply. On failure New holds what exists (partial state), nil if nothing.
type ApplyResponse struct {
	New         any
	Sensitive   []value.Path
	Diagnostics diag.Diagnostics
}

// Progress is an event a provider streams during Apply.
type Progress struct {
	Message string
	Percent int // 0..100, or -1 when unknown
}

// ReadRequest reads the current state of a resource. When ID-based state is not available (an
// operation in doubt), OperationID names the Apply whose outcome is sought.
type ReadRequest struct {
	Type        string
	Current     any // last known state; nil when settling an operation in doubt
	OperationID string
}

// ReadResponse is the resource as it exists now; New is nil when it no longer exists.
type ReadResponse struct {
	New         any
	Sensitive   []value.Path
	Diagnostics diag.Diagnostics
}

// ImportRequest brings an existing object under management.
type ImportRequest struct {
	Type string
	ID   string
}

// ImportResponse is the imported object's state.
type ImportResponse struct {
	State       any
	Sensitive   []value.Path
	Diagnostics diag.Diagnostics
}

// Provider manages resources of some types. Implementations must be safe for concurrent use.
type Provider interface {
	Schema(ctx context.Context) (*ProviderSchema, diag.Diagnostics, error)
	// ValidateConfig checks a resource's configuration (typ non-empty) or the provider's own (typ "").
	ValidateConfig(ctx context.Context, typ string, config any) (diag.Diagnostics, error)
	Configure(ctx context.Context, config any) (diag.Diagnostics, error)
	Plan(ctx context.Context, req PlanRequest) (*PlanResponse, error)
	Apply(ctx context.Context, req ApplyRequest, progress func(Progress)) (*ApplyResponse, error)
	Read(ctx context.Context, req ReadRequest) (*ReadResponse, error)
	Import(ctx context.Context, req ImportRequest) (*ImportResponse, error)
	// Stop asks in-flight operations to end early; it returns without waiting for them.
	Stop(ctx context.Context) error
	// Close releases the plugin (ends its process, for an out-of-process plugin).
	Close() error
}

// Exec is the execution channel the host hands a taskserv: it runs commands and moves files on the
// target server. The plugin never holds the credentials behind it.
type Exec interface {
	Run(ctx context.Context, cmd ExecCommand) (*ExecResult, error)
	PutFile(ctx context.Context, path string, data []byte, mode uint32) error
	GetFile(ctx context.Context, path string) ([]byte, error)
}

// ExecCommand is one command to run on the target.
type ExecCommand struct {
	Command string // run by /bin/sh -c
	Stdin   []byte
	Env     map[string]string
	Dir     string
}

// ExecResult is the outcome of an ExecCommand.
type ExecResult struct {
	Stdout, Stderr []byte
	ExitCode       int
}

// TaskservDescription is what a taskserv says about itself.
type TaskservDescription struct {
	Name         string                `json:"name"`
	Category     string                `json:"category,omitempty"`
	Versions     []string              `json:"versions"`
	Dependencies []string              `json:"dependencies,omitempty"`
	Conflicts    []string              `json:"conflicts,omitempty"`
	Config       map[string]*Attribute `json:"config,omitempty"`
}

// TaskservRequest addresses one install of a taskserv on one server.
type TaskservRequest struct {
	OperationID string
	Version     string
	Config      any
	// Server is the target server's state (hostname, address, …).
	Server any
	// Prior is the install's state from the last apply, nil if not installed.
	Prior any
}

// TaskservPlan says what Install would do.
type TaskservPlan struct {
	Planned     any
	Changed     bool
	Steps       []string
	Diagnostics diag.Diagnostics
}

// TaskservResult is the outcome of Install, Check or Remove.
type TaskservResult struct {
	State       any
	Healthy     bool
	Output      string
	Diagnostics diag.Diagnostics
}

// Taskserv installs one service on servers through an Exec channel. Implementations must be safe for
// concurrent use.
type Taskserv interface {
	Describe(ctx context.Context) (*TaskservDescription, error)
	Plan(ctx context.Context, req TaskservRequest, exec Exec) (*TaskservPlan, error)
	Install(ctx context.Context, req TaskservRequest, exec Exec, progress func(Progress)) (*TaskservResult, error)
	Check(ctx context.Context, req TaskservRequest, exec Exec) (*TaskservResult, error)
	Remove(ctx context.Context, req TaskservRequest, exec Exec) (*TaskservResult, error)
	Close() error
}
