package nickel

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestPolymorphicContracts checks that forall types are enforced by sealing: a function may pass values
// of a type variable along but not inspect, fabricate or (for record tails) touch them.
func TestPolymorphicContracts(t *testing.T) {
	tests := []struct {
		name, src string
		// want is the exported JSON when class is empty
		want string
		// class and msg describe the expected error
		class, msg string
	}{
		{name: "identity", src: `let id | forall a. a -> a = fun x => x in id 1`, want: "1"},
		{name: "higher order", src: `let twice | forall a. (a -> a) -> a -> a = fun f x => f (f x) in twice (fun x => x + 1) 3`, want: "5"},
		{name: "forall in negative position", src: `let apply | (forall b. b -> b) -> Number -> Number = fun f x => f x in apply (fun y => y) 2`, want: "2"},
		{name: "row tail passed along", src: `let f | forall r. { a : Number; r } -> { a : Number; r } = fun x => x in f { a = 1, b = "kept" }`, want: `{"a":1,"b":"kept"}`},
		{name: "row tail extended", src: `let f | forall r. { ; r } -> { z : Number; r } = fun x => %record/insert% "z" x 1 in f { y = 2 }`, want: `{"y":2,"z":1}`},
		{name: "dictionary of type variables", src: `let add | forall a. { _ : a } -> a -> { _ : a } = fun d v => std.record.insert "foo" v d in add { bar = 1 } 5`, want: `{"bar":1,"foo":5}`},
		{name: "inspects its argument", src: `let f | forall a. a -> a = fun x => x + 1 in f 1`, class: "EvalError::BlameError", msg: "contract broken by a function"},
		{name: "fabricates its result", src: `let f | forall a. a -> a = fun x => false in f true`, class: "EvalError::BlameError", msg: "contract broken by a function"},
		{name: "compares its argument", src: `let f | forall a. a -> Bool = fun x => x == 1 in f 1`, class: "EvalError::BlameError"},
		{name: "returns another variable", src: `let f | forall a b. a -> b -> a = fun x y => y in f 1 2`, class: "EvalError::BlameError"},
		{name: "reads the tail", src: `let f | forall r. { ; r } -> Dyn = fun x => x.secret in f { secret = 1 }`, class: "EvalError::IllegalPolymorphicTailAccess", msg: "secret"},
		{name: "merges the tail", src: `let f | forall r. { a : Number; r } -> { a : Number; r } = fun x => x & { a | force = 0 } in f { a = 1, b = 2 }`, class: "EvalError::IllegalPolymorphicTailAccess"},
		{name: "drops the tail", src: `let f | forall r. { a : Number; r } -> { a : Number; r } = fun x => { a = x.a } in f { a = 1, b = 2 }`, class: "EvalError::BlameError"},
		{name: "tail ruled out by the type", src: `let f | forall r. { ; r } -> { y : Number; r } = fun x => %record/insert% "y" x 1 in f { y = 3 }`, class: "EvalError::BlameError", msg: "contract broken by the caller"},
		{name: "record types do not propagate", src: `({ a = 1 } | { a : Number }) & { a | force = "s" }`, want: `{"a":"s"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeTemp(t, "main.ncl", tt.src)
			out, err := Export([]string{p}, Options{})
			if tt.class == "" {
				if err != nil {
					t.Fatalf("Export: %v", err)
				}
				if diff := cmp.Diff(tt.want, compact(t, string(out))); diff != "" {
					t.Errorf("export (-want +got):\n%s", diff)
				}
				return
			}
			if err == nil {
				t.Fatalf("Export succeeded with %s, want %s", out, tt.class)
			}
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("error %T %v is not a *nickel.Error", err, err)
			}
			if e.Class != tt.class {
				t.Errorf("class = %s, want %s (%v)", e.Class, tt.class, e)
			}
			if !strings.Contains(e.Message, tt.msg) {
				t.Errorf("message %q does not contain %q", e.Message, tt.msg)
			}
		})
	}
}
