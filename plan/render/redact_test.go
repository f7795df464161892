package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/provhq/prov/plan"
	"github.com/provhq/prov/state"
)

// secretPlan hides the secret in every kind of place a sensitive value can be: a whole attribute, a
// record, a list element, deep inside nested lists and records, on both sides of an update, in a
// sensitive output, and in the provider configuration.
func secretPlan(t testing.TB) *plan.Plan {
	p := everyAction(t)
	p.Changes["secrets.app"] = &plan.Change{
		Addr: "secrets.app", Type: "local_data", Provider: "local", Action: plan.Update,
		Before: map[string]any{
			"creds": []any{map[string]any{"user": "app", "password": "a-" + secret}},
			"blob":  map[string]any{"key": "b-" + secret, "n": 1.0},
			"list":  []any{"c-" + secret, "visible"},
		},
		After: map[string]any{
			"creds": []any{map[string]any{"user": "app", "password": secret}, map[string]any{"user": "b", "password": secret}},
			"blob":  map[string]any{"key": secret, "n": 2.0},
			"list":  []any{"visible", secret},
			"token": secret,
		},
		BeforeSensitive: paths_(t, "creds[0].password", "blob", "list[0]"),
		AfterSensitive:  paths_(t, "creds[0].password", "creds[1].password", "blob", "list[1]", "token"),
		Config: map[string]any{"token": secret, "creds": []any{map[string]any{"password": secret}},
			"blob": map[string]any{"key": secret}},
	}
	p.Changes["secrets.gone"] = &plan.Change{
		Addr: "secrets.gone", Type: "local_data", Provider: "local", Action: plan.Delete,
		Before:          map[string]any{"nested": map[string]any{"deep": []any{secret}}},
		BeforeSensitive: paths_(t, "nested.deep[0]"),
	}
	p.Outputs["token"] = &plan.OutputChange{Name: "token", Action: plan.Create, After: secret,
		Value: "${secrets.app.token}", Sensitive: true}
	p.Outputs["blob"] = &plan.OutputChange{Name: "blob", Action: plan.Delete,
		Before: map[string]any{"k": secret}, Sensitive: true}
	return p
}

func secretState(t testing.TB) *state.State {
	s := priorState(t)
	p := secretPlan(t)
	for _, addr := range []string{"secrets.app", "secrets.gone"} {
		ch := p.Changes[addr]
		s.Resources[addr] = &state.Resource{Type: ch.Type, Provider: ch.Provider, Attributes: ch.Before,
			Sensitive: ch.BeforeSensitive, Config: map[string]any{"token": secret}}
	}
	s.Outputs["token"] = &state.Output{Value: []any{secret}, Sensitive: true}
	return s
}

// TestNoSecretInOutput renders the secret-laden plan and state with every renderer and checks the
// secret's bytes appear nowhere.
func TestNoSecretInOutput(t *testing.T) {
	p, s := secretPlan(t), secretState(t)
	render := map[string]func() ([]byte, error){
		"Human": func() ([]byte, error) {
			var b bytes.Buffer
			err := Human(&b, p, Options{})
			return b.Bytes(), err
		},
		"Human color": func() ([]byte, error) {
			var b bytes.Buffer
			err := Human(&b, p, Options{Color: true})
			return b.Bytes(), err
		},
		"JSON":      func() ([]byte, error) { return JSON(p, s) },
		"StateJSON": func() ([]byte, error) { return StateJSON(s) },
		"Markdown":  func() ([]byte, error) { return []byte(Markdown(p, MarkdownOptions{ID: "x"})), nil },
		"HumanState": func() ([]byte, error) {
			var b bytes.Buffer
			err := HumanState(&b, s, Options{})
			return b.Bytes(), err
		},
		"HumanResource": func() ([]byte, error) {
			var b bytes.Buffer
			err := HumanResource(&b, "secrets.app", s.Resources["secrets.app"], Options{})
			return b.Bytes(), err
		},
		"Stream": func() ([]byte, error) {
			var b bytes.Buffer
			st := NewStream(&b, fakeClock())
			st.Plan(p)
			st.Outputs(s.Outputs)
			for _, ch := range p.Changes {
				st.PlannedChange(ch)
				st.ResourceDrift(ch)
			}
			return b.Bytes(), st.Err()
		},
	}
	for name, fn := range render {
		t.Run(name, func(t *testing.T) {
			out, err := fn()
			if err != nil {
				t.Fatal(err)
			}
			if len(out) == 0 {
				t.Fatal("empty output")
			}
			if i := bytes.Index(out, []byte(secret)); i >= 0 {
				t.Errorf("secret leaked at byte %d: …%s…", i, out[max(0, i-80):min(len(out), i+40)])
			}
		})
	}
}

// TestRedactedPlacesShown checks that redaction keeps the shape: the secret's positions are still
// shown as "(sensitive value)" and the non-sensitive neighbours are shown in full.
func TestRedactedPlacesShown(t *testing.T) {
	p := &plan.Plan{Changes: map[string]*plan.Change{}}
	p.Changes["secrets.app"] = secretPlan(t).Changes["secrets.app"]
	var b bytes.Buffer
	if err := Human(&b, p, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`~ blob  = (sensitive value)`,
		`~ password = (sensitive value)`,
		`+ token = (sensitive value)`,
		`+ (sensitive value),`,
		`- (sensitive value),`,
		`user     = "b"`,
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
}
