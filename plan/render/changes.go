package render

import (
	"slices"
	"strconv"
	"strings"

	"github.com/provhq/prov/plan"
)

// Sentence is the summary line of s: "Plan: 2 to add, 1 to change, 1 to destroy.", with
// "(1 replacement)" added when replacements are among them (counted in add and destroy, as Terraform
// does). label is "Plan" or another word for what is summed up.
func Sentence(label string, s plan.Summary) string {
	out := label + ": " + itoa(s.Add) + " to add, " + itoa(s.Change) + " to change, " + itoa(s.Destroy) + " to destroy"
	if s.Replace > 0 {
		out += " (" + plural(s.Replace, "replacement") + ")"
	}
	return out + "."
}

// sortedChanges returns the changes of p that do something, ordered by address.
func sortedChanges(p *plan.Plan, withNoOps bool) []*plan.Change {
	out := make([]*plan.Change, 0, len(p.Changes))
	for addr, ch := range p.Changes {
		if ch.Action == plan.NoOp && !withNoOps {
			continue
		}
		if ch.Addr == "" {
			c := *ch
			c.Addr = addr
			ch = &c
		}
		out = append(out, ch)
	}
	slices.SortFunc(out, func(a, b *plan.Change) int { return compareAddr(a.Addr, b.Addr) })
	return out
}

// compareAddr orders addresses as people expect: "web-2" before "web-10".
func compareAddr(a, b string) int {
	for a != "" && b != "" {
		if isDigit(a[0]) && isDigit(b[0]) {
			na, nb := digits(a), digits(b)
			ta, tb := strings.TrimLeft(a[:na], "0"), strings.TrimLeft(b[:nb], "0")
			if c := len(ta) - len(tb); c != 0 {
				return c
			}
			if c := strings.Compare(ta, tb); c != 0 {
				return c
			}
			if c := na - nb; c != 0 {
				return c
			}
			a, b = a[na:], b[nb:]
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func digits(s string) int {
	n := 0
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	return n
}

// name is the last segment of an address, Terraform's resource "name".
func name(addr string) string {
	return addr[strings.LastIndexByte(addr, '.')+1:]
}

// actionMark is the block marker of an action.
func actionMark(a plan.Action) mark {
	switch a {
	case plan.Create:
		return markCreate
	case plan.Update:
		return markUpdate
	case plan.Delete:
		return markDelete
	case plan.Read:
		return markRead
	case plan.DeleteThenCreate:
		return markDeleteCreate
	case plan.CreateThenDelete:
		return markCreateDelete
	}
	return markNone
}

// headline is what the comment above a resource block says will happen to it.
func headline(a plan.Action) string {
	switch a {
	case plan.Create:
		return "will be created"
	case plan.Update:
		return "will be updated in-place"
	case plan.Delete:
		return "will be destroyed"
	case plan.Read:
		return "will be read during apply"
	case plan.DeleteThenCreate, plan.CreateThenDelete:
		return "must be replaced"
	}
	return "has no changes"
}

// changeLines renders the block of one resource change: header, attribute diff and closing brace.
func changeLines(ch *plan.Change) []line {
	d := &differ{before: ch.BeforeSensitive, after: ch.AfterSensitive, replace: ch.ReplacePaths}
	kind := "resource"
	if ch.Action == plan.Read {
		kind = "data"
	}
	d.add(0, actionMark(ch.Action), kind+" "+quote(ch.Type)+" "+quote(name(ch.Addr))+" {")
	before, _ := ch.Before.(map[string]any)
	after, _ := ch.After.(map[string]any)
	switch ch.Action {
	case plan.Create, plan.Read:
		d.fields(1, markCreate, d.after, nil, after, "")
	case plan.Delete:
		d.fields(1, markDelete, d.before, nil, before, " -> null")
	default:
		d.object(1, nil, nil, before, after, true)
	}
	d.add(0, markNone, "}")
	return d.lines
}

func quote(s string) string { return `"` + s + `"` }

func itoa(n int) string { return strconv.Itoa(n) }

func plural(n int, what string) string {
	if n != 1 {
		what += "s"
	}
	return itoa(n) + " " + what
}
