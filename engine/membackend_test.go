package engine

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/provhq/prov/state"
)

// memBackend keeps state and journal in memory: the walker's own cost, without the disk's.
type memBackend struct {
	mu      sync.Mutex
	st      *state.State
	journal []*state.Record
	open    bool
}

var _ state.Backend = (*memBackend)(nil)

func (m *memBackend) Read(context.Context) (*state.State, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.st == nil {
		m.st = state.New()
	}
	return m.st.Clone(), nil
}

func (m *memBackend) Write(_ context.Context, s *state.State) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.st = s.Clone()
	return nil
}

func (m *memBackend) Lock(context.Context, state.LockInfo, time.Duration) (string, error) {
	return "mem", nil
}
func (m *memBackend) Unlock(string) error      { return nil }
func (m *memBackend) ForceUnlock(string) error { return nil }

func (m *memBackend) Create(_ context.Context, begin state.Record) (state.JournalWriter, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.open {
		return nil, errors.New("journal exists")
	}
	m.open, m.journal = true, []*state.Record{&begin}
	return m, nil
}

func (m *memBackend) Open(context.Context) (state.JournalWriter, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.open {
		return nil, errors.New("no journal")
	}
	return m, nil
}

func (m *memBackend) Records(context.Context) ([]state.Record, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	recs := make([]state.Record, len(m.journal))
	for i, r := range m.journal {
		recs[i] = *r
	}
	return recs, m.open, nil
}

func (m *memBackend) Remove(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.open, m.journal = false, nil
	return nil
}

func (m *memBackend) Append(rec state.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.journal = append(m.journal, &rec)
	return nil
}

func (m *memBackend) Close() error { return nil }
