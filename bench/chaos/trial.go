package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// The fault kinds, one per trial.
const (
	KillProv    = "kill-prov"    // SIGKILL of prov at a random moment of the apply
	KillPlugin  = "kill-plugin"  // SIGKILL of the local provider's plugin process
	Interrupt   = "sigint"       // SIGINT: prov stops scheduling and lets operations in flight finish
	TornJournal = "torn-journal" // SIGKILL of prov, then the journal's last record cut in the middle
	PluginFail  = "plugin-fail"  // the provider fails one operation (fault_injection.fail_matching)
	LockRace    = "lock-race"    // a second prov (apply, apply -resume, rollback or plan) races for the lock
)

// Kinds lists every fault kind in table order.
var Kinds = []string{KillProv, KillPlugin, Interrupt, TornJournal, PluginFail, LockRace}

// The recoveries. With a journal left, resume is prov apply -resume and rollback is prov rollback;
// with none (the fault let prov finish its walk and write the state) they are a new apply of the
// desired document and of the prior one, which is what an operator does then.
const (
	Resume   = "resume"
	Rollback = "rollback"
)

// Result is the outcome of one trial.
type Result struct {
	N        int
	Kind     string
	Recovery string
	// Journal says the fault left a journal behind (the apply was cut short).
	Journal bool
	// Note says what happened beyond the plan (no race, nothing to tear, …).
	Note string
	// Failure is empty when every check passed.
	Failure string
	// Dir is the trial's directory, kept when it failed.
	Dir      string
	Duration time.Duration
}

// trial runs one trial: the prior set is applied, then the desired set under the fault, then the
// recovery, then the checks.
func (h *harness) trial(ctx context.Context, n int, kind string, rng *rand.Rand) (res Result) {
	start := time.Now()
	res = Result{N: n, Kind: kind, Recovery: Resume}
	if rng.IntN(2) == 1 {
		res.Recovery = Rollback
	}
	dir, err := os.MkdirTemp(h.cfg.TempDir, fmt.Sprintf("chaos-%03d-%s-", n, kind))
	if err != nil {
		res.Failure = err.Error()
		return res
	}
	t := &trial{h: h, dir: dir, rng: rng, res: &res}
	err = t.run(ctx)
	res.Duration = time.Since(start)
	if err != nil {
		res.Failure = err.Error()
		res.Dir = dir
		return res
	}
	if !h.cfg.Keep {
		os.RemoveAll(dir)
	} else {
		res.Dir = dir
	}
	return res
}

// trial is the working state of one trial.
type trial struct {
	h   *harness
	dir string
	rng *rand.Rand
	res *Result
	env []string
	// prior and desired are the trial's file sets.
	prior, desired fileSet
	serials        []int
}

func (t *trial) path(name string) string { return filepath.Join(t.dir, name) }

