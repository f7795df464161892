package local

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/provhq/prov/sdk"
)

func commandResource() *sdk.Resource {
	return &sdk.Resource{
		Description: "Commands run by /bin/sh on create, update and destroy. Changing the create command or " +
			"the triggers replaces the resource, which runs the create command again.",
		Attributes: map[string]*sdk.Attribute{
			"create":      {Type: sdk.String, Required: true, ForceNew: true, Description: "Run when the resource is created."},
			"update":      {Type: sdk.String, Optional: true, Description: "Run when another attribute changes in place; nothing runs when unset."},
			"destroy":     {Type: sdk.String, Optional: true, Description: "Run when the resource is destroyed."},
			"env":         {Type: sdk.MapOf(sdk.String), Optional: true, Description: "Environment variables added to prov's."},
			"working_dir": {Type: sdk.String, Optional: true, Description: "Directory the commands run in; default prov's working directory."},
			"triggers":    {Type: sdk.MapOf(sdk.String), Optional: true, ForceNew: true, Description: "Arbitrary values whose change replaces the resource."},
			"stdout":      {Type: sdk.String, Computed: true, Description: "Standard output of the last command run."},
			"exit_code":   {Type: sdk.Number, Computed: true, Description: "Exit code of the last command run."},
		},
		// An in-place change without an update command runs nothing, so the outputs stay as they were.
		Plan: func(_ context.Context, _ *sdk.Op, d *sdk.Data) error {
			if !d.IsNew() && d.IsKnown("update") && d.String("update") == "" {
				d.Set("stdout", d.Old("stdout"))
				d.Set("exit_code", d.Old("exit_code"))
			}
			return nil
		},
		Create: func(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
			// A create retried with the same operation id (after a crash) returns what the first run recorded.
			rec := clientOf(op).opRecord(op.ID)
			if rec != "" {
				if done, err := readRecord(rec); err == nil {
					maps.Copy(d.Raw(), done)
					return nil
				}
			}
			if err := run(ctx, d, d.String("create")); err != nil {
				return err
			}
			d.SetID(op.ID)
			if d.ID() == "" {
				d.SetID(randomID())
			}
			if rec != "" {
				return writeRecord(rec, d.Raw())
			}
			return nil
		},
		Read: func(_ context.Context, op *sdk.Op, d *sdk.Data) error {
			if d.ID() != "" {
				return nil // a command leaves nothing to look at; the state is what it was
			}
			// Settling an operation in doubt: it happened if it left a record.
			rec := clientOf(op).opRecord(op.ID)
			if rec == "" {
				return sdk.ErrNotFound
			}
			done, err := readRecord(rec)
			if errors.Is(err, fs.ErrNotExist) {
				return sdk.ErrNotFound
			}
			if err != nil {
				return err
			}
			maps.Copy(d.Raw(), done)
			return nil
		},
		Update: func(ctx context.Context, _ *sdk.Op, d *sdk.Data) error {
			if d.String("update") == "" {
				d.Set("stdout", d.Old("stdout"))
				d.Set("exit_code", d.Old("exit_code"))
				return nil
			}
			return run(ctx, d, d.String("update"))
		},
		Delete: func(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
			if d.String("destroy") != "" {
				if err := run(ctx, d, d.String("destroy")); err != nil {
					return err
				}
			}
			if rec := clientOf(op).opRecord(d.ID()); rec != "" {
				if err := os.Remove(rec); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return fmt.Errorf("remove operation record: %w", err)
				}
			}
			return nil
		},
	}
}

// run runs command by /bin/sh with the resource's env and working_dir, recording stdout and exit_code.
// A non-zero exit is an error that carries the standard error.
func run(ctx context.Context, d *sdk.Data, command string) error {
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", command)
	cmd.Dir = d.String("working_dir")
	env := d.StringMap("env")
	cmd.Env = os.Environ()
	for _, k := range slices.Sorted(maps.Keys(env)) {
		cmd.Env = append(cmd.Env, k+"="+env[k])
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit) && ctx.Err() == nil:
		d.Set("stdout", stdout.String())
		d.Set("exit_code", exit.ExitCode())
		msg := fmt.Sprintf("command exited with code %d: %s", exit.ExitCode(), command)
		if s := strings.TrimSpace(stderr.String()); s != "" {
			msg += "\n" + s
		}
		return errors.New(msg)
	case err != nil:
		return fmt.Errorf("run %q: %w", command, err)
	}
	d.Set("stdout", stdout.String())
	d.Set("exit_code", 0)
	return nil
}

// opRecord is the file that records the outcome of the create with operation id opID, "" for none.
func (c *client) opRecord(opID string) string {
	if opID == "" || c.opsDir == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(opID))
	return filepath.Join(c.opsDir, hex.EncodeToString(sum[:16])+".json")
}

func readRecord(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("operation record %s: %w", path, err)
	}
	return m, nil
}

// writeRecord writes the record atomically, so a crash leaves either none or a whole one.
func writeRecord(path string, attrs map[string]any) error {
	b, err := json.Marshal(attrs)
	if err != nil {
		return fmt.Errorf("operation record: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("operation record: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".record*")
	if err != nil {
		return fmt.Errorf("operation record: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("operation record: %w", err)
	}
	return nil
}
