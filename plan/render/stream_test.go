package render

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/plan"
	"github.com/provhq/prov/state"
)

// fakeClock returns a clock that advances by a second on every reading, from a fixed start.
func fakeClock() func() time.Time {
	t := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	return func() time.Time {
		t = t.Add(time.Second)
		return t
	}
}

// TestStream writes a whole plan and apply and compares the lines with a golden file.
func TestStream(t *testing.T) {
	var buf bytes.Buffer
	s := NewStream(&buf, fakeClock())
	p := everyAction(t)
	s.Version("0.1.0-test")
	s.RefreshStart(Hook{Addr: "servers.web-2", Type: "upcloud_server", IDKey: "id", IDValue: "00a1-web-2"})
	s.RefreshComplete(Hook{Addr: "servers.web-2", Type: "upcloud_server", IDKey: "id", IDValue: "00a1-web-2"})
	s.ResourceDrift(&plan.Change{Addr: "servers.web-2", Type: "upcloud_server", Action: plan.Update})
	s.Plan(p)
	s.ChangeSummary(OpPlan, p.Summary())
	web := Hook{Addr: "servers.web-10", Type: "upcloud_server", Action: plan.Create}
	s.ApplyStart(web)
	web.Elapsed, web.Message, web.Percent = 10*time.Second+300*time.Millisecond, "waiting for boot", 40
	s.ApplyProgress(web)
	web.Elapsed, web.Message, web.Percent = 31*time.Second, "", 0
	s.ApplyComplete(web.WithID(map[string]any{"id": "00d4-web-10"}))
	old := NewHook(p, "servers.old", plan.Delete)
	s.ApplyStart(old)
	progress := NewHook(p, "servers.old", 0) // progress reports carry no action: the plan's is used
	progress.Elapsed = time.Second
	s.ApplyProgress(progress)
	old.Elapsed = 2 * time.Second
	s.ApplyErrored(old)
	s.Diagnostic(diag.Diagnostic{Severity: diag.Error, Summary: "server is locked", Detail: "unlock it first",
		Address: "servers.old", Path: "servers.old"})
	s.Diagnostic(diag.Diagnostic{Severity: diag.Warning, Summary: "deprecated plan name", Path: "servers.web-2.plan",
		Pos: diag.Pos{File: "main.ncl", Line: 12, Col: 5}})
	s.Outputs(map[string]*state.Output{"web_ip": {Value: "10.0.0.9"}, "db_password": {Value: secret, Sensitive: true}})
	s.Skipped([]string{"files.motd", "servers.db"}, "servers.old failed")
	s.Phase("rollback", "Rolling back 2 operations")
	s.ChangeSummary(OpApply, plan.Summary{Add: 3, Change: 1, Destroy: 3, Replace: 2})
	s.Log("done")
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(buf.Bytes()))
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("line is not a JSON object: %v\n%s", err, sc.Text())
		}
		for _, k := range []string{"@level", "@message", "@module", "@timestamp", "type"} {
			if _, ok := ev[k]; !ok {
				t.Errorf("event lacks %s: %s", k, sc.Text())
			}
		}
	}
	golden(t, "stream.jsonl.golden", buf.Bytes())
}

// TestStreamConcurrent checks that concurrent events never interleave within a line.
func TestStreamConcurrent(t *testing.T) {
	var buf bytes.Buffer
	s := NewStream(&buf, nil)
	const workers, each = 8, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				s.ApplyProgress(Hook{Addr: fmt.Sprintf("items.w%d-%d", w, i), Type: "local_data",
					Action: plan.Create, Elapsed: time.Duration(i) * time.Second})
			}
		})
	}
	wg.Wait()
	lines := 0
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		lines++
		if !json.Valid(sc.Bytes()) {
			t.Fatalf("line %d is not valid JSON: %s", lines, sc.Text())
		}
	}
	if diff := cmp.Diff(workers*each, lines); diff != "" {
		t.Errorf("line count (-want +got):\n%s", diff)
	}
}

type failingWriter struct{ n int }

func (f *failingWriter) Write(b []byte) (int, error) {
	f.n++
	return 0, errors.New("disk full")
}

// TestStreamError checks that the first write error is kept and stops further writes.
func TestStreamError(t *testing.T) {
	w := &failingWriter{}
	s := NewStream(w, fakeClock())
	s.Version("1")
	s.Log("again")
	if err := s.Err(); err == nil {
		t.Fatal("Err() = nil after a failed write")
	}
	if diff := cmp.Diff(1, w.n); diff != "" {
		t.Errorf("writes after the error (-want +got):\n%s", diff)
	}
}

// gateWriter holds its first write until released, counting writes.
type gateWriter struct {
	buf     bytes.Buffer
	writes  int
	started chan struct{}
	release chan struct{}
}

func (g *gateWriter) Write(b []byte) (int, error) {
	if g.writes++; g.writes == 1 {
		close(g.started)
		<-g.release
	}
	return g.buf.Write(b)
}

// TestStreamGroupsWrites checks that events emitted while a write is in progress go out together in
// the next write, in order, and that each emit returns only once its line is written.
func TestStreamGroupsWrites(t *testing.T) {
	g := &gateWriter{started: make(chan struct{}), release: make(chan struct{})}
	s := NewStream(g, fakeClock())
	first := make(chan struct{})
	go func() { s.Log("first"); close(first) }()
	<-g.started
	const waiting = 50
	var wg sync.WaitGroup
	returned := make(chan int, waiting)
	for i := range waiting {
		wg.Go(func() { s.Log(fmt.Sprint("queued ", i)); returned <- i })
	}
	time.Sleep(50 * time.Millisecond) // let them queue behind the held write
	if len(returned) > 0 {
		t.Fatalf("%d emits returned before their line was written", len(returned))
	}
	close(g.release)
	wg.Wait()
	<-first
	lines := strings.Count(g.buf.String(), "\n")
	if diff := cmp.Diff(waiting+1, lines); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
	if g.writes != 2 {
		t.Errorf("%d writes for %d events, want 2 (the held one and one group)", g.writes, waiting+1)
	}
}
