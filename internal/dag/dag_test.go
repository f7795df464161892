package dag

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// build makes a graph from "node:dep,dep" specs.
func build(specs ...[2]string) *Graph {
	g := New()
	for _, s := range specs {
		g.Add(s[0])
		if s[1] != "" {
			g.Connect(s[0], s[1])
		}
	}
	return g
}

func TestSort(t *testing.T) {
	tests := []struct {
		name    string
		edges   [][2]string
		want    []string
		wantErr string
	}{
		{name: "empty", want: []string{}},
		{name: "independent", edges: [][2]string{{"c", ""}, {"a", ""}, {"b", ""}}, want: []string{"a", "b", "c"}},
		{name: "chain", edges: [][2]string{{"a", "b"}, {"b", "c"}}, want: []string{"c", "b", "a"}},
		{name: "diamond", edges: [][2]string{{"top", "l"}, {"top", "r"}, {"l", "base"}, {"r", "base"}}, want: []string{"base", "l", "r", "top"}},
		{name: "self", edges: [][2]string{{"a", "a"}}, wantErr: "cycle: a -> a"},
		{name: "cycle", edges: [][2]string{{"c", "a"}, {"a", "b"}, {"b", "c"}, {"d", "a"}}, wantErr: "cycle: a -> b -> c -> a"},
		{name: "shortest cycle through smallest", edges: [][2]string{{"b", "a"}, {"a", "x"}, {"x", "y"}, {"y", "a"}, {"a", "b"}}, wantErr: "cycle: a -> b -> a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := build(tt.edges...)
			got, err := g.Sort()
			if tt.wantErr != "" {
				var ce *CycleError
				if !errors.As(err, &ce) || err.Error() != tt.wantErr {
					t.Fatalf("Sort error = %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Sort (-want +got):\n%s", diff)
			}
			checkOrder(t, g, got)
		})
	}
}

func checkOrder(t *testing.T, g *Graph, order []string) {
	t.Helper()
	pos := map[string]int{}
	for i, n := range order {
		pos[n] = i
	}
	for _, n := range order {
		for _, d := range g.Dependencies(n) {
			if pos[d] > pos[n] {
				t.Errorf("%s sorted before its dependency %s", d, n)
			}
		}
	}
}

func TestClosureAndNeighbours(t *testing.T) {
	g := build([2]string{"a", "b"}, [2]string{"b", "c"}, [2]string{"d", "c"}, [2]string{"e", ""})
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"closure a", g.Closure("a"), []string{"a", "b", "c"}},
		{"closure d e", g.Closure("d", "e", "missing"), []string{"c", "d", "e"}},
		{"dependencies a", g.Dependencies("a"), []string{"b"}},
		{"dependents c", g.Dependents("c"), []string{"b", "d"}},
		{"nodes", g.Nodes(), []string{"a", "b", "c", "d", "e"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestWalk(t *testing.T) {
	for _, par := range []int{1, 4, 100} {
		t.Run(fmt.Sprint(par), func(t *testing.T) {
			// Fan-out: node i depends on node i/10.
			g := New()
			const n = 2000
			for i := 1; i < n; i++ {
				g.Connect(fmt.Sprint(i), fmt.Sprint(i/10))
			}
			var (
				mu              sync.Mutex
				done            = map[string]bool{}
				running, maxRun atomic.Int32
			)
			err := g.Walk(context.Background(), par, func(_ context.Context, node string) {
				r := running.Add(1)
				defer running.Add(-1)
				for m := maxRun.Load(); r > m && !maxRun.CompareAndSwap(m, r); m = maxRun.Load() {
				}
				mu.Lock()
				defer mu.Unlock()
				for _, d := range g.Dependencies(node) {
					if !done[d] {
						t.Errorf("%s walked before its dependency %s", node, d)
					}
				}
				if done[node] {
					t.Errorf("%s walked twice", node)
				}
				done[node] = true
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(done) != n {
				t.Errorf("walked %d nodes, want %d", len(done), n)
			}
			if m := maxRun.Load(); int(m) > par {
				t.Errorf("%d ran at once, limit %d", m, par)
			}
		})
	}
}

func TestWalkCycleAndCancel(t *testing.T) {
	g := build([2]string{"a", "b"}, [2]string{"b", "a"})
	var ce *CycleError
	if err := g.Walk(context.Background(), 2, func(context.Context, string) {}); !errors.As(err, &ce) {
		t.Errorf("Walk on a cycle = %v, want a CycleError", err)
	}
	g = build([2]string{"a", "b"}, [2]string{"b", "c"})
	ctx, cancel := context.WithCancel(context.Background())
	var walked []string
	err := g.Walk(ctx, 1, func(_ context.Context, node string) {
		walked = append(walked, node)
		cancel()
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Walk after cancel = %v, want context.Canceled", err)
	}
	if !slices.Equal(walked, []string{"c"}) {
		t.Errorf("walked %v after cancel, want [c]", walked)
	}
}

func TestWriteDOT(t *testing.T) {
	g := build([2]string{"web", "db"}, [2]string{"db", ""}, [2]string{`say "hi"`, "web"})
	tests := []struct {
		name  string
		label func(string) string
		want  string
	}{
		{"plain", nil, `digraph {
  rankdir = "RL";
  node [shape = "box"];
  "db";
  "say \"hi\"";
  "web";
  "say \"hi\"" -> "web";
  "web" -> "db";
}
`},
		{"labels", func(n string) string { return "+ " + n }, `digraph {
  rankdir = "RL";
  node [shape = "box"];
  "db" [label = "+ db"];
  "say \"hi\"" [label = "+ say \"hi\""];
  "web" [label = "+ web"];
  "say \"hi\"" -> "web";
  "web" -> "db";
}
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := g.WriteDOT(&b, tt.label); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, b.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
