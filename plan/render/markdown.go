package render

import (
	"fmt"
	"html"
	"math"
	"strings"

	"github.com/provhq/prov/plan"
)

// GitHubCommentLimit is the most characters GitHub accepts in a pull-request comment.
const GitHubCommentLimit = 65535

// MarkdownOptions controls Markdown.
type MarkdownOptions struct {
	// ID names the plan in the marker line `<!-- prov-plan: ID -->`, so CI can find and update its one
	// sticky comment instead of adding new ones; "" means "default".
	ID string
	// MaxLength is the most bytes the comment may have; 0 means GitHubCommentLimit. Values below
	// 2,000 are raised to it: the summary and the warning always fit in that.
	MaxLength int
}

// markdownReserve is room kept for the truncation note; minMarkdownLength is the smallest limit, room
// enough for the summary, the warning (it lists at most 20 resources) and the note.
const (
	markdownReserve   = 600
	minMarkdownLength = 2000
)

// mdSection is an action's table and details, in the order a reviewer should read them: what is lost
// first.
var mdSections = []struct {
	title   string
	actions []plan.Action
}{
	{"Destroy", []plan.Action{plan.Delete}},
	{"Replace", []plan.Action{plan.DeleteThenCreate, plan.CreateThenDelete}},
	{"Create", []plan.Action{plan.Create}},
	{"Update in-place", []plan.Action{plan.Update}},
	{"Read", []plan.Action{plan.Read}},
}

// Markdown renders p as a pull-request comment: the marker line, a summary (`+3 ~1 -1 ±1`), a warning
// naming every delete and replace, a table per action, the estimated monthly cost delta, and a
// collapsible attribute diff per resource. It stays under opts.MaxLength: when the plan is too long,
// diffs and then table rows are left out, and a note says what was cut and where the full plan is.
func Markdown(p *plan.Plan, opts MarkdownOptions) string {
	id := opts.ID
	if id == "" {
		id = "default"
	}
	limit := opts.MaxLength
	if limit <= 0 {
		limit = GitHubCommentLimit
	}
	limit = max(limit, minMarkdownLength)
	changes := sortedChanges(p, false)
	outputs := outputChanges(p)
	c := p.Summary()
	var head strings.Builder
	// The ID must not end the HTML comment or the line early.
	id = strings.NewReplacer("--", "- -", "\n", " ", "\r", " ").Replace(id)
	fmt.Fprintf(&head, "<!-- prov-plan: %s -->\n", id)
	if len(changes) == 0 && len(outputs) == 0 {
		head.WriteString("### prov plan: no changes\n\nYour infrastructure matches the configuration.\n")
		return head.String()
	}
	// The short summary counts each resource once: replacements only under ±.
	title := "prov plan"
	if p.Destroy {
		title = "prov destroy plan"
	}
	fmt.Fprintf(&head, "### %s: `+%d ~%d -%d ±%d`\n\n", title, c.Add-c.Replace, c.Change, c.Destroy-c.Replace, c.Replace)
	head.WriteString("**" + Sentence("Plan", c) + "**")
	if line := costLine(changes, true); line != "" {
		head.WriteString("<br>\n" + line)
	}
	head.WriteString("\n\n")
	head.WriteString(warning(changes))

	doc := &mdBudget{limit: limit - markdownReserve}
	doc.must(head.String())
	withCost := hasCost(changes)
	for _, s := range mdSections {
		var rows []*plan.Change
		for _, ch := range changes {
			if actionIn(ch.Action, s.actions) {
				rows = append(rows, ch)
			}
		}
		if len(rows) == 0 {
			continue
		}
		header := fmt.Sprintf("#### %s (%d)\n\n| Resource | Type | Provider |", s.title, len(rows))
		sep := "| --- | --- | --- |"
		if withCost {
			header += " Monthly cost |"
			sep += " ---: |"
		}
		if !doc.add(header + "\n" + sep + "\n") {
			doc.rowsCut += len(rows)
			continue
		}
		for _, ch := range rows {
			row := fmt.Sprintf("| `%s` | `%s` | %s |", ch.Addr, ch.Type, cell(ch.Provider))
			if withCost {
				row += " " + money(rowCost(ch), false) + " |"
			}
			if !doc.add(row + "\n") {
				doc.rowsCut++
			}
		}
		doc.add("\n")
	}
	if len(outputs) > 0 {
		block := details(fmt.Sprintf("Changes to outputs (%d)", len(outputs)), outputLines(outputs))
		if !doc.add("#### Outputs\n\n" + block) {
			doc.diffsCut++
		}
	}
	if len(changes) > 0 {
		doc.add("#### Details\n\n")
	}
	for _, s := range mdSections {
		for _, ch := range changes {
			if !actionIn(ch.Action, s.actions) {
				continue
			}
			summary := "<code>" + html.EscapeString(ch.Addr) + "</code> " + headline(ch.Action)
			if ch.Reason != "" {
				summary += " (" + html.EscapeString(ch.Reason) + ")"
			}
			if !doc.add(details(summary, changeLines(ch))) {
				doc.diffsCut++
			}
		}
	}
	if doc.rowsCut > 0 || doc.diffsCut > 0 {
		if !strings.HasSuffix(doc.b.String(), "\n\n") {
			doc.b.WriteString("\n")
		}
		doc.b.WriteString(truncationNote(limit, doc.rowsCut, doc.diffsCut))
	}
	out := doc.b.String()
	if len(out) > limit {
		// Only the summary and warning are there (no part is added past the budget), and they have no
		// fences: cut them at a line end, and say so.
		note := truncationNote(limit, doc.rowsCut, doc.diffsCut)
		out = out[:strings.LastIndexByte(out[:limit-len(note)-1], '\n')+1] + "\n" + note
	}
	return out
}

