// Package dag is a small directed acyclic graph of named nodes on top of gonum's graph/simple and
// graph/topo: nodes are strings, an edge says one node depends on another. It gives a deterministic
// topological order (dependencies first), names a cycle when there is one, computes transitive
// dependencies, and walks the graph in parallel. It knows nothing of resources or plans.
package dag

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"gonum.org/v1/gonum/graph"
	"gonum.org/v1/gonum/graph/simple"
	"gonum.org/v1/gonum/graph/topo"
)

// Graph is a set of named nodes with dependency edges. The zero Graph is not usable; call New.
// A Graph is not safe for concurrent modification; reading it concurrently is fine.
type Graph struct {
	g     *simple.DirectedGraph // edge from → to: from depends on to
	ids   map[string]int64
	names []string
	self  []string // nodes that depend on themselves (gonum refuses self edges)
}

// New returns an empty Graph.
func New() *Graph {
	return &Graph{g: simple.NewDirectedGraph(), ids: map[string]int64{}}
}

// Add adds node if it is not there yet.
func (g *Graph) Add(node string) {
	g.id(node)
}

func (g *Graph) id(node string) int64 {
	if id, ok := g.ids[node]; ok {
		return id
	}
	id := int64(len(g.names))
	g.ids[node] = id
	g.names = append(g.names, node)
	g.g.AddNode(simple.Node(id))
	return id
}

// Has reports whether node is in g.
func (g *Graph) Has(node string) bool {
	_, ok := g.ids[node]
	return ok
}

// Len is the number of nodes.
func (g *Graph) Len() int { return len(g.names) }

// Nodes returns every node, sorted.
func (g *Graph) Nodes() []string { return slices.Sorted(slices.Values(g.names)) }

// Connect records that node depends on dep, adding both nodes if needed.
func (g *Graph) Connect(node, dep string) {
	from, to := g.id(node), g.id(dep)
	if from == to {
		if !slices.Contains(g.self, node) {
			g.self = append(g.self, node)
		}
		return
	}
	g.g.SetEdge(simple.Edge{F: simple.Node(from), T: simple.Node(to)})
}

// Dependencies returns the nodes node directly depends on, sorted.
func (g *Graph) Dependencies(node string) []string {
	id, ok := g.ids[node]
	if !ok {
		return nil
	}
	return g.namesOf(g.g.From(id))
}

// Dependents returns the nodes that directly depend on node, sorted.
func (g *Graph) Dependents(node string) []string {
	id, ok := g.ids[node]
	if !ok {
		return nil
	}
	return g.namesOf(g.g.To(id))
}

func (g *Graph) namesOf(it graph.Nodes) []string {
	if it.Len() == 0 {
		return nil
	}
	out := make([]string, 0, it.Len())
	for it.Next() {
		out = append(out, g.names[it.Node().ID()])
	}
	slices.Sort(out)
	return out
}

// Closure returns nodes together with everything they depend on, directly or not, sorted.
// Names not in g are ignored.
func (g *Graph) Closure(nodes ...string) []string {
	seen := map[int64]bool{}
	var stack []int64
	for _, n := range nodes {
		if id, ok := g.ids[n]; ok && !seen[id] {
			seen[id] = true
			stack = append(stack, id)
		}
	}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		it := g.g.From(id)
		for it.Next() {
			if d := it.Node().ID(); !seen[d] {
				seen[d] = true
				stack = append(stack, d)
			}
		}
	}
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, g.names[id])
	}
	slices.Sort(out)
	return out
}

// CycleError is returned when the graph has a cycle. Cycle lists the nodes along it, the first node
// repeated at the end: a depends on b, which depends on c, which depends on a.
type CycleError struct {
	Cycle []string
}

func (e *CycleError) Error() string { return "cycle: " + strings.Join(e.Cycle, " -> ") }

