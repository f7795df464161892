package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/state"
)

// The plan file is JSON: the Plan's header fields, then "changes" and "outputs" as lists sorted by
// address and name. Each value is written with its unknown and sensitive marks
// ({"value": …, "unknown": [paths], "sensitive": [paths]}). Sensitive values are never written: they
// are stored as unknown, so a saved plan holds no secret; the walker takes prior attributes from the
// state and resolves the configuration again at apply time. Configurations are stored as written,
// with their ${…} references and {"$secret": …} references unresolved. The output is deterministic.

type fileChange struct {
	Addr         string       `json:"address"`
	Type         string       `json:"type"`
	Provider     string       `json:"provider"`
	Action       Action       `json:"action"`
	Before       fileValue    `json:"before"`
	After        fileValue    `json:"after"`
	Config       fileValue    `json:"config"`
	ReplacePaths []value.Path `json:"replace_paths,omitempty"`
	DependsOn    []string     `json:"depends_on,omitempty"`
	Reason       string       `json:"reason,omitempty"`
	MonthlyCost  *float64     `json:"monthly_cost,omitempty"`
	BeforeCost   *float64     `json:"before_monthly_cost,omitempty"`
}

type fileOutput struct {
	Name      string    `json:"name"`
	Action    Action    `json:"action"`
	Before    fileValue `json:"before"`
	After     fileValue `json:"after"`
	Value     fileValue `json:"value"`
	Sensitive bool      `json:"sensitive,omitempty"`
}

type fileValue struct {
	Value     json.RawMessage `json:"value"`
	Unknown   []value.Path    `json:"unknown,omitempty"`
	Sensitive []value.Path    `json:"sensitive,omitempty"`
}

type file struct {
	*Plan
	Changes []fileChange `json:"changes"`
	Outputs []fileOutput `json:"outputs"`
}

// encodeValue writes v with the values at sensitive paths (or all of v, when whole) left out as unknown.
func encodeValue(v any, sensitive []value.Path, whole bool) (fileValue, error) {
	if whole && v != nil {
		v = value.Unknown
	}
	for _, p := range sensitive {
		if _, ok := value.Get(v, p); ok && len(p) > 0 {
			var err error
			if v, err = value.Set(v, p, value.Unknown); err != nil {
				return fileValue{}, err
			}
		}
	}
	data, unknown, err := value.Encode(v)
	if err != nil {
		return fileValue{}, err
	}
	sortPaths(unknown)
	return fileValue{Value: data, Unknown: unknown, Sensitive: sensitive}, nil
}

func sortPaths(ps []value.Path) {
	slices.SortFunc(ps, func(a, b value.Path) int { return strings.Compare(a.String(), b.String()) })
}

func (fv fileValue) decode() (any, error) {
	return value.Decode(fv.Value, fv.Unknown)
}

