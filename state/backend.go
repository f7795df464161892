package state

import (
	"context"
	"strconv"
	"time"
)

// Reader reads the latest state. A backend with no state yet returns a new empty State (fresh lineage,
// serial 0), never nil.
type Reader interface {
	Read(ctx context.Context) (*State, error)
}

// Writer replaces the stored state. Implementations write atomically: a reader sees the old or the new
// state, never a mix, and a failed write leaves the old one in place.
type Writer interface {
	Write(ctx context.Context, s *State) error
}

// LockInfo says who holds a lock.
type LockInfo struct {
	ID        string    `json:"id"`
	Operation string    `json:"operation"` // "apply", "plan", …
	Who       string    `json:"who"`       // user@host
	PID       int       `json:"pid"`
	Host      string    `json:"host"`
	Version   string    `json:"version"` // prov version
	Created   time.Time `json:"created"`
}

// Locker guards a state against concurrent writers.
type Locker interface {
	// Lock takes the lock, waiting up to timeout (0: fail at once). When the lock is held by someone else
	// the error is a *LockError naming the holder.
	Lock(ctx context.Context, info LockInfo, timeout time.Duration) (id string, err error)
	Unlock(id string) error
	// ForceUnlock removes a lock left behind by a dead process, if its ID matches.
	ForceUnlock(id string) error
}

// LockError reports a lock held by someone else.
type LockError struct {
	Holder LockInfo
	Err    error
}

func (e *LockError) Error() string {
	return "state is locked by " + e.Holder.Who + " (pid " + strconv.Itoa(e.Holder.PID) + ", operation " +
		e.Holder.Operation + ", since " + e.Holder.Created.Format(time.RFC3339) + ", lock ID " + e.Holder.ID + ")"
}

func (e *LockError) Unwrap() error { return e.Err }

// RecordKind is the kind of a journal record.
type RecordKind string

// The journal record kinds.
const (
	// Begin opens a journal: it carries the plan being applied (or rolled back).
	Begin RecordKind = "begin"
	// Intent is written, and made durable, before a side effect.
	Intent RecordKind = "intent"
	// Commit is written after a side effect succeeded; it carries the new resource (nil after a delete).
	Commit RecordKind = "commit"
	// Fail is written after a side effect failed; it carries the partial resource, if any.
	Fail RecordKind = "fail"
	// Output records a root output value computed at the end of the walk.
	OutputRecord RecordKind = "output"
)

// Record is one journal entry.
type Record struct {
	Kind RecordKind `json:"kind"`
	Time time.Time  `json:"time"`
	// OpID identifies one operation (one side effect on one resource); Intent, Commit and Fail share it.
	OpID   string `json:"op,omitempty"`
	Addr   string `json:"addr,omitempty"`
	Action string `json:"action,omitempty"` // "create", "update", "delete", "read"
	// Prior is the resource before the operation (Intent), nil for a create.
	Prior *Resource `json:"prior,omitempty"`
	// New is the resource after the operation (Commit, Fail), nil when it does not exist.
	New   *Resource `json:"new,omitempty"`
	Error string    `json:"error,omitempty"`
	// Plan is the serialized plan being applied (Begin only), in the plan file format.
	Plan []byte `json:"plan,omitempty"`
	// Mode is "apply" or "rollback" (Begin only).
	Mode string `json:"mode,omitempty"`
	// Output is set on Output records.
	Output *Output `json:"output,omitempty"`
	Name   string  `json:"name,omitempty"`
}

// JournalStore keeps the journal of an apply in progress next to the state.
type JournalStore interface {
	// Create starts a new journal whose first record is begin. It fails if one already exists.
	Create(ctx context.Context, begin Record) (JournalWriter, error)
	// Open reopens an existing journal for appending (resume, rollback).
	Open(ctx context.Context) (JournalWriter, error)
	// Records reads the whole journal. A torn last record (a crash mid-write) is dropped, not an error;
	// corruption before the last record is an error. ok is false when there is no journal.
	Records(ctx context.Context) (recs []Record, ok bool, err error)
	// Remove deletes the journal, after its records were folded into a new state.
	Remove(ctx context.Context) error
}

// JournalWriter appends records. Append returns only after the record is durable (fsynced); concurrent
// Appends share fsyncs (group commit), so the cost per record is O(1) and amortised.
type JournalWriter interface {
	Append(rec Record) error
	Close() error
}

// Backend is a complete state storage: state, lock and journal.
type Backend interface {
	Reader
	Writer
	Locker
	JournalStore
}
