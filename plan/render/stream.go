package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/plan"
	"github.com/provhq/prov/state"
)

// UIVersion is the version of the event stream format, sent as "ui" in the first (version) event.
const UIVersion = "1.0"

// Operation names what a change_summary sums up.
type Operation string

// The operations of a change_summary.
const (
	OpPlan    Operation = "plan"
	OpApply   Operation = "apply"
	OpDestroy Operation = "destroy"
)

// Hook is what an apply or refresh event says about one resource operation.
type Hook struct {
	Addr   string
	Type   string
	Action plan.Action
	// IDKey and IDValue name the object ("id", "00a1-web-2"), when it has an identity yet.
	IDKey, IDValue string
	// Elapsed is the time since the operation started.
	Elapsed time.Duration
	// Message and Percent are the provider's latest progress report (apply_progress); Percent 0 means
	// none was given.
	Message string
	Percent int
}

// NewHook returns the Hook of the change of addr in p, its identity taken from the prior attributes.
// The engine reports addresses; this fills in what the events need besides. An action of 0 (the
// engine's progress reports carry none) means the change's planned action.
func NewHook(p *plan.Plan, addr string, action plan.Action) Hook {
	h := Hook{Addr: addr, Action: action}
	if ch, ok := p.Changes[addr]; ok {
		h.Type = ch.Type
		if action == plan.NoOp {
			h.Action = ch.Action
		}
		h = h.WithID(ch.Before)
	}
	return h
}

// WithID returns h with IDKey and IDValue taken from attrs' "id" attribute, when it has a known one.
func (h Hook) WithID(attrs any) Hook {
	m, _ := attrs.(map[string]any)
	switch id := m["id"].(type) {
	case string:
		h.IDKey, h.IDValue = "id", id
	case float64:
		h.IDKey, h.IDValue = "id", scalar(id)
	}
	return h
}

// Stream writes prov's machine-readable UI: JSON lines shaped like Terraform's (`terraform plan -json`),
// one event per line, each with @level, @message, @module "prov.ui", @timestamp and type. It is safe
// for concurrent use; a line is never interleaved with another. The first write error stops the stream
// and is kept for Err.
type Stream struct {
	w   io.Writer
	now func() time.Time

	// Lines are written in groups: whoever finds no write in progress writes every line queued so far
	// in one call, and the others wait for it. At thousands of events a second that is a fraction of
	// the system calls, and every emit still returns only once its line is written.
	mu      sync.Mutex
	wrote   sync.Cond // signalled when a group write ends
	queue   []byte    // lines not yet being written
	spare   []byte    // the buffer of the last group, reused
	queued  uint64    // lines queued since the start
	written uint64    // lines written (or dropped after an error)
	writing bool
	err     error
}

// NewStream returns a Stream writing to w. now is the clock for @timestamp; nil means time.Now.
func NewStream(w io.Writer, now func() time.Time) *Stream {
	if now == nil {
		now = time.Now
	}
	s := &Stream{w: w, now: now}
	s.wrote.L = &s.mu
	return s
}

// Err returns the first error writing the stream, if any.
func (s *Stream) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

const timestampLayout = "2006-01-02T15:04:05.000000Z07:00"

func (s *Stream) emit(level, typ, msg string, fields map[string]any) {
	ev := make(map[string]any, len(fields)+5)
	maps.Copy(ev, fields)
	ev["@level"] = level
	ev["@message"] = msg
	ev["@module"] = "prov.ui"
	ev["@timestamp"] = s.now().Format(timestampLayout)
	ev["type"] = typ
	s.write(typ, ev)
}

// write encodes ev as one line (<, > and & as themselves, like the hand-written events) and writes it.
func (s *Stream) write(typ string, ev any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(ev)
	b := bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})
	if err != nil {
		s.mu.Lock()
		if s.err == nil {
			s.err = fmt.Errorf("render: event %s: %w", typ, err)
		}
		s.mu.Unlock()
		return
	}
	s.writeLine(b)
}

