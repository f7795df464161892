package local_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/provhq/prov/state"
	"github.com/provhq/prov/state/local"
	"github.com/provhq/prov/state/statetest"
)

// writeJournal returns the bytes of a real journal written through the backend.
func writeJournal(f *testing.F, codec state.Codec) []byte {
	dir := f.TempDir()
	b := local.New(dir, local.Options{Codec: codec})
	s := statetest.Sample()
	w, err := b.Create(context.Background(), state.Record{Kind: state.Begin, Mode: "apply", Plan: []byte(`{"format_version":1}`)})
	if err != nil {
		f.Fatal(err)
	}
	w.Append(state.Record{Kind: state.Intent, OpID: "1", Addr: "servers.web-01", Action: "update", Prior: s.Resource("servers.web-01")})
	w.Append(state.Record{Kind: state.Commit, OpID: "1", Addr: "servers.web-01", New: s.Resource("servers.web-01")})
	w.Append(state.Record{Kind: state.OutputRecord, Name: "ip", Output: &state.Output{Value: "10.0.0.1"}})
	w.Close()
	data, err := os.ReadFile(filepath.Join(dir, local.JournalFile))
	if err != nil {
		f.Fatal(err)
	}
	return data
}

// FuzzJournalRecords: any input parses or fails with an error, never a panic. What parses is a prefix
// of the input that parses again to the same records with nothing torn.
func FuzzJournalRecords(f *testing.F) {
	for _, codec := range []state.Codec{nil, xorCodec{key: 7}} {
		data := writeJournal(f, codec)
		f.Add(data, codec != nil)
		f.Add(data[:len(data)-7], codec != nil)
		f.Add(data[:len(data)/2], codec != nil)
	}
	f.Add([]byte("{\"prov_journal\":1,\"codec\":false}\n00000000 {}\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, useCodec bool) {
		var codec state.Codec
		if useCodec {
			codec = xorCodec{key: 7}
		}
		recs, good, err := local.ParseJournal(data, "fuzz", codec)
		if err != nil {
			return
		}
		if good < 0 || good > len(data) {
			t.Fatalf("good = %d outside the input (%d bytes)", good, len(data))
		}
		again, good2, err := local.ParseJournal(data[:good], "fuzz", codec)
		if err != nil || good2 != good {
			t.Fatalf("the good prefix does not parse whole: good %d → %d, %v", good, good2, err)
		}
		if diff := cmp.Diff(recs, again, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("the good prefix parses differently (-first +again):\n%s", diff)
		}
	})
}
