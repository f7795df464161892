package local

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/state"
)

// batches builds a journal from writes of records (one inner slice per write), the way the group
// committing writer does, and returns it with the byte offset of every record line.
func batches(t *testing.T, writes ...[]string) ([]byte, []int) {
	t.Helper()
	b := New(t.TempDir(), Options{})
	hdr, _ := json.Marshal(journalHeader{Version: JournalVersion})
	data := append(hdr, '\n')
	var offsets []int
	for _, w := range writes {
		var batch []byte
		for _, op := range w {
			kind := state.Intent
			if op == "begin" {
				kind = state.Begin
			}
			line, err := b.encodeRecord(&state.Record{Kind: kind, OpID: op})
			if err != nil {
				t.Fatal(err)
			}
			offsets = append(offsets, len(data)+len(batch))
			batch = append(batch, line...)
		}
		markStart(batch)
		data = append(data, batch...)
	}
	return data, offsets
}

func TestJournalWrites(t *testing.T) {
	writes := [][]string{{"begin"}, {"a"}, {"b", "c", "d"}}
	data, off := batches(t, writes...)
	damage := func(i int) []byte { // flip a payload byte of record line i
		d := bytes.Clone(data)
		d[off[i]+12] ^= 0x20
		return d
	}
	tests := []struct {
		name     string
		data     []byte
		wantOps  []string
		wantGood int
		wantErr  string
	}{
		{name: "whole", data: data, wantOps: []string{"begin", "a", "b", "c", "d"}, wantGood: len(data)},
		{name: "damage inside the last write is torn", data: damage(3),
			wantOps: []string{"begin", "a", "b"}, wantGood: off[3]},
		{name: "damage of the first line of the last write", data: damage(2),
			wantOps: []string{"begin", "a"}, wantGood: off[2]},
		{name: "damage of the last line", data: damage(4),
			wantOps: []string{"begin", "a", "b", "c"}, wantGood: off[4]},
		{name: "damage before a later write is corruption", data: damage(1),
			wantErr: "record 2 (byte " + itoa(off[1]) + ") is corrupt: checksum mismatch"},
		{name: "zeros after the end", data: append(bytes.Clone(data), make([]byte, 100)...),
			wantOps: []string{"begin", "a", "b", "c", "d"}, wantGood: len(data)},
		{name: "a line of zeros at the end", data: append(append(bytes.Clone(data), make([]byte, 30)...), '\n'),
			wantOps: []string{"begin", "a", "b", "c", "d"}, wantGood: len(data)},
		{name: "zeros over a committed write", data: func() []byte {
			d := bytes.Clone(data)
			copy(d[off[1]:], make([]byte, off[2]-off[1]-1))
			return d
		}(), wantErr: "record 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, good, err := ParseJournal(tt.data, "j", nil)
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
				ops = append(ops, r.OpID)
			}
			if diff := cmp.Diff(tt.wantOps, ops); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
			if good != tt.wantGood {
				t.Errorf("good = %d, want %d", good, tt.wantGood)
			}
		})
	}
}

func TestUndecodableRecordIsAnError(t *testing.T) {
	data, _ := batches(t, []string{"begin"})
	// A line whose checksum matches but whose payload is not a record: not damage, so an error even last.
	line := []byte("00000000>{\"kind\":\"\"}\n")
	setChecksum(line)
	data = append(data, line...)
	if _, _, err := ParseJournal(data, "j", nil); err == nil || !strings.Contains(err.Error(), "record 2 (byte") ||
		!strings.Contains(err.Error(), "record has no kind") {
		t.Errorf("err = %v, want record 2 undecodable", err)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestAppendEncodingError: a record that cannot be encoded fails its own Append; the records written
// with it are not affected, and the journal goes on.
func TestAppendEncodingError(t *testing.T) {
	b := New(t.TempDir(), Options{})
	w, err := b.Create(t.Context(), state.Record{Kind: state.Begin})
	if err != nil {
		t.Fatal(err)
	}
	bad := state.Record{Kind: state.Commit, OpID: "bad", New: &state.Resource{Type: "t", Attributes: map[string]any{"n": math.NaN()}}}
	errs := make(chan error, 20)
	for i := range 20 {
		go func() {
			if i == 7 {
				errs <- w.Append(bad)
				return
			}
			errs <- w.Append(state.Record{Kind: state.Intent, OpID: fmt.Sprint(i)})
		}()
	}
	var failed int
	for range 20 {
		if err := <-errs; err != nil {
			failed++
			if !strings.Contains(err.Error(), "encode commit record") {
				t.Errorf("Append: %v, want an encoding error", err)
			}
		}
	}
	if failed != 1 {
		t.Errorf("%d appends failed, want the bad one only", failed)
	}
	if err := w.Append(state.Record{Kind: state.Intent, OpID: "after"}); err != nil {
		t.Errorf("Append after the bad record: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	recs, ok, err := b.Records(t.Context())
	if err != nil || !ok || len(recs) != 1+19+1 {
		t.Errorf("journal has %d records (%v, %v), want begin, 19 intents and 1 more", len(recs), ok, err)
	}
}
