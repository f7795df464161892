package nickel

import (
	"fmt"
	"strconv"
	"strings"
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
	b.WriteString("error: " + e.Message + "\n")
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
		fmt.Fprintf(b, "%s│\n", pad)
		text := sp.File.Line(l)
		fmt.Fprintf(b, "%*d │ %s\n", width, l, text)
		n := len([]rune(sp.Text()))
		if rest := len([]rune(text)) - (c - 1); n > rest {
			n = rest
		}
		if n < 1 {
			n = 1
		}
		fmt.Fprintf(b, "%s│ %s%s", pad, strings.Repeat(" ", c-1), strings.Repeat("^", n))
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
	} else {
		b.WriteString("\n")
	}
}