func (t *trial) run(ctx context.Context) error {
	cfg := t.h.cfg
	home := t.path("home")
	t.env = []string{
		"PROV_FAULT_INJECTION=1",
		"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"XDG_CACHE_HOME=" + filepath.Join(home, "cache"), "XDG_DATA_HOME=" + filepath.Join(home, "data"),
	}
	if err := os.WriteFile(t.path("prov.lock.json"), t.h.lockFile, 0o644); err != nil {
		return err
	}
	prior, desired := sets(cfg.Resources)
	t.prior, t.desired = prior, desired
	quiet := docOptions{parallelism: cfg.Parallelism, seed: t.rng.Uint64()}

	// The prior set, without latency.
	if err := writeDoc(t.dir, prior, quiet); err != nil {
		return err
	}
	t0 := time.Now()
	if err := t.prov(ctx, 0, "apply", "-auto-approve"); err != nil {
		return fmt.Errorf("prior apply: %w", err)
	}
	startup := time.Since(t0)
	if err := t.checkState("after the prior apply", prior); err != nil {
		return err
	}

	// The faulted apply, recorded in the creation log.
	t.env = append(t.env, "PROV_LOCAL_CREATION_LOG="+t.path("creations.log"))
	slow := quiet
	slow.latencyMS = int(cfg.Latency / time.Millisecond)
	faulted := slow
	ops := changed(prior, desired)
	if t.res.Kind == PluginFail {
		target := ops[t.rng.IntN(len(ops))]
		path := desired[target].Path
		if path == "" {
			path = prior[target].Path
		}
		faulted.failMatching = []string{path}
		// A failure after the work (the file written, the answer lost) cannot be undone by an automatic
		// rollback that fails again on the same file, so it is tried with the resume recovery only.
		faulted.failAfter = t.res.Recovery == Resume && t.rng.IntN(2) == 1
		faulted.rollbackOnFailure = t.res.Recovery == Rollback
		t.res.Note = fmt.Sprintf("fail %s", target)
		if faulted.failAfter {
			t.res.Note += " after the work"
		}
	}
	if err := writeDoc(t.dir, desired, faulted); err != nil {
		return err
	}
	waves := (len(ops) + cfg.Parallelism - 1) / cfg.Parallelism
	expected := startup + time.Duration(waves)*cfg.Latency
	code, err := t.fault(ctx, expected)
	if err != nil {
		return err
	}
	journal := exists(t.path("prov.state.journal"))
	t.res.Journal = journal
	if journal {
		// Kept for the study of a failed trial.
		if b, err := os.ReadFile(t.path("prov.state.journal")); err == nil {
			_ = os.WriteFile(t.path("journal.after-fault"), b, 0o644)
		}
	}
	if err := t.observeSerial("after the fault"); err != nil {
		return err
	}
	if !journal && !faulted.failAfter {
		// No journal: the walk finished and its state was written, so it must describe the disk. (Not
		// when the provider reported a failure for work it did: only the next refresh can see that.)
		s, err := readState(t.dir)
		if err != nil {
			return err
		}
		if err := t.checkDisk("after the fault (no journal left)", s.files()); err != nil {
			return err
		}
	}

	// The recovery.
	want := desired
	switch {
	case journal && t.res.Recovery == Resume:
		if err := t.prov(ctx, 0, "apply", "-resume"); err != nil {
			return fmt.Errorf("recovery: %w", err)
		}
	case journal:
		want = prior
		if err := t.prov(ctx, 0, "rollback", "-auto-approve"); err != nil {
			return fmt.Errorf("recovery: %w", err)
		}
	case t.res.Kind == PluginFail && t.res.Recovery == Rollback:
		// settings.rollback_on_failure already undid the apply.
		want = prior
		if code == 0 {
			return fmt.Errorf("the apply with a failing operation exited 0")
		}
	default:
		if t.res.Recovery == Rollback {
			want = prior
		}
		if err := writeDoc(t.dir, want, slow); err != nil {
			return err
		}
		if err := t.prov(ctx, 0, "apply", "-auto-approve"); err != nil {
			return fmt.Errorf("recovery: %w", err)
		}
	}
	if err := t.observeSerial("after the recovery"); err != nil {
		return err
	}
	return t.checkFinal(ctx, want, slow)
}

// prov runs prov to the end and wants exit code want.
func (t *trial) prov(ctx context.Context, want int, args ...string) error {
	code, out, err := t.h.run(ctx, t.dir, t.env, t.h.cfg.Timeout, args...)
	if err != nil {
		return err
	}
	if code != want {
		return fmt.Errorf("prov %s exited %d, want %d:\n%s", strings.Join(args, " "), code, want, tail(out, 1500))
	}
	return nil
}

// fault runs the faulted apply and injects the trial's fault; it returns the apply's exit code.
func (t *trial) fault(ctx context.Context, expected time.Duration) (int, error) {
	cfg := t.h.cfg
	p, err := t.h.start(ctx, t.dir, t.env, "apply", "-auto-approve")
	if err != nil {
		return -1, err
	}
	defer p.killGroup() // nothing of the faulted apply outlives the trial
	moment := func(d time.Duration) time.Duration { return time.Duration(t.rng.Int64N(int64(d) + 1)) }
	switch t.res.Kind {
	case KillProv:
		sleep(ctx, moment(expected))
		if err := t.kill(p); err != nil {
			return -1, err
		}
	case KillPlugin:
		sleep(ctx, moment(expected))
		var plugins []int
		for !p.exited() && len(plugins) == 0 {
			if plugins = children(p.pid()); len(plugins) == 0 {
				time.Sleep(5 * time.Millisecond)
			}
		}
		if len(plugins) == 0 {
			t.res.Note = "prov ended before its plugin could be killed"
			break
		}
		pid := plugins[t.rng.IntN(len(plugins))]
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.res.Note = fmt.Sprintf("plugin %d gone before the kill", pid)
		}
	case Interrupt:
		sleep(ctx, moment(expected))
		if !p.exited() {
			_ = p.signal(syscall.SIGINT)
		}
	case TornJournal:
		// Wait for the journal, so that there is a record to tear.
		for !p.exited() && !exists(t.path("prov.state.journal")) {
			time.Sleep(2 * time.Millisecond)
		}
		sleep(ctx, moment(expected/2))
		if err := t.kill(p); err != nil {
			return -1, err
		}
		note, err := tear(t.path("prov.state.journal"), t.rng, func(addr, action string) bool {
			path := t.desired[addr].Path
			if path == "" {
				path = t.prior[addr].Path
			}
			b, err := os.ReadFile(t.path(path))
			switch action {
			case "create":
				return err == nil
			case "update":
				return err == nil && string(b) == t.desired[addr].Content
			case "delete":
				return errors.Is(err, fs.ErrNotExist)
			}
			return false
		})
		if err != nil {
			return -1, err
		}
		t.res.Note = note
	case LockRace:
		return t.race(ctx, p, moment(expected))
	}
	code, err := p.wait(cfg.Timeout)
	if err != nil {
		return -1, err
	}
	return code, nil
}

