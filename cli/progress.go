package cli

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/provhq/prov/plan"
	"github.com/provhq/prov/plan/render"
)

// progressView shows an apply as it happens. Every start, completion and failure gets a permanent line
// (Terraform's wording, so log scrapers keep working). On a terminal it also keeps a live block at the
// bottom: one line per operation in flight with its elapsed time, redrawn a few times a second.
type progressView struct {
	out   io.Writer
	live  bool
	color bool

	mu       sync.Mutex
	inflight map[string]inflightOp
	drawn    int // lines of the live block currently on screen
	stop     chan struct{}
	done     chan struct{}
}

type inflightOp struct {
	action  plan.Action
	started time.Time
	message string
}

const maxLiveLines = 12

func newProgressView(out io.Writer, live, color bool) *progressView {
	v := &progressView{out: out, live: live, color: color, inflight: map[string]inflightOp{}}
	if live {
		v.stop, v.done = make(chan struct{}), make(chan struct{})
		go v.tick()
	}
	return v
}

func (v *progressView) tick() {
	defer close(v.done)
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-v.stop:
			return
		case <-t.C:
			v.mu.Lock()
			v.redraw()
			v.mu.Unlock()
		}
	}
}

// Close stops the live block and erases it.
func (v *progressView) Close() {
	if v.live {
		close(v.stop)
		<-v.done
		v.mu.Lock()
		v.erase()
		v.mu.Unlock()
	}
}

func (v *progressView) erase() {
	if v.drawn > 0 {
		fmt.Fprintf(v.out, "\x1b[%dA\x1b[J", v.drawn)
		v.drawn = 0
	}
}

func (v *progressView) redraw() {
	v.erase()
	if len(v.inflight) == 0 {
		return
	}
	addrs := slices.SortedFunc(maps.Keys(v.inflight), func(a, b string) int {
		return v.inflight[a].started.Compare(v.inflight[b].started)
	})
	var b strings.Builder
	for i, addr := range addrs {
		if i == maxLiveLines {
			fmt.Fprintf(&b, "  … and %d more in flight\n", len(addrs)-maxLiveLines)
			v.drawn++
			break
		}
		op := v.inflight[addr]
		line := fmt.Sprintf("  %s %s: %s [%s elapsed]", v.spinner(), addr, ingVerb(op.action), roundElapsed(time.Since(op.started)))
		if op.message != "" {
			line += " " + op.message
		}
		b.WriteString(v.paint("2", line))
		b.WriteByte('\n')
		v.drawn++
	}
	io.WriteString(v.out, b.String())
}

func (v *progressView) spinner() string {
	frames := []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}
	return frames[time.Now().UnixMilli()/100%int64(len(frames))]
}

// println writes a permanent line above the live block.
func (v *progressView) println(line string) {
	if v.live {
		v.erase()
	}
	fmt.Fprintln(v.out, line)
}

func (v *progressView) paint(code, s string) string {
	if !v.color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (v *progressView) Start(addr string, action plan.Action) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.inflight[addr] = inflightOp{action: action, started: time.Now()}
	v.println(v.paint("1", addr) + ": " + ingVerb(action) + "...")
}

func (v *progressView) Progress(addr, message string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if op, ok := v.inflight[addr]; ok {
		op.message = message
		v.inflight[addr] = op
	}
	if !v.live && message != "" {
		v.println(addr + ": " + message)
	}
}

func (v *progressView) Complete(addr string, action plan.Action, elapsed time.Duration, id string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.inflight, addr)
	line := fmt.Sprintf("%s: %s complete after %s", v.paint("1", addr), nounVerb(action), roundElapsed(elapsed))
	if id != "" {
		line += " [id=" + id + "]"
	}
	v.println(line)
}

func (v *progressView) Fail(addr string, action plan.Action, elapsed time.Duration, summary string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.inflight, addr)
	v.println(v.paint("31", fmt.Sprintf("%s: %s failed after %s: %s", addr, nounVerb(action), roundElapsed(elapsed), summary)))
}

func (v *progressView) Skip(addrs []string, cause string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(addrs) == 0 {
		return
	}
	v.println(v.paint("33", fmt.Sprintf("Skipped %d dependent change(s) of %s: %s", len(addrs), cause, strings.Join(addrs, ", "))))
}

// Message writes a free-form line (resume and rollback phases).
func (v *progressView) Message(line string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.println(line)
}

func roundElapsed(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}

func ingVerb(a plan.Action) string {
	doing, _ := render.ProgressVerbs(a)
	return doing
}

func nounVerb(a plan.Action) string {
	_, done := render.ProgressVerbs(a)
	return done
}
