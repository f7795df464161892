package render

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/plan"
	"github.com/provhq/prov/state"
)

// Options controls the human renderers.
type Options struct {
	// Color writes ANSI colours: green additions, yellow updates, red deletions, bold addresses.
	// Set it only when writing to a terminal.
	Color bool
}

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
)

// printer writes text with optional colour.
type printer struct {
	bytes.Buffer
	color bool
}

func (p *printer) paint(code, s string) string {
	if !p.color || s == "" {
		return s
	}
	return code + s + ansiReset
}

func (p *printer) bold(s string) string { return p.paint(ansiBold, s) }

// symbol returns the coloured marker of m, right-aligned in three columns.
func (p *printer) symbol(m mark) string {
	s := m.symbol()
	pad := strings.Repeat(" ", 3-len(s))
	switch m {
	case markCreate:
		return pad + p.paint(ansiGreen, s)
	case markUpdate:
		return pad + p.paint(ansiYellow, s)
	case markDelete:
		return pad + p.paint(ansiRed, s)
	case markRead:
		return pad + p.paint(ansiCyan, s)
	case markDeleteCreate:
		return p.paint(ansiRed, "-") + "/" + p.paint(ansiGreen, "+")
	case markCreateDelete:
		return p.paint(ansiGreen, "+") + "/" + p.paint(ansiRed, "-")
	}
	return pad + s
}

// lines writes diff lines in Terraform's layout: four columns per level, the marker right-aligned in
// the last three of them. Depth -1 is the unmarked left margin, used for state outputs.
func (p *printer) lines(ls []line) {
	for _, l := range ls {
		if l.depth < 0 {
			p.WriteString(l.text + "\n")
			continue
		}
		p.WriteString(strings.Repeat("    ", l.depth))
		p.WriteString(p.symbol(l.mark))
		p.WriteString(" ")
		p.WriteString(l.text)
		p.WriteString("\n")
	}
}

// Human writes p as Terraform-style text: a legend of the actions used, one block per changed resource
// with its attribute diff, the summary line, and the changes to outputs.
func Human(w io.Writer, p *plan.Plan, opts Options) error {
	pr := &printer{color: opts.Color}
	changes := sortedChanges(p, false)
	sum := p.Summary()
	outputs := outputChanges(p)
	if len(changes) == 0 && len(outputs) == 0 {
		pr.noChanges(p.Destroy)
		return write(w, pr)
	}
	if len(changes) > 0 {
		pr.legend(changes)
		pr.WriteString("prov will perform the following actions:\n\n")
		for _, ch := range changes {
			pr.change(ch)
		}
		pr.WriteString(pr.bold("Plan:") + strings.TrimPrefix(Sentence("Plan", sum), "Plan:") + "\n")
		if line := costLine(changes, false); line != "" {
			pr.WriteString(line + "\n")
		}
	}
	if len(outputs) > 0 {
		if len(changes) > 0 {
			pr.WriteString("\n")
		}
		pr.WriteString("Changes to Outputs:\n")
		pr.lines(outputLines(outputs))
		if len(changes) == 0 {
			pr.WriteString("\nYou can apply this plan to save these new output values to the prov state, " +
				"without changing any real infrastructure.\n")
		}
	}
	return write(w, pr)
}

func write(w io.Writer, pr *printer) error {
	if _, err := w.Write(pr.Bytes()); err != nil {
		return fmt.Errorf("render: write: %w", err)
	}
	return nil
}

func (p *printer) noChanges(destroy bool) {
	if destroy {
		p.WriteString(p.bold("No changes.") + " No objects need to be destroyed.\n\n" +
			"Either you have not created any objects yet or the existing objects were already deleted " +
			"outside of prov.\n")
		return
	}
	p.WriteString(p.bold("No changes.") + " Your infrastructure matches the configuration.\n\n" +
		"prov has compared your real infrastructure against your configuration and found no " +
		"differences, so no changes are needed.\n")
}

// legend lists the markers of the actions the plan uses, in Terraform's order.
func (p *printer) legend(changes []*plan.Change) {
	used := map[plan.Action]bool{}
	for _, ch := range changes {
		used[ch.Action] = true
	}
	p.WriteString("prov used the selected providers to generate the following execution plan. " +
		"Resource actions are\nindicated with the following symbols:\n")
	for _, e := range []struct {
		a    plan.Action
		text string
	}{
		{plan.Create, "create"},
		{plan.Update, "update in-place"},
		{plan.Delete, "destroy"},
		{plan.DeleteThenCreate, "destroy and then create replacement"},
		{plan.CreateThenDelete, "create replacement and then destroy"},
		{plan.Read, "read (data resources)"},
	} {
		if used[e.a] {
			p.WriteString(p.symbol(actionMark(e.a)) + " " + e.text + "\n")
		}
	}
	p.WriteString("\n")
}

