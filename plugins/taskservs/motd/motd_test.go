package motd_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/plugins/host"
	"github.com/provhq/prov/plugins/taskservs/motd"
	"github.com/provhq/prov/sdk"
)

func TestMotd(t *testing.T) {
	tests := []struct {
		name      string
		config    map[string]any
		wantSteps []string
		wantDiags []string
		wantFile  string // relative to the root
		wantText  string
	}{
		{"defaults", map[string]any{}, []string{"write etc/motd (32 bytes)"}, nil,
			"etc/motd", "This server is managed by prov.\n"},
		{"message and path", map[string]any{"message": "hi\n", "path": "srv/www/motd.txt"},
			[]string{"write srv/www/motd.txt (3 bytes)"}, nil, "srv/www/motd.txt", "hi\n"},
		{"absolute path", map[string]any{"path": "/etc/motd"}, nil,
			[]string{"config.path: want a path relative to the server's root, such as etc/motd"}, "", ""},
		{"escaping path", map[string]any{"path": "etc/../../motd"}, nil,
			[]string{"config.path: the path leaves the server's root"}, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			root := t.TempDir()
			ts := sdk.NewTaskservServer(motd.New())
			x := &host.LocalExec{Dir: root}
			req := plugins.TaskservRequest{OperationID: "op", Version: "1.0.0", Config: tc.config, Server: map[string]any{}}
			p, err := ts.Plan(ctx, req, x)
			if err != nil {
				t.Fatal(err)
			}
			var diags []string
			for _, d := range p.Diagnostics {
				diags = append(diags, d.Path+": "+d.Summary)
			}
			if diff := cmp.Diff(tc.wantDiags, diags); diff != "" {
				t.Fatalf("plan diagnostics (-want +got):\n%s", diff)
			}
			if tc.wantDiags != nil {
				return
			}
			if diff := cmp.Diff(tc.wantSteps, p.Steps); diff != "" {
				t.Errorf("steps (-want +got):\n%s", diff)
			}
			res, err := ts.Install(ctx, req, x, nil)
			if err != nil || res.Diagnostics.HasErrors() {
				t.Fatalf("install: %v %v", err, res.Diagnostics)
			}
			if b, err := os.ReadFile(filepath.Join(root, tc.wantFile)); err != nil || string(b) != tc.wantText {
				t.Fatalf("%s = %q, %v; want %q", tc.wantFile, b, err, tc.wantText)
			}
			req.Prior = res.State
			if c, err := ts.Check(ctx, req, x); err != nil || !c.Healthy {
				t.Fatalf("check after install: %v %+v", err, c)
			}
			if err := os.WriteFile(filepath.Join(root, tc.wantFile), []byte("edited"), 0o644); err != nil {
				t.Fatal(err)
			}
			if c, err := ts.Check(ctx, req, x); err != nil || c.Healthy || c.Output != tc.wantFile+" was changed outside prov" {
				t.Fatalf("check after an edit: %v %+v", err, c)
			}
			if r, err := ts.Remove(ctx, req, x); err != nil || r.Diagnostics.HasErrors() {
				t.Fatalf("remove: %v %v", err, r.Diagnostics)
			}
			if _, err := os.Stat(filepath.Join(root, tc.wantFile)); !os.IsNotExist(err) {
				t.Fatalf("%s after remove: %v", tc.wantFile, err)
			}
			if c, err := ts.Check(ctx, req, x); err != nil || c.Healthy {
				t.Fatalf("check after remove: %v %+v", err, c)
			}
		})
	}
}
