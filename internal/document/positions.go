package document

import (
	"encoding/json"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/value"
)

// Display renders a data path the way diagnostics show it: keys joined by dots, list indexes in
// brackets ("resources.files.motd.config.path", "servers.web-01.storage[0]"). Unlike value.Path.String
// it does not quote keys that hold dots, because addresses are dotted by design.
func Display(p value.Path) string {
	var b strings.Builder
	for i, s := range p {
		if s.IsIndex {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.Index))
			b.WriteByte(']')
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.Key)
	}
	return b.String()
}

// lineIndex turns byte offsets into 1-based line:column positions (columns count characters). It
// remembers the last position asked for, so a scan that asks in increasing order costs linear time even
// on a document written on one line.
type lineIndex struct {
	file   string
	data   []byte
	starts []int // offset of the first byte of each line
	last   struct{ off, line, col int }
}

func newLineIndex(file string, data []byte) *lineIndex {
	starts := []int{0}
	for i, c := range data {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	li := &lineIndex{file: file, data: data, starts: starts}
	li.last.line, li.last.col = 1, 1
	return li
}

func (li *lineIndex) pos(off int) diag.Pos {
	off = min(max(off, 0), len(li.data))
	line := sort.Search(len(li.starts), func(i int) bool { return li.starts[i] > off }) - 1
	from, col := li.starts[line], 1
	if li.last.line == line+1 && li.last.off <= off {
		from, col = li.last.off, li.last.col
	}
	col += utf8.RuneCount(li.data[from:off])
	li.last.off, li.last.line, li.last.col = off, line+1, col
	return diag.Pos{File: li.file, Line: line + 1, Col: col}
}

// jsonPositions returns the position of every value in a JSON document by data path (value.Path.String
// form): the position of its key for a record field, of the value itself for a list element and the root.
// It expects valid JSON (checked before); on anything else it returns what it found so far.
func jsonPositions(file string, data []byte) map[string]diag.Pos {
	s := &posScanner{li: newLineIndex(file, data), data: data, out: map[string]diag.Pos{}}
	s.skipSpace()
	s.out[""] = s.li.pos(s.i)
	s.value(nil)
	return s.out
}

type posScanner struct {
	li   *lineIndex
	data []byte
	i    int
	out  map[string]diag.Pos
}

func (s *posScanner) skipSpace() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// value scans one value whose path is p; it reports false when the input ends or is malformed.
func (s *posScanner) value(p value.Path) bool {
	s.skipSpace()
	if s.i >= len(s.data) {
		return false
	}
	switch s.data[s.i] {
	case '{':
		s.i++
		for {
			s.skipSpace()
			if s.i >= len(s.data) {
				return false
			}
			if s.data[s.i] == '}' {
				s.i++
				return true
			}
			if s.data[s.i] == ',' {
				s.i++
				continue
			}
			start := s.i
			key, ok := s.str()
			if !ok {
				return false
			}
			s.skipSpace()
			if s.i >= len(s.data) || s.data[s.i] != ':' {
				return false
			}
			s.i++
			kp := p.Key(key)
			s.out[kp.String()] = s.li.pos(start)
			if !s.value(kp) {
				return false
			}
		}
	case '[':
		s.i++
		for n := 0; ; {
			s.skipSpace()
			if s.i >= len(s.data) {
				return false
			}
			switch s.data[s.i] {
			case ']':
				s.i++
				return true
			case ',':
				s.i++
				continue
			}
			ip := p.Index(n)
			s.out[ip.String()] = s.li.pos(s.i)
			if !s.value(ip) {
				return false
			}
			n++
		}
	case '"':
		_, ok := s.str()
		return ok
	default:
		for s.i < len(s.data) && !strings.ContainsRune(",]} \t\r\n", rune(s.data[s.i])) {
			s.i++
		}
		return true
	}
}

// str scans a JSON string and returns its decoded text.
func (s *posScanner) str() (string, bool) {
	if s.i >= len(s.data) || s.data[s.i] != '"' {
		return "", false
	}
	start := s.i
	escaped := false
	for s.i++; s.i < len(s.data); s.i++ {
		switch s.data[s.i] {
		case '\\':
			escaped = true
			s.i++
		case '"':
			s.i++
			raw := s.data[start:s.i]
			if !escaped {
				return string(raw[1 : len(raw)-1]), true
			}
			var out string
			if json.Unmarshal(raw, &out) != nil {
				return "", false
			}
			return out, true
		}
	}
	return "", false
}

// locate finds the position recorded for path p, or failing that for its closest ancestor.
func locate(positions map[string]diag.Pos, p value.Path) diag.Pos {
	if positions == nil {
		return diag.Pos{}
	}
	for q := slices.Clip(p); ; q = q[:len(q)-1] {
		if pos, ok := positions[q.String()]; ok {
			return pos
		}
		if len(q) == 0 {
			return diag.Pos{}
		}
	}
}

// ConfigDiagnostics places diagnostics a provider (or Resolve) reported about a resource's configuration:
// each path, relative to the configuration ("ingress[0].port"), becomes the full data path
// ("resources.web.config.ingress[0].port"), and each gets the source position of that value, or of its
// closest enclosing value, when the document knows it.
func (d *Document) ConfigDiagnostics(addr string, ds diag.Diagnostics) diag.Diagnostics {
	for i := range ds {
		p := value.KeyPath("resources", addr, "config")
		if ds[i].Path != "" {
			if attr, err := value.ParsePath(ds[i].Path); err == nil {
				p = append(p, attr...)
			}
		}
		ds[i].Path = Display(p)
		if !ds[i].Pos.IsValid() {
			ds[i].Pos = d.Pos(p)
		}
		if ds[i].Address == "" {
			ds[i].Address = addr
		}
	}
	return ds
}

// sourceMap maps data paths (value.Path String form) to where they were written. For a .json document
// it is computed on first use: only diagnostics need it, and scanning a large document is not free.
type sourceMap struct {
	once    sync.Once
	compute func() map[string]diag.Pos
	m       map[string]diag.Pos
}

func (s *sourceMap) get() map[string]diag.Pos {
	if s == nil {
		return nil
	}
	s.once.Do(func() {
		if s.compute != nil {
			s.m = s.compute()
		}
	})
	return s.m
}

// Pos is where the value at path p, or its closest enclosing value, was written; the zero Pos when
// unknown.
func (d *Document) Pos(p value.Path) diag.Pos { return locate(d.source.get(), p) }
