package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/cli"
)

// envAsProv makes the test binary act as prov, so the smoke needs no separate build: the harness runs
// it as its prov, and prov runs it again as its plugin (the variable is inherited).
const envAsProv = "PROV_CHAOS_TEST_AS_PROV"

func TestMain(m *testing.M) {
	if os.Getenv(envAsProv) == "1" {
		os.Exit(cli.Main(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// TestSmoke runs three short trials, one of each of three fault kinds, with the real prov and local
// provider, and fails on any failed check.
func TestSmoke(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var log bytes.Buffer
	results, err := Run(ctx, Config{
		Prov: exe, Env: []string{envAsProv + "=1"},
		Trials: 1, Faults: []string{KillProv, TornJournal, PluginFail}, Seed: 7,
		Resources: 25, Parallelism: 20, Latency: 20 * time.Millisecond, Timeout: time.Minute,
		TempDir: t.TempDir(), Log: &log,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("trials:\n%s", log.String())
	if len(results) != 3 {
		t.Fatalf("%d results, want 3", len(results))
	}
	for _, r := range results {
		if r.Failure != "" {
			t.Errorf("trial %d (%s, %s): %s", r.N, r.Kind, r.Recovery, r.Failure)
		}
	}
}

func TestPrintTable(t *testing.T) {
	results := []Result{
		{N: 1, Kind: KillProv, Recovery: Resume, Journal: true, Duration: 2 * time.Second},
		{N: 2, Kind: LockRace, Recovery: Rollback, Duration: time.Second},
		{N: 3, Kind: KillProv, Recovery: Rollback, Failure: "x", Duration: 4 * time.Second},
	}
	tests := []struct {
		name  string
		kinds []string
		want  string
	}{
		{"two kinds", []string{KillProv, LockRace}, `
fault      trials  passed  failed  resumed  rolled back  journal left  mean time
kill-prov  2       1       1       1        1            1             3.0s
lock-race  1       1       0       0        1            0             1.0s
2 passed, 1 failed
`},
		{"a kind without trials is left out", []string{Interrupt, LockRace}, `
fault      trials  passed  failed  resumed  rolled back  journal left  mean time
lock-race  1       1       0       0        1            0             1.0s
1 passed, 0 failed
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			PrintTable(&b, results, tt.kinds)
			if diff := cmp.Diff(strings.TrimPrefix(tt.want, "\n"), b.String()); diff != "" {
				t.Errorf("PrintTable (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSets(t *testing.T) {
	prior, desired := sets(10)
	got := map[string]int{}
	for _, addr := range changed(prior, desired) {
		_, inPrior := prior[addr]
		_, inDesired := desired[addr]
		switch {
		case !inPrior:
			got["create"]++
		case !inDesired:
			got["delete"]++
		default:
			got["update"]++
		}
	}
	if diff := cmp.Diff(map[string]int{"create": 10, "delete": 2, "update": 4}, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}
