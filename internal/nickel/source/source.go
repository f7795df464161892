// Package source holds what every stage of the Nickel evaluator shares about program text: the files
// (name, content, line table), byte-offset spans into them, and Error, the one error type every stage
// returns. An Error carries the upstream error class (EvalError::BlameError, ParseError::…) so tests can
// match it, a source span, the data path of the offending value and a rendered snippet.
package source

import (
	"fmt"
	"sort"
	"strings"

	"github.com/provhq/prov/internal/diag"
)

// File is one source text known to the evaluator.
type File struct {
	Name    string
	Content string
	lines   []int // byte offset of the start of each line
}

// NewFile returns a File for name with content.
func NewFile(name, content string) *File {
	f := &File{Name: name, Content: content, lines: []int{0}}
	for i := 0; i < len(content); i++ {
		if content[i] == '\n' {
			f.lines = append(f.lines, i+1)
		}
	}
	return f
}

// Position converts a byte offset into a 1-based line and column (columns count runes).
func (f *File) Position(off int) (line, col int) {
	if off > len(f.Content) {
		off = len(f.Content)
	}
	i := sort.Search(len(f.lines), func(i int) bool { return f.lines[i] > off }) - 1
	if i < 0 {
		i = 0
	}
	return i + 1, len([]rune(f.Content[f.lines[i]:off])) + 1
}

// Line returns the text of 1-based line n without its newline.
func (f *File) Line(n int) string {
	if n < 1 || n > len(f.lines) {
		return ""
	}
	end := len(f.Content)
	if n < len(f.lines) {
		end = f.lines[n] - 1
	}
	return f.Content[f.lines[n-1]:end]
}

// Span is a range of bytes [Start, End) in a File. The zero Span means "no position".
type Span struct {
	File       *File
	Start, End int
}

// IsValid reports whether s points into a file.
func (s Span) IsValid() bool { return s.File != nil }

// Pos returns the diag.Pos of the start of s.
func (s Span) Pos() diag.Pos {
	if s.File == nil {
		return diag.Pos{}
	}
	l, c := s.File.Position(s.Start)
	return diag.Pos{File: s.File.Name, Line: l, Col: c}
}

// Text returns the source text covered by s.
func (s Span) Text() string {
	if s.File == nil || s.End > len(s.File.Content) || s.Start > s.End {
		return ""
	}
	return s.File.Content[s.Start:s.End]
}

// To returns the span from the start of s to the end of t.
func (s Span) To(t Span) Span {
	if s.File == nil {
		return t
	}
	if t.File == s.File && t.End > s.End {
		s.End = t.End
	}
	return s
}

func (s Span) String() string { return s.Pos().String() }

// Error is a Nickel parse, import or evaluation error.
type Error struct {
	// Class is the upstream error class, e.g. "EvalError::BlameError" or "ParseError::UnexpectedToken".
	Class string
	// Message is the one-line summary.
	Message string
	// Span is where the error was found; Extra are secondary locations (e.g. the contract that was broken).
	Span  Span
	Extra []Note
	// Path is the data path of the offending value ("servers.web.zone"), when known.
	Path string
	// Notes are further lines of explanation.
	Notes []string
	// Reason is the contract's own explanation of a blame ("expected a zone name"), shown under the
	// message.
	Reason string
	// Label annotates the primary span in rendered output; Trailer is rendered after the error
	// (a secondary "note:" block).
	Label, Trailer string
}

// Note is a secondary location attached to an Error.
type Note struct {
	Span    Span
	Message string
}

// Errorf returns an Error of class at span.
func Errorf(class string, span Span, format string, args ...any) *Error {
	return &Error{Class: class, Span: span, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Span.IsValid() {
		b.WriteString(e.Span.String())
		b.WriteString(": ")
	}
	b.WriteString("error: ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Summary())
	b.WriteString(" [")
	b.WriteString(e.Class)
	b.WriteString("]")
	return b.String()
}

// Summary is the message followed by the reason, if any.
func (e *Error) Summary() string {
	if e.Reason != "" {
		return e.Message + ": " + e.Reason
	}
	return e.Message
}

// Detail renders the snippet and notes shown under the summary.
func (e *Error) Detail() string {
	var b strings.Builder
	snippet(&b, e.Span, "")
	for _, x := range e.Extra {
		snippet(&b, x.Span, x.Message)
	}
	for _, n := range e.Notes {
		b.WriteString("note: ")
		b.WriteString(n)
		b.WriteString("\n")
	}
	b.WriteString("(" + e.Class + ")")
	return b.String()
}

func snippet(b *strings.Builder, s Span, msg string) {
	if !s.IsValid() {
		if msg != "" {
			b.WriteString(msg + "\n")
		}
		return
	}
	l, c := s.File.Position(s.Start)
	text := s.File.Line(l)
	width := s.End - s.Start
	if rest := len(text) - (c - 1); width > rest {
		width = rest
	}
	if width < 1 {
		width = 1
	}
	fmt.Fprintf(b, "%s:%d:%d\n", s.File.Name, l, c)
	fmt.Fprintf(b, "%5d | %s\n", l, text)
	fmt.Fprintf(b, "      | %s%s", strings.Repeat(" ", c-1), strings.Repeat("^", width))
	if msg != "" {
		b.WriteString(" " + msg)
	}
	b.WriteString("\n")
}

// Diagnostics converts e into prov's diagnostic form.
func (e *Error) Diagnostics() diag.Diagnostics {
	return diag.Diagnostics{{
		Severity: diag.Error,
		Summary:  e.Summary(),
		Detail:   e.Detail(),
		Path:     e.Path,
		Pos:      e.Span.Pos(),
	}}
}
