package host

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// LockFile is the name of the plugin lock file in the working directory.
const LockFile = "prov.lock.json"

// LockVersion is the format version of the lock file this build writes and reads.
const LockVersion = 1

// Lock is the content of prov.lock.json: the plugins a configuration was initialised with.
type Lock struct {
	Version int `json:"version"`
	// Plugins by ID string ("provider/acme").
	Plugins map[string]*Locked `json:"plugins"`
}

// Locked is one locked plugin.
type Locked struct {
	Kind    Kind   `json:"kind"`
	Name    string `json:"name"`
	Source  string `json:"source"`
	Version string `json:"version,omitempty"`
	// SHA256 is the hex SHA-256 of a third-party binary.
	SHA256 string `json:"sha256,omitempty"`
	// ProvVersion is the prov version a builtin plugin came with (builtins have no separate binary).
	ProvVersion string `json:"prov_version,omitempty"`
}

// ID returns the locked plugin's ID.
func (l *Locked) ID() ID { return ID{Kind: l.Kind, Name: l.Name} }

// Get returns the entry for id, or nil.
func (l *Lock) Get(id ID) *Locked {
	if l == nil {
		return nil
	}
	return l.Plugins[id.String()]
}

// ReadLock reads dir/prov.lock.json. A missing file is an empty Lock, not an error.
func ReadLock(dir string) (*Lock, error) {
	path := filepath.Join(dir, LockFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Lock{Version: LockVersion, Plugins: map[string]*Locked{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("host: read lock: %w", err)
	}
	var l Lock
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("host: read lock %s: %w", path, err)
	}
	if l.Version != LockVersion {
		return nil, fmt.Errorf("host: read lock %s: format version %d, this prov reads version %d", path, l.Version, LockVersion)
	}
	if l.Plugins == nil {
		l.Plugins = map[string]*Locked{}
	}
	return &l, nil
}

// Write stores the lock as dir/prov.lock.json atomically (temp file, fsync, rename, fsync dir).
func (l *Lock) Write(dir string) error {
	data, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return fmt.Errorf("host: write lock: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, LockFile), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("host: write lock: %w", err)
	}
	return nil
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after a successful rename this fails harmlessly
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// fileSHA256 returns the hex SHA-256 of a file.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ChecksumError is the refusal to start a plugin binary whose hash is not the locked one.
type ChecksumError struct {
	ID       ID
	Path     string
	Expected string
	Actual   string
}

// Error names the plugin, both hashes and the way out.
func (e *ChecksumError) Error() string {
	return fmt.Sprintf("plugin %s: %s has changed since it was locked: prov.lock.json expects sha256 %s, the binary has sha256 %s; "+
		"if you trust the new binary, run `prov init -upgrade`", e.ID, e.Path, e.Expected, e.Actual)
}

// Requirement is a plugin a configuration needs, as the document declares it.
type Requirement struct {
	Kind Kind
	// Name is the key in the document (the provider's name); it names the plugin when Source is empty.
	Name string
	// Source is "builtin/NAME" or "HOST/NAMESPACE/NAME" (the last segment names the plugin binary).
	Source string
	// Version is a version constraint ("1.2.0", ">=1.2.0 <2.0.0"); empty means any.
	Version string
}

// Init resolves each requirement and writes dir/prov.lock.json (what `prov init` does). Plugins already
// locked keep their locked version unless upgrade is set, and their binary must still match its hash;
// otherwise the highest version satisfying the constraint is found and its hash recorded. Builtins are
// recorded with opts.ProvVersion. Plugins no longer required are dropped from the lock.
func Init(opts Options, wanted []Requirement, upgrade bool) (*Lock, error) {
	opts = opts.withDefaults()
	old, err := ReadLock(opts.Dir)
	if err != nil {
		return nil, err
	}
	found, err := Discover(opts.SearchPath)
	if err != nil {
		return nil, err
	}
	trusted, err := parseTrustedKeys(opts.TrustedKeys)
	if err != nil {
		return nil, err
	}
	lock := &Lock{Version: LockVersion, Plugins: map[string]*Locked{}}
	for _, req := range wanted {
		id, builtin, err := opts.resolve(req)
		if err != nil {
			return nil, err
		}
		if prev := lock.Get(id); prev != nil {
			if prev.Source != sourceOf(req, id, builtin) || (req.Version != "" && !satisfies(prev.Version, req.Version)) {
				return nil, fmt.Errorf("host: init: plugin %s is required twice with different sources or versions", id)
			}
			continue
		}
		if builtin {
			lock.Plugins[id.String()] = &Locked{Kind: id.Kind, Name: id.Name, Source: sourceOf(req, id, true), ProvVersion: opts.ProvVersion}
			continue
		}
		entry, err := lockOne(found, id, req, old.Get(id), upgrade, trusted)
		if err != nil {
			return nil, err
		}
		lock.Plugins[id.String()] = entry
	}
	if err := lock.Write(opts.Dir); err != nil {
		return nil, err
	}
	return lock, nil
}

func lockOne(found []Found, id ID, req Requirement, prev *Locked, upgrade bool, trusted []ed25519.PublicKey) (*Locked, error) {
	keep := prev != nil && !upgrade && prev.Source == req.Source && prev.SHA256 != "" &&
		(req.Version == "" || satisfies(prev.Version, req.Version))
	if keep {
		f, err := selectLocked(found, prev)
		if err != nil {
			return nil, fmt.Errorf("host: init: %w", err)
		}
		sum, err := fileSHA256(f.Path)
		if err != nil {
			return nil, fmt.Errorf("host: init: hash plugin %s: %w", id, err)
		}
		if sum != prev.SHA256 {
			return nil, &ChecksumError{ID: id, Path: f.Path, Expected: prev.SHA256, Actual: sum}
		}
		if err := verifySignature(id, f.Path, sum, trusted); err != nil {
			return nil, err
		}
		return prev, nil
	}
	f, err := Select(found, id, req.Version)
	if err != nil {
		return nil, fmt.Errorf("host: init: %w", err)
	}
	sum, err := fileSHA256(f.Path)
	if err != nil {
		return nil, fmt.Errorf("host: init: hash plugin %s: %w", id, err)
	}
	if err := verifySignature(id, f.Path, sum, trusted); err != nil {
		return nil, err
	}
	return &Locked{Kind: id.Kind, Name: id.Name, Source: req.Source, Version: f.Version, SHA256: sum}, nil
}

// selectLocked finds the binary of the locked version of a plugin.
func selectLocked(found []Found, l *Locked) (Found, error) {
	for _, f := range found {
		if f.ID == l.ID() && f.Version == l.Version {
			return f, nil
		}
	}
	v := l.Version
	if v == "" {
		v = "unversioned"
	}
	return Found{}, fmt.Errorf("plugin %s (%s, locked in %s) not found; run `prov init -upgrade` to lock what is installed", l.ID(), v, LockFile)
}

func satisfies(version, constraint string) bool {
	f, err := Select([]Found{{ID: ID{}, Version: version}}, ID{}, constraint)
	return err == nil && f.Version == version
}
