package secrets

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/state"
)

// Backend keeps secrets out of a state backend's files. A resource's configuration is stored with its
// {"$secret": …} references (the engine never resolves them into the state); a provider that echoes a
// secret into its attributes, or an output that shows one, would still put the secret's bytes on disk,
// so on the way in Backend puts the reference back wherever a value equals a secret a configuration
// refers to, and on the way out it resolves those references again. Callers see what the provider
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
	for name, o := range s.Outputs {
		if len(refPaths(o.Value)) == 0 {
			continue
		}
		v, _, diags := b.Resolver.Resolve(o.Value, "outputs."+name)
		if err := diags.Err(); err != nil {
			return nil, fmt.Errorf("state: output %s: %w", name, err)
		}
		if revealed == s {
			revealed = s.Clone()
		}
		no := o.Clone()
		no.Value = v
		revealed.Outputs[name] = no
	}
	return revealed, nil
}

// Write implements state.Writer, redacting echoed secrets.
func (b *Backend) Write(ctx context.Context, s *state.State) error {
	redacted := s
	var all []secretPair
	for addr, r := range s.Resources {
		all = append(all, b.pairs(r)...)
		if nr := b.redact(r); nr != r {
			if redacted == s {
				redacted = s.Clone()
			}
			redacted.Resources[addr] = nr
		}
	}
	for name, o := range s.Outputs {
		if v, ok := replaceSecrets(o.Value, all); ok {
			if redacted == s {
				redacted = s.Clone()
			}
			no := o.Clone()
			no.Value = v
			redacted.Outputs[name] = no
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
		if o := recs[i].Output; o != nil && len(refPaths(o.Value)) > 0 {
			v, _, diags := b.Resolver.Resolve(o.Value, "outputs."+recs[i].Name)
			if err := diags.Err(); err != nil {
				return nil, false, fmt.Errorf("journal: output %s: %w", recs[i].Name, err)
			}
			no := o.Clone()
			no.Value = v
			recs[i].Output = no
		}
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

	mu    sync.Mutex
	pairs []secretPair // every secret seen so far, for output records
}

// Append implements state.JournalWriter, redacting echoed secrets.
func (w *journalWriter) Append(rec state.Record) error {
	for _, r := range []**state.Resource{&rec.Prior, &rec.New} {
		if *r == nil {
			continue
		}
		if pairs := w.b.pairs(*r); len(pairs) > 0 {
			w.mu.Lock()
			w.pairs = append(w.pairs, pairs...)
			w.mu.Unlock()
			*r = w.b.redact(*r)
		}
	}
	if rec.Output != nil {
		w.mu.Lock()
		v, ok := replaceSecrets(rec.Output.Value, w.pairs)
		w.mu.Unlock()
		if ok {
			o := rec.Output.Clone()
			o.Value = v
			rec.Output = o
		}
	}
	return w.JournalWriter.Append(rec)
}

// secretPair is a secret reference and the value it resolves to.
type secretPair struct{ ref, secret any }

// pairs lists the secrets r's configuration refers to, with their values.
func (b *Backend) pairs(r *state.Resource) []secretPair {
	var out []secretPair
	for _, p := range refPaths(r.Config) {
		ref, _ := value.Get(r.Config, p)
		secret, _, diags := b.Resolver.Resolve(ref, "")
		if !diags.HasErrors() {
			out = append(out, secretPair{ref, secret})
		}
	}
	return out
}

// redact returns r with every attribute value that equals a secret its configuration refers to — where
// the provider echoed it, or copied it into a computed attribute — replaced by that reference; r itself
// when there is none. Reveal resolves the references again, so nothing is lost.
func (b *Backend) redact(r *state.Resource) *state.Resource {
	pairs := b.pairs(r)
	if len(pairs) == 0 {
		return r
	}
	attrs, changed := replaceSecrets(r.Attributes, pairs)
	if !changed {
		return r
	}
	nr := r.Clone()
	nr.Attributes = attrs
	return nr
}

// replaceSecrets returns v with every value equal to one of the secrets replaced by its reference,
// copying only what changes.
func replaceSecrets(v any, pairs []secretPair) (any, bool) {
	if v == nil {
		return v, false
	}
	for _, p := range pairs {
		if value.Equal(v, p.secret) {
			return value.Copy(p.ref), true
		}
	}
	switch x := v.(type) {
	case map[string]any:
		var out map[string]any
		for k, e := range x {
			if ne, ok := replaceSecrets(e, pairs); ok {
				if out == nil {
					out = maps.Clone(x)
				}
				out[k] = ne
			}
		}
		if out != nil {
			return out, true
		}
	case []any:
		var out []any
		for i, e := range x {
			if ne, ok := replaceSecrets(e, pairs); ok {
				if out == nil {
					out = slices.Clone(x)
				}
				out[i] = ne
			}
		}
		if out != nil {
			return out, true
		}
	}
	return v, false
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
