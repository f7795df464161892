package render

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/plan"
)

// TestSavedPlan renders a plan read back from a plan file, as `prov show PLANFILE` does. The plan
// file stores sensitive values as unknown; the renderers must still call them sensitive (not
// "known after apply"), leak nothing, and show everything else as before saving.
func TestSavedPlan(t *testing.T) {
	orig := secretPlan(t)
	// Configuration is saved as written, where a secret is a {"$secret": …} reference, never a value.
	for _, ch := range orig.Changes {
		ch.Config = asWritten(ch.Config)
	}
	for n, pc := range orig.Providers {
		pc.Config = asWritten(pc.Config)
		orig.Providers[n] = pc
	}
	for _, oc := range orig.Outputs {
		oc.Value = asWritten(oc.Value)
	}
	data, err := orig.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte(secret)) {
		t.Fatal("the plan file itself holds the secret")
	}
	saved, err := plan.Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("human", func(t *testing.T) {
		var a, b bytes.Buffer
		if err := Human(&a, orig, Options{}); err != nil {
			t.Fatal(err)
		}
		if err := Human(&b, saved, Options{}); err != nil {
			t.Fatal(err)
		}
		got := b.String()
		if strings.Contains(got, secret) {
			t.Error("secret in the rendering of the saved plan")
		}
		if regexp.MustCompile(`(password|token)\s+= \(known after apply\)`).MatchString(got) {
			t.Error("a saved secret is shown as unknown instead of sensitive")
		}
		// Resources without sensitive values render exactly as before saving. (With them, a changed
		// secret cannot be told from an unchanged one: the plan file keeps neither value.)
		plain := func(p *plan.Plan) *plan.Plan {
			q := *p
			q.Changes = map[string]*plan.Change{}
			for addr, ch := range p.Changes {
				if len(orig.Changes[addr].BeforeSensitive)+len(orig.Changes[addr].AfterSensitive) == 0 {
					q.Changes[addr] = ch
				}
			}
			return &q
		}
		a.Reset()
		b.Reset()
		if err := Human(&a, plain(orig), Options{}); err != nil {
			t.Fatal(err)
		}
		if err := Human(&b, plain(saved), Options{}); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(a.String(), b.String()); diff != "" {
			t.Errorf("saved plan renders differently (-before saving +after):\n%s", diff)
		}
	})

	t.Run("json", func(t *testing.T) {
		b, err := JSON(saved, nil)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(secret)) {
			t.Error("secret in the JSON of the saved plan")
		}
		var got tfPlan
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		for _, rc := range got.ResourceChanges {
			if rc.Address != "servers.web-10" {
				continue
			}
			if diff := cmp.Diff([]string{"id", "ipv4"}, trueKeys(rc.Change.AfterUnknown)); diff != "" {
				t.Errorf("after_unknown of servers.web-10 (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"password"}, trueKeys(rc.Change.AfterSensitive)); diff != "" {
				t.Errorf("after_sensitive of servers.web-10 (-want +got):\n%s", diff)
			}
		}
		if tok := got.OutputChanges["token"]; tok.AfterUnknown || !tok.AfterSensitive {
			t.Errorf("output token: after_unknown %v, after_sensitive %v; want false, true", tok.AfterUnknown, tok.AfterSensitive)
		}
	})

	t.Run("markdown", func(t *testing.T) {
		if md := Markdown(saved, MarkdownOptions{}); strings.Contains(md, secret) {
			t.Error("secret in the Markdown of the saved plan")
		}
	})
}

// asWritten replaces the secret inside v by the reference a configuration would hold.
func asWritten(v any) any {
	switch c := v.(type) {
	case string:
		if strings.Contains(c, secret) {
			return map[string]any{"$secret": "secrets/test.sops.yaml#app.password"}
		}
	case []any:
		out := make([]any, len(c))
		for i, e := range c {
			out[i] = asWritten(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(c))
		for k, e := range c {
			out[k] = asWritten(e)
		}
		return out
	}
	return v
}