// mdBudget builds a comment up to a byte limit. Once one part does not fit, no later part is added
// either, so what is shown is always a prefix of the full comment in reading order.
type mdBudget struct {
	b                 strings.Builder
	limit             int
	full              bool
	rowsCut, diffsCut int
}

func (d *mdBudget) must(s string) { d.b.WriteString(s) }

func (d *mdBudget) add(s string) bool {
	if d.full || d.b.Len()+len(s) > d.limit {
		d.full = true
		return false
	}
	d.b.WriteString(s)
	return true
}

func truncationNote(limit, rows, diffs int) string {
	var cut []string
	if rows > 0 {
		cut = append(cut, plural(rows, "table row"))
	}
	if diffs > 0 {
		cut = append(cut, "the diffs of "+plural(diffs, "resource"))
	}
	return fmt.Sprintf("> [!NOTE]\n> This comment was truncated to stay under %s characters: %s left out. "+
		"The full plan is in this job's artifacts; `prov show PLANFILE` prints it.\n",
		thousands(limit), strings.Join(cut, " and ")+map[bool]string{true: " was", false: " were"}[rows == 1 && diffs == 0])
}

// warning names every delete and replace before anything else, as they lose data.
func warning(changes []*plan.Change) string {
	const listed = 20
	var items []string
	for _, s := range mdSections[:2] {
		for _, ch := range changes {
			if !actionIn(ch.Action, s.actions) {
				continue
			}
			item := "> - `" + ch.Addr + "` will be **destroyed**"
			if ch.Action.IsReplace() {
				item = "> - `" + ch.Addr + "` will be **replaced**"
			}
			switch {
			case ch.Reason != "":
				item += " (" + escapeMD(ch.Reason) + ")"
			case len(ch.ReplacePaths) > 0:
				var ps []string
				for _, rp := range ch.ReplacePaths {
					ps = append(ps, "`"+rp.String()+"`")
				}
				item += " (" + strings.Join(ps, ", ") + " forces replacement)"
			}
			items = append(items, item)
		}
	}
	if len(items) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "> [!CAUTION]\n> This plan destroys or replaces %s:\n", plural(len(items), "resource"))
	for i, it := range items {
		if i == listed {
			fmt.Fprintf(&b, "> - … and %d more\n", len(items)-listed)
			break
		}
		b.WriteString(it + "\n")
	}
	b.WriteString("\n")
	return b.String()
}

