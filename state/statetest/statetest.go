// Package statetest is the contract test every state backend runs: Run checks reading, writing,
// locking and the journal through the state.Backend interface alone, so all backends behave alike.
package statetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/state"
)

// Hooks give Run what the Backend interface cannot: fault injection and a second handle on the same
// storage. A nil hook skips the tests that need it.
type Hooks struct {
	// Reopen returns another Backend over the same storage as b, as a second prov process would see it.
	Reopen func(t *testing.T, b state.Backend) state.Backend
	// TearJournal damages the journal as a crash in the middle of appending would: it cuts the stored
	// journal inside its last record.
	TearJournal func(t *testing.T, b state.Backend)
}

// Run runs the contract tests. newBackend returns a backend over fresh, empty storage; it is called once
// per subtest. At most one Hooks value is used.
func Run(t *testing.T, newBackend func(t *testing.T) state.Backend, hooks ...Hooks) {
	var h Hooks
	if len(hooks) > 0 {
		h = hooks[0]
	}
	tests := []struct {
		name string
		run  func(t *testing.T, b state.Backend, h Hooks)
		need func(Hooks) bool
	}{
		{name: "ReadEmpty", run: testReadEmpty},
		{name: "WriteRead", run: testWriteRead},
		{name: "SerialLineage", run: testSerialLineage},
		{name: "LockExclusion", run: testLockExclusion},
		{name: "LockAcrossHandles", run: testLockAcrossHandles, need: func(h Hooks) bool { return h.Reopen != nil }},
		{name: "LockTimeout", run: testLockTimeout},
		{name: "ForceUnlock", run: testForceUnlock},
		{name: "Journal", run: testJournal},
		{name: "JournalTornTail", run: testJournalTorn, need: func(h Hooks) bool { return h.TearJournal != nil }},
		{name: "JournalConcurrentAppends", run: testJournalConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.need != nil && !tt.need(h) {
				t.Skip("the backend's test gives no hook for this")
			}
			tt.run(t, newBackend(t), h)
		})
	}
}

// Sample returns a state with a few resources and outputs, serial 1.
func Sample() *state.State {
	s := state.New()
	s.NextSerial()
	s.SetResource("files.motd", &state.Resource{Type: "local_file", Provider: "local",
		Config:     map[string]any{"path": "out/motd", "content": "hello"},
		Attributes: map[string]any{"id": "out/motd", "path": "out/motd", "content": "hello", "mode": "0644"}})
	s.SetResource("servers.web-01", &state.Resource{Type: "upcloud_server", Provider: "upcloud",
		Attributes:   map[string]any{"id": "00a1", "ipv4": "10.0.0.1", "password": "s3cret", "storage": []any{map[string]any{"size_gb": 50.0}}},
		Sensitive:    []value.Path{value.KeyPath("password")},
		Dependencies: []string{"files.motd"}})
	s.SetOutput("web_ip", &state.Output{Value: "10.0.0.1"})
	return s
}

func testReadEmpty(t *testing.T, b state.Backend, _ Hooks) {
	s, err := b.Read(context.Background())
	if err != nil {
		t.Fatalf("Read of empty storage: %v", err)
	}
	if s == nil || s.Lineage == "" || s.Serial != 0 || len(s.Resources) != 0 || s.Version != state.FormatVersion {
		t.Errorf("Read of empty storage = %+v, want a new state", s)
	}
}

func testWriteRead(t *testing.T, b state.Backend, _ Hooks) {
	ctx := context.Background()
	want := Sample()
	if err := b.Write(ctx, want); err != nil {
		t.Fatalf("Write: %v", err)
	}
	got, err := b.Read(ctx)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Read after Write (-want +got):\n%s", diff)
	}
}

func testSerialLineage(t *testing.T, b state.Backend, _ Hooks) {
	ctx := context.Background()
	s := Sample()
	for serial := uint64(2); serial <= 4; serial++ {
		s = s.Clone()
		s.NextSerial()
		s.SetResource(fmt.Sprintf("data.d%d", serial), &state.Resource{Type: "local_data", Provider: "local", Attributes: map[string]any{}})
		if err := b.Write(ctx, s); err != nil {
			t.Fatalf("Write serial %d: %v", serial, err)
		}
		got, err := b.Read(ctx)
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if got.Serial != serial || got.Lineage != s.Lineage || len(got.Resources) != len(s.Resources) {
			t.Errorf("after writing serial %d: read serial %d lineage %q, %d resources; want lineage %q, %d resources",
				serial, got.Serial, got.Lineage, len(got.Resources), s.Lineage, len(s.Resources))
		}
	}
}

