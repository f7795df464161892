// Package document loads and checks prov's configuration document (DESIGN §3): the JSON that a Nickel
// configuration exports, or a .json file. Load validates addresses, references, depends_on, lifecycle
// and outputs, expands the high-level sections (servers, taskservs) into resources with stable addresses,
// and reports every problem as a diagnostic with the data path and, for Nickel sources, the position.
// Resolve substitutes ${…} references against known values.
package document

import (
	"github.com/provhq/prov/internal/value"
)

// Document is a loaded, validated configuration.
type Document struct {
	Settings  Settings
	Providers map[string]*Provider
	// Resources by address, including those expanded from servers and taskservs.
	Resources map[string]*Resource
	Outputs   map[string]*Output
	// Workflows are kept as written, for the workflow runner.
	Workflows map[string]any
	// Digest is the SHA-256 (hex) of the canonical JSON of the document.
	Digest string
	// Invalid holds, in a document loaded with LoadOptions.Partial despite errors, the addresses of the
	// resources whose entries (or whose server's or provider's entries) have errors. They stay in
	// Resources so that references to them still resolve, but nothing should be validated or planned
	// from them.
	Invalid map[string]bool
	// source finds where data paths were written (see Pos).
	source *sourceMap
}

// Settings are the document's engine settings.
type Settings struct {
	Parallelism       int  `json:"parallelism,omitempty"`
	RollbackOnFailure bool `json:"rollback_on_failure,omitempty"`
}

// Provider is one entry of the providers section.
type Provider struct {
	Name    string
	Source  string // "builtin/local", "acme.example/acme"
	Version string
	Config  any
}

// Resource is one declared resource.
type Resource struct {
	Addr     string
	Type     string
	Provider string // provider name (key of Providers, or an implied builtin such as "local")
	// Config as written, with ${…} references still in its strings.
	Config    map[string]any
	DependsOn []string // explicit depends_on
	Lifecycle Lifecycle
	// References are the resolved references found in Config, in order of appearance.
	References []Reference
}

// Lifecycle is a resource's lifecycle block.
type Lifecycle struct {
	PreventDestroy      bool     `json:"prevent_destroy,omitempty"`
	CreateBeforeDestroy bool     `json:"create_before_destroy,omitempty"`
	IgnoreChanges       []string `json:"ignore_changes,omitempty"`
}

// Output is a root output.
type Output struct {
	Name        string
	Value       any // as written, may hold references
	Sensitive   bool
	Description string
	References  []Reference
}

// Reference is one ${ADDR.attr.path} found in a string: Addr is the longest prefix that names a resource,
// Path the attribute path inside it.
type Reference struct {
	Addr string
	Path value.Path
	// Text is the reference as written, without ${ and }.
	Text string
}
