// Package workspace isolates state, settings and plugins per workspace of a project, as Terraform's
// workspaces do. The "default" workspace is the project directory itself; every other workspace NAME
// lives in <project>/.prov/workspaces/NAME/ with its own prov.toml and config.ENV.toml (which override
// the project's), its own state and its own plugins/ folder. The selected workspace is persisted in
// <project>/.prov/workspace, and PROV_WORKSPACE overrides it. LoadActive is what a command calls to get
// the current workspace, its settings and its state directory.
package workspace

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/settings"
	"github.com/provhq/prov/state"
	"github.com/provhq/prov/state/local"
)

// Default is the workspace every project has: the project directory itself.
const Default = "default"

// EnvVar overrides the selected workspace.
const EnvVar = "PROV_WORKSPACE"

// Layout under the project directory.
const (
	metaDir      = ".prov"
	selectedFile = "workspace"
	rootDir      = "workspaces"
	pluginDir    = "plugins"
)

// Sentinel errors; returned errors wrap them.
var (
	ErrNotExist   = errors.New("workspace does not exist")
	ErrExist      = errors.New("workspace already exists")
	ErrNotEmpty   = errors.New("workspace state still has resources")
	ErrInvalid    = errors.New("invalid workspace name")
	ErrIsCurrent  = errors.New("cannot delete the current workspace")
	ErrIsDefault  = errors.New("cannot delete the default workspace")
	ErrInProgress = errors.New("workspace has an interrupted apply (a state journal)")
)

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

// Workspace is one workspace of a project.
type Workspace struct {
	// Name is the workspace's name.
	Name string
	// Project is the project directory.
	Project string
	// Dir holds the workspace's own settings files and, by default, its state: the project directory
	// for the default workspace, <project>/.prov/workspaces/NAME otherwise.
	Dir string
	// PluginDir is the workspace's own plugin folder, searched first.
	PluginDir string
}

// CheckName reports whether name can name a workspace: letters, digits, '-' and '_', starting with a
// letter or digit.
func CheckName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%w %q: use letters, digits, '-' and '_', starting with a letter or digit", ErrInvalid, name)
	}
	return nil
}

func at(project, name string) Workspace {
	if name == Default {
		return Workspace{Name: name, Project: project, Dir: project, PluginDir: filepath.Join(project, metaDir, pluginDir)}
	}
	dir := filepath.Join(project, metaDir, rootDir, name)
	return Workspace{Name: name, Project: project, Dir: dir, PluginDir: filepath.Join(dir, pluginDir)}
}

// Open returns an existing workspace.
func Open(project, name string) (Workspace, error) {
	if err := CheckName(name); err != nil {
		return Workspace{}, err
	}
	w := at(project, name)
	if name == Default {
		return w, nil
	}
	if fi, err := os.Stat(w.Dir); err != nil || !fi.IsDir() {
		return Workspace{}, fmt.Errorf("workspace %q: %w (create it with `prov workspace new %s`)", name, ErrNotExist, name)
	}
	return w, nil
}

// Current returns the selected workspace: PROV_WORKSPACE if set, else the one persisted in
// .prov/workspace, else the default.
func Current(project string) (Workspace, error) {
	name, from, err := CurrentName(project)
	if err != nil {
		return Workspace{}, err
	}
	w, err := Open(project, name)
	if err != nil {
		return Workspace{}, fmt.Errorf("%s selects %w", from, err)
	}
	return w, nil
}

// CurrentName returns the selected workspace's name and what selected it (EnvVar, the selection file
// or "default").
func CurrentName(project string) (name, from string, err error) {
	if env := os.Getenv(EnvVar); env != "" {
		return env, EnvVar, nil
	}
	p := filepath.Join(project, metaDir, selectedFile)
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return Default, Default, nil
	}
	if err != nil {
		return "", "", fmt.Errorf("workspace: read selection: %w", err)
	}
	name = strings.TrimSpace(string(data))
	if name == "" {
		return Default, Default, nil
	}
	return name, p, nil
}

// List returns the names of the project's workspaces, the default first, the others sorted.
func List(project string) ([]string, error) {
	names := []string{Default}
	entries, err := os.ReadDir(filepath.Join(project, metaDir, rootDir))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("workspace: list: %w", err)
	}
	var others []string
	for _, e := range entries {
		if e.IsDir() && CheckName(e.Name()) == nil && e.Name() != Default {
			others = append(others, e.Name())
		}
	}
	sort.Strings(others)
	return append(names, others...), nil
}

// New creates a workspace with an empty plugin folder. It does not select it.
func New(project, name string) (Workspace, error) {
	if err := CheckName(name); err != nil {
		return Workspace{}, err
	}
	w := at(project, name)
	if name == Default {
		return Workspace{}, fmt.Errorf("workspace %q: %w", name, ErrExist)
	}
	if err := os.MkdirAll(filepath.Dir(w.Dir), 0o755); err != nil {
		return Workspace{}, fmt.Errorf("workspace: new %s: %w", name, err)
	}
	if err := os.Mkdir(w.Dir, 0o755); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return Workspace{}, fmt.Errorf("workspace %q: %w", name, ErrExist)
		}
		return Workspace{}, fmt.Errorf("workspace: new %s: %w", name, err)
	}
	if err := os.Mkdir(w.PluginDir, 0o755); err != nil {
		return Workspace{}, fmt.Errorf("workspace: new %s: %w", name, err)
	}
	return w, nil
}

