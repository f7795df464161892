// Package plan computes and stores what an apply will do: Make compares the desired document with the
// prior state, asks each resource's provider for its planned state, and returns a Plan, a DAG of
// Changes ordered by dependency. A Plan is written to and read from a versioned, self-contained plan file.
package plan

import (
	"github.com/provhq/prov/internal/value"
)

// Action is what a Change does to its resource.
type Action rune

// The actions. Before and After of a Change, per action:
//
//	NoOp             Before = After = current state
//	Create           Before = nil, After = planned state
//	Read             Before = prior (or nil), After = planned state (data sources)
//	Update           Before = prior state, After = planned state
//	DeleteThenCreate Before = prior state, After = planned state of the replacement
//	CreateThenDelete like DeleteThenCreate, with the replacement created first (create_before_destroy)
//	Delete           Before = prior state, After = nil
const (
	NoOp             Action = 0
	Create           Action = '+'
	Read             Action = '←'
	Update           Action = '~'
	DeleteThenCreate Action = '∓'
	CreateThenDelete Action = '±'
	Delete           Action = '-'
)

// IsReplace reports whether a is one of the two replace actions.
func (a Action) IsReplace() bool { return a == DeleteThenCreate || a == CreateThenDelete }

// Change is the planned change of one resource.
type Change struct {
	Addr     string `json:"address"`
	Type     string `json:"type"`
	Provider string `json:"provider"`
	Action   Action `json:"action"`
	// Before is the prior state's attributes; After the planned attributes (may hold value.Unknown).
	Before any `json:"-"`
	After  any `json:"-"`
	// Config is the desired configuration as written, with ${…} references unresolved; the walker
	// resolves it against the applied state of the dependencies just before the Apply.
	Config          any          `json:"-"`
	BeforeSensitive []value.Path `json:"before_sensitive,omitempty"`
	AfterSensitive  []value.Path `json:"after_sensitive,omitempty"`
	ReplacePaths    []value.Path `json:"replace_paths,omitempty"`
	// DependsOn are the addresses of resources this one depends on (explicit and from references).
	DependsOn []string `json:"depends_on,omitempty"`
	// Reason says why, for replaces requested by -replace or deletes of resources no longer declared.
	Reason string `json:"reason,omitempty"`
	// MonthlyCost is the provider's estimate of the planned object's monthly cost in USD;
	// BeforeMonthlyCost the estimate recorded when the prior object was applied. Either may be unknown.
	MonthlyCost       *float64 `json:"monthly_cost,omitempty"`
	BeforeMonthlyCost *float64 `json:"before_monthly_cost,omitempty"`
}

// FormatVersion is the version of the plan file format this build writes.
const FormatVersion = 1

// Plan is the full set of changes for one apply, with what is needed to check it is still valid.
type Plan struct {
	FormatVersion int    `json:"format_version"`
	ProvVersion   string `json:"prov_version"`
	// Lineage and Serial of the prior state the plan was made against; apply refuses if they changed.
	Lineage string `json:"lineage"`
	Serial  uint64 `json:"serial"`
	// DocumentDigest is the SHA-256 of the evaluated document.
	DocumentDigest string `json:"document_digest"`
	// PluginChecksums maps a plugin name to the SHA-256 of its binary, from prov.lock.json.
	PluginChecksums map[string]string `json:"plugin_checksums,omitempty"`
	Destroy         bool              `json:"destroy,omitempty"`
	// Changes by address, every resource in desired ∪ prior (NoOps included, so the plan is the full
	// picture the walker and the renderers need).
	Changes map[string]*Change       `json:"-"`
	Outputs map[string]*OutputChange `json:"-"`
	// Providers is the provider configuration (source, version, config) by provider name, so an apply of
	// a saved plan needs no document.
	Providers map[string]ProviderConfig `json:"providers,omitempty"`
	// Settings from the document that affect apply.
	Parallelism       int  `json:"parallelism,omitempty"`
	RollbackOnFailure bool `json:"rollback_on_failure,omitempty"`
}

// ProviderConfig is one entry of the document's providers section.
type ProviderConfig struct {
	Source  string `json:"source"`
	Version string `json:"version,omitempty"`
	Config  any    `json:"config,omitempty"`
}

// OutputChange is the planned change of a root output. Value is unresolved (may hold ${…}); After is the
// value when it is known at plan time.
type OutputChange struct {
	Name      string `json:"name"`
	Action    Action `json:"action"`
	Before    any    `json:"-"`
	After     any    `json:"-"`
	Value     any    `json:"-"`
	Sensitive bool   `json:"sensitive,omitempty"`
}
