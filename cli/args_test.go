package cli

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNormalizeArgs(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"terraform style", []string{"apply", "-auto-approve", "-parallelism", "20"},
			[]string{"apply", "--auto-approve", "--parallelism", "20"}},
		{"with equals", []string{"plan", "-out=plan.prov", "-refresh=false"},
			[]string{"plan", "--out=plan.prov", "--refresh=false"}},
		{"double dash kept", []string{"plan", "--detailed-exitcode"}, []string{"plan", "--detailed-exitcode"}},
		{"short flag kept", []string{"plan", "-h"}, []string{"plan", "-h"}},
		{"negative number kept", []string{"x", "-12"}, []string{"x", "-12"}},
		{"after terminator kept", []string{"nickel", "export", "f.ncl", "--", "-a=1"},
			[]string{"nickel", "export", "f.ncl", "--", "-a=1"}},
		{"global chdir", []string{"-chdir=examples/local", "plan"}, []string{"--chdir=examples/local", "plan"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, NormalizeArgs(tt.in)); diff != "" {
				t.Errorf("NormalizeArgs(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}
