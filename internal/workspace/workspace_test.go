package workspace

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/internal/settings"
	"github.com/provhq/prov/state/local"
)

func TestLifecycle(t *testing.T) {
	t.Setenv(EnvVar, "")
	project := t.TempDir()

	if got, err := List(project); err != nil || !cmp.Equal(got, []string{"default"}) {
		t.Fatalf("List on a fresh project = %v, %v", got, err)
	}
	cur, err := Current(project)
	if err != nil || cur.Name != Default || cur.Dir != project {
		t.Fatalf("Current = %+v, %v", cur, err)
	}
	for _, n := range []string{"prod", "dev", "feature-1"} {
		if _, err := New(project, n); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := New(project, "dev"); !errors.Is(err, ErrExist) {
		t.Errorf("New existing: %v", err)
	}
	if _, err := New(project, Default); !errors.Is(err, ErrExist) {
		t.Errorf("New default: %v", err)
	}
	for _, bad := range []string{"", "../x", "a/b", "-x", "a b"} {
		if _, err := New(project, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("New(%q): %v, want ErrInvalid", bad, err)
		}
	}
	got, _ := List(project)
	if diff := cmp.Diff([]string{"default", "dev", "feature-1", "prod"}, got); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}

	if err := Select(project, "nope"); !errors.Is(err, ErrNotExist) {
		t.Errorf("Select missing: %v", err)
	}
	if err := Select(project, "dev"); err != nil {
		t.Fatal(err)
	}
	cur, _ = Current(project)
	want := Workspace{Name: "dev", Project: project, Dir: filepath.Join(project, ".prov/workspaces/dev"),
		PluginDir: filepath.Join(project, ".prov/workspaces/dev/plugins")}
	if diff := cmp.Diff(want, cur); diff != "" {
		t.Errorf("Current after Select (-want +got):\n%s", diff)
	}
	if fi, err := os.Stat(cur.PluginDir); err != nil || !fi.IsDir() {
		t.Errorf("plugin folder not created: %v", err)
	}

	t.Setenv(EnvVar, "prod")
	if cur, _ := Current(project); cur.Name != "prod" {
		t.Errorf("PROV_WORKSPACE=prod: Current = %s", cur.Name)
	}
	t.Setenv(EnvVar, "gone")
	if _, err := Current(project); !errors.Is(err, ErrNotExist) || !strings.Contains(err.Error(), EnvVar) {
		t.Errorf("PROV_WORKSPACE=gone: %v", err)
	}
	t.Setenv(EnvVar, "")
}

func TestDelete(t *testing.T) {
	t.Setenv(EnvVar, "")
	project := t.TempDir()
	stateWith := func(ws, content string) {
		t.Helper()
		p := filepath.Join(project, ".prov/workspaces", ws, local.StateFile)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"empty", "nostate", "full", "journal", "garbage", "current"} {
		if _, err := New(project, n); err != nil {
			t.Fatal(err)
		}
	}
	stateWith("empty", `{"version":1,"resources":{}}`)
	stateWith("full", `{"version":1,"resources":{"files.a":{"type":"local_file"},"files.b":{}}}`)
	stateWith("garbage", `not json`)
	os.WriteFile(filepath.Join(project, ".prov/workspaces/journal", local.JournalFile), []byte("x"), 0o600)
	if err := Select(project, "current"); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		force   bool
		wantErr error
		msg     string
	}{
		{name: "empty"},
		{name: "nostate"},
		{name: "full", wantErr: ErrNotEmpty, msg: `workspace "full": workspace state still has resources (2 managed)`},
		{name: "full", force: true},
		{name: "journal", wantErr: ErrInProgress},
		{name: "journal", force: true},
		{name: "garbage", msg: "cannot tell whether its state is empty"},
		{name: "garbage", force: true},
		{name: "current", wantErr: ErrIsCurrent},
		{name: "default", force: true, wantErr: ErrIsDefault},
		{name: "missing", wantErr: ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Delete(project, tt.name, DeleteOptions{Force: tt.force})
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) || tt.msg != "" && (err == nil || !strings.Contains(err.Error(), tt.msg)) {
				t.Fatalf("Delete = %v, want %v / %q", err, tt.wantErr, tt.msg)
			}
			_, statErr := os.Stat(filepath.Join(project, ".prov/workspaces", tt.name))
			exists := statErr == nil
			switch {
			case err == nil && (tt.wantErr != nil || tt.msg != ""):
				t.Errorf("Delete succeeded, want an error")
			case err == nil && exists:
				t.Errorf("Delete succeeded but the directory is still there")
			case err != nil && tt.wantErr == nil && tt.msg == "":
				t.Errorf("Delete = %v", err)
			case err != nil && !exists && tt.name != "missing" && tt.name != Default:
				t.Errorf("Delete failed but removed the directory")
			}
		})
	}
}

func TestLoadActive(t *testing.T) {
	project := t.TempDir()
	if _, err := New(project, "prod"); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(project, "prov.toml"), []byte("[core]\nparallelism = 4\n[state]\ndir = 'st'\n"), 0o644)
	os.WriteFile(filepath.Join(project, ".prov/workspaces/prod/prov.toml"), []byte("[core]\nparallelism = 40\n"), 0o644)
	o := settings.Options{UserDir: filepath.Join(project, "nouser"), Environ: []string{}}

	for _, tc := range []struct {
		ws          string
		parallelism int
		stateDir    string
		plugins     []string
	}{
		{"", 4, filepath.Join(project, "st"), []string{filepath.Join(project, ".prov/plugins")}},
		{"prod", 40, filepath.Join(project, ".prov/workspaces/prod/st"), []string{filepath.Join(project, ".prov/workspaces/prod/plugins")}},
	} {
		t.Run("workspace "+tc.ws, func(t *testing.T) {
			t.Setenv(EnvVar, tc.ws)
			a, diags := LoadActive(project, o)
			if len(diags) > 0 {
				t.Fatal(diags)
			}
			got := []any{a.Settings.Parallelism(), a.StateDir, a.PluginPaths(a.Settings)}
			if diff := cmp.Diff([]any{tc.parallelism, tc.stateDir, tc.plugins}, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