// kill SIGKILLs prov and waits for it and for the plugins it started: a plugin must not outlive
// its host by more than a few seconds, or it could still be working when the recovery starts.
func (t *trial) kill(p *proc) error {
	plugins := children(p.pid())
	if p.exited() {
		return nil
	}
	_ = p.signal(syscall.SIGKILL)
	<-p.done
	if left := waitGone(plugins, 5*time.Second); len(left) > 0 {
		return fmt.Errorf("plugin processes %v still run 5s after prov was killed", left)
	}
	return nil
}

// race starts a second prov command after delay, while the apply p runs, and checks that exactly one
// of the two holds the lock: the loser must fail with a lock error naming the winner, and leave the
// winner's lock alone.
func (t *trial) race(ctx context.Context, p *proc, delay time.Duration) (int, error) {
	cfg := t.h.cfg
	type racer struct {
		args  []string
		alone int // exit code when it runs alone after the apply
	}
	racers := []racer{
		{[]string{"apply", "-auto-approve"}, 0},
		{[]string{"apply", "-resume"}, 1}, // there is nothing to resume
		{[]string{"rollback", "-auto-approve"}, 0},
		{[]string{"plan"}, 0},
	}
	rc := racers[t.rng.IntN(len(racers))]
	name := strings.Join(rc.args, " ")
	if t.rng.IntN(3) == 0 {
		delay = 0 // start together: either may win
	} else {
		delay /= 2
	}
	sleep(ctx, delay)
	racerStart := time.Now()
	r, err := t.h.start(ctx, t.dir, t.env, append(rc.args, "-lock-timeout=10ms")...)
	if err != nil {
		return -1, err
	}
	defer r.killGroup()
	rcode, err := r.wait(cfg.Timeout)
	if err != nil {
		return -1, err
	}
	_ = os.WriteFile(t.path("racer.out"), []byte(r.output()), 0o644)
	var holder *lockInfo
	applyRunning := !p.exited()
	if applyRunning {
		holder, _ = readLockInfo(t.path("prov.state.lock.info"))
	}
	code, err := p.wait(cfg.Timeout)
	if err != nil {
		return -1, err
	}
	const locked = "state is locked by"
	rlost := rcode == 1 && strings.Contains(r.output(), locked)
	alost := code == 1 && strings.Contains(p.output(), locked)
	switch {
	case rlost && alost:
		return -1, fmt.Errorf("both the apply and %q lost the lock race:\n%s\n---\n%s", name, tail(p.output(), 800), tail(r.output(), 800))
	case rlost:
		t.res.Note = name + " lost"
		if code != 0 {
			return -1, fmt.Errorf("the apply that won the lock race over %q exited %d:\n%s", name, code, tail(p.output(), 1500))
		}
		if want := fmt.Sprintf("(pid %d,", p.pid()); !strings.Contains(r.output(), want) {
			return -1, fmt.Errorf("%q lost the lock race but its error does not name the apply %s:\n%s", name, want, tail(r.output(), 800))
		}
		if applyRunning && (holder == nil || holder.PID != p.pid()) {
			return -1, fmt.Errorf("after %q lost the lock race, the running apply's lock info is %+v, want pid %d", name, holder, p.pid())
		}
	case alost:
		t.res.Note = name + " won"
		if rcode != rc.alone {
			return -1, fmt.Errorf("%q won the lock race but exited %d, want %d:\n%s", name, rcode, rc.alone, tail(r.output(), 1500))
		}
	default:
		// Neither lost: the racer ran alone, before the apply took the lock or after it let it go.
		t.res.Note = name + " ran alone"
		if code != 0 || rcode != rc.alone {
			return -1, fmt.Errorf("neither the apply (exit %d) nor %q (exit %d, alone %d) lost the lock race:\n%s\n---\n%s",
				code, name, rcode, rc.alone, tail(p.output(), 800), tail(r.output(), 800))
		}
		if applyRunning && holder != nil && holder.PID == p.pid() && holder.Created.Before(racerStart) {
			return -1, fmt.Errorf("%q ran to the end while the apply held the lock (since %s, before the racer started), yet neither lost the lock race",
				name, holder.Created.Format(time.RFC3339Nano))
		}
	}
	return code, nil
}

