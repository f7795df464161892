package plugintest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/sdk"
)

// notes is a small provider: each note is an entry in a map. drift makes Read report a changed text,
// the bug the second plan of every step must catch.
func notes(store map[string]string, drift bool) *sdk.Provider {
	var mu sync.Mutex
	return &sdk.Provider{
		Name: "notes",
		Resources: map[string]*sdk.Resource{
			"notes_note": {
				Attributes: map[string]*sdk.Attribute{
					"title":  {Type: sdk.String, Required: true, ForceNew: true},
					"text":   {Type: sdk.String, Optional: true, Default: ""},
					"secret": {Type: sdk.String, Optional: true, Sensitive: true},
					"length": {Type: sdk.Number, Computed: true},
				},
				Create: func(_ context.Context, op *sdk.Op, d *sdk.Data) error {
					if d.String("text") == "fail" {
						return sdk.AttrErrorf("text", "refusing to write %q", "fail")
					}
					mu.Lock()
					defer mu.Unlock()
					op.Progress(100, "writing %s", d.String("title"))
					store[d.String("title")] = d.String("text")
					d.SetID(d.String("title"))
					d.Set("length", len(d.String("text")))
					return nil
				},
				Read: func(_ context.Context, _ *sdk.Op, d *sdk.Data) error {
					mu.Lock()
					defer mu.Unlock()
					text, ok := store[d.ID()]
					if !ok {
						return sdk.ErrNotFound
					}
					if drift {
						text += "!"
					}
					d.Set("text", text)
					return nil
				},
				Update: func(_ context.Context, _ *sdk.Op, d *sdk.Data) error {
					if d.String("text") == "fail" {
						return sdk.AttrErrorf("text", "refusing to write %q", "fail")
					}
					mu.Lock()
					defer mu.Unlock()
					store[d.ID()] = d.String("text")
					d.Set("length", len(d.String("text")))
					return nil
				},
				Delete: func(_ context.Context, _ *sdk.Op, d *sdk.Data) error {
					mu.Lock()
					defer mu.Unlock()
					delete(store, d.ID())
					return nil
				},
			},
		},
	}
}

// recorder is a testing.TB that records failures instead of failing the real test.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	failed []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = append(r.failed, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Helper() {}

// run runs c under a recorder and returns the failures it reported.
func run(t *testing.T, c Case) []string {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Test(r, c)
	}()
	<-done
	return r.failed
}

func TestCase(t *testing.T) {
	tests := []struct {
		name  string
		drift bool
		steps []Step
		want  []string // substrings of the reported failures, in order
	}{
		{
			name: "create, update, replace",
			steps: []Step{
				{Config: map[string]any{"title": "a", "text": "hi"}, Action: Create,
					Check: Attrs(Attr("length", 2), Attr("id", "a"))},
				{Config: map[string]any{"title": "a", "text": "hello"}, Action: Update, Check: Attr("length", 5)},
				{Config: map[string]any{"title": "b", "text": "hello"}, Action: Replace, Check: Attr("id", "b")},
				{Config: map[string]any{"title": "b", "text": "fail"}, ExpectError: `text: refusing`},
			},
		},
		{
			name:  "a perpetual diff is caught",
			drift: true,
			steps: []Step{{Config: map[string]any{"title": "a", "text": "hi"}}},
			want:  []string{"step 1: the plan after apply is not empty (update):\nlength: 2 → (known after apply)\ntext: hi! → hi"},
		},
		{
			name:  "a wrong action is reported",
			steps: []Step{{Config: map[string]any{"title": "a"}, Action: Update}},
			want:  []string{"step 1: plan is create, want update"},
		},
		{
			name:  "a failed check is reported",
			steps: []Step{{Config: map[string]any{"title": "a", "text": "hi"}, Check: Attr("length", 3)}},
			want:  []string{"step 1: length = 2, want 3"},
		},
		{
			name:  "validation errors carry paths",
			steps: []Step{{Config: map[string]any{"title": 1, "txet": "x"}}},
			want:  []string{"step 1: validate: error: txet: unknown attribute \"txet\"\n  Did you mean \"text\"?\nerror: title: expected a string, got number"},
		},
		{
			name:  "an expected error that does not happen",
			steps: []Step{{Config: map[string]any{"title": "a"}, ExpectError: "boom"}},
			want:  []string{`step 1: succeeded, want an error containing "boom"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := map[string]string{}
			got := run(t, Case{
				Provider: notes(store, tt.drift),
				Type:     "notes_note",
				Steps:    tt.steps,
				CheckDestroyed: func(last map[string]any) error {
					if len(store) > 0 {
						return errors.New("notes left behind")
					}
					return nil
				},
			})
			if len(got) != len(tt.want) {
				t.Fatalf("failures = %q, want %d like %q", got, len(tt.want), tt.want)
			}
			for i := range got {
				if !strings.Contains(got[i], tt.want[i]) {
					t.Errorf("failure %d = %q, want it to contain %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestHarness(t *testing.T) {
	h := New(t, notes(map[string]string{}, false), nil)
	if s := h.Schema(); s.Resources["notes_note"].Attributes["secret"].Sensitive != true {
		t.Errorf("schema lost the sensitive flag: %+v", s.Resources["notes_note"].Attributes["secret"])
	}
	plan := h.Plan("notes_note", nil, map[string]any{"title": "x", "secret": "pw"})
	if diff := cmp.Diff(map[string]any{"title": "x", "text": "", "secret": "pw", "id": sdk.Unknown, "length": sdk.Unknown}, plan.Planned); diff != "" {
		t.Errorf("planned over gRPC (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"secret"}, plan.Sensitive); diff != "" {
		t.Errorf("sensitive (-want +got):\n%s", diff)
	}
	r := h.Apply(plan)
	want := &Result{State: map[string]any{"title": "x", "text": "", "secret": "pw", "id": "x", "length": 0.0},
		Sensitive: []string{"secret"}, Progress: []string{"writing x"}}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("apply over gRPC (-want +got):\n%s", diff)
	}
	if got, _ := h.Import("notes_note", "x"); got != nil {
		t.Errorf("import of a type without Import = %v", got)
	}
	_, ds := h.Import("notes_note", "x")
	if diff := cmp.Diff([]string{"error: resource type notes_note cannot be imported"}, ds); diff != "" {
		t.Errorf("import diagnostics (-want +got):\n%s", diff)
	}
}
