package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/plan"
	"github.com/provhq/prov/state"
)

// The phases of a change: one provider operation each. A replace is two.
var (
	createPhases          = []string{"create"}
	updatePhases          = []string{"update"}
	readPhases            = []string{"read"}
	deletePhases          = []string{"delete"}
	deleteThenCreatePhase = []string{"delete", "create"}
	createThenDeletePhase = []string{"create", "delete"}
)

func phasesOf(a plan.Action) []string {
	switch a {
	case plan.Create:
		return createPhases
	case plan.Update:
		return updatePhases
	case plan.Read:
		return readPhases
	case plan.Delete:
		return deletePhases
	case plan.DeleteThenCreate:
		return deleteThenCreatePhase
	case plan.CreateThenDelete:
		return createThenDeletePhase
	}
	return nil
}

type nodeStatus uint8

const (
	pending nodeStatus = iota
	done
	failed
	skipped
)

// node is one change in the walk. The scheduler owns waiting, dependents and status; the worker
// running the node reads the rest, which does not change while it runs.
type node struct {
	addr       string
	c          *plan.Change
	prov       int
	waiting    int
	dependents []int32
	status     nodeStatus

	phases []string
	next   int // first phase still to run (a resume skips those committed)
	// inDoubt is the intent of phase next when a resume found no commit or fail for it.
	inDoubt *state.Record
	// deposed is the object a create-then-delete replaces, once its create phase has run.
	deposed *state.Resource
}

// trivial nodes have nothing left to do: no-ops, and changes a resume found committed.
func (n *node) trivial() bool { return n.next >= len(n.phases) }

// buildNodes makes a node per change, in address order, connected as plan.Graph orders them, and
// starts the providers they need. The edges are those of plan.Graph (creates, updates, replaces and
// reads after what they depend on; a delete before the changes of what it depended on; dependencies
// outside the plan left out), built here on indexes, which costs a fraction of the general graph; on a
// cycle plan.Graph names it.
func (r *run) buildNodes(ctx context.Context) error {
	addrs := slices.Sorted(maps.Keys(r.plan.Changes))
	index := make(map[string]int32, len(addrs))
	r.nodes = make([]node, len(addrs))
	byName := map[string]int{}
	for i, addr := range addrs {
		index[addr] = int32(i)
		c := r.plan.Changes[addr]
		n := &r.nodes[i]
		n.addr, n.c, n.phases = addr, c, phasesOf(c.Action)
		if !n.trivial() {
			var err error
			if n.prov, err = r.provider(ctx, c.Provider, byName); err != nil {
				return err
			}
		}
	}
	connect := func(node, dep int32) {
		for _, d := range r.nodes[dep].dependents {
			if d == node {
				return // listed twice in depends_on
			}
		}
		r.nodes[node].waiting++
		r.nodes[dep].dependents = append(r.nodes[dep].dependents, node)
	}
	for i := range r.nodes {
		c := r.nodes[i].c
		for _, dep := range c.DependsOn {
			j, ok := index[dep]
			switch {
			case !ok:
			case c.Action == plan.Delete:
				connect(j, int32(i))
			default:
				connect(int32(i), j)
			}
		}
	}
	// Kahn's algorithm: every node is reached unless there is a cycle.
	waiting := make([]int, len(r.nodes))
	var queue []int32
	for i := range r.nodes {
		if waiting[i] = r.nodes[i].waiting; waiting[i] == 0 {
			queue = append(queue, int32(i))
		}
	}
	for k := 0; k < len(queue); k++ {
		for _, d := range r.nodes[queue[k]].dependents {
			if waiting[d]--; waiting[d] == 0 {
				queue = append(queue, d)
			}
		}
	}
	if len(queue) < len(r.nodes) {
		_, err := r.plan.Graph()
		if err == nil {
			err = errors.New("the changes' dependencies form a cycle")
		}
		return fmt.Errorf("engine: %w", err)
	}
	return nil
}

// event is what a worker tells the scheduler: that its provider calls are over (free), and then that
// its change is done (done, with the outcome; free too if that was not told before). claimed hands
// the scheduler the change's slot at the providers to give back, after it has taken in a failure;
// notStarted says the walk stopped before the change reached its provider.
type event struct {
	idx        int32
	done       bool
	free       bool
	claimed    bool
	notStarted bool
	action     plan.Action // the action carried out (a rollback may turn an update into a replace)
	diags      diag.Diagnostics
}

// ahead is how many changes beyond a limit of n the scheduler admits: they resolve their configuration
// and journal their intent while the providers work, and claim a slot the moment one is free, so the
// providers do not wait on the journal. Below 8 there is none, and changes start in the order they
// were admitted.
func ahead(n int) int { return n / 8 }