// lockInfo is the part of prov.state.lock.info the race check reads.
type lockInfo struct {
	ID      string    `json:"id"`
	PID     int       `json:"pid"`
	Created time.Time `json:"created"`
}

func readLockInfo(path string) (*lockInfo, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var li lockInfo
	if err := json.Unmarshal(b, &li); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &li, nil
}

// tear cuts the journal's last record in the middle, as a crash during its write would have. A crash
// can only tear a write that was not yet durable, and the walker starts an operation only once its
// intent is durable, so an intent whose operation demonstrably ran (ran says so, from the files on
// disk) is not one a crash could tear; nor is the journal's first record, which appears atomically
// with the file. Those are left whole, and the trial is a plain kill.
func tear(path string, rng *rand.Rand, ran func(addr, action string) bool) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "no journal to tear (the apply had finished)", nil
	}
	if err != nil {
		return "", fmt.Errorf("tear journal: %w", err)
	}
	end := len(b)
	if end > 0 && b[end-1] == '\n' {
		end--
	}
	start := bytes.LastIndexByte(b[:end], '\n') + 1
	if start == 0 || end-start < 2 {
		return "only the journal's header was written", nil
	}
	var rec struct {
		Kind   string `json:"kind"`
		Addr   string `json:"addr"`
		Action string `json:"action"`
	}
	if end-start > 9 {
		_ = json.Unmarshal(b[start+9:end], &rec)
	}
	what := strings.TrimSpace(rec.Kind + " " + rec.Action)
	if header := bytes.IndexByte(b, '\n') + 1; start == header {
		// The journal appears whole with its first record (written to a temporary file, then linked
		// into place): no crash leaves that record torn.
		return fmt.Sprintf("last record (%s, the journal's first) left whole", what), nil
	}
	if rec.Kind == "intent" && ran(rec.Addr, rec.Action) {
		return fmt.Sprintf("last record (%s %s, which ran) left whole", what, rec.Addr), nil
	}
	cut := start + 1 + rng.IntN(end-start-1) // keeps 1 … len-1 bytes of the record, never its newline
	if err := os.Truncate(path, int64(cut)); err != nil {
		return "", fmt.Errorf("tear journal: %w", err)
	}
	return fmt.Sprintf("%s record cut at byte %d of %d", what, cut, len(b)), nil
}

// observeSerial records the state's serial, which must never go down.
func (t *trial) observeSerial(when string) error {
	s, err := readState(t.dir)
	if err != nil {
		return fmt.Errorf("%s: %w", when, err)
	}
	if n := len(t.serials); n > 0 && s.Serial < t.serials[n-1] {
		return fmt.Errorf("%s: the state serial went down from %d to %d", when, t.serials[n-1], s.Serial)
	}
	t.serials = append(t.serials, s.Serial)
	return nil
}

// checkState checks that the state and the disk both hold exactly want.
func (t *trial) checkState(when string, want fileSet) error {
	s, err := readState(t.dir)
	if err != nil {
		return fmt.Errorf("%s: %w", when, err)
	}
	if d := compareSets("state", want, s.files()); d != "" {
		return fmt.Errorf("%s: %s", when, d)
	}
	t.serials = append(t.serials, s.Serial)
	return t.checkDisk(when, want)
}

// checkDisk checks that the files under out/ are exactly want's.
func (t *trial) checkDisk(when string, want fileSet) error {
	files, _, err := disk(t.dir)
	if err != nil {
		return fmt.Errorf("%s: read files: %w", when, err)
	}
	if d := compareSets("files on disk", want.byPath(), diskSet(files)); d != "" {
		return fmt.Errorf("%s: %s", when, d)
	}
	return nil
}

// checkFinal runs the checks every trial ends with.
func (t *trial) checkFinal(ctx context.Context, want fileSet, o docOptions) error {
	const when = "after the recovery"
	if exists(t.path("prov.state.journal")) {
		return fmt.Errorf("%s: prov.state.journal is still there", when)
	}
	if err := t.checkState(when, want); err != nil {
		return err
	}
	counts, err := creations(t.path("creations.log"))
	if err != nil {
		return err
	}
	for path, n := range counts {
		if n > 1 {
			return fmt.Errorf("%s: %s was created %d times (creation log)", when, path, n)
		}
	}
	if exists(t.path("prov.state.lock.info")) {
		return fmt.Errorf("%s: a lock was left behind (prov.state.lock.info)", when)
	}
	// The document now asks for what the state should hold; plan takes the lock and must find nothing to do.
	if err := writeDoc(t.dir, want, o); err != nil {
		return err
	}
	if err := t.prov(ctx, 0, "plan", "-detailed-exitcode", "-lock-timeout=10ms"); err != nil {
		return fmt.Errorf("%s: %w", when, err)
	}
	return t.observeSerial("after the last plan")
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
}