func lockInfo(op string) state.LockInfo {
	return state.LockInfo{Operation: op}
}

// wantLockError checks err is a *state.LockError naming the holder of id.
func wantLockError(t *testing.T, err error, id, op string) {
	t.Helper()
	var le *state.LockError
	if !errors.As(err, &le) {
		t.Fatalf("error %v (%T) is not a *state.LockError", err, err)
	}
	if le.Holder.ID != id || le.Holder.Operation != op || le.Holder.PID == 0 || le.Holder.Who == "" || le.Holder.Created.IsZero() {
		t.Errorf("LockError holder = %+v, want ID %s, operation %s, pid, who and time", le.Holder, id, op)
	}
}

func testLockExclusion(t *testing.T, b state.Backend, _ Hooks) {
	id, err := b.Lock(context.Background(), lockInfo("apply"), 0)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	_, err = b.Lock(context.Background(), lockInfo("plan"), 0)
	wantLockError(t, err, id, "apply")
	if err := b.Unlock("not-" + id); err == nil {
		t.Errorf("Unlock with a wrong ID succeeded")
	}
	if err := b.Unlock(id); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
	id2, err := b.Lock(context.Background(), lockInfo("plan"), 0)
	if err != nil {
		t.Fatalf("Lock after Unlock: %v", err)
	}
	if id2 == id {
		t.Errorf("two locks share ID %s", id)
	}
	if err := b.Unlock(id2); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
}

func testLockAcrossHandles(t *testing.T, b state.Backend, h Hooks) {
	other := h.Reopen(t, b)
	id, err := b.Lock(context.Background(), lockInfo("apply"), 0)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	_, err = other.Lock(context.Background(), lockInfo("apply"), 0)
	wantLockError(t, err, id, "apply")
	if err := b.Unlock(id); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
	id2, err := other.Lock(context.Background(), lockInfo("apply"), 0)
	if err != nil {
		t.Fatalf("Lock by the other handle after Unlock: %v", err)
	}
	if err := other.Unlock(id2); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
}

func testLockTimeout(t *testing.T, b state.Backend, _ Hooks) {
	ctx := context.Background()
	id, err := b.Lock(ctx, lockInfo("apply"), 0)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	start := time.Now()
	_, err = b.Lock(ctx, lockInfo("plan"), 150*time.Millisecond)
	if waited := time.Since(start); waited < 150*time.Millisecond {
		t.Errorf("Lock with a 150ms timeout gave up after %v", waited)
	}
	wantLockError(t, err, id, "apply")

	// A waiter gets the lock once the holder lets go.
	go func() {
		time.Sleep(100 * time.Millisecond)
		b.Unlock(id)
	}()
	id2, err := b.Lock(ctx, lockInfo("plan"), 5*time.Second)
	if err != nil {
		t.Fatalf("Lock waiting for the holder to unlock: %v", err)
	}
	// A cancelled context stops the wait.
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = b.Lock(cctx, lockInfo("apply"), time.Minute)
	wantLockError(t, err, id2, "plan")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Lock with a cancelled context: %v, want it to wrap context.DeadlineExceeded", err)
	}
	if err := b.Unlock(id2); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
}

func testForceUnlock(t *testing.T, b state.Backend, _ Hooks) {
	ctx := context.Background()
	if err := b.ForceUnlock("nothing"); err == nil {
		t.Errorf("ForceUnlock of an unlocked state succeeded")
	}
	id, err := b.Lock(ctx, lockInfo("apply"), 0)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	if err := b.ForceUnlock("wrong-id"); err == nil {
		t.Errorf("ForceUnlock with a wrong ID succeeded")
	}
	if err := b.ForceUnlock(id); err != nil {
		t.Fatalf("ForceUnlock: %v", err)
	}
	id2, err := b.Lock(ctx, lockInfo("apply"), 0)
	if err != nil {
		t.Fatalf("Lock after ForceUnlock: %v", err)
	}
	if err := b.Unlock(id2); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
}

var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// journalRecords is a typical journal: a begin, then intent and commit/fail of a few operations.
func journalRecords() []state.Record {
	s := Sample()
	return []state.Record{
		{Kind: state.Begin, Time: t0, Mode: "apply", Plan: []byte(`{"format_version":1}`)},
		{Kind: state.Intent, Time: t0, OpID: "op-1", Addr: "files.motd", Action: "create"},
		{Kind: state.Commit, Time: t0, OpID: "op-1", Addr: "files.motd", New: s.Resource("files.motd")},
		{Kind: state.Intent, Time: t0, OpID: "op-2", Addr: "servers.web-01", Action: "update", Prior: s.Resource("servers.web-01")},
		{Kind: state.Fail, Time: t0, OpID: "op-2", Addr: "servers.web-01", Error: "quota exceeded"},
		{Kind: state.OutputRecord, Time: t0, Name: "web_ip", Output: &state.Output{Value: "10.0.0.1"}},
	}
}

