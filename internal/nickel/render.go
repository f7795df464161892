package nickel

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/provhq/prov/internal/nickel/source"
)

// Render formats err the way the nickel CLI prints diagnostics (codespan style): the message, the
// source line with the offending span underlined, secondary labels and notes.
func Render(err error) string {
	e, ok := err.(*Error)
	if !ok {
		if xe, ok := err.(*ExternalError); ok {
			return xe.Stderr
		}
		return "error: " + err.Error() + "\n"
	}
	var b strings.Builder
	severity := "error"
	if e.Class == Warning {
		severity = "warning"
	}
	b.WriteString(severity + ": " + e.Message + "\n")
	if e.Reason != "" {
		for _, line := range strings.Split(e.Reason, "\n") {
			b.WriteString("       " + line + "\n")
		}
	}
	notes := e.Notes
	if e.Path != "" && e.Class == "ExportError::NonSerializable" {
		notes = append([]string{"When exporting field `" + e.Path + "`"}, notes...)
	}
	if e.Span.IsValid() {
		renderSpan(&b, e, notes)
	} else {
		for _, n := range notes {
			fmt.Fprintf(&b, " = %s\n", n)
		}
		b.WriteString("\n")
	}
	if e.Trailer != "" {
		b.WriteString(e.Trailer)
	}
	return b.String()
}

// Warning is the Class of the non-fatal problems Export reports on Options.Stderr.
const Warning = "Warning"

// renderSpan writes the source excerpt of e's span: one underlined line, or a bracketed block of
// lines for a span that covers several (long blocks elided in the middle).
func renderSpan(b *strings.Builder, e *Error, notes []string) {
	sp := e.Span
	l, c := sp.File.Position(sp.Start)
	endOff := max(sp.End-1, sp.Start)
	el, ec := sp.File.Position(endOff)
	width := len(strconv.Itoa(el))
	pad := strings.Repeat(" ", width+1)
	fmt.Fprintf(b, "%s┌─ %s:%d:%d\n", pad, sp.File.Name, l, c)
	if el == l {
		labels := []label{{span: sp, text: e.Label, primary: true}}
		for _, x := range e.Extra {
			if xl, _ := x.Span.File.Position(x.Span.Start); x.Span.File == sp.File && x.Span.IsValid() && xl != l {
				labels = append(labels, label{span: x.Span, text: x.Message})
			}
		}
		if len(labels) > 1 {
			renderLabels(b, labels, notes)
			return
		}
		fmt.Fprintf(b, "%s│\n", pad)
		text := sp.File.Line(l)
		fmt.Fprintf(b, "%*d │ %s\n", width, l, text)
		fmt.Fprintf(b, "%s│ %s%s", pad, strings.Repeat(" ", c-1), strings.Repeat("^", underline(sp, text, c)))
	} else {
		fmt.Fprintf(b, "%s│  \n", pad)
		lines := make([]int, 0, el-l+1)
		for i := l; i <= el; i++ {
			lines = append(lines, i)
		}
		if len(lines) > 6 {
			lines = append(append(lines[:4:4], 0), lines[len(lines)-2:]...)
		}
		for i, n := range lines {
			switch {
			case n == 0:
				fmt.Fprintf(b, "%s· │\n", pad)
			case i == 0:
				fmt.Fprintf(b, "%*d │ ╭ %s\n", width, n, sp.File.Line(n))
			default:
				fmt.Fprintf(b, "%*d │ │ %s\n", width, n, sp.File.Line(n))
			}
		}
		fmt.Fprintf(b, "%s│ ╰%s^", pad, strings.Repeat("─", ec))
	}
	if e.Label != "" {
		b.WriteString(" " + e.Label)
	}
	b.WriteString("\n")
	if len(notes) > 0 {
		fmt.Fprintf(b, "%s│\n", pad)
		for _, n := range notes {
			fmt.Fprintf(b, "%s= %s\n", pad, n)
		}
	}
	b.WriteString("\n")
}

type label struct {
	span    source.Span
	text    string
	primary bool
}

// underline is the number of marks under a single-line span starting at column c of text.
func underline(sp source.Span, text string, c int) int {
	n := len([]rune(sp.Text()))
	if rest := len([]rune(text)) - (c - 1); n > rest {
		n = rest
	}
	return max(n, 1)
}

// renderLabels writes several single-line labels of one file in line order: ^ marks the primary span,
// - the others, and · stands for the lines skipped between them.
func renderLabels(b *strings.Builder, labels []label, notes []string) {
	sort.SliceStable(labels, func(i, j int) bool { return labels[i].span.Start < labels[j].span.Start })
	maxLine := 0
	for _, lb := range labels {
		l, _ := lb.span.File.Position(lb.span.Start)
		maxLine = max(maxLine, l)
	}
	width := len(strconv.Itoa(maxLine))
	pad := strings.Repeat(" ", width+1)
	fmt.Fprintf(b, "%s│\n", pad)
	prev := 0
	for _, lb := range labels {
		l, c := lb.span.File.Position(lb.span.Start)
		if prev != 0 && l > prev+1 {
			fmt.Fprintf(b, "%s·\n", pad)
		}
		prev = l
		text := lb.span.File.Line(l)
		mark := "-"
		if lb.primary {
			mark = "^"
		}
		fmt.Fprintf(b, "%*d │ %s\n", width, l, text)
		fmt.Fprintf(b, "%s│ %s%s", pad, strings.Repeat(" ", c-1), strings.Repeat(mark, underline(lb.span, text, c)))
		if lb.text != "" {
			b.WriteString(" " + lb.text)
		}
		b.WriteString("\n")
	}
	if len(notes) > 0 {
		fmt.Fprintf(b, "%s│\n", pad)
		for _, n := range notes {
			fmt.Fprintf(b, "%s= %s\n", pad, n)
		}
	}
	b.WriteString("\n")
}
