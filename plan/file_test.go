package plan

import (
	"bytes"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/state"
)

// cmpValues lets cmp look inside value.Unknown.
var cmpValues = cmp.Exporter(func(reflect.Type) bool { return true })

func samplePlan() *Plan {
	cost := 12.5
	return &Plan{
		FormatVersion: FormatVersion, ProvVersion: "0.1.0", Lineage: "lin-1", Serial: 4,
		DocumentDigest: "abc", PluginChecksums: map[string]string{"local": "sha"},
		Providers:   map[string]ProviderConfig{"local": {Source: "builtin/local", Config: map[string]any{"root": "/tmp"}}},
		Parallelism: 10,
		Changes: map[string]*Change{
			"files.a": {
				Addr: "files.a", Type: "local_file", Provider: "local", Action: Create,
				After:     map[string]any{"id": value.Unknown, "path": "a", "tags": []any{"x", value.Unknown}},
				Config:    map[string]any{"path": "a", "tags": []any{"x", "${files.b.id}"}},
				DependsOn: []string{"files.b"}, MonthlyCost: &cost,
			},
			"files.b": {
				Addr: "files.b", Type: "local_file", Provider: "local", Action: DeleteThenCreate,
				Before:          map[string]any{"id": "1", "password": "hunter2"},
				After:           map[string]any{"id": value.Unknown, "password": "hunter3"},
				BeforeSensitive: []value.Path{value.KeyPath("password")},
				AfterSensitive:  []value.Path{value.KeyPath("password")},
				ReplacePaths:    []value.Path{value.KeyPath("path")},
				Config:          map[string]any{"password": map[string]any{"$secret": "s.yaml#pw"}},
				Reason:          "requested with -replace",
			},
			"gone": {Addr: "gone", Type: "local_data", Provider: "local", Action: Delete, Before: map[string]any{"id": "9"}},
		},
		Outputs: map[string]*OutputChange{
			"ip":     {Name: "ip", Action: Create, After: value.Unknown, Value: "${files.a.id}"},
			"secret": {Name: "secret", Action: Update, Before: "old", After: "new", Value: "${files.b.password}", Sensitive: true},
		},
	}
}

func TestRoundTrip(t *testing.T) {
	p := samplePlan()
	data, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"hunter2", "hunter3", `"old"`, `"new"`} {
		if bytes.Contains(data, []byte(secret)) {
			t.Errorf("plan file holds sensitive value %s:\n%s", secret, data)
		}
	}
	again, err := p.Marshal()
	if err != nil || !bytes.Equal(data, again) {
		t.Errorf("Marshal is not deterministic")
	}
	got, err := Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}
	want := samplePlan()
	// Sensitive values come back unknown.
	want.Changes["files.b"].Before = map[string]any{"id": "1", "password": value.Unknown}
	want.Changes["files.b"].After = map[string]any{"id": value.Unknown, "password": value.Unknown}
	want.Outputs["secret"].Before, want.Outputs["secret"].After = value.Unknown, value.Unknown
	if diff := cmp.Diff(want, got, cmpValues); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	path := filepath.Join(t.TempDir(), "p.plan")
	if err := p.WriteFile(path, nil); err != nil {
		t.Fatal(err)
	}
	fromFile, err := ReadFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, fromFile, cmpValues); diff != "" {
		t.Errorf("file round trip (-want +got):\n%s", diff)
	}
}

func TestUnmarshalErrors(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"not json", "hello", "not a prov plan file"},
		{"no version", `{"changes":[]}`, "no format_version"},
		{"future version", `{"format_version":99}`, "format version 99, this prov reads version 1"},
		{"bad action", `{"format_version":1,"changes":[{"address":"a","action":"explode"}]}`, `unknown action "explode"`},
		{"duplicate", `{"format_version":1,"changes":[{"address":"a","action":"create"},{"address":"a","action":"create"}]}`, "a listed twice"},
		{"bad unknown path", `{"format_version":1,"changes":[{"address":"a","action":"create","after":{"value":[],"unknown":["x"]}}]}`, "read a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Unmarshal([]byte(tt.data))
			if err == nil || !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Unmarshal error = %v, want ErrFormat containing %q", err, tt.want)
			}
		})
	}
}

func TestCheckFresh(t *testing.T) {
	p := &Plan{Lineage: "L", Serial: 4}
	tests := []struct {
		name  string
		state *state.State
		want  string
	}{
		{"same", &state.State{Lineage: "L", Serial: 4}, ""},
		{"serial", &state.State{Lineage: "L", Serial: 5}, "the state changed since this plan was made (serial 4 → 5); run prov plan again"},
		{"lineage", &state.State{Lineage: "M", Serial: 4}, "the plan was made for a different state (lineage L, the state's is M); run prov plan again"},
		{"no state", nil, "the plan was made for a different state (lineage L, the state's is none); run prov plan again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.CheckFresh(tt.state)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("CheckFresh = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSummary(t *testing.T) {
	p := samplePlan()
	want := Summary{Add: 2, Destroy: 2, Replace: 1}
	if diff := cmp.Diff(want, p.Summary()); diff != "" {
		t.Errorf("Summary (-want +got):\n%s", diff)
	}
	if !p.HasChanges() {
		t.Errorf("HasChanges = false")
	}
	quiet := &Plan{Changes: map[string]*Change{"a": {Action: NoOp}, "b": {Action: Read}}, Outputs: map[string]*OutputChange{"o": {}}}
	if quiet.HasChanges() {
		t.Errorf("HasChanges = true for no-ops and reads")
	}
}

func FuzzUnmarshal(f *testing.F) {
	data, _ := samplePlan().Marshal()
	f.Add(data)
	f.Add([]byte(`{"format_version":1}`))
	f.Add([]byte(`{"format_version":1,"changes":[{"address":"a","action":"create","after":{"value":{"a":[1]},"unknown":["a[0]"]}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Unmarshal(data)
		if err != nil {
			return
		}
		// Whatever reads must write and read back the same.
		out, err := p.Marshal()
		if err != nil {
			return // e.g. an unknown mark on a sensitive path; reading did not panic
		}
		if _, err := Unmarshal(out); err != nil {
			t.Fatalf("re-reading a written plan: %v", err)
		}
	})
}
