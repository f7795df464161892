package local

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/provhq/prov/sdk"
)

var modeValidator = sdk.Regexp(`^0[0-7]{3}$`)

func fileResource() *sdk.Resource {
	return &sdk.Resource{
		Description: "A file with the given content. Changes made to it outside prov show up as drift.",
		Attributes: map[string]*sdk.Attribute{
			"path":    {Type: sdk.String, Required: true, ForceNew: true, Description: "Where the file is; relative paths resolve against prov's working directory."},
			"content": {Type: sdk.String, Optional: true, Default: "", Description: "The file's content."},
			"mode":    {Type: sdk.String, Optional: true, Default: "0644", Validators: []sdk.Validator{modeValidator}, Description: `Permission bits as four octal digits, like "0644".`},
			"sha256":  {Type: sdk.String, Computed: true, Description: "SHA-256 of the content, hex."},
			"size":    {Type: sdk.Number, Computed: true, Description: "Size of the content in bytes."},
		},
		Plan: func(_ context.Context, _ *sdk.Op, d *sdk.Data) error {
			if d.IsKnown("content") {
				setDigest(d, []byte(d.String("content")))
			}
			return nil
		},
		Create: func(_ context.Context, op *sdk.Op, d *sdk.Data) error {
			// The operation record says where this operation writes, so that a create in doubt is found
			// by its operation id (see settleFile). It is written before the file: a crash between the
			// two leaves a record whose file does not exist (not found, rightly), never a file no
			// record leads to.
			if rec := clientOf(op).opRecord(fileRecordKey(op.ID)); rec != "" {
				abs, err := filepath.Abs(d.String("path"))
				if err != nil {
					return fmt.Errorf("write %s: %w", d.String("path"), err)
				}
				if err := writeRecord(rec, map[string]any{"path": d.String("path"), "id": abs}); err != nil {
					return err
				}
			}
			if err := writeFile(d); err != nil {
				return err
			}
			return logCreation(clientOf(op).creationLog, d.ID(), op.ID)
		},
		Read: func(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
			if d.String("path") == "" {
				return settleFile(ctx, op, d)
			}
			return readFile(ctx, op, d)
		},
		Update: func(_ context.Context, _ *sdk.Op, d *sdk.Data) error { return writeFile(d) },
		Delete: func(_ context.Context, _ *sdk.Op, d *sdk.Data) error {
			if err := os.Remove(d.String("path")); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("remove %s: %w", d.String("path"), err)
			}
			return nil
		},
		Import: func(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
			d.Set("path", d.ID())
			return readFile(ctx, op, d)
		},
	}
}

// settleFile reads the file an interrupted create (in doubt: prov knows only its operation id) may
// have made, at the path its operation record names. Without the record or without the file the
// create did not happen: not found, so prov creates it again, and a rollback knows there is nothing
// to delete.
func settleFile(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	rec := clientOf(op).opRecord(fileRecordKey(op.ID))
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
	if d.String("path") == "" {
		return sdk.ErrNotFound
	}
	return readFile(ctx, op, d)
}

// fileRecordKey keeps local_file's operation records apart from local_command's in the same directory.
func fileRecordKey(opID string) string {
	if opID == "" {
		return ""
	}
	return "local_file\x00" + opID
}

// readFile refreshes d from the file on disk, so changes made outside prov show as drift.
func readFile(_ context.Context, _ *sdk.Op, d *sdk.Data) error {
	path := d.String("path")
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return sdk.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("stat %s: %w", path, err)
	}
	d.Set("content", string(b))
	d.Set("mode", fmt.Sprintf("%04o", fi.Mode().Perm()))
	setDigest(d, b)
	return nil
}

func setDigest(d *sdk.Data, b []byte) {
	sum := sha256.Sum256(b)
	d.Set("sha256", hex.EncodeToString(sum[:]))
	d.Set("size", len(b))
}

// writeFile writes the file atomically: a temporary file beside it, fsync, chmod, rename.
func writeFile(d *sdk.Data) error {
	path := d.String("path")
	mode, err := parseMode(d.String("mode"))
	if err != nil {
		return sdk.AttrError("mode", err)
	}
	content := []byte(d.String("content"))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create parent of %s: %w", path, err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.Write(content)
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = f.Chmod(mode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	d.SetID(abs)
	setDigest(d, content)
	return nil
}

func parseMode(s string) (os.FileMode, error) {
	if err := modeValidator(s); err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(s, 8, 32)
	return os.FileMode(n), err
}

// logCreation appends "PATH<TAB>OPERATION-ID" to the creation log, when there is one. One write with
// O_APPEND keeps lines whole when several creates log at once.
func logCreation(log, path, opID string) error {
	if log == "" {
		return nil
	}
	f, err := os.OpenFile(log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("creation log: %w", err)
	}
	_, err = f.WriteString(path + "\t" + opID + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("creation log: %w", err)
	}
	return nil
}

func directoryResource() *sdk.Resource {
	return &sdk.Resource{
		Description: "A directory, created with its parents.",
		Attributes: map[string]*sdk.Attribute{
			"path":          {Type: sdk.String, Required: true, ForceNew: true, Description: "Where the directory is; relative paths resolve against prov's working directory."},
			"mode":          {Type: sdk.String, Optional: true, Default: "0755", Validators: []sdk.Validator{modeValidator}, Description: `Permission bits as four octal digits, like "0755".`},
			"force_destroy": {Type: sdk.Bool, Optional: true, Description: "Delete the directory with everything in it; otherwise only an empty directory is deleted."},
		},
		Create: func(_ context.Context, _ *sdk.Op, d *sdk.Data) error { return makeDir(d) },
		Update: func(_ context.Context, _ *sdk.Op, d *sdk.Data) error { return makeDir(d) },
		Read: func(_ context.Context, _ *sdk.Op, d *sdk.Data) error {
			path := d.String("path")
			if path == "" {
				return sdk.ErrNotFound
			}
			fi, err := os.Stat(path)
			if errors.Is(err, fs.ErrNotExist) || err == nil && !fi.IsDir() {
				return sdk.ErrNotFound
			}
			if err != nil {
				return fmt.Errorf("stat %s: %w", path, err)
			}
			d.Set("mode", fmt.Sprintf("%04o", fi.Mode().Perm()))
			return nil
		},
		Delete: func(_ context.Context, _ *sdk.Op, d *sdk.Data) error {
			path := d.String("path")
			remove := os.Remove
			if d.Bool("force_destroy") {
				remove = os.RemoveAll
			}
			err := remove(path)
			switch {
			case err == nil, errors.Is(err, fs.ErrNotExist):
				return nil
			case errors.Is(err, syscall.ENOTEMPTY), errors.Is(err, syscall.EEXIST):
				return fmt.Errorf("remove %s: the directory is not empty; set force_destroy to delete what is in it", path)
			}
			return fmt.Errorf("remove %s: %w", path, err)
		},
	}
}

func makeDir(d *sdk.Data) error {
	path := d.String("path")
	mode, err := parseMode(d.String("mode"))
	if err != nil {
		return sdk.AttrError("mode", err)
	}
	if err := os.MkdirAll(path, mode); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := os.Chmod(path, mode); err != nil {
		return fmt.Errorf("chmod %s: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	d.SetID(abs)
	return nil
}
