package render

import (
	"io"
	"testing"
)

// The benchmarks render the plan of the scale benchmark's size: 10,000 resources.

func BenchmarkHuman10k(b *testing.B) {
	p := longPlan(10000)
	for b.Loop() {
		if err := Human(io.Discard, p, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkJSON10k(b *testing.B) {
	p := longPlan(10000)
	for b.Loop() {
		if _, err := JSON(p, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarkdown10k(b *testing.B) {
	p := longPlan(10000)
	for b.Loop() {
		Markdown(p, MarkdownOptions{})
	}
}

func BenchmarkStreamPlan10k(b *testing.B) {
	p := longPlan(10000)
	for b.Loop() {
		NewStream(io.Discard, nil).Plan(p)
	}
}
