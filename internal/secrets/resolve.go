package secrets

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/getsops/sops/v3"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/value"
)

// RefKey is the only key of a secret reference object: { "$secret": "FILE#PATH" }.
const RefKey = "$secret"

// Ref is a parsed secret reference.
type Ref struct {
	// File is the SOPS file, relative to the Resolver's directory unless absolute.
	File string
	// Path is what follows '#': a data path ("upcloud.password", "hosts[0].key") into a YAML, JSON or
	// INI file, a variable name in a dotenv file, and empty for a binary file (or for a whole file).
	Path string
}

// String writes the reference as it is written in a configuration: FILE#PATH, or FILE alone.
func (r Ref) String() string {
	if r.Path == "" {
		return r.File
	}
	return r.File + "#" + r.Path
}

// ParseRef reports whether v is a secret reference — an object whose only key is "$secret" — and
// parses it. ok with a non-nil error means a malformed reference.
func ParseRef(v any) (ref Ref, ok bool, err error) {
	m, isMap := v.(map[string]any)
	if !isMap || len(m) != 1 {
		return Ref{}, false, nil
	}
	raw, has := m[RefKey]
	if !has {
		return Ref{}, false, nil
	}
	s, isStr := raw.(string)
	if !isStr {
		return Ref{}, true, fmt.Errorf(`"$secret" must be a string "FILE#PATH"`)
	}
	file, path, _ := strings.Cut(s, "#")
	if file == "" {
		return Ref{}, true, fmt.Errorf(`"$secret" %q names no file; write "FILE#PATH"`, s)
	}
	return Ref{File: file, Path: path}, true, nil
}

// Resolver replaces secret references in values with the secrets they name, decrypting each SOPS file
// once (with the keys SOPS itself uses) and caching its content. It is safe for concurrent use; the
// cache holds secrets in memory for the Resolver's life only.
type Resolver struct {
	// Dir is the directory relative secret files are found in (the project directory).
	Dir string

	mu    sync.Mutex
	files map[string]*cached
}

type cached struct {
	once sync.Once
	val  any
	err  error
}

// NewResolver returns a Resolver for files relative to dir.
func NewResolver(dir string) *Resolver { return &Resolver{Dir: dir, files: map[string]*cached{}} }

// Resolve returns a copy of v with every secret reference replaced by its secret, and the paths (in
// the returned value) that now hold secrets and must be treated as sensitive. Problems are diagnostics
// at the reference's data path that name the file and the secret path, never a secret's value. at is
// the path of v itself, prefixed to diagnostics' paths ("" for none).
func (r *Resolver) Resolve(v any, at string) (any, []value.Path, diag.Diagnostics) {
	var sensitive []value.Path
	var diags diag.Diagnostics
	out := r.walk(nil, v, at, &sensitive, &diags)
	return out, sensitive, diags
}

func (r *Resolver) walk(p value.Path, v any, at string, sensitive *[]value.Path, diags *diag.Diagnostics) any {
	ref, isRef, err := ParseRef(v)
	if isRef {
		where := joinPath(at, p)
		if err != nil {
			*diags = diags.Append(diag.Errorf(where, "%v", err))
			return v
		}
		secret, err := r.Lookup(ref)
		if err != nil {
			*diags = diags.Append(diag.Errorf(where, "secret %s: %v", ref, err))
			return v
		}
		*sensitive = append(*sensitive, p)
		return secret
	}
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys) // diagnostics in a stable order
		for _, k := range keys {
			out[k] = r.walk(p.Key(k), x[k], at, sensitive, diags)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = r.walk(p.Index(i), e, at, sensitive, diags)
		}
		return out
	}
	return v
}

func joinPath(at string, p value.Path) string {
	s := p.String()
	switch {
	case at == "":
		return s
	case s == "":
		return at
	case strings.HasPrefix(s, "["):
		return at + s
	}
	return at + "." + s
}

// Lookup returns the secret a reference names. Its errors never contain secret values.
func (r *Resolver) Lookup(ref Ref) (any, error) {
	path := ref.File
	if !filepath.IsAbs(path) {
		path = filepath.Join(r.Dir, path)
	}
	r.mu.Lock()
	if r.files == nil {
		r.files = map[string]*cached{}
	}
	c := r.files[path]
	if c == nil {
		c = &cached{}
		r.files[path] = c
	}
	r.mu.Unlock()
	c.once.Do(func() { c.val, c.err = load(path, ref.File) })
	if c.err != nil {
		return nil, c.err
	}
	return pick(c.val, FormatOf(path), ref)
}

// load decrypts a SOPS file into a value: a record for YAML, JSON, INI and dotenv files, a string for
// binary files. name is the file as the user wrote it, for messages.
func load(path, name string) (any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("%s does not exist", name)
		}
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	tree, _, err := decryptTree(data, name)
	if err != nil {
		return nil, err
	}
	if len(tree.Branches) == 0 {
		return map[string]any{}, nil
	}
	// A multi-document YAML file: the first document, as SOPS's own extract does.
	return fromTree(tree.Branches[0]), nil
}

// pick selects the referenced part of a decrypted file.
//
//   - YAML, JSON, INI: Path is a data path; empty means the whole document.
//   - dotenv: Path is a variable name (taken whole, dots and all); empty means all variables.
//   - binary: the whole file is the secret, as a string; Path must be empty.
func pick(doc any, f Format, ref Ref) (any, error) {
	switch f {
	case Binary:
		if ref.Path != "" {
			return nil, fmt.Errorf("%s is a binary SOPS file: the whole file is the secret, so write %q without #%s", ref.File, ref.File, ref.Path)
		}
		m, _ := doc.(map[string]any)
		data, ok := m["data"].(string)
		if !ok {
			return nil, fmt.Errorf("%s: binary SOPS file without data", ref.File)
		}
		return data, nil
	case Dotenv:
		if ref.Path == "" {
			return doc, nil
		}
		m, _ := doc.(map[string]any)
		v, ok := m[ref.Path]
		if !ok {
			return nil, fmt.Errorf("%s has no variable %s", ref.File, ref.Path)
		}
		return v, nil
	}
	p, err := value.ParsePath(ref.Path)
	if err != nil {
		return nil, fmt.Errorf("bad secret path after '#': %w", err)
	}
	v, ok := value.Get(doc, p)
	if !ok {
		return nil, fmt.Errorf("%s has no value at %s", ref.File, ref.Path)
	}
	return value.Copy(v), nil
}

// fromTree converts a decrypted SOPS tree into a value (records, lists, strings, float64 numbers,
// booleans, nil), dropping comments.
func fromTree(v any) any {
	switch x := v.(type) {
	case sops.TreeBranch:
		m := make(map[string]any, len(x))
		for _, item := range x {
			if _, isComment := item.Key.(sops.Comment); isComment {
				continue
			}
			m[fmt.Sprint(item.Key)] = fromTree(item.Value)
		}
		return m
	case []any:
		l := make([]any, 0, len(x))
		for _, e := range x {
			if _, isComment := e.(sops.Comment); isComment {
				continue
			}
			l = append(l, fromTree(e))
		}
		return l
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	case float32:
		return float64(x)
	case time.Time:
		return x.Format(time.RFC3339)
	case []byte:
		return string(x)
	}
	return v
}
