package nickel

import (
	"testing"
)

// FuzzEval feeds arbitrary programs to the parser and evaluator: every input must end in a value or
// an error, never a panic, a Go stack overflow or a hang.
func FuzzEval(f *testing.F) {
	seeds := []string{
		`{a = 1, b = a + 1} & {a | force = 2}`,
		`let rec f = fun n => if n == 0 then 1 else n * f (n - 1) in f 5`,
		`match { 'Some x => x, _ => 0 } ('Some 1)`,
		`{ x | Number = "a" }`,
		`m%"
		  a %{"b"}
		"%`,
		`[1, 2] |> std.array.map (fun x => x * 2)`,
		`{ a.b.c = 1, "%{"d"}" = 2 }`,
		`let rec xs = [xs] in xs`,
		`{ x = y, y = x }.x`,
		`(((((((((1)))))))))`,
		`std.string.find "[" "x"`,
		`{ a | { b | String } = { b = 1 } }`,
		`fun {a ? 1, ..r} => a`,
		`std.serialize 'Toml { a = null }`,
		// infinite recursion of every kind ends in a diagnostic
		`{ outputs = { sites = { value = sites } } }`,
		`let rec f = fun n => { next = f (n + 1) } in f 0`,
		`let rec f = fun n => 'Some (f (n + 1)) in f 0`,
		`let rec x = { a = x } in std.deep_seq x x`,
		`let rec C = { next | C } in let rec f = fun n => { next = f (n + 1) } in f 0 | C`,
		`let rec f = fun n => { next = f (n + 1) } in f 0 == f 0`,
		`let rec f = fun x => f (x | Number) in f 1`,
		// polymorphic contracts
		`let f | forall a. a -> a = fun x => x + 1 in f 1`,
		`let f | forall r. { a : Number; r } -> { a : Number; r } = fun x => x & { a | force = 0 } in f { a = 1, b = 2 }`,
		`let f | forall r. { ; r } -> { y : Number; r } = fun x => %record/insert% "y" x 1 in f { y = 3 }`,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		s, err := NewSession(Options{})
		if err != nil {
			t.Fatal(err)
		}
		s.Machine().MaxSteps = 200000
		v, err := s.EvalSource("fuzz.ncl", src, true)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T is not a *nickel.Error: %v", err, err)
			}
			return
		}
		if _, err := s.Export(v, "json"); err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("export error %T is not a *nickel.Error: %v", err, err)
			}
		}
	})
}
