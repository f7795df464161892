package nickel

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/provhq/prov/internal/nickel/eval"
	"github.com/provhq/prov/internal/nickel/parser"
	"github.com/provhq/prov/internal/nickel/source"
	"github.com/provhq/prov/internal/nickel/stdlib"
)

// EmbeddedPrefix is the import path prefix under which Options.EmbeddedFS is visible:
// `import "prov/schema.ncl"` reads schema.ncl from the embedded file system.
const EmbeddedPrefix = "prov/"

// importer resolves and caches imports. Files are keyed by their resolved name.
type importer struct {
	paths []string
	fsys  fs.FS
	cache map[string]*eval.Thunk
}

func newImporter(opts Options) *importer {
	paths := append([]string(nil), opts.ImportPaths...)
	if env := os.Getenv("NICKEL_IMPORT_PATH"); env != "" {
		paths = append(paths, filepath.SplitList(env)...)
	}
	return &importer{paths: paths, fsys: opts.EmbeddedFS, cache: map[string]*eval.Thunk{}}
}

// resolve finds the file named by p imported from the file named from.
func (im *importer) resolve(p, from string) (name string, data []byte, err error) {
	if strings.HasPrefix(from, EmbeddedPrefix) && im.fsys != nil && !filepath.IsAbs(p) && !strings.HasPrefix(p, EmbeddedPrefix) {
		p = path.Join(path.Dir(from), p)
	}
	if strings.HasPrefix(p, EmbeddedPrefix) && im.fsys != nil {
		data, err := fs.ReadFile(im.fsys, path.Clean(strings.TrimPrefix(p, EmbeddedPrefix)))
		return path.Clean(p), data, err
	}
	var candidates []string
	if filepath.IsAbs(p) {
		candidates = []string{p}
	} else {
		if from != "" {
			candidates = append(candidates, filepath.Join(filepath.Dir(from), p))
		} else {
			candidates = append(candidates, p)
		}
		for _, dir := range im.paths {
			candidates = append(candidates, filepath.Join(dir, p))
		}
	}
	var first error
	for _, c := range candidates {
		data, err := os.ReadFile(c)
		if err == nil {
			return filepath.Clean(c), data, nil
		}
		if first == nil {
			first = err
		}
	}
	return "", nil, first
}

func formatOf(name, format string) string {
	if format != "" {
		return strings.ToLower(format)
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json":
		return "json"
	case ".yaml", ".yml":
		return "yaml"
	case ".toml":
		return "toml"
	case ".txt":
		return "text"
	}
	return "nickel"
}

// Import implements eval.Importer.
func (im *importer) Import(m *eval.Machine, p, format string, from source.Span) *eval.Thunk {
	fromName := ""
	if from.File != nil {
		fromName = from.File.Name
	}
	name, data, err := im.resolve(p, fromName)
	if err != nil {
		e := source.Errorf("ImportError::IoError", from, "import of %s failed: %v", p, unwrapPathErr(err))
		eval.Fail(e)
	}
	key := name + "\x00" + formatOf(name, format)
	if t, ok := im.cache[key]; ok {
		return t
	}
	t := im.load(m, name, data, formatOf(name, format), from)
	im.cache[key] = t
	return t
}

func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (im *importer) load(m *eval.Machine, name string, data []byte, format string, from source.Span) *eval.Thunk {
	f := source.NewFile(name, string(data))
	span := source.Span{File: f, Start: 0, End: len(data)}
	if format == "nickel" {
		n, err := parser.Parse(f)
		if err != nil {
			se := err.(*source.Error)
			if from.IsValid() {
				e := *se
				e.Class = "ImportError::ParseError"
				se = &e
			}
			return eval.Lazy(span, func() eval.Value { eval.Fail(se); return nil })
		}
		return eval.NewThunk(n, &eval.Env{})
	}
	v, err := stdlib.Deserialize(format, data)
	if err != nil {
		e := source.Errorf("ImportError::ParseError", from, "failed to parse %s as %s: %v", name, format, err)
		if !from.IsValid() {
			e.Span = span
		}
		return eval.Lazy(span, func() eval.Value { eval.Fail(e); return nil })
	}
	return eval.Ready(v)
}
