package document

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/value"
)

// NickelFunc evaluates a Nickel file and returns the exported JSON and, when it knows them, the source
// position of each value by data path (value.Path.String form: `resources["files.motd"].config.path`).
// An error that wraps diag.Diagnostics (diag.Diagnostics.Err) is reported as those diagnostics.
type NickelFunc func(path string) (json []byte, positions map[string]diag.Pos, err error)

// LoadOptions configure Load.
type LoadOptions struct {
	// Nickel evaluates .ncl files; the CLI fills it with prov's evaluator (or PROV_NICKEL's binary).
	Nickel NickelFunc
	// Partial makes Load return the document even when it has errors, as long as it could be read:
	// the entries with errors are marked in Document.Invalid, so that validation can go on with the
	// others. Such a document must not be planned.
	Partial bool
}

// Rejected is the error a NickelFunc returns when the configuration evaluated but its contract
// rejected some of its entries. Load reports Diagnostics and still checks the document in JSON, where
// the rejected entries (Pieces) are as the user wrote them: the loader's own complaints about those are
// left out, and every other entry is checked as usual.
type Rejected struct {
	// JSON is the exported document, Positions where its values were defined (as from a NickelFunc).
	JSON      []byte
	Positions map[string]diag.Pos
	// Diagnostics say why each piece was rejected.
	Diagnostics diag.Diagnostics
	// Pieces are the data paths of the rejected entries (resources.files.motd, settings); an empty
	// path rejects the whole document.
	Pieces []value.Path
}

func (r *Rejected) Error() string {
	if len(r.Diagnostics) == 0 {
		return "the configuration's contract rejected it"
	}
	return r.Diagnostics.String()
}

// Load reads the document at path: a .json file, a .ncl file (evaluated by opts.Nickel), or a directory
// holding main.ncl or, failing that, main.json. It returns the document and every problem found; the
// document is nil when there are errors.
func Load(path string, opts LoadOptions) (*Document, diag.Diagnostics) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, diag.Diagnostics{loadError(path, err)}
	}
	if fi.IsDir() {
		found := ""
		for _, name := range []string{"main.ncl", "main.json"} {
			if _, err := os.Stat(filepath.Join(path, name)); err == nil {
				found = filepath.Join(path, name)
				break
			}
		}
		if found == "" {
			return nil, diag.Diagnostics{{
				Severity: diag.Error,
				Summary:  fmt.Sprintf("no configuration in %s", path),
				Detail:   "prov reads main.ncl (or main.json) from the working directory; choose another file with -config FILE.",
			}}
		}
		path = found
	}
	switch filepath.Ext(path) {
	case ".json":
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, diag.Diagnostics{loadError(path, err)}
		}
		return parse(data, path, nil, nil, opts.Partial)
	case ".ncl":
		if opts.Nickel == nil {
			return nil, diag.Diagnostics{{
				Severity: diag.Error,
				Pos:      diag.Pos{File: path},
				Summary:  "prov's Nickel evaluator is not available in this build",
				Detail:   "Export the configuration to JSON (nickel export --format json " + path + " > main.json) and use that, or set PROV_NICKEL to a nickel binary.",
			}}
		}
		data, positions, err := opts.Nickel(path)
		var rejected *Rejected
		if errors.As(err, &rejected) {
			data, positions, err = rejected.JSON, rejected.Positions, nil
		}
		if err != nil {
			ds := diag.FromError(err)
			for i := range ds {
				if !ds[i].Pos.IsValid() && ds[i].Path == "" {
					ds[i].Pos = diag.Pos{File: path}
				}
			}
			return nil, ds
		}
		// Positions not known (an external nickel reports none) fall back to the file itself.
		if _, ok := positions[""]; !ok {
			positions = maps.Clone(positions)
			if positions == nil {
				positions = map[string]diag.Pos{}
			}
			positions[""] = diag.Pos{File: path}
		}
		return parse(data, path, positions, rejected, opts.Partial)
	}
	return nil, diag.Diagnostics{{
		Severity: diag.Error,
		Pos:      diag.Pos{File: path},
		Summary:  "unsupported configuration file",
		Detail:   "prov reads .ncl (Nickel) and .json documents.",
	}}
}

func loadError(path string, err error) diag.Diagnostic {
	d := diag.Diagnostic{Severity: diag.Error, Pos: diag.Pos{File: path}, Summary: "cannot read the configuration: " + err.Error()}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		d.Summary = "cannot read the configuration: " + pe.Err.Error()
	}
	return d
}

// Parse reads a document from its JSON. filename names it in positions. positions maps data paths
// (value.Path.String form) to source positions; when nil, they are computed from the JSON itself.
func Parse(data []byte, filename string, positions map[string]diag.Pos) (*Document, diag.Diagnostics) {
	return parse(data, filename, positions, nil, false)
}

// parse is Parse of a document whose rejected pieces were already diagnosed; with partial, a document
// with errors is returned too, its broken entries marked Invalid.
func parse(data []byte, filename string, positions map[string]diag.Pos, rejected *Rejected, partial bool) (*Document, diag.Diagnostics) {
	var root any
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		return nil, diag.Diagnostics{syntaxError(filename, data, err)}
	}
	if dec.More() {
		off := int(dec.InputOffset())
		return nil, diag.Diagnostics{{Severity: diag.Error, Pos: newLineIndex(filename, data).pos(off),
			Summary: "invalid JSON: more than one value in the document"}}
	}
	src := &sourceMap{m: positions}
	if positions == nil {
		// Only diagnostics need positions: scan the JSON for them on first use.
		src.compute = func() map[string]diag.Pos { return jsonPositions(filename, data) }
	}
	l := &loader{source: src}
	if rejected != nil {
		l.reject(rejected)
	}
	doc := l.document(root)
	// Read top to bottom, like the file.
	slices.SortStableFunc(l.diags, func(a, b diag.Diagnostic) int {
		return cmp.Or(cmp.Compare(a.Pos.File, b.Pos.File), cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col))
	})
	if l.diags.HasErrors() {
		if !partial || doc == nil {
			return nil, l.diags
		}
		doc.Invalid = l.invalid(doc)
	}
	doc.Digest = Digest(root)
	doc.source = src
	return doc, l.diags
}

func syntaxError(filename string, data []byte, err error) diag.Diagnostic {
	d := diag.Diagnostic{Severity: diag.Error, Pos: diag.Pos{File: filename}, Summary: "invalid JSON: " + err.Error()}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		d.Pos = newLineIndex(filename, data).pos(int(se.Offset) - 1)
	case errors.As(err, &te):
		d.Pos = newLineIndex(filename, data).pos(int(te.Offset))
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		d.Pos = newLineIndex(filename, data).pos(len(data))
		d.Summary = "invalid JSON: unexpected end of input"
	}
	return d
}

// Digest returns the SHA-256 (hex) of the canonical JSON of v: keys sorted, no insignificant space.
func Digest(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("document: digest of a non-JSON value: %v", err)) // v came from decoded JSON
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