func testJournal(t *testing.T, b state.Backend, _ Hooks) {
	ctx := context.Background()
	if recs, ok, err := b.Records(ctx); err != nil || ok || len(recs) != 0 {
		t.Fatalf("Records with no journal = %v, %v, %v; want none, false, nil", recs, ok, err)
	}
	want := journalRecords()
	w, err := b.Create(ctx, want[0])
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	for _, rec := range want[1:4] {
		if err := w.Append(rec); err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
	if _, err := b.Create(ctx, want[0]); err == nil {
		t.Errorf("Create over an existing journal succeeded")
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := w.Append(want[4]); err == nil {
		t.Errorf("Append after Close succeeded")
	}
	got, ok, err := b.Records(ctx)
	if err != nil || !ok {
		t.Fatalf("Records = %v, %v", ok, err)
	}
	if diff := cmp.Diff(want[:4], got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Records (-want +got):\n%s", diff)
	}

	// Reopened (resume), the journal continues where it was.
	w, err = b.Open(ctx)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	for _, rec := range want[4:] {
		if err := w.Append(rec); err != nil {
			t.Fatalf("Append after Open: %v", err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	got, _, err = b.Records(ctx)
	if err != nil {
		t.Fatalf("Records: %v", err)
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Records after reopening (-want +got):\n%s", diff)
	}

	if err := b.Remove(ctx); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, ok, err := b.Records(ctx); ok || err != nil {
		t.Errorf("Records after Remove = %v, %v; want no journal", ok, err)
	}
	if _, err := b.Open(ctx); err == nil {
		t.Errorf("Open with no journal succeeded")
	}
	if w, err := b.Create(ctx, want[0]); err != nil {
		t.Errorf("Create after Remove: %v", err)
	} else {
		w.Close()
	}
}

func testJournalTorn(t *testing.T, b state.Backend, h Hooks) {
	ctx := context.Background()
	want := journalRecords()
	w, err := b.Create(ctx, want[0])
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	for _, rec := range want[1:] {
		if err := w.Append(rec); err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
	w.Close()
	h.TearJournal(t, b)
	got, ok, err := b.Records(ctx)
	if err != nil || !ok {
		t.Fatalf("Records of a torn journal = %v, %v; want the records before the torn one", ok, err)
	}
	if diff := cmp.Diff(want[:len(want)-1], got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Records of a torn journal (-want +got):\n%s", diff)
	}
	// Appending after reopening replaces the torn record; the journal reads whole again.
	w, err = b.Open(ctx)
	if err != nil {
		t.Fatalf("Open of a torn journal: %v", err)
	}
	if err := w.Append(want[len(want)-1]); err != nil {
		t.Fatalf("Append: %v", err)
	}
	w.Close()
	got, _, err = b.Records(ctx)
	if err != nil {
		t.Fatalf("Records: %v", err)
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Records after repairing the torn journal (-want +got):\n%s", diff)
	}
}

func testJournalConcurrent(t *testing.T, b state.Backend, _ Hooks) {
	const writers, each = 50, 20
	ctx := context.Background()
	w, err := b.Create(ctx, state.Record{Kind: state.Begin, Time: t0, Mode: "apply"})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for g := range writers {
		wg.Go(func() {
			for i := range each {
				if err := w.Append(state.Record{Kind: state.Intent, Time: t0, OpID: fmt.Sprintf("%d/%d", g, i), Addr: fmt.Sprintf("r.%d", g)}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Append: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	recs, _, err := b.Records(ctx)
	if err != nil {
		t.Fatalf("Records: %v", err)
	}
	if len(recs) != 1+writers*each {
		t.Fatalf("Records returned %d records, want %d", len(recs), 1+writers*each)
	}
	// Every record once, and each writer's records in the order it appended them.
	next := make(map[string]int)
	for _, rec := range recs[1:] {
		var g, i int
		fmt.Sscanf(rec.OpID, "%d/%d", &g, &i)
		if key := fmt.Sprint(g); next[key] != i {
			t.Fatalf("writer %d: record %d where %d was expected", g, i, next[key])
		} else {
			next[key]++
		}
	}
	for g := range writers {
		if n := next[fmt.Sprint(g)]; n != each {
			t.Errorf("writer %d: %d records read back, want %d", g, n, each)
		}
	}
}
