package render

import (
	"bytes"
	"testing"

	"github.com/provhq/prov/state"
)

func TestHuman(t *testing.T) {
	for name, p := range fixtures(t) {
		if name == "long" {
			continue // only Markdown, which truncates, needs the long plan
		}
		for _, color := range []bool{false, true} {
			file := name + ".txt.golden"
			if color {
				if name != "every_action" {
					continue
				}
				file = name + ".color.golden"
			}
			t.Run(file, func(t *testing.T) {
				var buf bytes.Buffer
				if err := Human(&buf, p, Options{Color: color}); err != nil {
					t.Fatal(err)
				}
				golden(t, file, buf.Bytes())
			})
		}
	}
}

func TestHumanDestroyNoChanges(t *testing.T) {
	p := basePlan()
	p.Destroy = true
	var buf bytes.Buffer
	if err := Human(&buf, p, Options{}); err != nil {
		t.Fatal(err)
	}
	golden(t, "destroy_nothing.txt.golden", buf.Bytes())
}

func TestHumanState(t *testing.T) {
	tests := []struct {
		file string
		s    *state.State
	}{
		{"state.txt.golden", priorState(t)},
		{"state_empty.txt.golden", &state.State{}},
		{"state_outputs_only.txt.golden", &state.State{Outputs: map[string]*state.Output{"a": {Value: "x"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var buf bytes.Buffer
			if err := HumanState(&buf, tt.s, Options{}); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.file, buf.Bytes())
		})
	}
}

func TestHumanResource(t *testing.T) {
	var buf bytes.Buffer
	s := priorState(t)
	if err := HumanResource(&buf, "servers.web-2", s.Resources["servers.web-2"], Options{Color: true}); err != nil {
		t.Fatal(err)
	}
	golden(t, "state_resource.color.golden", buf.Bytes())
}