// writeLine writes one encoded event.
func (s *Stream) writeLine(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return
	}
	s.queue = append(append(s.queue, b...), '\n')
	s.queued++
	mine := s.queued
	for s.written < mine {
		if s.writing {
			s.wrote.Wait()
			continue
		}
		group, upTo := s.queue, s.queued
		s.queue, s.writing = s.spare[:0], true
		s.mu.Unlock()
		_, err := s.w.Write(group)
		s.mu.Lock()
		s.spare, s.written, s.writing = group, upTo, false
		if err != nil && s.err == nil {
			s.err = fmt.Errorf("render: write events: %w", err)
		}
		s.wrote.Broadcast()
	}
}

// Version is the first event: prov's version and the stream format version.
func (s *Stream) Version(provVersion string) {
	s.emit("info", "version", "prov "+provVersion, map[string]any{"prov": provVersion, "ui": UIVersion})
}

// Log writes a free-form informational line.
func (s *Stream) Log(msg string) { s.emit("info", "log", msg, nil) }

// Plan writes what a plan will do: a planned_change per changed resource (by address) and an outputs
// event when outputs change. The change_summary follows with ChangeSummary(OpPlan, p.Summary()).
func (s *Stream) Plan(p *plan.Plan) {
	for _, ch := range sortedChanges(p, false) {
		s.PlannedChange(ch)
	}
	if ocs := outputChanges(p); len(ocs) > 0 {
		outs := map[string]any{}
		for _, oc := range ocs {
			outs[oc.Name] = map[string]any{"sensitive": oc.Sensitive, "action": streamAction(oc.Action)}
		}
		s.emit("info", "outputs", "Outputs: "+itoa(len(outs)), map[string]any{"outputs": outs})
	}
}

// PlannedChange writes one planned_change event.
func (s *Stream) PlannedChange(ch *plan.Change) {
	act := streamAction(ch.Action)
	s.emit("info", "planned_change", ch.Addr+": Plan to "+act, map[string]any{"change": changeEvent(ch)})
}

// ResourceDrift writes a resource_drift event: the object changed outside prov since the last apply.
func (s *Stream) ResourceDrift(ch *plan.Change) {
	s.emit("info", "resource_drift", ch.Addr+": Drift detected ("+streamAction(ch.Action)+")",
		map[string]any{"change": changeEvent(ch)})
}

func changeEvent(ch *plan.Change) map[string]any {
	ev := map[string]any{"resource": resourceEvent(ch.Addr, ch.Type), "action": streamAction(ch.Action)}
	if r := actionReason(ch, false); r != "" && ch.Action != plan.Delete {
		ev["reason"] = r
	}
	return ev
}

// ChangeSummary writes the final counts of a plan or an apply.
func (s *Stream) ChangeSummary(op Operation, sum plan.Summary) {
	var msg string
	switch {
	case op == OpApply:
		msg = fmt.Sprintf("Apply complete! Resources: %d added, %d changed, %d destroyed.", sum.Add, sum.Change, sum.Destroy)
	case op == OpDestroy && sum.Add+sum.Change == 0:
		msg = fmt.Sprintf("Destroy complete! Resources: %d destroyed.", sum.Destroy)
	default:
		msg = Sentence("Plan", sum)
	}
	s.emit("info", "change_summary", msg, map[string]any{"changes": map[string]any{
		"add": sum.Add, "change": sum.Change, "remove": sum.Destroy, "replace": sum.Replace, "import": 0,
		"operation": string(op),
	}})
}

// ApplyStart writes that an operation began.
func (s *Stream) ApplyStart(h Hook) {
	msg := h.Addr + ": " + verbs(h.Action).ing + "..." + idSuffix(h, "")
	s.emitHook("info", "apply_start", msg, h, false)
}

// ApplyProgress writes that an operation is still running.
func (s *Stream) ApplyProgress(h Hook) {
	msg := h.Addr + ": Still " + strings.ToLower(verbs(h.Action).ing) + "..." + idSuffix(h, elapsed(h)+" elapsed")
	if h.Message != "" {
		msg += " " + h.Message
	}
	s.emitHook("info", "apply_progress", msg, h, true)
}

