package render

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// heredocContext is how many unchanged lines are shown on each side of a change inside a multi-line
// string; longer unchanged runs are counted and hidden.
const heredocContext = 2

func isMultiline(v any) bool {
	s, ok := v.(string)
	return ok && strings.Contains(s, "\n")
}

// textLines splits a multi-line string into its lines, with control characters escaped so a value
// cannot drive the terminal.
func textLines(s string) []string {
	ls := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	for i, l := range ls {
		if strings.IndexFunc(l, isControl) >= 0 {
			var b strings.Builder
			for _, r := range l {
				if isControl(r) {
					fmt.Fprintf(&b, `\x%02x`, r)
				} else {
					b.WriteRune(r)
				}
			}
			ls[i] = b.String()
		}
	}
	return ls
}

func isControl(r rune) bool { return r != '\t' && unicode.IsControl(r) }

// heredoc writes a multi-line string whole, as Terraform does: <<-EOT, the lines, EOT.
func (d *differ) heredoc(depth int, m mark, prefix, s, suffix, note string) {
	d.add(depth, m, prefix+"<<-EOT"+note)
	for _, l := range textLines(s) {
		d.add(depth+1, markNone, l)
	}
	d.add(depth, markNone, "EOT"+suffix)
}

// heredocDiff writes the line-by-line change of a string that is multi-line on at least one side.
func (d *differ) heredocDiff(depth int, prefix, b, a, suffix, note string) {
	bl, al := textLines(b), textLines(a)
	if slices.Equal(bl, al) {
		// Only a trailing newline differs, which a heredoc cannot show.
		d.add(depth, markUpdate, prefix+scalar(b)+" -> "+scalar(a)+suffix+note)
		return
	}
	d.add(depth, markUpdate, prefix+"<<-EOT"+note)
	ops := edits(len(bl), len(al), func(i, j int) bool { return bl[i] == al[j] })
	for k := 0; k < len(ops); {
		if !ops[k].keep {
			if ops[k].del {
				d.add(depth+1, markDelete, bl[ops[k].bi])
			} else {
				d.add(depth+1, markCreate, al[ops[k].ai])
			}
			k++
			continue
		}
		start := k
		for k < len(ops) && ops[k].keep {
			k++
		}
		run := ops[start:k]
		head, tail := heredocContext, heredocContext
		if start == 0 {
			head = 0
		}
		if k == len(ops) {
			tail = 0
		}
		if len(run) <= head+tail+1 {
			head, tail = len(run), 0
		}
		for _, op := range run[:head] {
			d.add(depth+1, markNone, bl[op.bi])
		}
		if hidden := len(run) - head - tail; hidden > 0 {
			d.add(depth+1, markNone, hiddenNote(hidden, "line"))
		}
		for _, op := range run[len(run)-tail:] {
			d.add(depth+1, markNone, bl[op.bi])
		}
	}
	d.add(depth, markNone, "EOT"+suffix)
}
