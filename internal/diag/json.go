package diag

import "encoding/json"

// MarshalJSON writes the severity as a word, alongside the other fields.
func (d Diagnostic) MarshalJSON() ([]byte, error) {
	type plain Diagnostic
	return json.Marshal(struct {
		Severity string `json:"severity"`
		plain
	}{d.Severity.String(), plain(d)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (d *Diagnostic) UnmarshalJSON(b []byte) error {
	type plain Diagnostic
	var v struct {
		Severity string `json:"severity"`
		plain
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*d = Diagnostic(v.plain)
	if v.Severity == "warning" {
		d.Severity = Warning
	}
	return nil
}
