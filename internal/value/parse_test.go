package value

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// parseCases are inputs ParseJSON must treat exactly as json.Unmarshal into an interface does.
var parseCases = []string{
	`null`, `true`, `false`, `0`, `-0`, `1.5e3`, `-12.25E-2`, `1e400`, `123456789012345678901234567890`,
	`""`, `"plain"`, `"é ✓ 😀"`, `"a\"b\\c\/d\b\f\n\r\t"`, `"\u00e9\u2713"`, `"\ud83d\ude00"`,
	`"\ud83d"`, `"\ud83dx"`, `"\ude00\ud83d"`, `"\ud83d\u0041"`, "\"\xff\xfe ok\"", "\"bad \xc3 \\n\"",
	`[]`, `{}`, `[1,"a",null,true,{"k":[]}]`, `{"a":1,"a":2}`, ` { "x" : [ 1 , 2 ] } `,
	`{"nested":{"deep":{"deeper":[{"x":"y"}]}}}`,
	// rejected
	``, ` `, `nul`, `tru`, `[1,]`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `[1 2]`, `01`, `1.`, `.5`, `-`, `1e`,
	`1e+`, `+1`, `"abc`, `"a` + "\n" + `b"`, `"\x"`, `"\u12"`, `"\u12g4"`, `[`, `{`, `{"a":`, `1 2`,
	`[1]x`, `"\`, `NaN`, `Infinity`,
}

func TestParseJSONMatchesEncodingJSON(t *testing.T) {
	for _, in := range parseCases {
		checkParse(t, []byte(in))
	}
}

func TestParseJSONDepth(t *testing.T) {
	for _, n := range []int{maxDepth, maxDepth + 1} {
		checkParse(t, []byte(strings.Repeat("[", n)+strings.Repeat("]", n)))
	}
}

func FuzzParseJSON(f *testing.F) {
	for _, in := range parseCases {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) { checkParse(t, in) })
}

func checkParse(t *testing.T, in []byte) {
	t.Helper()
	var want any
	wantErr := json.Unmarshal(in, &want)
	got, err := ParseJSON(in)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("ParseJSON(%q): err = %v, encoding/json's = %v", in, err, wantErr)
	}
	if err != nil {
		return
	}
	if reflect.DeepEqual(want, got) {
		return
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("ParseJSON(%q) (-encoding/json +got):\n%s", in, diff)
	}
}

func BenchmarkParseJSON(b *testing.B) {
	in := []byte(`{"id":"4cc84f4f5d8fb929e306d4e96f52bfdc","input":1234,"output":"some output text","tags":{"env":"prod","team":"platform"},"list":[1,2,3,"x",true,null]}`)
	b.Run("value", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ParseJSON(in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v any
			if err := json.Unmarshal(in, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