// ApplyComplete writes that an operation succeeded.
func (s *Stream) ApplyComplete(h Hook) {
	msg := h.Addr + ": " + verbs(h.Action).done + " complete after " + elapsed(h) + idSuffix(h, "")
	s.emitHook("info", "apply_complete", msg, h, true)
}

// ApplyErrored writes that an operation failed; the reason follows as a diagnostic event.
func (s *Stream) ApplyErrored(h Hook) {
	msg := h.Addr + ": " + verbs(h.Action).done + " errored after " + elapsed(h)
	s.emitHook("error", "apply_errored", msg, h, true)
}

// RefreshStart writes that prov began reading the current state of an object.
func (s *Stream) RefreshStart(h Hook) {
	s.emit("info", "refresh_start", h.Addr+": Refreshing state..."+idSuffix(h, ""),
		map[string]any{"hook": refreshEvent(h)})
}

// RefreshComplete writes that prov read the current state of an object.
func (s *Stream) RefreshComplete(h Hook) {
	s.emit("info", "refresh_complete", h.Addr+": Refresh complete"+idSuffix(h, ""),
		map[string]any{"hook": refreshEvent(h)})
}

// Skipped writes that changes will not be carried out because cause (a failed address, or why the walk
// stopped) prevents them. addrs are reported once, in the order given.
func (s *Stream) Skipped(addrs []string, cause string) {
	s.emit("warn", "apply_skipped", fmt.Sprintf("%s skipped: %s", plural(len(addrs), "change"), cause),
		map[string]any{"skipped": map[string]any{"addrs": addrs, "cause": cause}})
}

// Phase writes a stage of a resume or a rollback ("resume", "settle", "rollback", "state") with its
// line for the user.
func (s *Stream) Phase(phase, message string) {
	s.emit("info", "phase", message, map[string]any{"phase": phase})
}

// Diagnostic writes one error or warning.
func (s *Stream) Diagnostic(d diag.Diagnostic) {
	level, prefix := "error", "Error: "
	if d.Severity == diag.Warning {
		level, prefix = "warn", "Warning: "
	}
	ev := map[string]any{"severity": d.Severity.String(), "summary": d.Summary, "detail": d.Detail}
	if d.Address != "" {
		ev["address"] = d.Address
	}
	if d.Path != "" {
		ev["path"] = d.Path
	}
	if d.Pos.IsValid() {
		pos := map[string]any{"line": d.Pos.Line, "column": d.Pos.Col}
		ev["range"] = map[string]any{"filename": d.Pos.File, "start": pos, "end": pos}
	}
	s.emit(level, "diagnostic", prefix+d.Summary, map[string]any{"diagnostic": ev})
}

// Diagnostics writes each diagnostic in order.
func (s *Stream) Diagnostics(ds diag.Diagnostics) {
	for _, d := range ds {
		s.Diagnostic(d)
	}
}

// Outputs writes the root outputs after an apply; sensitive values are left out.
func (s *Stream) Outputs(outputs map[string]*state.Output) {
	outs := make(map[string]any, len(outputs))
	for _, n := range slices.Sorted(maps.Keys(outputs)) {
		o := outputs[n]
		ev := map[string]any{"sensitive": o.Sensitive}
		if !o.Sensitive {
			ev["value"] = cleanOutput(o.Value, false)
		}
		outs[n] = ev
	}
	s.emit("info", "outputs", "Outputs: "+itoa(len(outs)), map[string]any{"outputs": outs})
}

// resourceEvent identifies a resource as Terraform's events do.
func resourceEvent(addr, typ string) map[string]any {
	provider, _, _ := strings.Cut(typ, "_")
	return map[string]any{
		"addr": addr, "module": "", "resource": addr, "implied_provider": provider,
		"resource_type": typ, "resource_name": name(addr), "resource_key": nil,
	}
}