// Sort returns every node in a deterministic topological order, dependencies before the nodes that
// depend on them, or a *CycleError naming one cycle.
func (g *Graph) Sort() ([]string, error) {
	if len(g.self) > 0 {
		n := slices.Min(g.self)
		return nil, &CycleError{Cycle: []string{n, n}}
	}
	// gonum sorts an edge's "from" before its "to"; ours point at dependencies, so reverse. A
	// reverse-lexical stabilizing order makes the reversed result list independent nodes by name.
	sorted, err := topo.SortStabilized(g.g, func(nodes []graph.Node) {
		slices.SortFunc(nodes, func(a, b graph.Node) int { return cmp.Compare(g.names[b.ID()], g.names[a.ID()]) })
	})
	var unorderable topo.Unorderable
	if errors.As(err, &unorderable) {
		return nil, g.cycle(unorderable)
	}
	if err != nil {
		return nil, fmt.Errorf("dag: sort: %w", err)
	}
	out := make([]string, len(sorted))
	for i, n := range sorted {
		out[len(sorted)-1-i] = g.names[n.ID()]
	}
	return out, nil
}

// cycle picks the strongly connected component with the lexically smallest node and finds the
// shortest cycle through that node inside it.
func (g *Graph) cycle(sccs topo.Unorderable) *CycleError {
	var best []graph.Node
	var start int64 = -1
	for _, scc := range sccs {
		for _, n := range scc {
			if start < 0 || g.names[n.ID()] < g.names[start] {
				start, best = n.ID(), scc
			}
		}
	}
	in := make(map[int64]bool, len(best))
	for _, n := range best {
		in[n.ID()] = true
	}
	// Breadth-first from start along dependency edges, staying inside the component, visiting
	// neighbours in name order so the answer is deterministic.
	prev := map[int64]int64{start: -1}
	queue := []int64{start}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, dep := range g.Dependencies(g.names[id]) {
			did := g.ids[dep]
			if did == start {
				var path []string
				for at := id; at != -1; at = prev[at] {
					path = append(path, g.names[at])
				}
				slices.Reverse(path)
				return &CycleError{Cycle: append(path, g.names[start])}
			}
			if _, seen := prev[did]; !seen && in[did] {
				prev[did] = id
				queue = append(queue, did)
			}
		}
	}
	// Unreachable for a real component; report its members rather than nothing.
	names := make([]string, len(best))
	for i, n := range best {
		names[i] = g.names[n.ID()]
	}
	slices.Sort(names)
	return &CycleError{Cycle: append(names, names[0])}
}

// Walk calls fn once for every node, each only after fn has returned for all of its dependencies, with
// at most parallelism calls running at once (parallelism < 1 means 1). fn's result does not stop the
// walk; callers record failures themselves. Walk returns a *CycleError if g has a cycle, or ctx's error
// if it is cancelled (nodes not started by then are not called).
func (g *Graph) Walk(ctx context.Context, parallelism int, fn func(ctx context.Context, node string)) error {
	order, err := g.Sort()
	if err != nil {
		return err
	}
	if parallelism < 1 {
		parallelism = 1
	}
	n := len(g.names)
	waiting := make([]int, n) // unfinished dependencies per node id
	for id := range n {
		waiting[id] = g.g.From(int64(id)).Len()
	}
	ready := make(chan int64, n)
	for _, name := range order {
		if id := g.ids[name]; waiting[id] == 0 {
			ready <- id
		}
	}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		sem  = make(chan struct{}, parallelism)
		done int
	)
	finished := make(chan struct{})
	if n == 0 {
		close(finished)
	}
	for {
		select {
		case <-finished:
			wg.Wait()
			return nil
		case <-ctx.Done():
			wg.Wait()
			return ctx.Err()
		case id := <-ready:
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
			}
			if err := ctx.Err(); err != nil {
				wg.Wait()
				return err
			}
			wg.Go(func() {
				defer func() { <-sem }()
				fn(ctx, g.names[id])
				mu.Lock()
				defer mu.Unlock()
				it := g.g.To(id)
				for it.Next() {
					d := it.Node().ID()
					if waiting[d]--; waiting[d] == 0 {
						ready <- d
					}
				}
				if done++; done == n {
					close(finished)
				}
			})
		}
	}
}
