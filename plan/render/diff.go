package render

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/provhq/prov/internal/value"
)

// mark is the change marker in front of a diff line.
type mark uint8

const (
	markNone mark = iota
	markCreate
	markUpdate
	markDelete
	markRead
	markDeleteCreate
	markCreateDelete
)

// symbol is the marker as Terraform prints it.
func (m mark) symbol() string {
	switch m {
	case markCreate:
		return "+"
	case markUpdate:
		return "~"
	case markDelete:
		return "-"
	case markRead:
		return "<="
	case markDeleteCreate:
		return "-/+"
	case markCreateDelete:
		return "+/-"
	}
	return ""
}

// line is one line of a rendered diff. Its layout depends on the output: Human puts the marker after
// the indentation, Markdown moves it to the first column so a ```diff block colours it.
type line struct {
	depth int
	mark  mark
	text  string
}

// paths is a set of sensitive paths; a position is sensitive when one of them is a prefix of it.
type paths []value.Path

func (ps paths) covers(p value.Path) bool {
	for _, s := range ps {
		if p.HasPrefix(s) {
			return true
		}
	}
	return false
}

// differ builds the lines of one resource or output diff.
type differ struct {
	lines []line
	// before and after are the sensitive paths of each side.
	before, after paths
	replace       []value.Path
}

const sensitiveText = "(sensitive value)"

func (d *differ) add(depth int, m mark, text string) {
	d.lines = append(d.lines, line{depth: depth, mark: m, text: text})
}

// forces returns the "# forces replacement" note for a line at p. A line that opens a container carries
// it only when p itself forces replacement; a leaf line also when a path inside it does.
func (d *differ) forces(p value.Path, leaf bool) string {
	for _, r := range d.replace {
		if slices.Equal(r, p) || leaf && r.HasPrefix(p) {
			return " # forces replacement"
		}
	}
	return ""
}

// whole writes v in full: its first line marked open, everything inside marked child. prefix goes
// before the value ("name = "), suffix after it (" -> null", ",").
func (d *differ) whole(depth int, open, child mark, sens paths, p value.Path, prefix string, v any, suffix string) {
	if sens.covers(p) {
		d.add(depth, open, prefix+sensitiveText+suffix+d.forces(p, true))
		return
	}
	switch c := v.(type) {
	case map[string]any:
		if len(nonNullKeys(c)) == 0 {
			d.add(depth, open, prefix+"{}"+suffix+d.forces(p, true))
			return
		}
		d.add(depth, open, prefix+"{"+d.forces(p, false))
		d.fields(depth+1, child, sens, p, c, "")
		d.add(depth, markNone, "}"+suffix)
	case []any:
		if len(c) == 0 {
			d.add(depth, open, prefix+"[]"+suffix+d.forces(p, true))
			return
		}
		d.add(depth, open, prefix+"["+d.forces(p, false))
		for i, e := range c {
			d.whole(depth+1, child, child, sens, p.Index(i), "", e, ",")
		}
		d.add(depth, markNone, "]"+suffix)
	case string:
		if isMultiline(c) {
			d.heredoc(depth, open, prefix, c, suffix, d.forces(p, true))
			return
		}
		d.add(depth, open, prefix+scalar(v)+suffix+d.forces(p, true))
	default:
		d.add(depth, open, prefix+scalar(v)+suffix+d.forces(p, true))
	}
}

// fields writes every non-null entry of m, keys aligned, each with suffix.
func (d *differ) fields(depth int, m mark, sens paths, p value.Path, c map[string]any, suffix string) {
	keys := nonNullKeys(c)
	w := keyWidth(keys)
	for _, k := range keys {
		d.whole(depth, m, m, sens, p.Key(k), padKey(k, w), c[k], suffix)
	}
}

// object writes the changes between two records. top says these are a resource's own attributes, where
// unchanged identifying attributes (id, name) stay visible as Terraform shows them.
func (d *differ) object(depth int, bp, ap value.Path, b, a map[string]any, top bool) {
	keys := slices.Sorted(maps.Keys(unionKeys(b, a)))
	var shown []string
	hidden := 0
	for _, k := range keys {
		switch {
		case b[k] == nil && a[k] == nil:
		case d.changed(bp.Key(k), ap.Key(k), b[k], a[k]):
			shown = append(shown, k)
		case top && (k == "id" || k == "name") && !isContainer(a[k]):
			shown = append(shown, k)
		default:
			hidden++
		}
	}
	w := keyWidth(shown)
	for _, k := range shown {
		prefix := padKey(k, w)
		bv, av := b[k], a[k]
		switch {
		case bv == nil:
			d.whole(depth, markCreate, markCreate, d.after, ap.Key(k), prefix, av, "")
		case av == nil:
			d.whole(depth, markDelete, markDelete, d.before, bp.Key(k), prefix, bv, " -> null")
		case !d.changed(bp.Key(k), ap.Key(k), bv, av):
			d.whole(depth, markNone, markNone, d.after, ap.Key(k), prefix, av, "")
		default:
			d.value(depth, bp.Key(k), ap.Key(k), prefix, bv, av, "")
		}
	}
	if hidden > 0 {
		d.add(depth, markNone, hiddenNote(hidden, "attribute"))
	}
}

