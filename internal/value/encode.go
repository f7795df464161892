package value

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Encode writes v as JSON, with each Unknown written as null and its Path listed in unknown.
func Encode(v any) (data []byte, unknown []Path, err error) {
	data, err = (&encoder{marks: &unknown}).value(nil, v, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("value: encode: %w", err)
	}
	return data, unknown, nil
}

// Decode reads what Encode writes. Empty data decodes to nil.
func Decode(data []byte, unknown []Path) (any, error) {
	var v any
	if len(bytes.TrimSpace(data)) > 0 {
		var err error
		if v, err = ParseJSON(data); err != nil {
			return nil, fmt.Errorf("value: decode: %w", err)
		}
	}
	for _, p := range unknown {
		var err error
		if v, err = Set(v, p, Unknown); err != nil {
			return nil, fmt.Errorf("value: decode unknown mark: %w", err)
		}
	}
	return v, nil
}

// Marked is a value together with its marks, in the JSON form plans and state files use:
// {"value": ..., "unknown": ["a.b"], "sensitive": ["c"]}.
type Marked struct {
	Value     any
	Sensitive []Path
}

type markedJSON struct {
	Value     json.RawMessage `json:"value"`
	Unknown   []Path          `json:"unknown,omitempty"`
	Sensitive []Path          `json:"sensitive,omitempty"`
}

// MarshalJSON encodes the value with its unknown and sensitive marks.
func (m Marked) MarshalJSON() ([]byte, error) {
	data, unknown, err := Encode(m.Value)
	if err != nil {
		return nil, err
	}
	return json.Marshal(markedJSON{Value: data, Unknown: unknown, Sensitive: m.Sensitive})
}

// UnmarshalJSON decodes what MarshalJSON writes.
func (m *Marked) UnmarshalJSON(b []byte) error {
	var j markedJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	v, err := Decode(j.Value, j.Unknown)
	if err != nil {
		return err
	}
	*m = Marked{Value: v, Sensitive: j.Sensitive}
	return nil
}
