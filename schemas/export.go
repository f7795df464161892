package schemas

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/document"
	"github.com/provhq/prov/internal/nickel"
	"github.com/provhq/prov/internal/value"
)

// Export evaluates the configuration at path for prov's document loader (document.NickelFunc), with the
// library importable as "prov/…" and the Document contract applied, as `nickel export --apply-contract`
// would. opts carries the rest (Stderr, Binary). With an external nickel (opts.Binary or $PROV_NICKEL)
// the library is copied to a temporary directory handed over with -I.
//
// Every problem is reported at once: when the contract rejects the configuration, it is checked again
// entry by entry (each resource, server, provider, output, taskserv, …; see
// nickel.ExportDocumentChecked), and the error is a *document.Rejected carrying the diagnostics of every
// rejected entry and the document with those entries as written, for the loader to check the rest.
// Diagnostics blame the user's file: a contract error reads as what was expected at which field, and an
// error the evaluator placed inside the library (a required field left out) is moved to the nearest
// enclosing value the user wrote. Any other failure is returned as diag.Diagnostics (through
// Diagnostics.Err). With an external nickel the contract is applied once, so only its first error is
// reported.
func Export(path string, opts nickel.Options) ([]byte, map[string]diag.Pos, error) {
	opts.EmbeddedFS = FS
	opts.ApplyContract = DocumentContract
	if opts.Binary != "" || os.Getenv(nickel.BinaryEnv) != "" {
		dir, err := os.MkdirTemp("", "prov-schemas-")
		if err != nil {
			return nil, nil, fmt.Errorf("schemas: %w", err)
		}
		defer os.RemoveAll(dir)
		if opts.ApplyContract, err = WriteTo(dir); err != nil {
			return nil, nil, err
		}
		opts.ImportPaths = append(opts.ImportPaths, dir)
	}
	checked, err := nickel.ExportDocumentChecked(path, opts, sections)
	if err == nil && len(checked.Rejected) == 0 {
		return checked.JSON, checked.Positions, nil
	}
	if err == nil {
		r := &document.Rejected{JSON: checked.JSON, Positions: checked.Positions}
		for _, rj := range checked.Rejected {
			ds, at := diagnose(rj.Err)
			if at != nil && strings.HasPrefix(ds[0].Pos.File, ImportPrefix) {
				ds[0].Pos = nearest(checked.Written, at, ds[0].Pos)
			}
			r.Diagnostics = append(r.Diagnostics, ds...)
			r.Pieces = append(r.Pieces, rj.Piece)
		}
		return nil, nil, r
	}
	ds, at := diagnose(err)
	if at != nil && strings.HasPrefix(ds[0].Pos.File, ImportPrefix) {
		// Blame what the user wrote: the nearest enclosing value, found by an evaluation without the
		// contract.
		bare := opts
		bare.ApplyContract = ""
		if _, written, err := nickel.ExportDocument(path, bare); err == nil {
			ds[0].Pos = nearest(written, at, ds[0].Pos)
		}
	}
	return nil, nil, ds.Err()
}

// sections are the Document's fields that hold one entry per name; the contract is applied to each
// entry on its own when the document as a whole is rejected.
var sections = []string{"providers", "resources", "servers", "taskservs", "clusters", "workflows", "outputs"}

var (
	brokenBy = regexp.MustCompile("^contract broken by the value of `[^`]*`(: )?")
	extra    = regexp.MustCompile("^extra field `([^`]+)`$")
	missing  = regexp.MustCompile("^missing definition for `([^`]+)`$")
	// closestField is the evaluator's hint for an extra field.
	closestField = regexp.MustCompile("The closest field is `([^`]+)`")
)

// Diagnostics converts a Nickel evaluation error into diagnostics worded for a prov user: the summary
// says what was wrong ("expected a String, got a Number", "unknown field \"zoen\"") rather than which
// contract broke, and the data path is in the loader's form (servers.web-01.zone).
func Diagnostics(err error) diag.Diagnostics {
	ds, _ := diagnose(err)
	return ds
}

// diagnose is Diagnostics, also returning the data path of a single error.
func diagnose(err error) (diag.Diagnostics, value.Path) {
	var ne *nickel.Error
	if !errors.As(err, &ne) {
		return nickel.Diagnostics(err), nil
	}
	ds := ne.Diagnostics()
	d := &ds[0]
	// The path of the offending value; empty (not nil) is the document itself.
	p, perr := value.ParsePath(ne.Path)
	if perr != nil {
		p = nil
	} else if p == nil {
		p = value.Path{}
	}
	switch ne.Class {
	case "EvalError::BlameError":
		// The reason (the contract's own words) or, for built-in contracts, the first note says what
		// was expected; which contract broke is in the detail.
		reason := ne.Reason
		if reason == "" {
			reason = brokenBy.ReplaceAllString(ne.Message, "")
			if reason == ne.Message {
				reason = ""
			}
		}
		switch {
		case reason != "":
			d.Summary = reason
		case len(ne.Notes) > 0:
			d.Summary = ne.Notes[0]
		}
		if m := extra.FindStringSubmatch(d.Summary); m != nil && p != nil {
			// The position is already the extra field's; so is the path now.
			p = p.Key(m[1])
			d.Summary = fmt.Sprintf("unknown field %q", m[1])
			for _, note := range ne.Notes {
				if c := closestField.FindStringSubmatch(note); c != nil {
					d.Summary += fmt.Sprintf("; did you mean %q?", c[1])
				}
			}
		}
	case "EvalError::MissingFieldDef":
		if m := missing.FindStringSubmatch(ne.Message); m != nil && strings.HasPrefix(d.Pos.File, ImportPrefix) {
			d.Summary = fmt.Sprintf("missing required field %q", m[1])
		}
	}
	if p != nil {
		d.Path = document.Display(p)
	}
	return ds, p
}

// nearest returns the position of the value at p or, failing that, of its nearest ancestor in written.
func nearest(written map[string]diag.Pos, p value.Path, fallback diag.Pos) diag.Pos {
	for q := p; len(q) > 0; q = q[:len(q)-1] {
		if pos, ok := written[q.String()]; ok {
			return pos
		}
	}
	return fallback
}
