package value

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPathRoundTrip(t *testing.T) {
	tests := []struct {
		path Path
		want string
	}{
		{KeyPath("a", "b"), "a.b"},
		{KeyPath("tags").Index(0), "tags[0]"},
		{KeyPath("resources", "files.motd", "config"), `resources["files.motd"].config`},
		{KeyPath("odd]key").Index(2).Key("x"), `["odd]key"][2].x`},
		{nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.path.String(); got != tt.want {
				t.Fatalf("String() = %q, want %q", got, tt.want)
			}
			back, err := ParsePath(tt.want)
			if err != nil {
				t.Fatal(err)
			}
			if !back.HasPrefix(tt.path) || len(back) != len(tt.path) {
				t.Fatalf("ParsePath(%q) = %v, want %v", tt.want, back, tt.path)
			}
		})
	}
	for _, bad := range []string{"a[", "a[x]", `a["unterminated]`, "a[-1]"} {
		if _, err := ParsePath(bad); err == nil {
			t.Errorf("ParsePath(%q) accepted a bad path", bad)
		}
	}
}

func TestEncodeDecodeKeepsUnknowns(t *testing.T) {
	v := map[string]any{"id": Unknown, "tags": []any{"a", Unknown}, "n": 3.0, "s": "${not.a.marker}",
		"deep": map[string]any{"list": []any{map[string]any{"x": Unknown, "y": 1.0}}, "known": true}}
	data, unknown, err := Encode(v)
	if err != nil {
		t.Fatal(err)
	}
	wantJSON := `{"deep":{"known":true,"list":[{"x":null,"y":1}]},"id":null,"n":3,"s":"${not.a.marker}","tags":["a",null]}`
	if diff := cmp.Diff(wantJSON, string(data)); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
	var paths []string
	for _, p := range unknown {
		paths = append(paths, p.String())
	}
	if diff := cmp.Diff([]string{"deep.list[0].x", "id", "tags[1]"}, paths); diff != "" {
		t.Errorf("unknown paths (-want +got):\n%s", diff)
	}
	got, err := Decode(data, unknown)
	if err != nil {
		t.Fatal(err)
	}
	if !Equal(v, got) {
		t.Fatalf("round trip: got %v, want %v", got, v)
	}
	if data, unknown, err := Encode(Unknown); err != nil || string(data) != "null" || len(unknown) != 1 || len(unknown[0]) != 0 {
		t.Errorf("Encode(Unknown) = %s, %v, %v; want null and the root path", data, unknown, err)
	}
	if !HasUnknown(got) || HasUnknown(map[string]any{"s": "x"}) {
		t.Fatal("HasUnknown wrong")
	}
}

func TestSetCopies(t *testing.T) {
	orig := map[string]any{"a": map[string]any{"b": 1.0}, "l": []any{1.0}}
	got, err := Set(orig, KeyPath("a", "b"), 2.0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"a": map[string]any{"b": 1.0}, "l": []any{1.0}}, orig); diff != "" {
		t.Fatalf("Set changed its input:\n%s", diff)
	}
	if x, _ := Get(got, KeyPath("a", "b")); x != 2.0 {
		t.Fatalf("Set: got %v", x)
	}
	if _, err := Set(orig, KeyPath("l").Index(5), 1.0); err == nil {
		t.Fatal("Set past the end of a list succeeded")
	}
}

func TestEchoes(t *testing.T) {
	attrs := map[string]any{
		"input":  map[string]any{"password": "hunter2", "user": "app"},
		"output": map[string]any{"password": "hunter2", "rev": 1.0},
		"later":  Unknown,
	}
	got := Echoes(attrs, At(attrs, []Path{KeyPath("input", "password")}))
	want := []Path{KeyPath("input", "password"), KeyPath("output", "password")}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("Echoes (-want +got):\n%s", diff)
	}
	if Echoes(attrs, nil) != nil {
		t.Fatal("Echoes with no secrets found some")
	}
}
