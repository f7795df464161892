package nickel

import (
	"maps"
	"slices"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/nickel/eval"
	"github.com/provhq/prov/internal/nickel/export"
	"github.com/provhq/prov/internal/nickel/source"
	"github.com/provhq/prov/internal/value"
)

// Checked is a configuration exported by ExportDocumentChecked.
type Checked struct {
	// JSON is the document: every piece as the contract made it, or as written where the contract
	// rejected it.
	JSON []byte
	// Positions are ExportDocument's: where each exported field was defined.
	Positions map[string]diag.Pos
	// Written are the positions of the configuration evaluated without the contract (nil when the
	// contract passed): where the user wrote each value, for blaming an error found inside the contract.
	Written map[string]diag.Pos
	// Rejected are the pieces the contract (or the configuration's own code) failed on, by key.
	Rejected []Rejection
}

// Rejection is one piece of a configuration that failed to export: the contract rejected it, or its
// own evaluation failed.
type Rejection struct {
	// Piece is the piece's data path: ["resources", "files.motd"], ["settings"], or empty for what
	// the document as a whole lacks.
	Piece value.Path
	// Err is the *Error that rejected it.
	Err error
}

// ExportDocumentChecked is ExportDocument for a contract that may reject several parts of a
// configuration: it reports every rejected piece at once, not only the first error.
//
// It applies opts.ApplyContract to the whole configuration first; when that passes, the result is
// ExportDocument's. Otherwise the configuration, evaluated without the contract, is checked piece by
// piece: each top-level field, except that a field named in sections whose value is a record is split
// into one piece per entry ("resources" → one piece per resource). A piece is checked as a document
// holding only that piece, so the contract's defaults fill the rest, and the empty document is checked
// once for what the whole document lacks. A piece refers to the rest of the configuration as written,
// without the contract's defaults.
//
// The error is non-nil when the configuration does not evaluate to a record, and in external mode
// (opts.Binary or $PROV_NICKEL), where the contract is applied once, to the whole document, and its
// first error is the only one.
func ExportDocumentChecked(path string, opts Options, sections []string) (*Checked, error) {
	if opts.binary() != "" || opts.ApplyContract == "" {
		out, positions, err := ExportDocument(path, opts)
		if err != nil {
			return nil, err
		}
		return &Checked{JSON: out, Positions: positions}, nil
	}
	contract := opts.ApplyContract
	opts.ApplyContract = ""
	s, err := newSession(opts)
	if err != nil {
		return nil, err
	}
	doc, err := s.load([]string{path}, opts)
	if err != nil {
		return nil, err
	}
	var c eval.Value
	var lbl *eval.Label
	if err := s.m.Run(func() {
		ct := s.im.Import(s.m, contract, "", source.Span{})
		c = s.m.Force(ct)
		lbl = &eval.Label{Span: ct.Span, TypeText: contract}
	}); err != nil {
		return nil, err
	}
	ck := &checker{m: s.m, contract: c, label: lbl}
	positions := map[string]diag.Pos{}
	out, whole := ck.check(doc, positions)
	if whole == nil {
		data, err := export.JSON(out)
		if err != nil {
			return nil, err
		}
		return &Checked{JSON: data, Positions: positions}, nil
	}
	top, ok := doc.(*eval.Record)
	if !ok {
		return nil, whole
	}
	res := &Checked{Positions: map[string]diag.Pos{}, Written: map[string]diag.Pos{}}
	// The document's shape: what the contract requires or adds at the top level.
	fields := map[string]any{}
	if d, err := ck.piece(eval.NewRecord(nil), nil, res); err == nil {
		obj := d.(*export.Object)
		for i, k := range obj.Keys {
			fields[k] = obj.Vals[i]
		}
	}
	for _, k := range top.VisibleKeys() {
		f := top.Fields[k]
		var entries *eval.Record
		if slices.Contains(sections, k) && f.Val != nil {
			if err := s.m.Run(func() { entries, _ = s.m.Force(f.Val).(*eval.Record) }); err != nil {
				res.Rejected = append(res.Rejected, Rejection{Piece: value.KeyPath(k), Err: err})
				continue
			}
		}
		if entries == nil {
			if d, err := ck.piece(single(k, f), value.KeyPath(k), res); err == nil {
				if v, ok := field(d, k); ok {
					fields[k] = v
				} else {
					delete(fields, k) // not exported
				}
			}
			continue
		}
		section := &export.Object{}
		for _, e := range entries.VisibleKeys() {
			piece := single(k, &eval.Field{Val: eval.Ready(single(e, entries.Fields[e])), Span: f.Span})
			if d, err := ck.piece(piece, value.KeyPath(k, e), res); err == nil {
				if v, ok := field(d, k); ok {
					if v, ok := field(v, e); ok {
						section.Keys = append(section.Keys, e)
						section.Vals = append(section.Vals, v)
					}
				}
			}
		}
		if !f.NotExported {
			fields[k] = section
		}
	}
	if len(res.Rejected) == 0 {
		// The pieces pass where the whole did not (the contract relates pieces to one another):
		// report the whole's error.
		return nil, whole
	}
	obj := &export.Object{Keys: slices.Sorted(maps.Keys(fields))}
	for _, k := range obj.Keys {
		obj.Vals = append(obj.Vals, fields[k])
	}
	if res.JSON, err = export.JSON(obj); err != nil {
		return nil, err
	}
	return res, nil
}

