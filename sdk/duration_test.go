package sdk

import "testing"

func TestDuration(t *testing.T) {
	for _, tt := range []struct {
		in any
		ok bool
	}{{"2s", true}, {"500ms", true}, {"0s", false}, {"-1s", false}, {"soon", false}, {3.0, false}} {
		if err := Duration(tt.in); (err == nil) != tt.ok {
			t.Errorf("Duration(%v) = %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
}