// changed reports whether the position differs between the sides, in value or in sensitivity.
func (d *differ) changed(bp, ap value.Path, b, a any) bool {
	return d.before.covers(bp) != d.after.covers(ap) || !value.Equal(b, a)
}

// value writes the change of one position present on both sides with different values.
func (d *differ) value(depth int, bp, ap value.Path, prefix string, b, a any, suffix string) {
	if d.before.covers(bp) || d.after.covers(ap) {
		d.add(depth, markUpdate, prefix+sensitiveText+suffix+d.forces(ap, true))
		return
	}
	bm, bIsMap := b.(map[string]any)
	am, aIsMap := a.(map[string]any)
	bl, bIsList := b.([]any)
	al, aIsList := a.([]any)
	switch {
	case bIsMap && aIsMap:
		d.add(depth, markUpdate, prefix+"{"+d.forces(ap, false))
		d.object(depth+1, bp, ap, bm, am, false)
		d.add(depth, markNone, "}"+suffix)
	case bIsList && aIsList:
		d.add(depth, markUpdate, prefix+"["+d.forces(ap, false))
		d.list(depth+1, bp, ap, bl, al)
		d.add(depth, markNone, "]"+suffix)
	case isMultiline(b) && (isMultiline(a) || isString(a)) || isString(b) && isMultiline(a):
		d.heredocDiff(depth, prefix, b.(string), a.(string), suffix, d.forces(ap, true))
	case !isContainer(b) && !isContainer(a):
		d.add(depth, markUpdate, prefix+scalar(b)+" -> "+scalar(a)+suffix+d.forces(ap, true))
	case value.IsUnknown(a):
		d.whole(depth, markUpdate, markDelete, d.before, bp, prefix, b, " -> "+scalar(a)+suffix)
	default:
		// The kind changed (a scalar became a list, …): show the old value going and the new one coming.
		d.whole(depth, markDelete, markDelete, d.before, bp, prefix, b, suffix)
		d.whole(depth, markCreate, markCreate, d.after, ap, prefix, a, suffix)
	}
}

// list writes the changes between two lists: a longest-common-subsequence edit script, where unchanged
// elements are counted and hidden, and a removed record followed by an added one is shown as one
// record changed in place.
func (d *differ) list(depth int, bp, ap value.Path, b, a []any) {
	ops := edits(len(b), len(a), func(i, j int) bool { return value.Equal(b[i], a[j]) })
	for k := 0; k < len(ops); {
		if ops[k].keep {
			run := 0
			for ; k < len(ops) && ops[k].keep; k++ {
				run++
			}
			d.add(depth, markNone, hiddenNote(run, "element"))
			continue
		}
		var dels, ins []int
		for ; k < len(ops) && !ops[k].keep; k++ {
			if ops[k].del {
				dels = append(dels, ops[k].bi)
			} else {
				ins = append(ins, ops[k].ai)
			}
		}
		// Records and lists that take each other's place are diffed in place; the other removals come
		// before the other additions.
		var gone, added []int
		for x := 0; x < max(len(dels), len(ins)); x++ {
			switch {
			case x < len(dels) && x < len(ins) && sameKind(b[dels[x]], a[ins[x]]):
				d.value(depth, bp.Index(dels[x]), ap.Index(ins[x]), "", b[dels[x]], a[ins[x]], ",")
			default:
				if x < len(dels) {
					gone = append(gone, dels[x])
				}
				if x < len(ins) {
					added = append(added, ins[x])
				}
			}
		}
		for _, i := range gone {
			d.whole(depth, markDelete, markDelete, d.before, bp.Index(i), "", b[i], ",")
		}
		for _, j := range added {
			d.whole(depth, markCreate, markCreate, d.after, ap.Index(j), "", a[j], ",")
		}
	}
}

// sameKind reports whether two values are both records or both lists, so they diff element-wise.
func sameKind(b, a any) bool {
	_, bm := b.(map[string]any)
	_, am := a.(map[string]any)
	_, bl := b.([]any)
	_, al := a.([]any)
	return bm && am || bl && al
}

func hiddenNote(n int, what string) string {
	if n != 1 {
		what += "s"
	}
	return "# (" + strconv.Itoa(n) + " unchanged " + what + " hidden)"
}

func isString(v any) bool {
	_, ok := v.(string)
	return ok
}

func isContainer(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return true
	}
	return false
}

func unionKeys(a, b map[string]any) map[string]any {
	u := make(map[string]any, len(a)+len(b))
	for k := range a {
		u[k] = nil
	}
	for k := range b {
		u[k] = nil
	}
	return u
}

func nonNullKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if v != nil {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// scalar formats a non-container value the way Terraform does: strings quoted, numbers without a
// needless fraction, unknown as "(known after apply)".
func scalar(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case string:
		return strconv.Quote(v)
	}
	if value.IsUnknown(v) {
		return "(known after apply)"
	}
	return "(unsupported value)"
}

// key formats a record key: bare when it is an identifier, quoted otherwise.
func key(k string) string {
	if k != "" && strings.IndexFunc(k, func(r rune) bool {
		return !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) < 0 {
		return k
	}
	return strconv.Quote(k)
}

func keyWidth(keys []string) int {
	w := 0
	for _, k := range keys {
		w = max(w, len(key(k)))
	}
	return w
}

func padKey(k string, w int) string {
	s := key(k)
	return s + strings.Repeat(" ", w-len(s)) + " = "
}
