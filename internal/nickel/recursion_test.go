package nickel

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// recursionTimeout bounds each case: a regression that hangs fails instead of stalling the suite.
const recursionTimeout = 30 * time.Second

// TestInfiniteRecursion covers every way a program can recurse without end: each must end, quickly, in
// an EvalError::InfiniteRecursion carrying the data path where one is known.
func TestInfiniteRecursion(t *testing.T) {
	// outputs is checked as prov's Document contract checks it
	contract := `{ outputs | { _ | { value | Dyn, description | String | optional } } | optional, .. }`
	tests := []struct {
		name, src string
		// path is the wanted data path; a trailing "…" makes it a prefix
		path string
		// msg is a substring of the wanted message
		msg string
	}{
		{"self thunk", "{ x = x }", "x", "infinite recursion"},
		{"mutual thunks", "{ x = y, y = z, z = x }", "x", "infinite recursion"},
		{"let rec thunk", "let rec x = x + 1 in { a = x }", "a", "infinite recursion"},
		{"recursive function", "let rec f = fun n => 1 + f (n + 1) in { a = f 0 }", "a", "nested too deeply"},
		{"tail recursive function", "let rec f = fun n => f (n + 1) in f 0", "", "nested too deeply"},
		{"mutually recursive functions", "{ x = (fun a => a + y) 0, y = (fun a => a + x) 0 }", "x", "infinite recursion"},
		{"record containing itself", "{ outputs = { sites = { value = sites } } }", "outputs.sites.value", "it is `outputs.sites` again"},
		{"shadowed let", "let sites = [1] in { outputs = { sites = { value = sites } } }", "outputs.sites.value", "contains itself"},
		{"array containing itself", "let rec xs = [1, xs] in { a = xs }", "a[1]", "contains itself"},
		{"whole value", "let rec r = { a = r } in r", "a…", "contains itself"},
		{"endless records", "let rec f = fun n => { next = f (n + 1) } in { root = f 0 }", "root.next.next…", "nested more than 1000 levels"},
		{"endless arrays", "let rec f = fun n => [n, f (n + 1)] in { a = f 0 }", "a[1][1]…", "nested more than 1000 levels"},
		{"endless enum", "let rec f = fun n => 'Some (f (n + 1)) in { a = f 0 }", "a.value.value…", "nested more than 1000 levels"},
		{"deep_seq cycle", "let rec x = { a = x } in std.deep_seq x 1", "", "contains itself"},
		{"deep_seq endless", "let rec f = fun n => { next = f (n + 1) } in std.deep_seq (f 0) 1", "", "nested too deeply"},
		{"contract on endless", "let rec C = { next | C } in let rec f = fun n => { next = f (n + 1) } in f 0 | C", "next.next…", "infinite recursion"},
		{"dictionary contract on endless", "let rec C = { next | { _ | C } } in let rec f = fun n => { next = { a = f (n + 1) } } in f 0 | C", "next.a.next.a…", "infinite recursion"},
		{"array contract on endless", "let rec C = { next | Array C } in let rec f = fun n => { next = [f (n + 1)] } in f 0 | C", "next[0].next[0]…", "infinite recursion"},
		{"recursive dictionary contract", "let rec C = { _ | C } in let rec f = fun n => { next = f (n + 1) } in f 0 | C", "next.next…", "infinite recursion"},
		{"recursive array contract", "let rec C = Array C in let rec f = fun n => [f (n + 1)] in { a = f 0 | C }", "a[0][0]…", "infinite recursion"},
		{"equality of endless", "let rec f = fun n => { next = f (n + 1) } in f 0 == f 0", "", "nested too deeply"},
		{"equality of cycles", "let rec x = { a = x } in let rec y = { a = y } in x == y", "", "nested too deeply"},
		{"serialize cycle", "let rec x = { a = x } in std.serialize 'Json x", "a", "contains itself"},
		{"merge of endless", "let rec f = fun n => { next = f (n + 1) } in (f 0) & (f 0)", "next.next…", "nested more than 1000 levels"},
		{"contract wrapping without end", "let rec f = fun x => f (x | Number) in f 1", "", "nested too deeply"},
		{"import of itself", `let x = import "main.ncl" in x`, "", "infinite recursion"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeTemp(t, "main.ncl", tt.src)
			c := filepath.Join(filepath.Dir(p), "contract.ncl")
			if err := os.WriteFile(c, []byte(contract), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, mode := range []string{"export", "document"} {
				err := withTimeout(t, func() error {
					if mode == "export" {
						_, err := Export([]string{p}, Options{})
						return err
					}
					// the document loader's path: the Document-like contract and field positions
					_, _, err := ExportDocument(p, Options{ApplyContract: c})
					return err
				})
				if err == nil {
					t.Fatalf("%s: succeeded, want infinite recursion", mode)
				}
				e, ok := err.(*Error)
				if !ok {
					t.Fatalf("%s: error %T %v is not a *nickel.Error", mode, err, err)
				}
				if e.Class != "EvalError::InfiniteRecursion" {
					t.Errorf("%s: class = %s, want EvalError::InfiniteRecursion (%v)", mode, e.Class, e)
				}
				if prefix, ok := strings.CutSuffix(tt.path, "…"); ok {
					if !strings.HasPrefix(e.Path, prefix) {
						t.Errorf("%s: path = %q, want it to start with %q", mode, e.Path, prefix)
					}
				} else if e.Path != tt.path {
					t.Errorf("%s: path = %q, want %q (%v)", mode, e.Path, tt.path, e)
				}
				if !strings.Contains(e.Message, tt.msg) {
					t.Errorf("%s: message %q does not contain %q", mode, e.Message, tt.msg)
				}
			}
		})
	}
}

// withTimeout runs fn, failing the test if it does not return within recursionTimeout.
func withTimeout(t *testing.T, fn func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(recursionTimeout):
		t.Fatalf("still running after %v: evaluation hangs", recursionTimeout)
		return nil
	}
}
