package plugintest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/sdk"
)

func motd() *sdk.Taskserv {
	return &sdk.Taskserv{
		Name:     "motd",
		Versions: []string{"1.0"},
		Config:   map[string]*sdk.Attribute{"text": {Type: sdk.String, Required: true}},
		Install: func(ctx context.Context, t *sdk.Task) error {
			if err := t.PutFile(ctx, "etc/motd", []byte(t.Config.String("text")), 0o644); err != nil {
				return err
			}
			out, err := t.Run(ctx, "wc -c < etc/motd")
			t.State["bytes"] = out
			return err
		},
		Check: func(ctx context.Context, t *sdk.Task) error {
			_, err := t.Run(ctx, "test -s etc/motd")
			return err
		},
		Remove: func(ctx context.Context, t *sdk.Task) error {
			_, err := t.Run(ctx, "rm etc/motd")
			return err
		},
	}
}

// A taskserv through the real protocol: the execution channel reaches it over the go-plugin broker.
func TestTaskserv(t *testing.T) {
	h := NewTaskserv(t, motd())
	if err := os.MkdirAll(filepath.Join(h.Root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if d := h.Describe(); d.Name != "motd" || !d.Config["text"].Required {
		t.Errorf("Describe = %+v", d)
	}
	req := h.Request("1.0", map[string]any{"text": "hello"}, nil)
	if got := h.Check(req); got.Healthy || got.Output != `"test -s etc/motd" exited with code 1` {
		t.Errorf("Check before install = %+v", got)
	}
	changed, steps, ds := h.Plan(req)
	if diff := cmp.Diff([]string{"install motd 1.0"}, steps); !changed || diff != "" || ds != nil {
		t.Errorf("Plan = %v %v %v", changed, steps, ds)
	}
	r := h.Install(req)
	want := &TaskResult{Healthy: true, State: map[string]any{"version": "1.0", "config": map[string]any{"text": "hello"}, "bytes": "5\n"}}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("Install (-want +got):\n%s", diff)
	}
	if b, _ := os.ReadFile(filepath.Join(h.Root, "etc", "motd")); string(b) != "hello" {
		t.Errorf("motd = %q", b)
	}
	installed := h.Request("1.0", map[string]any{"text": "hello"}, r.State)
	if changed, _, _ := h.Plan(installed); changed {
		t.Error("a second plan must show no change")
	}
	if got := h.Check(installed); !got.Healthy {
		t.Errorf("Check after install = %+v", got)
	}
	if got := h.Remove(installed); len(got.Diagnostics) > 0 || got.State != nil {
		t.Errorf("Remove = %+v", got)
	}
	if _, err := os.Stat(filepath.Join(h.Root, "etc", "motd")); !os.IsNotExist(err) {
		t.Errorf("motd still there: %v", err)
	}
	_, _, ds = h.Plan(h.Request("2.0", map[string]any{}, nil))
	wantDiags := []string{`error: version: motd has no version "2.0"; available: 1.0`, "error: config.text: missing required attribute"}
	if diff := cmp.Diff(wantDiags, ds); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}
