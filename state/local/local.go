package local

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/provhq/prov/state"
)

// The file names in a backend's directory.
const (
	StateFile   = "prov.state.json"
	BackupFile  = "prov.state.json.backup"
	JournalFile = "prov.state.journal"
	LockFile    = "prov.state.lock"
	LockInfo    = "prov.state.lock.info"
)

// Options configure a Backend.
type Options struct {
	// Codec encodes the state, its backup and every journal record at rest (for example, encryption).
	// nil stores plain JSON.
	Codec state.Codec
}

// Backend stores state, lock and journal in one directory. It is safe for concurrent use.
type Backend struct {
	dir  string
	opts Options

	mu sync.Mutex // serializes Write; guards the lock fields
	lk *heldLock
}

var _ state.Backend = (*Backend)(nil)

// New returns the backend for dir. Nothing is created until state is written or a lock taken; dir must
// exist by then.
func New(dir string, opts Options) *Backend {
	return &Backend{dir: dir, opts: opts}
}

// Dir returns the backend's directory.
func (b *Backend) Dir() string { return b.dir }

func (b *Backend) path(name string) string { return filepath.Join(b.dir, name) }

// Read returns the stored state, or a new empty one when there is none. A state file that does not
// decode is an error wrapping state.ErrCorrupt.
func (b *Backend) Read(ctx context.Context) (*state.State, error) {
	data, err := os.ReadFile(b.path(StateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return state.New(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("state: read: %w", err)
	}
	return b.decodeState(data)
}

func (b *Backend) decodeState(data []byte) (*state.State, error) {
	name := b.path(StateFile)
	if b.opts.Codec != nil {
		plain, err := b.opts.Codec.Decode(data)
		if err != nil {
			return nil, &state.DecodeError{Name: name, Err: fmt.Errorf("codec: %w", err)}
		}
		data = plain
	}
	return state.Decode(data, name)
}

// Write replaces the stored state atomically and keeps the one it replaces as prov.state.json.backup.
// It refuses to replace a state file that does not decode, so a damaged state is never lost.
func (b *Backend) Write(ctx context.Context, s *state.State) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	name := b.path(StateFile)
	cur, err := os.ReadFile(name)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("state: write: %w", err)
	}
	if exists {
		if _, err := b.decodeState(cur); err != nil {
			return fmt.Errorf("state: write: refusing to replace %s, which does not decode; repair or move it away first: %w", name, err)
		}
	}
	data, err := s.Encode()
	if err != nil {
		return fmt.Errorf("state: write: %w", err)
	}
	if b.opts.Codec != nil {
		if data, err = b.opts.Codec.Encode(data); err != nil {
			return fmt.Errorf("state: write: codec: %w", err)
		}
	}
	if exists {
		if err := writeAtomic(b.path(BackupFile), cur, 0o600); err != nil {
			return fmt.Errorf("state: write backup: %w", err)
		}
	}
	if err := writeAtomic(name, data, 0o600); err != nil {
		return fmt.Errorf("state: write: %w", err)
	}
	return nil
}

// writeAtomic replaces name with data: a temporary file in the same directory, written, fsynced and
// renamed over name, then the directory fsynced so the rename survives a crash.
func writeAtomic(name string, data []byte, perm fs.FileMode) error {
	dir := filepath.Dir(name)
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, name); err != nil {
		return err
	}
	ok = true
	return syncDir(dir)
}

// syncDir makes the directory entries of dir (creations, renames, removals) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}
