// Package ci holds the example CI pipelines; this test keeps them well-formed and in step with the CLI.
package ci

import (
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestPipelinesParse(t *testing.T) {
	tests := []struct {
		file string
		want []string // prov invocations the recipe depends on
	}{
		{"github-actions.yml", []string{"init", "plan -out=plan.prov -detailed-exitcode", "show -format=markdown", "apply -json plan.prov"}},
		{"gitlab-ci.yml", []string{"init", "plan -out=plan.prov -detailed-exitcode", "show -format=markdown", "apply -json plan.prov"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := yaml.Unmarshal(data, &doc); err != nil {
				t.Fatalf("%s does not parse: %v", tt.file, err)
			}
			if len(doc) == 0 {
				t.Fatalf("%s is empty", tt.file)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(data), w) {
					t.Errorf("%s never runs prov %s", tt.file, w)
				}
			}
			if !strings.Contains(string(data), "<!-- prov-plan: ") {
				t.Errorf("%s does not look for the sticky-comment marker", tt.file)
			}
		})
	}
}

func TestGitHubJobs(t *testing.T) {
	data, err := os.ReadFile("github-actions.yml")
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct {
			If    string           `yaml:"if"`
			Steps []map[string]any `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatal(err)
	}
	for _, job := range []string{"plan", "apply"} {
		j, ok := wf.Jobs[job]
		if !ok || len(j.Steps) == 0 {
			t.Fatalf("job %q missing or empty", job)
		}
		for i, st := range j.Steps {
			_, run := st["run"]
			_, uses := st["uses"]
			if run == uses {
				t.Errorf("job %s step %d: want exactly one of run and uses", job, i)
			}
		}
	}
}