func (p *printer) change(ch *plan.Change) {
	p.WriteString("  " + p.bold("# "+ch.Addr) + " " + headline(ch.Action) + "\n")
	if ch.Reason != "" {
		p.WriteString("  # (" + ch.Reason + ")\n")
	}
	p.lines(changeLines(ch))
	p.WriteString("\n")
}

// outputChanges returns the outputs of p that change, by name.
func outputChanges(p *plan.Plan) []*plan.OutputChange {
	var out []*plan.OutputChange
	for _, n := range slices.Sorted(maps.Keys(p.Outputs)) {
		oc := p.Outputs[n]
		if oc.Action == plan.NoOp {
			continue
		}
		if oc.Name == "" {
			c := *oc
			c.Name = n
			oc = &c
		}
		out = append(out, oc)
	}
	return out
}

// outputAfter is the planned value of an output: After, or unknown when the value is still unresolved.
func outputAfter(oc *plan.OutputChange) any {
	if oc.After == nil && oc.Value != nil && oc.Action != plan.Delete {
		return value.Unknown
	}
	return oc.After
}

// outputLines renders the output changes with their names aligned.
func outputLines(ocs []*plan.OutputChange) []line {
	names := make([]string, len(ocs))
	for i, oc := range ocs {
		names[i] = oc.Name
	}
	w := keyWidth(names)
	var ls []line
	for _, oc := range ocs {
		sens := wholeIf(oc.Sensitive)
		d := &differ{before: sens, after: sens}
		prefix := padKey(oc.Name, w)
		after := outputAfter(oc)
		switch {
		case oc.Action == plan.Delete || after == nil:
			d.whole(0, markDelete, markDelete, sens, nil, prefix, oc.Before, " -> null")
		case oc.Action == plan.Create || oc.Before == nil:
			d.whole(0, markCreate, markCreate, sens, nil, prefix, after, "")
		default:
			d.value(0, nil, nil, prefix, oc.Before, after, "")
		}
		ls = append(ls, d.lines...)
	}
	return ls
}

// HumanState writes s as `prov show` prints a state: one block per resource, then the outputs.
// Sensitive values are shown as "(sensitive value)".
func HumanState(w io.Writer, s *state.State, opts Options) error {
	pr := &printer{color: opts.Color}
	if s == nil || len(s.Resources) == 0 && len(s.Outputs) == 0 {
		pr.WriteString("The state file is empty. No resources are represented.\n")
		return write(w, pr)
	}
	addrs := slices.SortedFunc(maps.Keys(s.Resources), compareAddr)
	for i, addr := range addrs {
		if i > 0 {
			pr.WriteString("\n")
		}
		pr.resource(addr, s.Resources[addr])
	}
	if len(s.Outputs) > 0 {
		if len(addrs) > 0 {
			pr.WriteString("\n")
		}
		pr.WriteString("Outputs:\n\n")
		names := slices.Sorted(maps.Keys(s.Outputs))
		wd := keyWidth(names)
		d := &differ{}
		for _, n := range names {
			o := s.Outputs[n]
			sens := wholeIf(o.Sensitive)
			d.whole(-1, markNone, markNone, sens, nil, padKey(n, wd), o.Value, "")
		}
		pr.lines(d.lines)
	}
	return write(w, pr)
}

// HumanResource writes one state resource as `prov state show ADDR` prints it.
func HumanResource(w io.Writer, addr string, r *state.Resource, opts Options) error {
	pr := &printer{color: opts.Color}
	pr.resource(addr, r)
	return write(w, pr)
}

func (p *printer) resource(addr string, r *state.Resource) {
	p.WriteString(p.bold("# "+addr+":") + "\n")
	p.WriteString("resource " + quote(r.Type) + " " + quote(name(addr)) + " {\n")
	d := &differ{}
	if attrs, ok := r.Attributes.(map[string]any); ok {
		d.fields(0, markNone, r.Sensitive, nil, attrs, "")
	}
	p.lines(d.lines)
	p.WriteString("}\n")
}