// emitHook writes an apply event. These are the stream's bulk (two or more per operation), so they
// are written by hand rather than marshalled from maps: the fields in the order a map's sorted keys
// would give, the bytes the same (golden test).
func (s *Stream) emitHook(level, typ, msg string, h Hook, withElapsed bool) {
	provider, _, _ := strings.Cut(h.Type, "_")
	b := make([]byte, 0, 512)
	b = append(b, `{"@level":`...)
	b = value.AppendString(b, level)
	b = append(b, `,"@message":`...)
	b = value.AppendString(b, msg)
	b = append(b, `,"@module":"prov.ui","@timestamp":`...)
	b = append(s.now().AppendFormat(append(b, '"'), timestampLayout), '"') // nothing in it needs escaping
	b = append(b, `,"hook":{"action":`...)
	b = value.AppendString(b, streamAction(h.Action))
	if withElapsed {
		b = append(b, `,"elapsed_seconds":`...)
		b = strconv.AppendInt(b, int64(h.Elapsed/time.Second), 10)
	}
	if h.IDKey != "" {
		b = append(b, `,"id_key":`...)
		b = value.AppendString(b, h.IDKey)
		b = append(b, `,"id_value":`...)
		b = value.AppendString(b, h.IDValue)
	}
	if h.Message != "" {
		b = append(b, `,"message":`...)
		b = value.AppendString(b, h.Message)
	}
	if h.Percent > 0 {
		b = append(b, `,"percent":`...)
		b = strconv.AppendInt(b, int64(h.Percent), 10)
	}
	b = append(b, `,"resource":{"addr":`...)
	b = value.AppendString(b, h.Addr)
	b = append(b, `,"implied_provider":`...)
	b = value.AppendString(b, provider)
	b = append(b, `,"module":"","resource":`...)
	b = value.AppendString(b, h.Addr)
	b = append(b, `,"resource_key":null,"resource_name":`...)
	b = value.AppendString(b, name(h.Addr))
	b = append(b, `,"resource_type":`...)
	b = value.AppendString(b, h.Type)
	b = append(b, `}},"type":`...)
	b = value.AppendString(b, typ)
	s.writeLine(append(b, '}'))
}

func refreshEvent(h Hook) map[string]any {
	ev := map[string]any{"resource": resourceEvent(h.Addr, h.Type)}
	if h.IDKey != "" {
		ev["id_key"], ev["id_value"] = h.IDKey, h.IDValue
	}
	return ev
}

// streamAction is Terraform's action word in events.
func streamAction(a plan.Action) string {
	switch a {
	case plan.Create:
		return "create"
	case plan.Update:
		return "update"
	case plan.Delete:
		return "delete"
	case plan.Read:
		return "read"
	case plan.DeleteThenCreate, plan.CreateThenDelete:
		return "replace"
	}
	return "noop"
}

type verbPair struct{ ing, done string }

// ProgressVerbs are the words Terraform's progress lines use for an action: "Creating" while it runs,
// "Creation" when it is complete.
func ProgressVerbs(a plan.Action) (doing, done string) {
	v := verbs(a)
	return v.ing, v.done
}

// verbs are the words of Terraform's progress messages per action.
func verbs(a plan.Action) verbPair {
	switch a {
	case plan.Create:
		return verbPair{"Creating", "Creation"}
	case plan.Update:
		return verbPair{"Modifying", "Modifications"}
	case plan.Delete:
		return verbPair{"Destroying", "Destruction"}
	case plan.Read:
		return verbPair{"Reading", "Read"}
	case plan.DeleteThenCreate, plan.CreateThenDelete:
		return verbPair{"Replacing", "Replacement"}
	}
	return verbPair{"Checking", "Check"}
}

func elapsed(h Hook) string { return h.Elapsed.Truncate(time.Second).String() }

// idSuffix is " [id=…, extra]" as Terraform appends it, or " [extra]", or nothing.
func idSuffix(h Hook, extra string) string {
	var parts []string
	if h.IDKey != "" {
		parts = append(parts, h.IDKey+"="+h.IDValue)
	}
	if extra != "" {
		parts = append(parts, extra)
	}
	if len(parts) == 0 {
		return ""
	}
	return " [" + strings.Join(parts, ", ") + "]"
}
