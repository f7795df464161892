package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Both tools get the same fan-out: the same resources, each referring to the same parent.
func TestDocuments(t *testing.T) {
	_, pb, err := Prov("prov").Document(12)
	if err != nil {
		t.Fatal(err)
	}
	_, tb, err := Terraform("terraform", "terraform").Document(12)
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Resources map[string]struct {
			Config struct{ Input string } `json:"config"`
		} `json:"resources"`
	}
	var tf struct {
		Resource struct {
			TerraformData map[string]struct{ Input string } `json:"terraform_data"`
		} `json:"resource"`
	}
	if err := json.Unmarshal(pb, &p); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(tb, &tf); err != nil {
		t.Fatal(err)
	}
	fromProv, fromTF := map[string]string{}, map[string]string{}
	for addr, r := range p.Resources {
		fromProv[strings.TrimPrefix(addr, "data.")] = strings.ReplaceAll(r.Config.Input, "data.", "")
	}
	for name, r := range tf.Resource.TerraformData {
		fromTF[name] = strings.ReplaceAll(r.Input, "terraform_data.", "")
	}
	if diff := cmp.Diff(fromProv, fromTF); diff != "" {
		t.Errorf("graphs differ (-prov +terraform):\n%s", diff)
	}
	if got, want := fromTF["r11"], "${r1.output}"; got != want {
		t.Errorf("r11 refers to %q, want %q", got, want)
	}
}

func TestPrintTable(t *testing.T) {
	var b strings.Builder
	PrintTable(&b, []Row{{N: 1000, Step: "apply", Other: "terraform",
		Prov:  Measurement{Wall: 2 * time.Second, PeakRSSKB: 100 << 10},
		Their: Measurement{Wall: 5 * time.Second, PeakRSSKB: 250 << 10}}})
	want := `N     step   tool       prov   other  time ratio  prov peak RSS  other peak RSS  memory ratio
1000  apply  terraform  2.00s  5.00s  2.5×        100 MiB        250 MiB         2.5×
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("PrintTable (-want +got):\n%s", diff)
	}
}
