package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/provhq/prov/sdk"
)

func dataResource() *sdk.Resource {
	return &sdk.Resource{
		Description: "Stores a value in the state and exposes it as output, like Terraform's terraform_data. " +
			"A change of triggers_replace replaces it.",
		Attributes: map[string]*sdk.Attribute{
			"input":            {Type: sdk.Dynamic, Optional: true, Description: "Any value; copied to output."},
			"triggers_replace": {Type: sdk.Dynamic, Optional: true, ForceNew: true, Description: "Any value whose change replaces the resource."},
			"output":           {Type: sdk.Dynamic, Computed: true, Description: "The input, after apply."},
		},
		// output is input, so the plan shows it whenever input is known.
		Plan: func(_ context.Context, _ *sdk.Op, d *sdk.Data) error {
			d.Set("output", d.Get("input"))
			return nil
		},
		Create: func(_ context.Context, op *sdk.Op, d *sdk.Data) error {
			d.SetID(op.ID) // the operation id makes a retried create land on the same object
			if d.ID() == "" {
				d.SetID(randomID())
			}
			d.Set("output", d.Get("input"))
			return nil
		},
		Update: func(_ context.Context, _ *sdk.Op, d *sdk.Data) error {
			d.Set("output", d.Get("input"))
			return nil
		},
	}
}

func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func serverResource() *sdk.Resource {
	return &sdk.Resource{
		Description: "This machine, or a sandbox directory on it, as a target for taskservs. Destroying it " +
			"only forgets it: the machine and the root directory stay as they are.",
		Attributes: map[string]*sdk.Attribute{
			"root":      {Type: sdk.String, Optional: true, ForceNew: true, Description: "Sandbox directory that stands for the server's /; created if missing. Default: the real /."},
			"hostname":  {Type: sdk.String, Optional: true, Computed: true, Description: "Default: this machine's host name."},
			"address":   {Type: sdk.String, Computed: true, Description: "Always 127.0.0.1."},
			"transport": {Type: sdk.String, Computed: true, Description: `Always "local": taskservs reach it by local exec.`},
		},
		Plan: func(_ context.Context, _ *sdk.Op, d *sdk.Data) error {
			d.Set("address", "127.0.0.1")
			d.Set("transport", "local")
			return nil
		},
		Create: func(_ context.Context, _ *sdk.Op, d *sdk.Data) error {
			root := "/"
			if r := d.String("root"); r != "" {
				abs, err := filepath.Abs(r)
				if err != nil {
					return sdk.AttrError("root", err)
				}
				if err := os.MkdirAll(abs, 0o755); err != nil {
					return sdk.AttrErrorf("root", "create sandbox: %w", err)
				}
				root = abs
			}
			if d.String("hostname") == "" {
				h, err := os.Hostname()
				if err != nil {
					return fmt.Errorf("host name: %w", err)
				}
				d.Set("hostname", h)
			}
			d.Set("address", "127.0.0.1")
			d.Set("transport", "local")
			d.SetID("local:" + root)
			return nil
		},
		Read: func(_ context.Context, _ *sdk.Op, d *sdk.Data) error {
			r := d.String("root")
			if d.ID() == "" {
				return sdk.ErrNotFound // nothing in doubt: Create is safe to run again
			}
			if r == "" {
				return nil
			}
			if fi, err := os.Stat(r); errors.Is(err, fs.ErrNotExist) || err == nil && !fi.IsDir() {
				return sdk.ErrNotFound
			}
			return nil
		},
	}
}