// walk runs every node whose dependencies are done, at most r.parallelism at once and at most each
// provider's limit, until all are done or the walk stops (ctx cancelled, fail-fast, journal failure).
// The scheduler is this one goroutine; its work per node is O(1 + dependents).
func (r *run) walk(ctx context.Context) *Result {
	res := &Result{}
	nodes := r.nodes
	events := make(chan event, 2*r.parallelism)
	queues := make([][]int32, len(r.provs)) // ready nodes per provider, FIFO from heads
	heads := make([]int, len(r.provs))
	busy := make([]int, len(r.provs)) // operations in flight per provider
	// Workers outlive their node and take the next one when idle: a goroutine per node would grow a
	// fresh stack to the depth of a gRPC call every time, a tenth of the walk's CPU at high parallelism.
	work := make(chan int32)
	defer close(work)
	var trivial []int32
	inflight, running, next := 0, 0, 0
	stopped, stopReason := false, ""

	ready := func(i int32) {
		if nodes[i].trivial() {
			trivial = append(trivial, i)
		} else {
			p := nodes[i].prov
			queues[p] = append(queues[p], i)
		}
	}
	release := func(i int32) {
		for _, d := range nodes[i].dependents {
			if nodes[d].status == pending {
				if nodes[d].waiting--; nodes[d].waiting == 0 {
					ready(d)
				}
			}
		}
	}
	r.slots, r.stopping = make(chan struct{}, r.parallelism), make(chan struct{})
	stop := func(reason string) {
		if !stopped {
			stopped, stopReason = true, reason
			close(r.stopping) // admitted changes that have not reached their provider give up
		}
	}
	for i := range nodes {
		if nodes[i].waiting == 0 {
			ready(int32(i))
		}
	}
	cancelled := ctx.Done()
	var hard <-chan struct{}
	if r.e.Hard != nil {
		hard = r.e.Hard.Done()
	}
	for {
		for len(trivial) > 0 {
			i := trivial[len(trivial)-1]
			trivial = trivial[:len(trivial)-1]
			nodes[i].status = done
			release(i)
		}
		if r.fatal() != nil {
			stop("a journal record could not be written")
		}
		for !stopped && inflight < r.parallelism+ahead(r.parallelism) {
			started := false
			for k := range queues {
				p := (next + k) % len(queues)
				if limit := r.provs[p].limit; heads[p] == len(queues[p]) || limit > 0 && busy[p] >= limit+ahead(limit) {
					continue
				}
				i := queues[p][heads[p]]
				heads[p]++
				inflight, running, busy[p] = inflight+1, running+1, busy[p]+1
				next, started = p+1, true
				select {
				case work <- i: // an idle worker takes it
				default:
					go r.worker(i, work, events)
				}
				break
			}
			if !started {
				break
			}
		}
		if running == 0 {
			break
		}
		select {
		case ev := <-events:
			n := &nodes[ev.idx]
			if ev.free {
				inflight--
				busy[n.prov]--
			}
			if !ev.done {
				continue
			}
			running--
			if ev.notStarted {
				continue // still pending: listed as not started
			}
			res.Diagnostics = append(res.Diagnostics, ev.diags...)
			if !ev.diags.HasErrors() {
				if ev.claimed { // a change that ended holding its slot hands it over with the outcome
					r.unclaim(n.prov)
				}
				n.status = done
				count(res, ev.action)
				release(ev.idx)
				continue
			}
			n.status = failed
			res.Failures = append(res.Failures, Failure{Addr: n.addr, Action: ev.action, Diagnostics: ev.diags.Errors()})
			if s := r.skip(ev.idx); len(s) > 0 {
				res.Skipped = append(res.Skipped, s...)
				r.hooks.OnSkip(s, n.addr)
				res.Diagnostics = append(res.Diagnostics, listDiag(n.addr,
					fmt.Sprintf("%s not applied because %s failed", plural(len(s), "dependent change"), n.addr), s))
			}
			if r.e.FailFast {
				stop("stopped after the first failure (-fail-fast)")
			}
			if ev.claimed {
				// Only now that the failure may have stopped the walk is its slot given back: with
				// -fail-fast, nothing starts in its place.
				r.unclaim(n.prov)
			}
		case <-cancelled:
			res.Interrupted = true
			cancelled = nil
			stop("the apply was interrupted")
		case <-hard:
			res.Interrupted = true
			hard = nil
			stop("the apply was cancelled")
		}
	}
	for i := range nodes {
		if n := &nodes[i]; n.status == pending && !n.trivial() {
			res.NotStarted = append(res.NotStarted, n.addr)
		}
	}
	if len(res.NotStarted) > 0 {
		r.hooks.OnSkip(res.NotStarted, stopReason)
		res.Diagnostics = append(res.Diagnostics, listDiag("",
			fmt.Sprintf("%s not started: %s", plural(len(res.NotStarted), "change"), stopReason), res.NotStarted))
	}
	slices.Sort(res.Skipped)
	slices.SortFunc(res.Failures, func(a, b Failure) int { return strings.Compare(a.Addr, b.Addr) })
	return res
}

