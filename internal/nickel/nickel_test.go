package nickel

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/internal/diag"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestExportGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/export/*.ncl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, f := range files {
		for _, format := range []string{"json", "yaml", "toml"} {
			t.Run(filepath.Base(f)+"/"+format, func(t *testing.T) {
				got, err := Export([]string{f}, Options{Format: format})
				if err != nil {
					t.Fatalf("Export: %v", err)
				}
				golden := strings.TrimSuffix(f, ".ncl") + "." + format
				if *update {
					if err := os.WriteFile(golden, got, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("read golden (run with -update): %v", err)
				}
				if diff := cmp.Diff(string(want), string(got)); diff != "" {
					t.Errorf("export mismatch (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func writeTemp(t *testing.T, name, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExportValues(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"recursive override", `{a = 1, b = a + 1} & {a | force = 2}`, `{"a":2,"b":3}`},
		{"default priority", `{a | default = 1} & {a = 5}`, `{"a":5}`},
		{"numeric priority", `{a | priority 10 = 1} & {a | priority 5 = 2}`, `{"a":1}`},
		{"piecewise", `{a.b = 1, a.c = 2}`, `{"a":{"b":1,"c":2}}`},
		{"interpolated field", `let k = "x" in {"%{k}-y" = 1}`, `{"x-y":1}`},
		{"rationals", `{a = 1/3 * 3, b = 0.1 + 0.2, c = 1e30, d = -2.5}`, `{"a":1,"b":0.3,"c":1e30,"d":-2.5}`},
		{"let rec", `let rec f = fun n => if n == 0 then 1 else n * f (n - 1) in {x = f 10}`, `{"x":3628800}`},
		{"destructuring", `let {a, b ? 2, ..rest} = {a = 1, c = 3} in {x = a + b, r = rest}`, `{"r":{"c":3},"x":3}`},
		{"array pattern", `match { [x, ..xs] => {h = x, t = xs}, _ => {} } [1, 2, 3]`, `{"h":1,"t":[2,3]}`},
		{"enum variant", `match { 'Some x => x, 'None => 0 } ('Some 5)`, `5`},
		{"or pattern", `match { 'A or 'B => 1, _ => 2 } 'B`, `1`},
		{"guard", `match { x if x > 1 => "big", _ => "small" } 5`, `"big"`},
		{"lazy unused error", `{a = 1, b = std.fail_with "nope"}.a`, `1`},
		{"recursive contracts", `let rec Tree = { _ | Tree } in let rec L = Array L in {t = {a = {b = {}}} | Tree, l = [[], [[]]] | L}`, `{"l":[[],[[]]],"t":{"a":{"b":{}}}}`},
		{"true and", `{a = true && "x", b = false || 1, c = false && "x"}`, `{"a":"x","b":1,"c":false}`},
		{"escapes", `{s = "a\"b\\c\n\t%{"x"}"}`, `{"s":"a\"b\\c\n\tx"}`},
		{"unicode", `{s = "é ü \u{1F600}"}`, `{"s":"é ü 😀"}`},
		{"control chars", `{s = std.string.from_number 1 ++ "\u{01}"}`, `{"s":"1\u0001"}`},
		{"pipe", `[3, 1, 2] |> std.array.sort std.number.compare`, `[1,2,3]`},
		{"string std", `std.string.split "," "a,b" |> std.array.map std.string.uppercase`, `["A","B"]`},
		{"record contract default", `({a = 1} | {a | Number, b | default = a + 1})`, `{"a":1,"b":2}`},
		{"function contract", `let f | Number -> Number = fun x => x + 1 in f 1`, `2`},
		{"multiline", "m%\"\n  a\n    b\n\"%", `"a\n  b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeTemp(t, "main.ncl", tt.src)
			got, err := Export([]string{p}, Options{})
			if err != nil {
				t.Fatalf("Export: %v\n%s", err, Diagnostics(err)[0].Detail)
			}
			if diff := cmp.Diff(compact(t, tt.want), compact(t, string(got))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func compact(t *testing.T, s string) string {
	t.Helper()
	var b strings.Builder
	inStr := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '"' && (i == 0 || s[i-1] != '\\' || (i > 1 && s[i-2] == '\\')) {
			inStr = !inStr
		}
		if !inStr && (c == ' ' || c == '\n') {
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func TestExportErrors(t *testing.T) {
	tests := []struct {
		name, src, class, path string
		line, col              int
	}{
		{"blame", "{\n  a | Number = \"x\",\n}", "EvalError::BlameError", "a", 2, 16},
		{"missing def", "{ a | Number }", "EvalError::MissingFieldDef", "a", 1, 3},
		{"merge conflict", "{ a = 1 } & { a = 2 }", "EvalError::MergeIncompatibleArgs", "a", 1, 1},
		{"infinite", "{ x = y, y = x }", "EvalError::InfiniteRecursion", "x", 1, 0},
		{"unbound", "{ x = nope }", "EvalError::UnboundIdentifier", "x", 1, 7},
		{"parse", "{ x = }", "ParseError::UnexpectedToken", "", 1, 7},
		{"function", "{ f = fun x => x }", "ExportError::NonSerializable", "f", 0, 0},
		{"closed contract", "{ a = 1, zon = 2 } | { a | Number }", "EvalError::BlameError", "", 1, 10},
		{"deep recursion", "let rec f = fun n => 1 + f (n + 1) in f 0", "EvalError::InfiniteRecursion", "", 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeTemp(t, "main.ncl", tt.src)
			_, err := Export([]string{p}, Options{})
			if err == nil {
				t.Fatal("Export succeeded, want an error")
			}
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("error %T %v is not a *nickel.Error", err, err)
			}
			if e.Class != tt.class {
				t.Errorf("class = %s, want %s (%v)", e.Class, tt.class, e)
			}
			if e.Path != tt.path {
				t.Errorf("path = %q, want %q (%v)", e.Path, tt.path, e)
			}
			d := Diagnostics(err)[0]
			if tt.line != 0 && d.Pos.Line != tt.line {
				t.Errorf("line = %d, want %d (%v)", d.Pos.Line, tt.line, e)
			}
			if tt.col != 0 && d.Pos.Col != tt.col {
				t.Errorf("col = %d, want %d (%v)", d.Pos.Col, tt.col, e)
			}
		})
	}
}

func TestExportDocumentPositions(t *testing.T) {
	src := `let base = { zone | default = "fi-hel1" } in
{
  servers = {
    web-01 = base & {
      plan = "2xCPU-4GB",
    },
  },
  tags = ["a"],
}
`
	p := writeTemp(t, "main.ncl", src)
	out, pos, err := ExportDocument(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]diag.Pos{
		"servers":             {File: p, Line: 3, Col: 3},
		"servers.web-01":      {File: p, Line: 4, Col: 5},
		"servers.web-01.plan": {File: p, Line: 5, Col: 7},
		"servers.web-01.zone": {File: p, Line: 1, Col: 14},
		"tags":                {File: p, Line: 8, Col: 3},
	}
	if diff := cmp.Diff(want, pos); diff != "" {
		t.Errorf("positions (-want +got):\n%s", diff)
	}
	if !strings.Contains(string(out), `"plan": "2xCPU-4GB"`) {
		t.Errorf("unexpected JSON %s", out)
	}
}

func TestOptions(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	main := write("main.ncl", `let lib = import "lib.ncl" in let s = import "prov/schema.ncl" in
{ a = lib.x, b = import "data.json", c = (import "data.yaml").k, d = import "note.txt", e = s.v, n.m = 1 }`)
	write("inc/lib.ncl", `{ x = 42 }`)
	write("data.json", `{"k": [1, 2.5]}`)
	write("data.yaml", "k: v\n")
	write("note.txt", "hi")
	contract := write("contract.ncl", `{ a | Number, b | Dyn, c | String, d | String, e | String, n | { m | Number }, extra | default = "x" }`)
	fsys := fstest.MapFS{"schema.ncl": {Data: []byte(`{ v = "embedded" }`)}}
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"json", Options{}, `{"a":42,"b":{"k":[1,2.5]},"c":"v","d":"hi","e":"embedded","n":{"m":1}}`},
		{"field", Options{Field: "b.k"}, `[1,2.5]`},
		{"override", Options{Overrides: []string{"--override", "n.m=7", "--override", `a="s"`}}, `{"a":"s","b":{"k":[1,2.5]},"c":"v","d":"hi","e":"embedded","n":{"m":7}}`},
		{"apply contract", Options{ApplyContract: contract}, `{"a":42,"b":{"k":[1,2.5]},"c":"v","d":"hi","e":"embedded","extra":"x","n":{"m":1}}`},
		{"text", Options{Field: "d", Format: "text"}, `hi`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.ImportPaths = []string{filepath.Join(dir, "inc")}
			tt.opts.EmbeddedFS = fsys
			got, err := Export([]string{main}, tt.opts)
			if err != nil {
				t.Fatalf("Export: %v", err)
			}
			if diff := cmp.Diff(tt.want, compact(t, string(got))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestCustomize(t *testing.T) {
	p := writeTemp(t, "main.ncl", `{ input | String, port | default = 80, fixed = 1, derived = "%{input}:%{std.to_string port}" }`)
	t.Setenv("PROV_NICKEL_TEST_HOST", "example.org")
	tests := []struct {
		name    string
		args    []string
		want    string
		wantErr string
	}{
		{"assign inputs", []string{`input="a"`, "port=8080"}, `{"derived":"a:8080","fixed":1,"input":"a","port":8080}`, ""},
		{"sigil", []string{"input=@env:PROV_NICKEL_TEST_HOST"}, `{"derived":"example.org:80","fixed":1,"input":"example.org","port":80}`, ""},
		{"override", []string{`input="a"`, "--override", "fixed=2"}, `{"derived":"a:80","fixed":2,"input":"a","port":80}`, ""},
		{"not an input", []string{"fixed=2"}, "", "invalid assignment: `fixed` isn't an input"},
		{"unknown field", []string{"--override", "nope=1"}, "", "invalid override: unknown field `nope`"},
		{"syntax", []string{"input==1"}, "", "unexpected token"},
		{"list", []string{"list"}, "Input fields:\n- input: <String>\n- port\n\nOverridable fields (require `--override`):\n- derived\n- fixed\n\nUse the `query` subcommand to print a detailed description of a specific field. See `nickel help query`.\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Export([]string{p}, Options{Overrides: tt.args})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(Render(err), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(Render(err))
			}
			out := string(got)
			if strings.HasPrefix(out, "{") {
				out = compact(t, out)
			}
			if diff := cmp.Diff(tt.want, out); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestRender(t *testing.T) {
	p := writeTemp(t, "main.ncl", "{\n  a | Number = \"x\",\n}\n")
	_, err := Export([]string{p}, Options{})
	want := "error: contract broken by the value of `a`\n" +
		"  ┌─ " + p + ":2:16\n" +
		"  │\n" +
		"2 │   a | Number = \"x\",\n" +
		"  │                ^^^\n" +
		"  │\n" +
		"  = expected a Number, got a String\n\n"
	if diff := cmp.Diff(want, Render(err)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestMergeMany folds many records defining one field: equal-priority merges must not rebuild the
// whole chain of merges at every step (that took minutes and gigabytes at a few thousand records).
func TestMergeMany(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"same value", `std.array.fold_left (fun acc i => acc & { a = 1 }) {} (std.array.range 0 20000)`, `{"a":1}`},
		{"nested fields", `std.array.fold_left (fun acc i => acc & { r."%{std.to_string (i % 3)}" = i % 3 }) {} (std.array.range 0 20000)`, `{"r":{"0":0,"1":1,"2":2}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeTemp(t, "main.ncl", tt.src)
			var out []byte
			err := withTimeout(t, func() (err error) {
				out, err = Export([]string{p}, Options{})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, compact(t, string(out))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
