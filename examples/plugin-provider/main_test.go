package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/sdk/plugintest"
)

// The provider through the real plugin protocol: create, update, replace, destroy, and the notes file
// after each step.
func TestNotes(t *testing.T) {
	file := filepath.Join(t.TempDir(), "notes.json")
	onDisk := func(want map[string]any) func(map[string]any) error {
		return func(map[string]any) error {
			var got map[string]any
			b, _ := os.ReadFile(file)
			if err := json.Unmarshal(b, &got); err != nil {
				return err
			}
			if diff := cmp.Diff(want, got); diff != "" {
				return fmt.Errorf("notes file (-want +got):\n%s", diff)
			}
			return nil
		}
	}
	plugintest.Test(t, plugintest.Case{
		Provider:       Provider(),
		ProviderConfig: map[string]any{"file": file},
		Type:           "notes_note",
		Steps: []plugintest.Step{
			{Config: map[string]any{"title": "todo", "body": "buy milk"}, Action: plugintest.Create,
				Check: plugintest.Attrs(plugintest.Attr("words", 2),
					onDisk(map[string]any{"todo": map[string]any{"body": "buy milk", "tags": nil, "words": 2.0}}))},
			{Config: map[string]any{"title": "todo", "body": "buy oat milk", "tags": []any{"home"}}, Action: plugintest.Update,
				Check: onDisk(map[string]any{"todo": map[string]any{"body": "buy oat milk", "tags": []any{"home"}, "words": 3.0}})},
			{Config: map[string]any{"title": "done", "body": "milk"}, Action: plugintest.Replace,
				Check: onDisk(map[string]any{"done": map[string]any{"body": "milk", "tags": nil, "words": 1.0}})},
			{Config: map[string]any{"title": ""}, ExpectError: "title: length must be between 1 and 80"},
		},
		CheckDestroyed: func(map[string]any) error { return onDisk(map[string]any{})(nil) },
	})
}
