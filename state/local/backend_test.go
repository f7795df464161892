package local_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/state"
	"github.com/provhq/prov/state/local"
	"github.com/provhq/prov/state/statetest"
)

func TestWriteKeepsBackup(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b := local.New(dir, local.Options{})
	first := statetest.Sample()
	second := first.Clone()
	second.NextSerial()
	second.RemoveResource("files.motd")
	for _, s := range []*state.State{first, second} {
		if err := b.Write(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	backup, err := os.ReadFile(filepath.Join(dir, local.BackupFile))
	if err != nil {
		t.Fatal(err)
	}
	got, err := state.Decode(backup, local.BackupFile)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, got); diff != "" {
		t.Errorf("backup is not the replaced state (-want +got):\n%s", diff)
	}
	cur, _ := os.ReadFile(filepath.Join(dir, local.StateFile))
	if enc, _ := second.Encode(); !bytes.Equal(cur, enc) {
		t.Errorf("state file is not the compact encoding of the written state:\n%s", cur)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

// TestCorruptStateNeverOverwritten: a state file that does not decode is reported clearly by Read and
// Write leaves it, and the backup, exactly as they were.
func TestCorruptStateNeverOverwritten(t *testing.T) {
	good, _ := statetest.Sample().Encode()
	tests := []struct {
		name, content, wantErr string
	}{
		{name: "truncated", content: string(good[:len(good)*2/3]), wantErr: "unexpected end of file (truncated?)"},
		{name: "not JSON", content: "<html>proxy error</html>", wantErr: "not JSON"},
		{name: "empty", content: "", wantErr: "file is empty"},
		{name: "newer version", content: `{"version":7,"lineage":"x","serial":3}`, wantErr: "version 7 is newer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			name := filepath.Join(dir, local.StateFile)
			os.WriteFile(name, []byte(tt.content), 0o600)
			os.WriteFile(filepath.Join(dir, local.BackupFile), []byte("old backup"), 0o600)
			b := local.New(dir, local.Options{})

			_, err := b.Read(ctx)
			if err == nil || !errors.Is(err, state.ErrCorrupt) || !strings.Contains(err.Error(), name) ||
				!strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Read: %v; want an ErrCorrupt naming %s and saying %q", err, name, tt.wantErr)
			}
			err = b.Write(ctx, statetest.Sample())
			if err == nil || !errors.Is(err, state.ErrCorrupt) || !strings.Contains(err.Error(), "refusing to replace") {
				t.Errorf("Write over a corrupt file: %v; want a refusal", err)
			}
			for file, want := range map[string]string{local.StateFile: tt.content, local.BackupFile: "old backup"} {
				if got, _ := os.ReadFile(filepath.Join(dir, file)); string(got) != want {
					t.Errorf("%s changed to %q", file, got)
				}
			}
		})
	}
}

func TestCodecAtRest(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	codec := xorCodec{key: 0x33}
	b := local.New(dir, local.Options{Codec: codec})
	s := statetest.Sample()
	if err := b.Write(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := b.Write(ctx, s); err != nil { // again, so there is a backup
		t.Fatal(err)
	}
	w, err := b.Create(ctx, state.Record{Kind: state.Begin, Mode: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	w.Append(state.Record{Kind: state.Commit, Addr: "servers.web-01", New: s.Resource("servers.web-01")})
	w.Close()
	for _, f := range []string{local.StateFile, local.BackupFile, local.JournalFile} {
		data, _ := os.ReadFile(filepath.Join(dir, f))
		if bytes.Contains(data, []byte("s3cret")) || bytes.Contains(data, []byte("web-01")) {
			t.Errorf("%s holds plain text:\n%s", f, data)
		}
	}
	// The same backend reads everything back.
	got, err := b.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, got); diff != "" {
		t.Errorf("Read through the codec (-want +got):\n%s", diff)
	}
	if recs, _, err := b.Records(ctx); err != nil || len(recs) != 2 || recs[1].New.Attributes.(map[string]any)["password"] != "s3cret" {
		t.Errorf("Records through the codec: %v, %v", recs, err)
	}
	// Without the codec, or with another key, nothing reads and nothing is overwritten.
	plain := local.New(dir, local.Options{})
	if _, err := plain.Read(ctx); !errors.Is(err, state.ErrCorrupt) {
		t.Errorf("Read without the codec: %v", err)
	}
	if _, _, err := plain.Records(ctx); err == nil || !strings.Contains(err.Error(), "no codec is configured") {
		t.Errorf("Records without the codec: %v", err)
	}
	if err := plain.Write(ctx, state.New()); err == nil {
		t.Errorf("Write without the codec replaced an encoded state")
	}
	other := local.New(dir, local.Options{Codec: xorCodec{key: 0x44}})
	if _, _, err := other.Records(ctx); err == nil || !strings.Contains(err.Error(), "record 1") {
		t.Errorf("Records with the wrong key: %v, want an error naming record 1", err)
	}
}

func TestParseJournal(t *testing.T) {
	dir := t.TempDir()
	b := local.New(dir, local.Options{})
	w, err := b.Create(context.Background(), state.Record{Kind: state.Begin, Mode: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{"a", "b", "c"} {
		w.Append(state.Record{Kind: state.Intent, OpID: op})
	}
	w.Close()
	data, _ := os.ReadFile(filepath.Join(dir, local.JournalFile))
	lines := strings.SplitAfter(string(data), "\n") // header, begin, a, b, c, ""
	flip := func(line string) string {              // change a payload byte, keeping the checksum
		return line[:12] + "X" + line[13:]
	}
	tests := []struct {
		name     string
		data     string
		wantOps  []string // OpIDs of the intents read
		wantGood int      // -1: the whole input
		wantErr  string
	}{
		{name: "whole", data: string(data), wantOps: []string{"a", "b", "c"}, wantGood: -1},
		{name: "torn last line", data: string(data[:len(data)-5]), wantOps: []string{"a", "b"},
			wantGood: len(data) - len(lines[4])},
		{name: "last line without newline", data: string(data[:len(data)-1]), wantOps: []string{"a", "b"},
			wantGood: len(data) - len(lines[4])},
		{name: "bad checksum on last line", data: strings.Join(lines[:4], "") + flip(lines[4]), wantOps: []string{"a", "b"},
			wantGood: len(data) - len(lines[4])},
		{name: "bad record in the middle", data: strings.Join(lines[:2], "") + flip(lines[2]) + strings.Join(lines[3:], ""),
			wantErr: "j: record 2 (byte " + strconv.Itoa(len(lines[0])+len(lines[1])) + ") is corrupt: checksum mismatch"},
		{name: "garbage line in the middle", data: strings.Join(lines[:3], "") + "hello\n" + strings.Join(lines[3:], ""),
			wantErr: "j: record 3 (byte"},
		{name: "header only", data: lines[0], wantGood: -1},
		{name: "no header", data: "", wantErr: "header is missing"},
		{name: "torn header", data: lines[0][:10], wantErr: "header is missing"},
		{name: "not a journal", data: "{}\n", wantErr: "not a prov journal"},
		{name: "newer version", data: `{"prov_journal":2}` + "\n", wantErr: "journal format version 2, this prov reads 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, good, err := local.ParseJournal([]byte(tt.data), "j", nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ops []string
			for _, r := range recs {
				if r.Kind == state.Intent {
					ops = append(ops, r.OpID)
				}
			}
			if diff := cmp.Diff(tt.wantOps, ops); diff != "" {
				t.Errorf("intents (-want +got):\n%s", diff)
			}
			if tt.wantGood == -1 {
				tt.wantGood = len(tt.data)
			}
			if good != tt.wantGood {
				t.Errorf("good = %d, want %d", good, tt.wantGood)
			}
		})
	}
}

func TestCreateRequiresBegin(t *testing.T) {
	b := local.New(t.TempDir(), local.Options{})
	if _, err := b.Create(context.Background(), state.Record{Kind: state.Intent}); err == nil {
		t.Error("Create with an intent as first record succeeded")
	}
	if _, err := b.Create(context.Background(), state.Record{Kind: state.Begin}); err != nil {
		t.Fatal(err)
	}
	_, err := b.Create(context.Background(), state.Record{Kind: state.Begin})
	if !errors.Is(err, state.ErrJournalExists) {
		t.Errorf("second Create: %v, want ErrJournalExists", err)
	}
}

func TestPushPull(t *testing.T) {
	ctx := context.Background()
	stored := statetest.Sample()
	stored.Serial = 5
	newer := stored.Clone()
	newer.Serial = 6
	older := stored.Clone()
	older.Serial = 4
	foreign := stored.Clone()
	foreign.Lineage = "another-lineage"
	foreign.Serial = 9
	tests := []struct {
		name    string
		push    *state.State
		force   bool
		wantErr string
	}{
		{name: "newer serial", push: newer},
		{name: "same serial", push: stored},
		{name: "lower serial", push: older, wantErr: "serial 4 is lower than the stored state's 5"},
		{name: "lower serial forced", push: older, force: true},
		{name: "other lineage", push: foreign, wantErr: "lineage another-lineage differs"},
		{name: "other lineage forced", push: foreign, force: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := local.New(t.TempDir(), local.Options{})
			if err := b.Write(ctx, stored); err != nil {
				t.Fatal(err)
			}
			err := state.Push(ctx, b, tt.push, tt.force)
			want := tt.push
			if tt.wantErr != "" {
				if !errors.Is(err, state.ErrPushRefused) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Push: %v, want a refusal saying %q", err, tt.wantErr)
				}
				want = stored
			} else if err != nil {
				t.Fatalf("Push: %v", err)
			}
			data, err := state.Pull(ctx, b)
			if err != nil {
				t.Fatal(err)
			}
			got, err := state.Decode(data, "pulled")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("pulled state (-want +got):\n%s", diff)
			}
		})
	}
	// Pushing into empty storage is always allowed.
	b := local.New(t.TempDir(), local.Options{})
	if err := state.Push(ctx, b, foreign, false); err != nil {
		t.Errorf("Push into empty storage: %v", err)
	}
}
