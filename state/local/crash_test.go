package local_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/provhq/prov/state"
	"github.com/provhq/prov/state/local"
)

// The crash tests re-run this test binary as a child process (TestMain dispatches on childEnv) and kill
// it, as a crash or kill -9 of prov would.
const childEnv = "PROV_STATE_LOCAL_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		if err := child(mode, os.Args[len(os.Args)-1]); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// child runs in the child process against the backend in dir. It reports progress on stdout, one line
// per event, and for the killed modes runs until killed.
func child(mode, dir string) error {
	ctx := context.Background()
	b := local.New(dir, local.Options{})
	switch mode {
	case "append":
		// Append from many goroutines; print each OpID once its Append returned.
		w, err := b.Open(ctx)
		if err != nil {
			return err
		}
		var mu sync.Mutex
		out := bufio.NewWriter(os.Stdout)
		var wg sync.WaitGroup
		for g := range 16 {
			wg.Go(func() {
				for i := 0; ; i++ {
					op := fmt.Sprintf("%d/%d", g, i)
					if err := w.Append(state.Record{Kind: state.Intent, OpID: op, Addr: "r.x"}); err != nil {
						fmt.Fprintln(os.Stderr, err)
						os.Exit(2)
					}
					mu.Lock()
					fmt.Fprintln(out, op)
					out.Flush()
					mu.Unlock()
				}
			})
		}
		wg.Wait()
	case "write-loop":
		// Write states of growing serial; print each serial once its Write returned.
		s, err := b.Read(ctx)
		if err != nil {
			return err
		}
		for {
			s.NextSerial()
			s.SetResource(fmt.Sprintf("data.d%d", s.Serial%50), &state.Resource{Type: "local_data", Provider: "local",
				Attributes: map[string]any{"serial": float64(s.Serial), "pad": strings.Repeat("x", 2000)}})
			if err := b.Write(ctx, s); err != nil {
				return err
			}
			fmt.Println(s.Serial)
		}
	case "lock-hold":
		// Take the lock, say so, and hold it until killed.
		id, err := b.Lock(ctx, state.LockInfo{Operation: "apply"}, 0)
		if err != nil {
			return err
		}
		fmt.Println("locked", id)
		select {}
	case "lock-race":
		// Try once; the winner holds the lock until the parent closes its stdin, which it does once
		// every contender has tried.
		id, err := b.Lock(ctx, state.LockInfo{Operation: "apply"}, 0)
		var le *state.LockError
		switch {
		case errors.As(err, &le):
			fmt.Println("lost", le.Holder.ID)
			return nil
		case err != nil:
			return err
		}
		fmt.Println("won", id)
		io.Copy(io.Discard, os.Stdin)
		return b.Unlock(id)
	}
	return fmt.Errorf("unknown mode %q", mode)
}

func startChild(t *testing.T, mode, dir string) (*exec.Cmd, *bufio.Scanner) {
	cmd, out, _ := startChildStdin(t, mode, dir)
	return cmd, out
}

// startChildStdin starts a child with a pipe to its stdin.
func startChildStdin(t *testing.T, mode, dir string) (*exec.Cmd, *bufio.Scanner, io.WriteCloser) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", dir)
	cmd.Env = append(os.Environ(), childEnv+"="+mode)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, bufio.NewScanner(stdout), stdin
}

