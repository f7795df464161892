package render

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMarkdown(t *testing.T) {
	for name, p := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			got := Markdown(p, MarkdownOptions{ID: "pr-42"})
			if len(got) > GitHubCommentLimit {
				t.Errorf("comment is %d bytes, over GitHub's limit of %d", len(got), GitHubCommentLimit)
			}
			if !utf8.ValidString(got) {
				t.Error("comment is not valid UTF-8")
			}
			if !strings.HasPrefix(got, "<!-- prov-plan: pr-42 -->\n") {
				t.Errorf("comment does not start with the marker line:\n%.200s", got)
			}
			golden(t, name+".md.golden", []byte(got))
		})
	}
}
