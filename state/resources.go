package state

import (
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"runtime/debug"
	"slices"

	"github.com/provhq/prov/internal/value"
)

// ProvVersion is the prov version recorded in new states and lock info. The CLI sets it at start-up (or
// the linker with -X); when empty, the main module's version from the build info is used.
var ProvVersion string

// Version returns the prov version to record: ProvVersion, else the module version of the binary, else
// "dev".
func Version() string {
	if ProvVersion != "" {
		return ProvVersion
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// Sentinel errors of the address helpers (Move, Remove).
var (
	// ErrNoResource means the state has no resource at the address.
	ErrNoResource = errors.New("no resource at this address")
	// ErrResourceExists means the address is already taken.
	ErrResourceExists = errors.New("a resource already exists at this address")
)

// New returns an empty state with a fresh random lineage and serial 0.
func New() *State {
	return &State{
		Version:     FormatVersion,
		Lineage:     NewLineage(),
		ProvVersion: Version(),
		Resources:   map[string]*Resource{},
	}
}

// NewLineage returns a random lineage (a version 4 UUID). Lineages identify the history of one state: two
// states with different lineages never describe the same infrastructure.
func NewLineage() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand panics instead)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Resource returns the resource at addr, or nil. The result is shared with the state: treat it as
// read-only and change the state through SetResource.
func (s *State) Resource(addr string) *Resource {
	return s.Resources[addr]
}

// SetResource stores r at addr, replacing what was there. The state takes ownership of r. A nil r removes
// the address.
func (s *State) SetResource(addr string, r *Resource) {
	if r == nil {
		delete(s.Resources, addr)
		return
	}
	if s.Resources == nil {
		s.Resources = map[string]*Resource{}
	}
	s.Resources[addr] = r
}

// RemoveResource deletes the resource at addr, if any, and reports whether there was one.
func (s *State) RemoveResource(addr string) bool {
	_, ok := s.Resources[addr]
	delete(s.Resources, addr)
	return ok
}

// Addresses returns the addresses of all resources, sorted.
func (s *State) Addresses() []string {
	return slices.Sorted(maps.Keys(s.Resources))
}

// Output returns the root output called name, or nil.
func (s *State) Output(name string) *Output {
	return s.Outputs[name]
}

// SetOutput stores the root output called name; a nil o removes it.
func (s *State) SetOutput(name string, o *Output) {
	if o == nil {
		delete(s.Outputs, name)
		return
	}
	if s.Outputs == nil {
		s.Outputs = map[string]*Output{}
	}
	s.Outputs[name] = o
}

// NextSerial increments the serial and returns the new one. Every state written after a change carries a
// serial one higher than the state it was computed from; Fold does not bump it, its caller does.
func (s *State) NextSerial() uint64 {
	s.Serial++
	return s.Serial
}

// Clone returns a deep copy of s.
func (s *State) Clone() *State {
	if s == nil {
		return nil
	}
	c := *s
	c.Resources = make(map[string]*Resource, len(s.Resources))
	for a, r := range s.Resources {
		c.Resources[a] = r.Clone()
	}
	if s.Outputs != nil {
		c.Outputs = make(map[string]*Output, len(s.Outputs))
		for n, o := range s.Outputs {
			c.Outputs[n] = o.Clone()
		}
	}
	return &c
}

// Clone returns a deep copy of r.
func (r *Resource) Clone() *Resource {
	if r == nil {
		return nil
	}
	c := *r
	c.Config = value.Copy(r.Config)
	c.Attributes = value.Copy(r.Attributes)
	if r.Sensitive != nil {
		c.Sensitive = make([]value.Path, len(r.Sensitive))
		for i, p := range r.Sensitive {
			c.Sensitive[i] = slices.Clone(p)
		}
	}
	c.Dependencies = slices.Clone(r.Dependencies)
	return &c
}

// Clone returns a deep copy of o.
func (o *Output) Clone() *Output {
	if o == nil {
		return nil
	}
	c := *o
	c.Value = value.Copy(o.Value)
	return &c
}

// Move renames the resource at from to to (prov state mv). Resources that depended on from now depend on
// to. It fails with ErrNoResource when from is missing and ErrResourceExists when to is taken.
func (s *State) Move(from, to string) error {
	r, ok := s.Resources[from]
	if !ok {
		return fmt.Errorf("state: move %s: %w", from, ErrNoResource)
	}
	if from == to {
		return nil
	}
	if _, taken := s.Resources[to]; taken {
		return fmt.Errorf("state: move %s to %s: %w", from, to, ErrResourceExists)
	}
	delete(s.Resources, from)
	s.Resources[to] = r
	for _, other := range s.Resources {
		for i, d := range other.Dependencies {
			if d == from {
				other.Dependencies[i] = to
			}
		}
	}
	return nil
}

// Remove deletes the resource at addr (prov state rm): prov forgets it without destroying it. It fails
// with ErrNoResource when there is none.
func (s *State) Remove(addr string) error {
	if !s.RemoveResource(addr) {
		return fmt.Errorf("state: remove %s: %w", addr, ErrNoResource)
	}
	return nil
}
