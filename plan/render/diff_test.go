package render

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/plan"
)

// body renders the attribute lines of an update from before to after, without the resource header.
func body(t *testing.T, before, after map[string]any, sens, replace []value.Path) string {
	t.Helper()
	ls := changeLines(&plan.Change{Addr: "x.y", Type: "t", Action: plan.Update, Before: before, After: after,
		BeforeSensitive: sens, AfterSensitive: sens, ReplacePaths: replace})
	var pr printer
	pr.lines(ls[1 : len(ls)-1])
	return pr.String()
}

func TestDiff(t *testing.T) {
	tests := []struct {
		name          string
		before, after map[string]any
		sens, replace []string
		want          string
	}{
		{
			name:   "scalars and alignment",
			before: map[string]any{"a": 1.0, "long_name": "x", "same": true},
			after:  map[string]any{"a": 2.5, "long_name": "y", "same": true},
			want: `      ~ a         = 1 -> 2.5
      ~ long_name = "x" -> "y"
        # (1 unchanged attribute hidden)
`,
		},
		{
			name:   "added and removed attributes, null treated as absent",
			before: map[string]any{"old": "o", "n": nil},
			after:  map[string]any{"new": []any{}, "n": nil},
			want: `      + new = []
      - old = "o" -> null
`,
		},
		{
			name:   "list insertion keeps the common elements hidden",
			before: map[string]any{"l": []any{"a", "b", "c", "d"}},
			after:  map[string]any{"l": []any{"a", "b", "x", "c", "d"}},
			want: `      ~ l = [
            # (2 unchanged elements hidden)
          + "x",
            # (2 unchanged elements hidden)
        ]
`,
		},
		{
			name:   "list element replaced by a value of another kind",
			before: map[string]any{"l": []any{1.0, map[string]any{"k": "v"}}},
			after:  map[string]any{"l": []any{2.0, "s"}},
			want: `      ~ l = [
          - 1,
          - {
              - k = "v"
            },
          + 2,
          + "s",
        ]
`,
		},
		{
			name:   "nested records and quoted keys",
			before: map[string]any{"m": map[string]any{"a.b": map[string]any{"x": 1.0, "y": 1.0}}},
			after:  map[string]any{"m": map[string]any{"a.b": map[string]any{"x": 2.0, "y": 1.0}}},
			want: `      ~ m = {
          ~ "a.b" = {
              ~ x = 1 -> 2
                # (1 unchanged attribute hidden)
            }
        }
`,
		},
		{
			name:   "record becomes unknown",
			before: map[string]any{"m": map[string]any{"k": "v"}},
			after:  map[string]any{"m": value.Unknown},
			want: `      ~ m = {
          - k = "v"
        } -> (known after apply)
`,
		},
		{
			name:   "scalar becomes a list",
			before: map[string]any{"v": "a"},
			after:  map[string]any{"v": []any{"a"}},
			want: `      - v = "a"
      + v = [
          + "a",
        ]
`,
		},
		{
			name:    "forces replacement inside a nested record",
			before:  map[string]any{"disk": map[string]any{"size": 10.0, "tier": "hdd"}},
			after:   map[string]any{"disk": map[string]any{"size": 20.0, "tier": "ssd"}},
			replace: []string{"disk.tier"},
			want: `      ~ disk = {
          ~ size = 10 -> 20
          ~ tier = "hdd" -> "ssd" # forces replacement
        }
`,
		},
		{
			name:   "sensitive record changed, only the marker shown",
			before: map[string]any{"s": map[string]any{"k": "old"}, "id": "i-1"},
			after:  map[string]any{"s": map[string]any{"k": "new"}, "id": "i-1"},
			sens:   []string{"s"},
			want: `        id = "i-1"
      ~ s  = (sensitive value)
`,
		},
		{
			name:   "sensitive value unchanged is hidden",
			before: map[string]any{"s": "same", "v": 1.0},
			after:  map[string]any{"s": "same", "v": 2.0},
			sens:   []string{"s"},
			want: `      ~ v = 1 -> 2
        # (1 unchanged attribute hidden)
`,
		},
		{
			name:   "multi-line string changed line by line",
			before: map[string]any{"s": "1\n2\n3\n4\n5\nx\n6\n7\n8\n9\n10\n11\n"},
			after:  map[string]any{"s": "1\n2\n3\n4\n5\ny\n6\n7\n8\n9\n10\n11\n12\n"},
			want: `      ~ s = <<-EOT
            # (3 unchanged lines hidden)
            4
            5
          - x
          + y
            6
            7
            # (2 unchanged lines hidden)
            10
            11
          + 12
        EOT
`,
		},
		{
			name:   "multi-line string created, control characters escaped",
			before: map[string]any{},
			after:  map[string]any{"s": "x\x1b[31m\ny"},
			want: `      + s = <<-EOT
            x\x1b[31m
            y
        EOT
`,
		},
		{
			name:   "only a trailing newline added",
			before: map[string]any{"s": "a\nb"},
			after:  map[string]any{"s": "a\nb\n"},
			want: `      ~ s = "a\nb" -> "a\nb\n"
`,
		},
		{
			name:   "strings are escaped",
			before: map[string]any{"s": "bell\a"},
			after:  map[string]any{"s": "tab\t\"q\""},
			want: `      ~ s = "bell\a" -> "tab\t\"q\""
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := body(t, tt.before, tt.after, paths_(t, tt.sens...), paths_(t, tt.replace...))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("diff (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCompareAddr(t *testing.T) {
	in := []string{"web-10", "web-2", "a.b", "web-02", "a", "web-1x", "web-1", "b"}
	want := []string{"a", "a.b", "b", "web-1", "web-1x", "web-2", "web-02", "web-10"}
	got := slices.Clone(in)
	slices.SortFunc(got, compareAddr)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

func TestSentence(t *testing.T) {
	tests := []struct {
		s    plan.Summary
		want string
	}{
		{plan.Summary{}, "Plan: 0 to add, 0 to change, 0 to destroy."},
		{plan.Summary{Add: 2, Change: 1, Destroy: 1}, "Plan: 2 to add, 1 to change, 1 to destroy."},
		{plan.Summary{Add: 2, Destroy: 1, Replace: 1, Read: 4}, "Plan: 2 to add, 0 to change, 1 to destroy (1 replacement)."},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Sentence("Plan", tt.s)); diff != "" {
				t.Error(diff)
			}
		})
	}
}

// TestMarkdownLimits renders the long plan under several limits: every comment fits, says what was
// cut, and is the same on every run.
func TestMarkdownLimits(t *testing.T) {
	p := longPlan(600)
	for _, limit := range []int{3000, 20000, GitHubCommentLimit} {
		t.Run(itoa(limit), func(t *testing.T) {
			got := Markdown(p, MarkdownOptions{ID: "pr-1", MaxLength: limit})
			if len(got) > limit {
				t.Errorf("comment is %d bytes, limit %d", len(got), limit)
			}
			if !strings.Contains(got, "This comment was truncated") || !strings.Contains(got, "artifacts") {
				t.Errorf("truncated comment lacks the note:\n%s", got[max(0, len(got)-400):])
			}
			if strings.Count(got, "```diff")*2 != strings.Count(got, "```") {
				t.Error("a diff fence was cut in half")
			}
			if again := Markdown(p, MarkdownOptions{ID: "pr-1", MaxLength: limit}); again != got {
				t.Error("two renderings of the same plan differ")
			}
		})
	}
	small := Markdown(p, MarkdownOptions{MaxLength: 3000})
	if !strings.Contains(small, "table rows") {
		t.Errorf("at 3,000 bytes the note should say table rows were cut:\n%s", small[max(0, len(small)-400):])
	}
	if !strings.HasPrefix(small, "<!-- prov-plan: default -->") {
		t.Error("empty ID should give the default marker")
	}
}

// TestMarkdownFence checks that a value holding backticks cannot close the diff block.
func TestMarkdownFence(t *testing.T) {
	p := &plan.Plan{Changes: map[string]*plan.Change{"x.y": {Addr: "x.y", Type: "t", Action: plan.Create,
		After: map[string]any{"s": "```` and ``` inside"}}}}
	got := Markdown(p, MarkdownOptions{})
	if !strings.Contains(got, "\n`````diff\n") {
		t.Errorf("fence not lengthened past the value's backticks:\n%s", got)
	}
}

// TestMarkdownHugeWarning checks the limit holds even when the warning alone is longer than it.
func TestMarkdownHugeWarning(t *testing.T) {
	p := &plan.Plan{Changes: map[string]*plan.Change{}}
	for i := range 30 {
		addr := "x.r" + itoa(i)
		p.Changes[addr] = &plan.Change{Addr: addr, Type: "t", Action: plan.Delete, Reason: strings.Repeat("why ", 100),
			Before: map[string]any{"a": 1.0}}
	}
	got := Markdown(p, MarkdownOptions{MaxLength: 2000})
	if len(got) > 2000 || !strings.Contains(got, "truncated") {
		t.Errorf("comment is %d bytes (limit 2,000), truncated note present: %v", len(got), strings.Contains(got, "truncated"))
	}
}
