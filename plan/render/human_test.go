package render

import (
	"bytes"
	"testing"
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

func TestHumanState(t *testing.T) {
	var buf bytes.Buffer
	if err := HumanState(&buf, priorState(t), Options{}); err != nil {
		t.Fatal(err)
	}
	golden(t, "state.txt.golden", buf.Bytes())
}
