package dag

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
)

// WriteDOT writes g in Graphviz DOT form, an edge from each node to each node it depends on, nodes and
// edges sorted by name. label, when not nil, gives the text shown for a node (its name otherwise).
func (g *Graph) WriteDOT(w io.Writer, label func(node string) string) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "digraph {")
	fmt.Fprintln(bw, "  rankdir = \"RL\";")
	fmt.Fprintln(bw, "  node [shape = \"box\"];")
	for _, n := range g.Nodes() {
		if label != nil {
			fmt.Fprintf(bw, "  %s [label = %s];\n", strconv.Quote(n), strconv.Quote(label(n)))
		} else {
			fmt.Fprintf(bw, "  %s;\n", strconv.Quote(n))
		}
	}
	for _, n := range g.Nodes() {
		for _, d := range g.Dependencies(n) {
			fmt.Fprintf(bw, "  %s -> %s;\n", strconv.Quote(n), strconv.Quote(d))
		}
	}
	for _, n := range g.self {
		fmt.Fprintf(bw, "  %s -> %s;\n", strconv.Quote(n), strconv.Quote(n))
	}
	fmt.Fprintln(bw, "}")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("dag: write DOT: %w", err)
	}
	return nil
}
