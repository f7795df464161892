package host

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/blang/semver"
)

// Kind is what a plugin serves.
type Kind string

// The plugin kinds.
const (
	Provider Kind = "provider"
	Taskserv Kind = "taskserv"
)

// ID names a plugin: its kind and its name ("provider/local").
type ID struct {
	Kind Kind
	Name string
}

// String returns "KIND/NAME".
func (id ID) String() string { return string(id.Kind) + "/" + id.Name }

// binaryName is the file name of a third-party plugin: prov-provider-NAME.
func (id ID) binaryName() string { return "prov-" + string(id.Kind) + "-" + id.Name }

// Found is a plugin binary found on disk.
type Found struct {
	ID
	// Version is the name of the versioned folder it was found in, empty for a binary placed directly
	// in a search directory.
	Version string
	Path    string
}

// SearchPath returns the directories searched for plugins, in order of precedence: dir/.prov/plugins,
// each entry of $PROV_PLUGIN_PATH, then $XDG_DATA_HOME/prov/plugins (default ~/.local/share).
func SearchPath(dir string) []string {
	dirs := []string{filepath.Join(dir, ".prov", "plugins")}
	for _, d := range filepath.SplitList(os.Getenv("PROV_PLUGIN_PATH")) {
		if d != "" {
			dirs = append(dirs, d)
		}
	}
	data := os.Getenv("XDG_DATA_HOME")
	if data == "" {
		if home, err := os.UserHomeDir(); err == nil {
			data = filepath.Join(home, ".local", "share")
		}
	}
	if data != "" {
		dirs = append(dirs, filepath.Join(data, "prov", "plugins"))
	}
	return dirs
}

// Discover lists every plugin binary in dirs: prov-KIND-NAME files directly in a directory, and
// NAME/VERSION/prov-KIND-NAME in versioned folders. Missing directories are skipped. The result is
// sorted by kind, name, then version (highest first), keeping the order of dirs between equals.
func Discover(dirs []string) ([]Found, error) {
	var out []Found
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("host: discover plugins: %w", err)
		}
		for _, e := range entries {
			if id, ok := parseBinaryName(e.Name()); ok && isExecutable(filepath.Join(dir, e.Name())) {
				out = append(out, Found{ID: id, Path: filepath.Join(dir, e.Name())})
				continue
			}
			if !e.IsDir() {
				continue
			}
			name := e.Name()
			versions, err := os.ReadDir(filepath.Join(dir, name))
			if err != nil {
				return nil, fmt.Errorf("host: discover plugins: %w", err)
			}
			for _, v := range versions {
				if !v.IsDir() {
					continue
				}
				for _, kind := range []Kind{Provider, Taskserv} {
					id := ID{Kind: kind, Name: name}
					p := filepath.Join(dir, name, v.Name(), id.binaryName())
					if isExecutable(p) {
						out = append(out, Found{ID: id, Version: v.Name(), Path: p})
					}
				}
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Found) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name), -compareVersions(a.Version, b.Version))
	})
	return out, nil
}

func parseBinaryName(file string) (ID, bool) {
	for _, kind := range []Kind{Provider, Taskserv} {
		if name, ok := strings.CutPrefix(file, "prov-"+string(kind)+"-"); ok && name != "" {
			return ID{Kind: kind, Name: name}, true
		}
	}
	return ID{}, false
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// compareVersions orders semantic versions; an unversioned or unparsable one sorts lowest.
func compareVersions(a, b string) int {
	va, errA := semver.ParseTolerant(a)
	vb, errB := semver.ParseTolerant(b)
	switch {
	case errA != nil && errB != nil:
		return 0
	case errA != nil:
		return -1
	case errB != nil:
		return 1
	}
	return va.Compare(vb)
}

// Select returns the best binary for id among found: the highest version that satisfies constraint
// (a blang/semver range such as "1.2.0", ">=1.2.0 <2.0.0"). With no constraint an unversioned binary
// is acceptable too, when no versioned one exists.
func Select(found []Found, id ID, constraint string) (Found, error) {
	var match func(string) bool
	if constraint == "" {
		match = func(string) bool { return true }
	} else {
		r, err := semver.ParseRange(constraint)
		if err != nil {
			return Found{}, fmt.Errorf("host: plugin %s: version constraint %q: %w", id, constraint, err)
		}
		match = func(v string) bool {
			sv, err := semver.ParseTolerant(v)
			return err == nil && r(sv)
		}
	}
	var seen []string
	for _, f := range found { // sorted highest first
		if f.ID != id {
			continue
		}
		seen = append(seen, cmp.Or(f.Version, "unversioned")+" at "+f.Path)
		if match(f.Version) {
			return f, nil
		}
	}
	if len(seen) == 0 {
		return Found{}, fmt.Errorf("host: plugin %s not found: put %s in ./.prov/plugins, a $PROV_PLUGIN_PATH directory or $XDG_DATA_HOME/prov/plugins (or %s/VERSION/ there)", id, id.binaryName(), id.Name)
	}
	return Found{}, fmt.Errorf("host: no version of plugin %s satisfies %q (found %s)", id, constraint, strings.Join(seen, ", "))
}