// checker applies one contract to values of one machine.
type checker struct {
	m        *eval.Machine
	contract eval.Value
	label    *eval.Label
}

// check applies the contract to v and exports the result, recording field positions.
func (ck *checker) check(v eval.Value, positions map[string]diag.Pos) (any, error) {
	var checked eval.Value
	if err := ck.m.Run(func() {
		checked = ck.m.Force(ck.m.ApplyContract(ck.contract, ck.label, eval.Ready(v)))
	}); err != nil {
		return nil, err
	}
	return export.Data(ck.m, checked, record(positions))
}

// piece checks the document piece (at data path at) and returns its export: with the contract
// applied or, when the contract rejects it (a Rejection added to res), as written. The error is for a
// piece that does not even export as written (also added to res).
func (ck *checker) piece(piece *eval.Record, at value.Path, res *Checked) (any, error) {
	written, werr := export.Data(ck.m, piece, record(res.Written))
	if werr != nil {
		res.Rejected = append(res.Rejected, Rejection{Piece: at, Err: werr})
		return nil, werr
	}
	positions := map[string]diag.Pos{}
	d, err := ck.check(piece, positions)
	if err != nil {
		res.Rejected = append(res.Rejected, Rejection{Piece: at, Err: err})
		// Keep what the user wrote, so the rest of the document can still refer to it.
		return written, nil
	}
	for k, p := range positions {
		res.Positions[k] = p
	}
	return d, nil
}

// record returns an export callback that records field positions into positions.
func record(positions map[string]diag.Pos) func(value.Path, source.Span) {
	return func(p value.Path, span source.Span) {
		if span.IsValid() {
			positions[p.String()] = span.Pos()
		}
	}
}

// single returns the record { k = f's value }, defined where f is. It holds f's value as computed in
// its own record, so the value keeps seeing its siblings there.
func single(k string, f *eval.Field) *eval.Record {
	if f.Val == nil {
		// A field without a value: exporting it is the error.
		return &eval.Record{Fields: map[string]*eval.Field{k: f}}
	}
	r := eval.NewRecord(map[string]*eval.Thunk{k: f.Val})
	r.Fields[k].Span = f.Span
	r.Fields[k].NotExported = f.NotExported
	return r
}

// field returns the value of key k of an exported record.
func field(d any, k string) (any, bool) {
	obj, ok := d.(*export.Object)
	if !ok {
		return nil, false
	}
	if i, found := slices.BinarySearch(obj.Keys, k); found {
		return obj.Vals[i], true
	}
	return nil, false
}