// TestKilledAppendsDurable kills a process appending from 16 goroutines and checks that every record
// whose Append had returned is in the journal, which reads without error.
func TestKilledAppendsDurable(t *testing.T) {
	for trial := range 3 {
		t.Run(fmt.Sprint("trial", trial), func(t *testing.T) {
			dir := t.TempDir()
			b := local.New(dir, local.Options{})
			w, err := b.Create(context.Background(), state.Record{Kind: state.Begin, Mode: "apply"})
			if err != nil {
				t.Fatal(err)
			}
			w.Close()
			cmd, out := startChild(t, "append", dir)
			acked := map[string]bool{}
			deadline := time.Now().Add(time.Duration(100+trial*150) * time.Millisecond)
			for out.Scan() {
				acked[out.Text()] = true
				if time.Now().After(deadline) {
					break
				}
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			for out.Scan() { // acknowledgements written before the kill
				acked[out.Text()] = true
			}
			cmd.Wait()
			if len(acked) == 0 {
				t.Fatal("the child acknowledged no append")
			}
			recs, ok, err := b.Records(context.Background())
			if err != nil || !ok {
				t.Fatalf("Records after kill: %v, %v", ok, err)
			}
			found := map[string]bool{}
			for _, r := range recs[1:] {
				found[r.OpID] = true
			}
			for op := range acked {
				if !found[op] {
					t.Errorf("record %s was acknowledged but is not in the journal", op)
				}
			}
			t.Logf("%d records acknowledged, %d in the journal", len(acked), len(recs)-1)
			// The journal can be reopened and appended to after the crash.
			w, err = b.Open(context.Background())
			if err != nil {
				t.Fatalf("Open after kill: %v", err)
			}
			if err := w.Append(state.Record{Kind: state.Commit, OpID: "after"}); err != nil {
				t.Fatal(err)
			}
			w.Close()
			recs2, _, err := b.Records(context.Background())
			if err != nil || len(recs2) < len(recs)+1 || recs2[len(recs2)-1].OpID != "after" {
				t.Fatalf("Records after reopening: %d records, %v", len(recs2), err)
			}
		})
	}
}

// TestKilledWriter kills a process in the middle of a stream of state writes: the state file always
// decodes, holds at least the last acknowledged serial, and the backup decodes and is never newer.
func TestKilledWriter(t *testing.T) {
	for trial := range 3 {
		t.Run(fmt.Sprint("trial", trial), func(t *testing.T) {
			dir := t.TempDir()
			cmd, out := startChild(t, "write-loop", dir)
			var acked uint64
			deadline := time.Now().Add(time.Duration(50+trial*120) * time.Millisecond)
			for out.Scan() {
				fmt.Sscan(out.Text(), &acked)
				if time.Now().After(deadline) && acked >= 2 {
					break
				}
			}
			cmd.Process.Signal(syscall.SIGKILL)
			for out.Scan() {
				fmt.Sscan(out.Text(), &acked)
			}
			cmd.Wait()
			b := local.New(dir, local.Options{})
			s, err := b.Read(context.Background())
			if err != nil {
				t.Fatalf("Read after kill: %v", err)
			}
			if s.Serial < acked {
				t.Errorf("state serial %d, but serial %d was acknowledged", s.Serial, acked)
			}
			backup, err := os.ReadFile(dir + "/" + local.BackupFile)
			if err != nil {
				t.Fatal(err)
			}
			bs, err := state.Decode(backup, local.BackupFile)
			if err != nil {
				t.Fatalf("backup after kill: %v", err)
			}
			// A kill between the backup's rename and the state's leaves the two equal.
			if bs.Serial > s.Serial {
				t.Errorf("backup serial %d, newer than the state's %d", bs.Serial, s.Serial)
			}
			t.Logf("%d writes acknowledged, state at serial %d", acked, s.Serial)
		})
	}
}

// TestDeadHolderDoesNotBlock kills the holder of the lock: its flock dies with it, and the stale info
// file it leaves does not stop the next Lock.
func TestDeadHolderDoesNotBlock(t *testing.T) {
	dir := t.TempDir()
	cmd, out := startChild(t, "lock-hold", dir)
	if !out.Scan() || !strings.HasPrefix(out.Text(), "locked ") {
		t.Fatalf("child did not lock: %q", out.Text())
	}
	childID := strings.TrimPrefix(out.Text(), "locked ")
	b := local.New(dir, local.Options{})
	_, err := b.Lock(context.Background(), state.LockInfo{Operation: "plan"}, 0)
	var le *state.LockError
	if !errors.As(err, &le) || le.Holder.ID != childID || le.Holder.PID != cmd.Process.Pid {
		t.Fatalf("Lock while the child holds it: %v, want a LockError naming pid %d", err, cmd.Process.Pid)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	id, err := b.Lock(context.Background(), state.LockInfo{Operation: "plan"}, 0)
	if err != nil {
		t.Fatalf("Lock after the holder died: %v", err)
	}
	if err := b.Unlock(id); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{local.LockFile, local.LockInfo} {
		if _, err := os.Stat(dir + "/" + name); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left behind after Unlock: %v", name, err)
		}
	}
}

// TestForceUnlockLiveHolder breaks the lock of a live process by its ID.
func TestForceUnlockLiveHolder(t *testing.T) {
	dir := t.TempDir()
	_, out := startChild(t, "lock-hold", dir)
	if !out.Scan() {
		t.Fatal("child did not lock")
	}
	childID := strings.TrimPrefix(out.Text(), "locked ")
	b := local.New(dir, local.Options{})
	if err := b.ForceUnlock("wrong"); err == nil || !strings.Contains(err.Error(), childID) {
		t.Errorf("ForceUnlock with a wrong ID: %v, want an error naming the held ID %s", err, childID)
	}
	if err := b.ForceUnlock(childID); err != nil {
		t.Fatalf("ForceUnlock: %v", err)
	}
	id, err := b.Lock(context.Background(), state.LockInfo{Operation: "apply"}, 0)
	if err != nil {
		t.Fatalf("Lock after ForceUnlock: %v", err)
	}
	b.Unlock(id)
}

// TestLockRace starts several processes at once; exactly one gets the lock, the others name it.
func TestLockRace(t *testing.T) {
	const n = 4
	dir := t.TempDir()
	type result struct {
		won   bool
		id    string
		stdin io.Closer
	}
	results := make(chan result, n)
	var wg sync.WaitGroup
	for range n {
		_, out, stdin := startChildStdin(t, "lock-race", dir)
		wg.Go(func() {
			if out.Scan() {
				verdict, id, _ := strings.Cut(out.Text(), " ")
				results <- result{won: verdict == "won", id: id, stdin: stdin}
			}
		})
	}
	wg.Wait() // every contender has tried; the winner still holds the lock
	close(results)
	var winners []string
	var losers []result
	for r := range results {
		if r.won {
			winners = append(winners, r.id)
			r.stdin.Close()
		} else {
			losers = append(losers, r)
		}
	}
	if len(winners) != 1 || len(losers) != n-1 {
		t.Fatalf("%d winners and %d losers, want 1 and %d", len(winners), len(losers), n-1)
	}
	for _, l := range losers {
		if l.id != winners[0] {
			t.Errorf("a loser named holder %q, the winner was %q", l.id, winners[0])
		}
	}
}
