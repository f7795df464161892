package main

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestIdeal(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want time.Duration
	}{
		{"the issue's run", Config{N: 10_000, Depth: 1, Parallelism: 1000, Latency: 100 * time.Millisecond}, time.Second},
		{"deep graph", Config{N: 100, Depth: 50, Parallelism: 1000, Latency: 100 * time.Millisecond}, 5 * time.Second},
		{"a partial wave counts", Config{N: 1001, Depth: 1, Parallelism: 1000, Latency: 100 * time.Millisecond}, 200 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Ideal(tt.cfg); got != tt.want {
				t.Errorf("Ideal = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestDocument(t *testing.T) {
	b, err := Document(Config{N: 6, Depth: 3, Parallelism: 2, Latency: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources map[string]struct {
			DependsOn []string `json:"depends_on"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for addr, r := range doc.Resources {
		got[addr] = r.DependsOn
	}
	want := map[string][]string{
		"data.r00000": nil, "data.r00001": nil,
		"data.r00002": {"data.r00000"}, "data.r00003": {"data.r00001"},
		"data.r00004": {"data.r00002"}, "data.r00005": {"data.r00003"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("dependencies (-want +got):\n%s", diff)
	}
	if _, err := Document(Config{N: 2, Depth: 3}); err == nil {
		t.Errorf("depth above n: no error")
	}
}

func TestParseEvents(t *testing.T) {
	stream := strings.Join([]string{
		`{"type":"version","@timestamp":"2026-01-01T00:00:00Z"}`,
		`{"type":"apply_start","@timestamp":"2026-01-01T00:00:01Z"}`,
		`{"type":"apply_start","@timestamp":"2026-01-01T00:00:01.5Z"}`,
		`{"type":"apply_complete","@timestamp":"2026-01-01T00:00:02.5Z"}`,
		`{"type":"apply_complete","@timestamp":"2026-01-01T00:00:02Z"}`,
		`{"type":"change_summary","@timestamp":"2026-01-01T00:00:09Z"}`,
	}, "\n")
	got, err := parseEvents(bufio.NewScanner(strings.NewReader(stream)))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Result{Walk: 1500 * time.Millisecond, Completed: 2}, got); diff != "" {
		t.Errorf("parseEvents (-want +got):\n%s", diff)
	}
	if _, err := parseEvents(bufio.NewScanner(strings.NewReader(`{"type":"version"}`))); err == nil {
		t.Errorf("a stream without operations: no error")
	}
}