// Marshal writes p in the plan file format.
func (p *Plan) Marshal() ([]byte, error) {
	f := file{Plan: p, Changes: make([]fileChange, 0, len(p.Changes)), Outputs: make([]fileOutput, 0, len(p.Outputs))}
	for _, addr := range slices.Sorted(maps.Keys(p.Changes)) {
		c := p.Changes[addr]
		fc := fileChange{
			Addr: addr, Type: c.Type, Provider: c.Provider, Action: c.Action,
			ReplacePaths: c.ReplacePaths, DependsOn: c.DependsOn, Reason: c.Reason, MonthlyCost: c.MonthlyCost,
			BeforeCost: c.BeforeMonthlyCost,
		}
		var err error
		if fc.Before, err = encodeValue(c.Before, c.BeforeSensitive, false); err == nil {
			if fc.After, err = encodeValue(c.After, c.AfterSensitive, false); err == nil {
				fc.Config, err = encodeValue(c.Config, nil, false)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("plan: marshal %s: %w", addr, err)
		}
		f.Changes = append(f.Changes, fc)
	}
	for _, name := range slices.Sorted(maps.Keys(p.Outputs)) {
		o := p.Outputs[name]
		fo := fileOutput{Name: name, Action: o.Action, Sensitive: o.Sensitive}
		var err error
		if fo.Before, err = encodeValue(o.Before, nil, o.Sensitive); err == nil {
			if fo.After, err = encodeValue(o.After, nil, o.Sensitive); err == nil {
				fo.Value, err = encodeValue(o.Value, nil, false)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("plan: marshal output %s: %w", name, err)
		}
		f.Outputs = append(f.Outputs, fo)
	}
	data, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("plan: marshal: %w", err)
	}
	return data, nil
}

// ErrFormat is wrapped by Unmarshal's errors for data that is not a plan file this build can read.
var ErrFormat = errors.New("not a prov plan file")

// Unmarshal reads a plan file written by Marshal.
func Unmarshal(data []byte) (*Plan, error) {
	var head struct {
		FormatVersion *int `json:"format_version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("plan: read: %w: %w", ErrFormat, err)
	}
	switch {
	case head.FormatVersion == nil:
		return nil, fmt.Errorf("plan: read: %w: no format_version", ErrFormat)
	case *head.FormatVersion != FormatVersion:
		return nil, fmt.Errorf("plan: read: %w: format version %d, this prov reads version %d", ErrFormat, *head.FormatVersion, FormatVersion)
	}
	f := file{Plan: &Plan{}}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("plan: read: %w: %w", ErrFormat, err)
	}
	p := f.Plan
	p.Changes = make(map[string]*Change, len(f.Changes))
	for _, fc := range f.Changes {
		if fc.Addr == "" {
			return nil, fmt.Errorf("plan: read: %w: change without an address", ErrFormat)
		}
		if _, dup := p.Changes[fc.Addr]; dup {
			return nil, fmt.Errorf("plan: read: %w: %s listed twice", ErrFormat, fc.Addr)
		}
		c := &Change{
			Addr: fc.Addr, Type: fc.Type, Provider: fc.Provider, Action: fc.Action,
			BeforeSensitive: fc.Before.Sensitive, AfterSensitive: fc.After.Sensitive,
			ReplacePaths: fc.ReplacePaths, DependsOn: fc.DependsOn, Reason: fc.Reason, MonthlyCost: fc.MonthlyCost,
			BeforeMonthlyCost: fc.BeforeCost,
		}
		var err error
		if c.Before, err = fc.Before.decode(); err == nil {
			if c.After, err = fc.After.decode(); err == nil {
				c.Config, err = fc.Config.decode()
			}
		}
		if err != nil {
			return nil, fmt.Errorf("plan: read %s: %w: %w", fc.Addr, ErrFormat, err)
		}
		p.Changes[fc.Addr] = c
	}
	p.Outputs = make(map[string]*OutputChange, len(f.Outputs))
	for _, fo := range f.Outputs {
		o := &OutputChange{Name: fo.Name, Action: fo.Action, Sensitive: fo.Sensitive}
		var err error
		if o.Before, err = fo.Before.decode(); err == nil {
			if o.After, err = fo.After.decode(); err == nil {
				o.Value, err = fo.Value.decode()
			}
		}
		if err != nil {
			return nil, fmt.Errorf("plan: read output %s: %w: %w", fo.Name, ErrFormat, err)
		}
		p.Outputs[fo.Name] = o
	}
	return p, nil
}

// WriteFile writes p to path atomically: a temporary file in the same directory, fsynced, then renamed
// over path. A non-nil codec encodes the file at rest (state encryption applies to plan files too).
func (p *Plan) WriteFile(path string, codec state.Codec) error {
	data, err := p.Marshal()
	if err != nil {
		return err
	}
	if codec != nil {
		if data, err = codec.Encode(data); err != nil {
			return fmt.Errorf("plan: write %s: %w", path, err)
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("plan: write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("plan: write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("plan: write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("plan: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("plan: write %s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync() // best effort: makes the rename durable where the platform allows
		d.Close()
	}
	return nil
}

// ReadFile reads a plan file written with the same codec (nil: plain).
func ReadFile(path string, codec state.Codec) (*Plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	if codec != nil {
		if data, err = codec.Decode(data); err != nil {
			return nil, fmt.Errorf("plan: read %s: %w", path, err)
		}
	}
	p, err := Unmarshal(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// StaleError is returned by CheckFresh when the state is not the one the plan was made against.
type StaleError struct {
	PlanLineage, StateLineage string
	PlanSerial, StateSerial   uint64
}

func (e *StaleError) Error() string {
	if e.PlanLineage != e.StateLineage {
		return fmt.Sprintf("the plan was made for a different state (lineage %s, the state's is %s); run prov plan again",
			orNone(e.PlanLineage), orNone(e.StateLineage))
	}
	return fmt.Sprintf("the state changed since this plan was made (serial %d → %d); run prov plan again",
		e.PlanSerial, e.StateSerial)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// CheckFresh returns a *StaleError if s (the current state, nil when there is none) is not the state
// the plan was made against.
func (p *Plan) CheckFresh(s *state.State) error {
	var lineage string
	var serial uint64
	if s != nil {
		lineage, serial = s.Lineage, s.Serial
	}
	// Before the first apply there is no stored state: each read makes a new empty one with a fresh
	// lineage, and any two of them are the same state.
	neverWritten := serial == 0 && p.Serial == 0 && (s == nil || len(s.Resources) == 0)
	if !neverWritten && (lineage != p.Lineage || serial != p.Serial) {
		return &StaleError{PlanLineage: p.Lineage, StateLineage: lineage, PlanSerial: p.Serial, StateSerial: serial}
	}
	return nil
}

// Summary counts a plan's changes the way Terraform reports them: a replace counts in Add and in
// Destroy, and also in Replace.
type Summary struct {
	Add, Change, Destroy, Replace, Read int
}

// Summary counts p's changes.
func (p *Plan) Summary() Summary {
	var s Summary
	for _, c := range p.Changes {
		switch c.Action {
		case Create:
			s.Add++
		case Update:
			s.Change++
		case Delete:
			s.Destroy++
		case Read:
			s.Read++
		case DeleteThenCreate, CreateThenDelete:
			s.Add++
			s.Destroy++
			s.Replace++
		}
	}
	return s
}

// HasChanges reports whether applying p would change any resource or output.
func (p *Plan) HasChanges() bool {
	for _, c := range p.Changes {
		if c.Action != NoOp && c.Action != Read {
			return true
		}
	}
	for _, o := range p.Outputs {
		if o.Action != NoOp {
			return true
		}
	}
	return false
}