// details wraps diff lines in a collapsible block with a ```diff fence, markers moved to the first
// column so the block is coloured: + added, - removed, ! changed.
func details(summary string, ls []line) string {
	var body strings.Builder
	for _, l := range ls {
		body.WriteString(diffMarker(l.mark))
		if l.depth > 0 {
			body.WriteString(strings.Repeat("    ", l.depth))
		}
		body.WriteString("   " + l.text + "\n")
	}
	fence := strings.Repeat("`", max(3, longestRun(body.String(), '`')+1))
	return "<details><summary>" + summary + "</summary>\n\n" + fence + "diff\n" + body.String() + fence +
		"\n\n</details>\n\n"
}

func diffMarker(m mark) string {
	switch m {
	case markCreate:
		return "+"
	case markDelete:
		return "-"
	case markUpdate, markDeleteCreate, markCreateDelete:
		return "!"
	}
	return " "
}

func longestRun(s string, c byte) int {
	best, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			run++
			best = max(best, run)
		} else {
			run = 0
		}
	}
	return best
}

func actionIn(a plan.Action, as []plan.Action) bool {
	for _, x := range as {
		if a == x {
			return true
		}
	}
	return false
}

func hasCost(changes []*plan.Change) bool {
	for _, ch := range changes {
		if ch.MonthlyCost != nil || ch.BeforeMonthlyCost != nil {
			return true
		}
	}
	return false
}

// rowCost is the cost a table row shows: what a deleted object cost, what any other will.
func rowCost(ch *plan.Change) *float64 {
	if ch.Action == plan.Delete {
		return ch.BeforeMonthlyCost
	}
	return ch.MonthlyCost
}

// costLine is the estimated monthly cost delta: what created resources add, what destroyed ones save,
// and what changed ones (updated or replaced) add or save against the cost recorded when they were
// last applied (a change whose prior cost was not recorded is left out). bold marks the total up for
// Markdown.
func costLine(changes []*plan.Change, bold bool) string {
	if !hasCost(changes) {
		return ""
	}
	var added, removed, changed float64
	var anyChanged bool
	for _, ch := range changes {
		switch ch.Action {
		case plan.Create:
			if ch.MonthlyCost != nil {
				added += *ch.MonthlyCost
			}
		case plan.Delete:
			if ch.BeforeMonthlyCost != nil {
				removed += *ch.BeforeMonthlyCost
			}
		case plan.Update, plan.DeleteThenCreate, plan.CreateThenDelete:
			if ch.MonthlyCost != nil && ch.BeforeMonthlyCost != nil && *ch.MonthlyCost != *ch.BeforeMonthlyCost {
				changed += *ch.MonthlyCost - *ch.BeforeMonthlyCost
				anyChanged = true
			}
		}
	}
	net := added - removed + changed
	total := money(&net, true)
	if bold {
		total = "**" + total + "**"
	}
	detail := fmt.Sprintf("%s for new resources, %s for destroyed ones", money(&added, true), money(ptr(-removed), true))
	if anyChanged {
		detail += fmt.Sprintf(", %s for changed ones", money(&changed, true))
	}
	return fmt.Sprintf("Estimated monthly cost: %s (%s)", total, detail)
}

func ptr(f float64) *float64 { return &f }

// money formats USD with two decimals; signed puts + or − in front.
func money(f *float64, signed bool) string {
	if f == nil {
		return ""
	}
	v := math.Round(*f*100) / 100
	sign := ""
	switch {
	case v < 0:
		sign, v = "−", -v
	case signed:
		sign = "+"
	}
	whole := int64(v)
	cents := int64(math.Round((v - float64(whole)) * 100))
	return fmt.Sprintf("%s$%s.%02d", sign, thousands(int(whole)), cents)
}

func thousands(n int) string {
	s := itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// cell escapes text for a table cell.
func cell(s string) string { return strings.ReplaceAll(escapeMD(s), "|", `\|`) }

// escapeMD keeps text from being read as Markdown or HTML.
func escapeMD(s string) string {
	r := strings.NewReplacer("\\", "\\\\", "`", "\\`", "*", "\\*", "_", "\\_", "<", "&lt;", ">", "&gt;", "[", "\\[", "]", "\\]")
	return r.Replace(s)
}
