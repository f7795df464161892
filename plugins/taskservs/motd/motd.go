// Package motd is prov's smallest first-party taskserv: it writes a message of the day to a server
// (etc/motd under the server's root), checks that the file still says what was installed, and removes
// it. It needs nothing but the execution channel, so it runs on a local_server sandbox as on a real
// machine, and it is the taskserv the examples and end-to-end tests install.
package motd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/provhq/prov/sdk"
)

// Name is the taskserv's name.
const Name = "motd"

// New returns the motd taskserv's declaration; sdk.ServeTaskserv or sdk.NewTaskservServer runs it.
func New() *sdk.Taskserv {
	return &sdk.Taskserv{
		Name:        Name,
		Category:    "system",
		Description: "A message of the day, written to a file on the server.",
		Versions:    []string{"1.0.0"},
		Config: map[string]*sdk.Attribute{
			"message": {Type: sdk.String, Optional: true, Default: "This server is managed by prov.",
				Description: "The message; a trailing newline is added."},
			"path": {Type: sdk.String, Optional: true, Default: "etc/motd", Validators: []sdk.Validator{relative},
				Description: "Where to write it, relative to the server's root."},
		},
		Plan: func(_ context.Context, t *sdk.Task) ([]string, error) {
			return []string{fmt.Sprintf("write %s (%d bytes)", t.Config.String("path"), len(content(t)))}, nil
		},
		Install: func(ctx context.Context, t *sdk.Task) error {
			p := t.Config.String("path")
			t.Progress(0, "writing %s", p)
			if err := t.PutFile(ctx, p, content(t), 0o644); err != nil {
				return err
			}
			t.Progress(100, "wrote %s", p)
			return nil
		},
		Check: func(ctx context.Context, t *sdk.Task) error {
			p := t.Config.String("path")
			got, err := t.GetFile(ctx, p)
			if err != nil {
				return fmt.Errorf("%s is missing: %w", p, err)
			}
			if !bytes.Equal(got, content(t)) {
				return fmt.Errorf("%s was changed outside prov", p)
			}
			return nil
		},
		Remove: func(ctx context.Context, t *sdk.Task) error {
			_, err := t.Run(ctx, "rm -f -- "+shellQuote(t.Config.String("path")))
			return err
		},
	}
}

func content(t *sdk.Task) []byte {
	return []byte(strings.TrimRight(t.Config.String("message"), "\n") + "\n")
}

// relative accepts a path inside the server's root.
func relative(v any) error {
	p, _ := v.(string)
	switch {
	case p == "" || path.IsAbs(p):
		return errors.New("want a path relative to the server's root, such as etc/motd")
	case path.Clean(p) == ".." || strings.HasPrefix(path.Clean(p), "../"):
		return errors.New("the path leaves the server's root")
	}
	return nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
