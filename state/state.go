// Package state is prov's record of what exists: a versioned State (lineage, serial, resources, outputs),
// the storage interfaces every backend implements (Reader, Writer, Locker, and the Journal store), and
// the local file backend. State is changed only through its methods.
package state

import (
	"github.com/provhq/prov/internal/value"
)

// FormatVersion is the version of the state file format this build writes.
const FormatVersion = 1

// State is the record of managed resources after the last apply.
type State struct {
	Version     int    `json:"version"`
	Lineage     string `json:"lineage"`
	Serial      uint64 `json:"serial"`
	ProvVersion string `json:"prov_version"`
	// Resources by address.
	Resources map[string]*Resource `json:"resources"`
	Outputs   map[string]*Output   `json:"outputs,omitempty"`
}

// Resource is one managed object.
type Resource struct {
	Type     string `json:"type"`
	Provider string `json:"provider"`
	// Config is the resolved configuration it was last applied with.
	Config any `json:"config,omitempty"`
	// Attributes is the provider's state of the object (fully known).
	Attributes any `json:"attributes"`
	// Sensitive lists attribute paths whose values must never be shown.
	Sensitive []value.Path `json:"sensitive,omitempty"`
	// Dependencies are the addresses this resource directly depends on (for ordering deletes).
	Dependencies []string `json:"dependencies,omitempty"`
	// MonthlyCost is the provider's estimate of the object's monthly cost in USD when it was last
	// applied, if it gave one: what a plan that changes or destroys it saves.
	MonthlyCost *float64 `json:"monthly_cost,omitempty"`
}

// Output is a root output value.
type Output struct {
	Value     any  `json:"value"`
	Sensitive bool `json:"sensitive,omitempty"`
}
