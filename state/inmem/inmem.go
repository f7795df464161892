// Package inmem is a state backend held in memory: state, lock and journal live only as long as the
// Backend. It is for tests of the engine and the CLI that need a real backend without files, and it
// stores what it is given in encoded form, so callers cannot share memory with it by accident.
package inmem

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/provhq/prov/state"
)

// Backend is an in-memory state.Backend. The zero value is not usable; call New.
type Backend struct {
	mu       sync.Mutex
	stored   []byte // encoded state; nil: none yet
	lock     *state.LockInfo
	released chan struct{} // closed when the current lock is released
	journal  [][]byte      // encoded records; nil: no journal
}

var _ state.Backend = (*Backend)(nil)

// New returns an empty backend.
func New() *Backend { return &Backend{} }

// Read returns a copy of the stored state, or a new empty state.
func (b *Backend) Read(ctx context.Context) (*state.State, error) {
	b.mu.Lock()
	data := b.stored
	b.mu.Unlock()
	if data == nil {
		return state.New(), nil
	}
	return state.Decode(data, "inmem")
}

// Write stores a copy of s.
func (b *Backend) Write(ctx context.Context, s *state.State) error {
	data, err := s.Encode()
	if err != nil {
		return fmt.Errorf("state: write: %w", err)
	}
	b.mu.Lock()
	b.stored = data
	b.mu.Unlock()
	return nil
}

// Lock takes the lock, waiting up to timeout for its holder to release it.
func (b *Backend) Lock(ctx context.Context, info state.LockInfo, timeout time.Duration) (string, error) {
	if info.ID == "" {
		info.ID = state.NewLineage()
	}
	if info.PID == 0 {
		info.PID = os.Getpid()
	}
	if info.Who == "" {
		info.Who = "inmem"
	}
	if info.Created.IsZero() {
		info.Created = time.Now().UTC()
	}
	if info.Version == "" {
		info.Version = state.Version()
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		b.mu.Lock()
		if b.lock == nil {
			b.lock = &info
			b.released = make(chan struct{})
			b.mu.Unlock()
			return info.ID, nil
		}
		holder, released := *b.lock, b.released
		b.mu.Unlock()
		if timeout <= 0 {
			return "", &state.LockError{Holder: holder}
		}
		select {
		case <-released:
		case <-timer.C:
			return "", &state.LockError{Holder: holder, Err: fmt.Errorf("still locked after waiting %v", timeout)}
		case <-ctx.Done():
			return "", &state.LockError{Holder: holder, Err: ctx.Err()}
		}
	}
}

// Unlock releases the lock with the given ID.
func (b *Backend) Unlock(id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lock == nil || b.lock.ID != id {
		return fmt.Errorf("state: unlock: lock ID %s is not held", id)
	}
	b.lock = nil
	close(b.released)
	return nil
}

// ForceUnlock releases the lock with the given ID, whoever holds it.
func (b *Backend) ForceUnlock(id string) error {
	b.mu.Lock()
	held := b.lock
	b.mu.Unlock()
	switch {
	case held == nil:
		return fmt.Errorf("state: force-unlock %s: the state is not locked", id)
	case held.ID != id:
		return fmt.Errorf("state: force-unlock %s: the lock is held with ID %s by %s; the IDs must match", id, held.ID, held.Who)
	}
	return b.Unlock(id)
}

// Create starts a journal whose first record is begin.
func (b *Backend) Create(ctx context.Context, begin state.Record) (state.JournalWriter, error) {
	if begin.Kind != state.Begin {
		return nil, fmt.Errorf("state: create journal: first record is %q, want %q", begin.Kind, state.Begin)
	}
	data, err := encode(begin)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.journal != nil {
		return nil, fmt.Errorf("state: create journal: %w", state.ErrJournalExists)
	}
	b.journal = [][]byte{data}
	return &writer{b: b}, nil
}

// Open reopens the journal for appending; a torn last record is dropped first.
func (b *Backend) Open(ctx context.Context) (state.JournalWriter, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.journal == nil {
		return nil, errors.New("state: open journal: no journal")
	}
	recs, err := decodeAll(b.journal)
	if err != nil {
		return nil, fmt.Errorf("state: open journal: %w", err)
	}
	b.journal = b.journal[:len(recs)]
	return &writer{b: b}, nil
}

// Records returns the journal's records; a torn last record is dropped.
func (b *Backend) Records(ctx context.Context) ([]state.Record, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.journal == nil {
		return nil, false, nil
	}
	recs, err := decodeAll(b.journal)
	if err != nil {
		return nil, true, fmt.Errorf("state: read journal: %w", err)
	}
	return recs, true, nil
}

// Remove deletes the journal.
func (b *Backend) Remove(ctx context.Context) error {
	b.mu.Lock()
	b.journal = nil
	b.mu.Unlock()
	return nil
}

// TearJournal cuts the last journal record short, as a crash in the middle of writing it would.
func (b *Backend) TearJournal() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n := len(b.journal); n > 0 {
		last := b.journal[n-1]
		b.journal[n-1] = last[:len(last)/2]
	}
}

func encode(rec state.Record) ([]byte, error) {
	if rec.Time.IsZero() {
		rec.Time = time.Now().UTC()
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("state: encode %s record: %w", rec.Kind, err)
	}
	return data, nil
}

// decodeAll decodes the records; a bad last one is torn and left out, a bad one before it is an error.
func decodeAll(journal [][]byte) ([]state.Record, error) {
	recs := make([]state.Record, 0, len(journal))
	for i, data := range journal {
		var rec state.Record
		if err := json.Unmarshal(data, &rec); err != nil {
			if i == len(journal)-1 {
				break
			}
			return nil, fmt.Errorf("record %d is corrupt: %w", i+1, err)
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

type writer struct {
	b      *Backend
	mu     sync.Mutex
	closed bool
}

// Append adds rec to the journal.
func (w *writer) Append(rec state.Record) error {
	data, err := encode(rec)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errors.New("state: append: journal writer closed")
	}
	w.b.mu.Lock()
	defer w.b.mu.Unlock()
	if w.b.journal == nil {
		return errors.New("state: append: the journal was removed")
	}
	w.b.journal = append(w.b.journal, data)
	return nil
}

// Close ends appending.
func (w *writer) Close() error {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	return nil
}