// skip marks every change that depends on node i, directly or not, as skipped, and returns the
// addresses of those that had something to do, sorted. Each node is skipped at most once.
func (r *run) skip(i int32) []string {
	var out []string
	stack := []int32{i}
	for len(stack) > 0 {
		j := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, d := range r.nodes[j].dependents {
			if n := &r.nodes[d]; n.status == pending {
				n.status = skipped
				if !n.trivial() {
					out = append(out, n.addr)
				}
				stack = append(stack, d)
			}
		}
	}
	slices.Sort(out)
	return out
}

func count(res *Result, a plan.Action) {
	switch a {
	case plan.Create:
		res.Added++
	case plan.Update:
		res.Changed++
	case plan.Delete:
		res.Destroyed++
	case plan.Read:
		res.Read++
	case plan.DeleteThenCreate, plan.CreateThenDelete:
		res.Added++
		res.Destroyed++
	}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun + " was"
	}
	return fmt.Sprintf("%d %ss were", n, noun)
}

// listDiag is one warning listing addresses, at most 50 of them.
func listDiag(addr, summary string, addrs []string) diag.Diagnostic {
	const most = 50
	shown := addrs[:min(len(addrs), most)]
	detail := strings.Join(shown, "\n")
	if len(addrs) > most {
		detail += fmt.Sprintf("\n… and %d more", len(addrs)-most)
	}
	return diag.Diagnostic{Severity: diag.Warning, Summary: summary, Detail: detail, Address: addr}
}

// worker executes node i, then whatever node the scheduler hands it on work, until work is closed.
func (r *run) worker(i int32, work <-chan int32, events chan<- event) {
	for ok := true; ok; i, ok = <-work {
		r.execute(i, events)
	}
}

// execute runs node i and reports to the scheduler.
func (r *run) execute(i int32, events chan<- event) {
	n := &r.nodes[i]
	s := &slot{r: r, n: n, i: i, events: events}
	action, res, ds := r.change(n, s)
	if s.aborted {
		events <- event{idx: i, done: true, free: !s.freed, notStarted: true}
		return
	}
	s.start() // a change that needed no provider call starts and ends here
	elapsed := time.Since(s.started)
	ds = ds.WithAddress(n.addr)
	if ds.HasErrors() {
		r.hooks.OnError(n.addr, action, elapsed, ds.Errors())
		if r.log.IsDebug() {
			r.log.Debug("change failed", "address", n.addr, "action", action.String(), "elapsed", elapsed, "error", ds.Errors().String())
		}
	} else {
		r.hooks.OnComplete(n.addr, action, elapsed, res)
		if r.log.IsDebug() {
			r.log.Debug("change complete", "address", n.addr, "action", action.String(), "elapsed", elapsed)
		}
	}
	// A change that still holds its slot hands it to the scheduler with the outcome, so that the
	// scheduler learns of a failure before anything could start in its place.
	events <- event{idx: i, done: true, free: !s.freed, claimed: s.claimed && !s.freed, action: action, diags: ds}
}

// slot is a change's place among the operations at the providers: at most -parallelism (and each
// provider's limit) hold one. A change claims it just before its first provider call, after resolving
// its configuration and, when the saved plan holds, journaling its intent, and frees it after its
// last call, before journaling the outcome. It is used by the change's worker only.
type slot struct {
	r       *run
	n       *node
	i       int32
	events  chan<- event
	started time.Time
	claimed bool
	freed   bool
	aborted bool // the walk stopped before the change could claim its slot
}

// claim takes the change's slot, waiting for one to be free, and reports false, for good, when the
// walk stops first. The change is started (OnStart) when it has its slot.
func (s *slot) claim() bool {
	if s.claimed || s.aborted {
		return s.claimed
	}
	r := s.r
	pv := r.provs[s.n.prov]
	if !acquire(r.slots, r.stopping) {
		s.aborted = true
		return false
	}
	if pv.slots != nil && !acquire(pv.slots, r.stopping) {
		<-r.slots
		s.aborted = true
		return false
	}
	s.claimed = true
	s.start()
	return true
}

// acquire takes a place in sem unless stopping is closed before or meanwhile.
func acquire(sem chan struct{}, stopping <-chan struct{}) bool {
	select {
	case <-stopping:
		return false
	case sem <- struct{}{}:
	}
	select {
	case <-stopping: // both were ready: stopping wins
		<-sem
		return false
	default:
		return true
	}
}

// free gives the slot back once the change's provider calls are over, and tells the scheduler.
func (s *slot) free() {
	if s.freed {
		return
	}
	s.freed = true
	if s.claimed {
		s.r.unclaim(s.n.prov)
	}
	s.events <- event{idx: s.i, free: true}
}

func (s *slot) start() {
	if s.started.IsZero() {
		s.started = time.Now()
		s.r.hooks.OnStart(s.n.addr, s.n.c.Action)
	}
}

// unclaim gives back a slot of provider prov.
func (r *run) unclaim(prov int) {
	if pv := r.provs[prov]; pv.slots != nil {
		<-pv.slots
	}
	<-r.slots
}