// Select persists name as the project's selected workspace. The workspace must exist.
func Select(project, name string) error {
	if _, err := Open(project, name); err != nil {
		return err
	}
	dir := filepath.Join(project, metaDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("workspace: select %s: %w", name, err)
	}
	if err := writeAtomic(filepath.Join(dir, selectedFile), []byte(name+"\n")); err != nil {
		return fmt.Errorf("workspace: select %s: %w", name, err)
	}
	return nil
}

// Settings loads the settings as seen from w: o with ProjectDir and WorkspaceDir filled in.
func (w Workspace) Settings(o settings.Options) (*settings.Settings, diag.Diagnostics) {
	o.ProjectDir = w.Project
	o.WorkspaceDir = w.Dir
	return settings.Load(o)
}

// StateDir is the local state backend's directory for w under s: state.dir resolved against w.Dir.
func (w Workspace) StateDir(s *settings.Settings) string {
	d := s.State().Dir
	if filepath.IsAbs(d) {
		return d
	}
	return filepath.Join(w.Dir, d)
}

// PluginPaths are the directories searched for plugin binaries, in order: the workspace's own plugin
// folder, then plugins.path. ($XDG_DATA_HOME/prov/plugins comes last; plugin discovery adds it.)
func (w Workspace) PluginPaths(s *settings.Settings) []string {
	return append([]string{w.PluginDir}, s.PluginPaths()...)
}

// Active is the workspace a command runs in, with its settings loaded.
type Active struct {
	Workspace
	// Settings are the workspace's merged settings.
	Settings *settings.Settings
	// StateDir is the local state backend's directory.
	StateDir string
}

// LoadActive returns the current workspace of project with its settings (o's ProjectDir and
// WorkspaceDir are filled in) and its state directory. Warnings come back with the Active; errors
// leave it nil.
func LoadActive(project string, o settings.Options) (*Active, diag.Diagnostics) {
	w, err := Current(project)
	if err != nil {
		return nil, diag.FromError(err)
	}
	s, diags := w.Settings(o)
	if diags.HasErrors() {
		return nil, diags
	}
	return &Active{Workspace: w, Settings: s, StateDir: w.StateDir(s)}, diags
}

// DeleteOptions control Delete.
type DeleteOptions struct {
	// Force deletes even when the state still has resources or cannot be read.
	Force bool
	// StateDir is the workspace's state directory (Workspace.StateDir); empty means its Dir.
	StateDir string
	// Codec decodes the state file when state is encrypted at rest; nil reads plain JSON.
	Codec state.Codec
}

// Delete removes a workspace's directory: its settings, plugins and state. It refuses the default and
// the current workspace, and, without Force, a workspace whose state still has resources, has an
// interrupted apply's journal, or cannot be read to tell.
func Delete(project, name string, o DeleteOptions) error {
	w, err := Open(project, name)
	if err != nil {
		return err
	}
	if name == Default {
		return fmt.Errorf("workspace %q: %w", name, ErrIsDefault)
	}
	if cur, _, err := CurrentName(project); err == nil && cur == name {
		return fmt.Errorf("workspace %q: %w; select another workspace first", name, ErrIsCurrent)
	}
	stateDir := o.StateDir
	if stateDir == "" {
		stateDir = w.Dir
	}
	if !o.Force {
		if _, err := os.Stat(filepath.Join(stateDir, local.JournalFile)); err == nil {
			return fmt.Errorf("workspace %q: %w; finish it with `prov apply -resume` or `prov rollback`, or delete with -force", name, ErrInProgress)
		}
		n, err := countResources(filepath.Join(stateDir, local.StateFile), o.Codec)
		if err != nil {
			return fmt.Errorf("workspace %q: cannot tell whether its state is empty: %w; delete with -force to lose it anyway", name, err)
		}
		if n > 0 {
			return fmt.Errorf("workspace %q: %w (%d managed); destroy them first (`prov apply -destroy`), or delete with -force to forget them", name, ErrNotEmpty, n)
		}
	}
	if err := os.RemoveAll(w.Dir); err != nil {
		return fmt.Errorf("workspace: delete %s: %w", name, err)
	}
	return nil
}

// countResources reads the number of resources in a state file; a missing file has none.
func countResources(path string, codec state.Codec) (int, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if codec != nil {
		if data, err = codec.Decode(data); err != nil {
			return 0, fmt.Errorf("decode %s: %w", path, err)
		}
	}
	var st struct {
		Resources map[string]json.RawMessage `json:"resources"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return 0, fmt.Errorf("%s is not a state file: %w", path, err)
	}
	return len(st.Resources), nil
}

func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
