package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/provhq/prov/internal/value"
)

// ErrCorrupt is wrapped by every error of Decode: the data is not a state this build can read.
var ErrCorrupt = errors.New("not a valid prov state")

// DecodeError is the error of Decode. Offset, Line and Col locate the problem when it has a position
// (Line and Col count from 1; 0 when unknown).
type DecodeError struct {
	Name      string // file name, for messages
	Offset    int64
	Line, Col int
	Err       error
}

// Error says where and what: "state: decode prov.state.json:3:12 (byte 27): …".
func (e *DecodeError) Error() string {
	where := e.Name
	if e.Line > 0 {
		where += ":" + strconv.Itoa(e.Line) + ":" + strconv.Itoa(e.Col)
		where += " (byte " + strconv.FormatInt(e.Offset, 10) + ")"
	}
	return "state: decode " + where + ": " + e.Err.Error()
}

// Unwrap returns ErrCorrupt and the underlying error.
func (e *DecodeError) Unwrap() []error { return []error{ErrCorrupt, e.Err} }

// Encode returns the state as compact JSON. The output is deterministic: resources and outputs are
// sorted by address and name.
func (s *State) Encode() ([]byte, error) {
	b, err := appendState(make([]byte, 0, 256*len(s.Resources)+256), s)
	if err != nil {
		return nil, fmt.Errorf("state: encode: %w", err)
	}
	return b, nil
}

// Decode parses a state file's contents; name (the file name) is used in errors. A truncated, empty,
// non-JSON or wrong-version input is a *DecodeError wrapping ErrCorrupt, located by line, column and
// byte offset when the JSON decoder says where.
func Decode(data []byte, name string) (*State, error) {
	fail := func(off int64, err error) error {
		e := &DecodeError{Name: name, Err: err}
		if off >= 0 {
			e.Offset = off
			e.Line, e.Col = position(data, off)
		}
		return e
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, fail(-1, errors.New("file is empty"))
	}
	if trimmed[0] != '{' {
		return nil, fail(int64(len(data)-len(bytes.TrimLeft(data, " \t\r\n"))), errors.New("not JSON: a state file starts with '{'"))
	}
	s, err := parseState(data)
	if err != nil {
		// A newer format may not fit this build's shape: say so rather than report its first misfit.
		var head struct {
			Version int `json:"version"`
		}
		if json.Unmarshal(data, &head) == nil && head.Version > FormatVersion {
			return nil, fail(-1, newerVersion(head.Version))
		}
		var se *value.SyntaxError
		if errors.As(err, &se) {
			msg := se.Msg
			if se.Offset >= len(data) {
				msg = "unexpected end of file (truncated?)"
			}
			return nil, fail(int64(se.Offset), errors.New(msg))
		}
		return nil, fail(-1, err)
	}
	switch {
	case s.Version > FormatVersion:
		return nil, fail(-1, newerVersion(s.Version))
	case s.Version == 0:
		return nil, fail(-1, errors.New(`no "version" field: not a prov state file`))
	case s.Version < 0:
		return nil, fail(-1, fmt.Errorf("unknown state format version %d", s.Version))
	}
	if s.Lineage == "" {
		return nil, fail(-1, errors.New(`no "lineage": not a prov state file`))
	}
	if s.Resources == nil {
		s.Resources = map[string]*Resource{}
	}
	for addr, r := range s.Resources {
		if r == nil {
			return nil, fail(-1, fmt.Errorf("resources.%s: null resource", addr))
		}
	}
	for name, o := range s.Outputs {
		if o == nil {
			return nil, fail(-1, fmt.Errorf("outputs.%s: null output", name))
		}
	}
	return s, nil
}

func newerVersion(v int) error {
	return fmt.Errorf("state format version %d is newer than this prov reads (%d); upgrade prov", v, FormatVersion)
}

// position converts a byte offset in data into a 1-based line and column.
func position(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line = bytes.Count(before, []byte{'\n'}) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}
