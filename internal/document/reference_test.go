package document

import (
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/internal/value"
)

var cmpValues = cmp.Exporter(func(reflect.Type) bool { return true })

var state = map[string]any{
	"servers.web-01": map[string]any{
		"hostname": "web-01.example", "port": 8080.0, "up": true,
		"storage": []any{map[string]any{"size_gb": 50.0}},
		"tags":    map[string]any{"a": "b"},
		"ipv4":    value.Unknown,
	},
	"servers":       map[string]any{"count": 2.0}, // a shorter prefix that is also a resource
	"files.pending": value.Unknown,
	"big":           map[string]any{"n": 1e21, "f": 0.5},
}

func lookup(addr string) (any, bool) {
	v, ok := state[addr]
	return v, ok
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name  string
		in    any
		want  any
		diags string
	}{
		{name: "no references", in: map[string]any{"a": "plain", "b": []any{1.0, "x"}}, want: map[string]any{"a": "plain", "b": []any{1.0, "x"}}},
		{name: "whole string keeps type", in: "${servers.web-01.port}", want: 8080.0},
		{name: "whole string record", in: "${servers.web-01.tags}", want: map[string]any{"a": "b"}},
		{name: "whole resource", in: "${big}", want: map[string]any{"n": 1e21, "f": 0.5}},
		{name: "interpolated", in: "http://${servers.web-01.hostname}:${servers.web-01.port}/", want: "http://web-01.example:8080/"},
		{name: "bool and numbers like JSON", in: "${servers.web-01.up} ${big.n} ${big.f}", want: "true 1e+21 0.5"},
		{name: "index", in: "${servers.web-01.storage[0].size_gb}", want: 50.0},
		{name: "escape", in: "$${servers.web-01.hostname} and ${servers.web-01.hostname}", want: "${servers.web-01.hostname} and web-01.example"},
		{name: "escape only", in: "echo $${HOME}", want: "echo ${HOME}"},
		{name: "longest prefix", in: "${servers.count}", want: 2.0},
		{name: "missing key is null", in: "${servers.web-01.nothing}", want: nil},
		{name: "unknown whole", in: "${servers.web-01.ipv4}", want: value.Unknown},
		{name: "unknown interpolated", in: "ip=${servers.web-01.ipv4}", want: value.Unknown},
		{name: "inside unknown resource", in: "${files.pending.path.x}", want: value.Unknown},
		{name: "nested", in: map[string]any{"l": []any{"${servers.web-01.port}", "k"}}, want: map[string]any{"l": []any{8080.0, "k"}}},
		{name: "undeclared", in: map[string]any{"x": []any{"${nope.a}"}}, want: map[string]any{"x": []any{nil}},
			diags: "error: x[0]: reference to undeclared resource: ${nope.a}"},
		{name: "index out of range", in: "${servers.web-01.storage[3]}",
			diags: "error: ${servers.web-01.storage[3]}: servers.web-01.storage has no element [3] (length 1)"},
		{name: "into a string", in: "${servers.web-01.hostname.x}",
			diags: `error: ${servers.web-01.hostname.x}: servers.web-01.hostname has no attribute "x"`},
		{name: "record in a string", in: "tags: ${servers.web-01.tags}", want: "tags: ",
			diags: "error: ${servers.web-01.tags} is a record, which cannot be written into a string"},
		{name: "syntax", in: map[string]any{"s": "${a..b}"}, want: map[string]any{"s": "${a..b}"},
			diags: "error: s: bad reference ${a..b}: expected a name of letters, digits, _ or - (to write a literal ${, escape it as $${)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ds := Resolve(tt.in, lookup)
			if diff := cmp.Diff(tt.diags, ds.String()); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, got, cmpValues); diff != "" {
				t.Errorf("value (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolveDoesNotModify(t *testing.T) {
	in := map[string]any{"a": []any{"${servers.web-01.port}"}, "b": map[string]any{"c": "plain"}}
	Resolve(in, lookup)
	want := map[string]any{"a": []any{"${servers.web-01.port}"}, "b": map[string]any{"c": "plain"}}
	if diff := cmp.Diff(want, in); diff != "" {
		t.Errorf("input changed (-want +got):\n%s", diff)
	}
}

func TestResolveNoAllocWithoutReferences(t *testing.T) {
	in := map[string]any{"path": "out/motd", "n": 3.0, "list": []any{"a", "b", map[string]any{"x": "y"}}}
	allocs := testing.AllocsPerRun(100, func() { Resolve(in, lookup) })
	if allocs > 0 {
		t.Errorf("Resolve of a value without references allocates %v times", allocs)
	}
}

func BenchmarkResolve(b *testing.B) {
	plain := map[string]any{"path": "out/motd", "content": strings.Repeat("x", 200), "n": 3.0}
	refs := map[string]any{"path": "out/${servers.web-01.hostname}", "content": "${servers.web-01.storage[0].size_gb}", "n": 3.0}
	for _, c := range []struct {
		name string
		v    any
	}{{"plain", plain}, {"references", refs}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ds := Resolve(c.v, lookup); len(ds) > 0 {
					b.Fatal(ds)
				}
			}
		})
	}
}
