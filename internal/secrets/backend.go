package secrets

import (
	"context"
	"fmt"
	"slices"

	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/state"
)

// Backend keeps secrets out of a state backend's files. A resource's configuration is stored with its
// {"$secret": …} references (the engine never resolves them into the state); a provider that echoes a
// secret into its attributes would still put the secret's bytes on disk, so on the way in Backend puts
// the reference back wherever an attribute holds exactly the secret its configuration refers to at the
// same path, and on the way out it resolves those references again. Callers see what the provider
// returned; the files — state, backup, journal — see only references.
type Backend struct {
	state.Backend
	Resolver *Resolver
}

var _ state.Backend = (*Backend)(nil)

// NewBackend wraps b.
func NewBackend(b state.Backend, r *Resolver) *Backend { return &Backend{Backend: b, Resolver: r} }

// Read implements state.Reader, revealing redacted attributes.
func (b *Backend) Read(ctx context.Context) (*state.State, error) {
	s, err := b.Backend.Read(ctx)
	if err != nil || s == nil {
		return s, err
	}
	revealed := s
	for addr, r := range s.Resources {
		nr, err := b.reveal(r)
		if err != nil {
			return nil, fmt.Errorf("state: %s: %w", addr, err)
		}
		if nr != r {
			if revealed == s {
				revealed = s.Clone()
			}
			revealed.Resources[addr] = nr
		}
	}
	return revealed, nil
}

// Write implements state.Writer, redacting echoed secrets.
func (b *Backend) Write(ctx context.Context, s *state.State) error {
	redacted := s
	for addr, r := range s.Resources {
		if nr := b.redact(r); nr != r {
			if redacted == s {
				redacted = s.Clone()
			}
			redacted.Resources[addr] = nr
		}
	}
	return b.Backend.Write(ctx, redacted)
}

// Create implements state.JournalStore.
func (b *Backend) Create(ctx context.Context, begin state.Record) (state.JournalWriter, error) {
	w, err := b.Backend.Create(ctx, begin)
	if err != nil {
		return nil, err
	}
	return &journalWriter{JournalWriter: w, b: b}, nil
}

// Open implements state.JournalStore.
func (b *Backend) Open(ctx context.Context) (state.JournalWriter, error) {
	w, err := b.Backend.Open(ctx)
	if err != nil {
		return nil, err
	}
	return &journalWriter{JournalWriter: w, b: b}, nil
}

// Records implements state.JournalStore, revealing redacted resources.
func (b *Backend) Records(ctx context.Context) ([]state.Record, bool, error) {
	recs, ok, err := b.Backend.Records(ctx)
	if err != nil || !ok {
		return recs, ok, err
	}
	for i := range recs {
		for _, r := range []**state.Resource{&recs[i].Prior, &recs[i].New} {
			if *r == nil {
				continue
			}
			if *r, err = b.reveal(*r); err != nil {
				return nil, false, fmt.Errorf("journal: %s: %w", recs[i].Addr, err)
			}
		}
	}
	return recs, true, nil
}

type journalWriter struct {
	state.JournalWriter
	b *Backend
}

// Append implements state.JournalWriter, redacting echoed secrets.
func (w *journalWriter) Append(rec state.Record) error {
	if rec.Prior != nil {
		rec.Prior = w.b.redact(rec.Prior)
	}
	if rec.New != nil {
		rec.New = w.b.redact(rec.New)
	}
	return w.JournalWriter.Append(rec)
}

// redact returns r with every attribute that equals the secret its configuration refers to at the same
// path replaced by that reference; r itself when there is none.
func (b *Backend) redact(r *state.Resource) *state.Resource {
	refs := refPaths(r.Config)
	if len(refs) == 0 {
		return r
	}
	attrs := r.Attributes
	for _, p := range refs {
		held, ok := value.Get(attrs, p)
		if !ok || held == nil {
			continue
		}
		ref, _ := value.Get(r.Config, p)
		secret, _, diags := b.Resolver.Resolve(ref, "")
		if diags.HasErrors() || !value.Equal(held, secret) {
			continue
		}
		if next, err := value.Set(attrs, p, value.Copy(ref)); err == nil {
			attrs = next
		}
	}
	if value.Equal(attrs, r.Attributes) {
		return r
	}
	nr := r.Clone()
	nr.Attributes = attrs
	return nr
}

// reveal resolves the references redact put into r's attributes.
func (b *Backend) reveal(r *state.Resource) (*state.Resource, error) {
	if len(refPaths(r.Attributes)) == 0 {
		return r, nil
	}
	attrs, paths, diags := b.Resolver.Resolve(r.Attributes, "attributes")
	if err := diags.Err(); err != nil {
		return nil, err
	}
	nr := r.Clone()
	nr.Attributes = attrs
	for _, p := range paths {
		if !slices.ContainsFunc(nr.Sensitive, func(q value.Path) bool { return slices.Equal(p, q) }) {
			nr.Sensitive = append(nr.Sensitive, p)
		}
	}
	return nr, nil
}

// refPaths lists the paths in v that hold a secret reference.
func refPaths(v any) []value.Path {
	var out []value.Path
	value.Walk(v, func(p value.Path, x any) bool {
		if _, ok, _ := ParseRef(x); ok {
			out = append(out, p)
			return false
		}
		return true
	})
	return out
}
