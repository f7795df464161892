// Command prov-provider-notes is an example third-party prov provider built with the sdk package only.
// Its one resource type, notes_note, keeps notes in a JSON file (one object keyed by note title), so
// every prov plan and apply is easy to see on disk. See README.md for building, installing and locking.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/provhq/prov/sdk"
)

func main() { sdk.ServeProvider(Provider()) }

// book is the configured provider: the notes file, guarded for concurrent operations.
type book struct {
	mu   sync.Mutex
	path string
}

// Provider declares the notes provider.
func Provider() *sdk.Provider {
	return &sdk.Provider{
		Name:    "notes",
		Version: "0.1.0",
		Config: map[string]*sdk.Attribute{
			"file": {Type: sdk.String, Optional: true, Default: "notes.json", Description: "The JSON file the notes live in."},
		},
		Configure: func(_ context.Context, cfg *sdk.Data) (any, error) {
			return &book{path: cfg.String("file")}, nil
		},
		Resources: map[string]*sdk.Resource{"notes_note": {
			Description: "A note in the notes file.",
			Attributes: map[string]*sdk.Attribute{
				"title": {Type: sdk.String, Required: true, ForceNew: true, Validators: []sdk.Validator{sdk.LengthBetween(1, 80)}},
				"body":  {Type: sdk.String, Optional: true, Default: ""},
				"tags":  {Type: sdk.ListOf(sdk.String), Optional: true},
				"words": {Type: sdk.Number, Computed: true, Description: "Number of words in the body."},
			},
			// The word count follows from the body, so the plan can show it.
			Plan: func(_ context.Context, _ *sdk.Op, d *sdk.Data) error {
				if d.IsKnown("body") {
					d.Set("words", len(strings.Fields(d.String("body"))))
				}
				return nil
			},
			Create: func(_ context.Context, op *sdk.Op, d *sdk.Data) error { return op.Client.(*book).put(d) },
			Update: func(_ context.Context, op *sdk.Op, d *sdk.Data) error { return op.Client.(*book).put(d) },
			Read: func(_ context.Context, op *sdk.Op, d *sdk.Data) error {
				b := op.Client.(*book)
				b.mu.Lock()
				defer b.mu.Unlock()
				notes, err := b.load()
				note, ok := notes[d.ID()]
				switch {
				case err != nil:
					return err
				case !ok:
					return sdk.ErrNotFound
				}
				for k, v := range note {
					d.Set(k, v)
				}
				return nil
			},
			Delete: func(_ context.Context, op *sdk.Op, d *sdk.Data) error {
				b := op.Client.(*book)
				b.mu.Lock()
				defer b.mu.Unlock()
				notes, err := b.load()
				if err != nil {
					return err
				}
				delete(notes, d.ID())
				return b.save(notes)
			},
		}},
	}
}

// put writes the note in d; writing the same note twice is harmless, so a retried create is safe.
func (b *book) put(d *sdk.Data) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	notes, err := b.load()
	if err != nil {
		return err
	}
	d.SetID(d.String("title"))
	d.Set("words", len(strings.Fields(d.String("body"))))
	notes[d.ID()] = map[string]any{"body": d.Get("body"), "tags": d.Get("tags"), "words": d.Get("words")}
	return b.save(notes)
}

func (b *book) load() (map[string]map[string]any, error) {
	notes := map[string]map[string]any{}
	data, err := os.ReadFile(b.path)
	if errors.Is(err, fs.ErrNotExist) {
		return notes, nil
	}
	if err == nil {
		err = json.Unmarshal(data, &notes)
	}
	if err != nil {
		return nil, fmt.Errorf("read notes %s: %w", b.path, err)
	}
	return notes, nil
}

// save replaces the notes file atomically.
func (b *book) save(notes map[string]map[string]any) error {
	data, err := json.MarshalIndent(notes, "", "  ")
	if err != nil {
		return fmt.Errorf("write notes: %w", err)
	}
	tmp := b.path + ".tmp"
	if err := os.MkdirAll(filepath.Dir(b.path), 0o755); err != nil {
		return fmt.Errorf("write notes: %w", err)
	}
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write notes: %w", err)
	}
	if err := os.Rename(tmp, b.path); err != nil {
		return fmt.Errorf("write notes: %w", err)
	}
	return nil
}
