package local

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/provhq/prov/state"
)

// JournalVersion is the version of the journal format this build writes and reads.
const JournalVersion = 1

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("journal writer closed")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type journalHeader struct {
	Version int  `json:"prov_journal"`
	Codec   bool `json:"codec"`
}

// Create starts a new journal whose first record is begin. The header and begin record appear
// atomically (written to a temporary file, made durable, then linked into place), and creation fails
// with state.ErrJournalExists if a journal is already there.
func (b *Backend) Create(ctx context.Context, begin state.Record) (state.JournalWriter, error) {
	name := b.path(JournalFile)
	if begin.Kind != state.Begin {
		return nil, fmt.Errorf("state: create journal %s: first record is %q, want %q", name, begin.Kind, state.Begin)
	}
	hdr, _ := json.Marshal(journalHeader{Version: JournalVersion, Codec: b.opts.Codec != nil})
	line, err := b.encodeRecord(&begin)
	if err != nil {
		return nil, fmt.Errorf("state: create journal %s: %w", name, err)
	}
	markStart(line)
	data := append(append(hdr, '\n'), line...)

	f, err := os.CreateTemp(b.dir, "."+JournalFile+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("state: create journal: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("state: create journal %s: %w", name, err)
	}
	// Link, unlike rename, fails if the name exists: two applies can never both create a journal.
	if err := os.Link(tmp, name); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("state: create journal %s: %w", name, state.ErrJournalExists)
		}
		return nil, fmt.Errorf("state: create journal: %w", err)
	}
	if err := syncDir(b.dir); err != nil {
		return nil, fmt.Errorf("state: create journal: %w", err)
	}
	return b.openWriter(name)
}

// Open reopens the journal for appending, after cutting off a torn last record if there is one. It
// fails with an error wrapping fs.ErrNotExist when there is no journal.
func (b *Backend) Open(ctx context.Context) (state.JournalWriter, error) {
	name := b.path(JournalFile)
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("state: open journal: %w", err)
	}
	_, good, err := ParseJournal(data, name, b.opts.Codec)
	if err != nil {
		return nil, fmt.Errorf("state: open journal: %w", err)
	}
	if good < len(data) {
		if err := truncate(name, int64(good)); err != nil {
			return nil, fmt.Errorf("state: open journal: cut torn record: %w", err)
		}
	}
	return b.openWriter(name)
}

func truncate(name string, size int64) error {
	f, err := os.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return err
	}
	return f.Sync()
}

// Records reads the whole journal; ok is false when there is none. A torn last record is dropped.
func (b *Backend) Records(ctx context.Context) ([]state.Record, bool, error) {
	name := b.path(JournalFile)
	data, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("state: read journal: %w", err)
	}
	recs, _, err := ParseJournal(data, name, b.opts.Codec)
	if err != nil {
		return nil, true, fmt.Errorf("state: read journal: %w", err)
	}
	return recs, true, nil
}

// Remove deletes the journal; removing a missing journal is not an error.
func (b *Backend) Remove(ctx context.Context) error {
	if err := os.Remove(b.path(JournalFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("state: remove journal: %w", err)
	}
	if err := syncDir(b.dir); err != nil {
		return fmt.Errorf("state: remove journal: %w", err)
	}
	return nil
}

// encodeRecord returns the record's line: checksum, flag (a space: not the first of a write), payload,
// newline.
func (b *Backend) encodeRecord(rec *state.Record) ([]byte, error) { return b.appendRecord(nil, rec) }

// appendRecord appends rec's line to dst; on error, dst is returned as it was.
func (b *Backend) appendRecord(dst []byte, rec *state.Record) ([]byte, error) {
	if rec.Time.IsZero() {
		rec.Time = time.Now().UTC()
	}
	start := len(dst)
	line := append(dst, "        "...) // the checksum, set below
	line = append(line, flagMore)
	var err error
	if b.opts.Codec == nil {
		// Not json.Marshal, which would validate and compact it again.
		if line, err = rec.AppendJSON(line); err != nil {
			return dst, fmt.Errorf("encode %s record: %w", rec.Kind, err)
		}
	} else {
		payload, err := rec.MarshalJSON()
		if err != nil {
			return dst, fmt.Errorf("encode %s record: %w", rec.Kind, err)
		}
		enc, err := b.opts.Codec.Encode(payload)
		if err != nil {
			return dst, fmt.Errorf("encode %s record: codec: %w", rec.Kind, err)
		}
		line = base64.StdEncoding.AppendEncode(line, enc)
	}
	line = append(line, '\n')
	setChecksum(line[start:])
	return line, nil
}

// The flag byte after a record's checksum.
const (
	flagMore  = ' ' // a record after the first of its write
	flagStart = '>' // the first record of a write: the writes before it were fsynced
)

// setChecksum writes the checksum of line's flag and payload into its first 8 bytes.
func setChecksum(line []byte) {
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc32.Checksum(line[8:len(line)-1], castagnoli))
	hex.Encode(line[:8], sum[:])
}

// markStart flags the first line of batch (a whole number of lines) as the start of a write.
func markStart(batch []byte) {
	line := batch[:bytes.IndexByte(batch, '\n')+1]
	line[8] = flagStart
	setChecksum(line)
}

// ParseJournal decodes a journal file's contents (name is used in errors; codec must be the one the
// journal was written with, nil for plain). It returns the records and the length of the prefix of data
// they occupy: a torn tail is not included, and good < len(data) then.
//
// The writer starts a write only after the fsync of the one before returned, so only the last write
// can be torn. A damaged line (malformed, or its checksum does not match) is therefore torn, and dropped
// with everything after it, unless a valid line starting a later write follows it: then it is
// corruption of durable records, an error naming the file, the record's number (the begin record is 1)
// and its byte offset. A damaged header, or a line whose checksum matches but which does not decode (a
// wrong codec key), is an error too.
func ParseJournal(data []byte, name string, codec state.Codec) (recs []state.Record, good int, err error) {
	nl := bytes.IndexByte(data, '\n')
	if nl < 0 {
		return nil, 0, fmt.Errorf("%s: the journal header is missing or cut short", name)
	}
	var hdr journalHeader
	if err := json.Unmarshal(data[:nl], &hdr); err != nil || hdr.Version == 0 {
		return nil, 0, fmt.Errorf("%s: not a prov journal (bad header line)", name)
	}
	if hdr.Version != JournalVersion {
		return nil, 0, fmt.Errorf("%s: journal format version %d, this prov reads %d", name, hdr.Version, JournalVersion)
	}
	if hdr.Codec != (codec != nil) {
		if hdr.Codec {
			return nil, 0, fmt.Errorf("%s: the journal's records are encoded, and no codec is configured to decode them", name)
		}
		return nil, 0, fmt.Errorf("%s: the journal's records are plain, but a codec is configured", name)
	}
	good = nl + 1
	bad, badN := -1, 0 // offset and number of the first damaged line
	for pos, n := good, 1; pos < len(data); n++ {
		end := bytes.IndexByte(data[pos:], '\n')
		if end < 0 {
			break // torn: the last line was cut short
		}
		next := pos + end + 1
		rec, start, err := decodeRecord(data[pos:pos+end], codec)
		var undecodable *undecodableError
		switch {
		case errors.As(err, &undecodable):
			return nil, 0, fmt.Errorf("%s: record %d (byte %d): %w", name, n, pos, err)
		case err != nil:
			if bad < 0 {
				bad, badN = pos, n
			}
		case bad >= 0:
			if start {
				_, _, err := decodeRecord(data[bad:bad+bytes.IndexByte(data[bad:], '\n')], codec)
				return nil, 0, fmt.Errorf("%s: record %d (byte %d) is corrupt: %w", name, badN, bad, err)
			}
		default:
			recs = append(recs, rec)
			good = next
		}
		pos = next
	}
	return recs, good, nil
}

// undecodableError is a line whose checksum matches but whose payload does not decode. It cannot be
// damage (the checksum says the bytes are those written): the codec or its key is wrong.
type undecodableError struct{ err error }

func (e *undecodableError) Error() string { return "cannot decode: " + e.err.Error() }
func (e *undecodableError) Unwrap() error { return e.err }

// decodeRecord decodes one line (without its newline) and reports whether it starts a write. Damage
// (a malformed line, a checksum mismatch) is a plain error; an *undecodableError otherwise.
func decodeRecord(line []byte, codec state.Codec) (rec state.Record, start bool, err error) {
	if len(line) < 10 || line[8] != flagMore && line[8] != flagStart {
		return rec, false, errors.New("malformed line")
	}
	var sum [4]byte
	if _, err := hex.Decode(sum[:], line[:8]); err != nil {
		return rec, false, errors.New("malformed checksum")
	}
	if crc32.Checksum(line[8:], castagnoli) != binary.BigEndian.Uint32(sum[:]) {
		return rec, false, errors.New("checksum mismatch")
	}
	start = line[8] == flagStart
	payload := line[9:]
	if codec != nil {
		enc := make([]byte, base64.StdEncoding.DecodedLen(len(payload)))
		n, err := base64.StdEncoding.Decode(enc, payload)
		if err != nil {
			return rec, start, &undecodableError{fmt.Errorf("base64: %w", err)}
		}
		if payload, err = codec.Decode(enc[:n]); err != nil {
			return rec, start, &undecodableError{fmt.Errorf("codec: %w", err)}
		}
	}
	if err := json.Unmarshal(payload, &rec); err != nil {
		return rec, start, &undecodableError{err}
	}
	if rec.Kind == "" {
		return rec, start, &undecodableError{errors.New("record has no kind")}
	}
	return rec, start, nil
}

// writer appends to an open journal with group commit. Appenders add their records to the batch
// being gathered and wait for it; the writer's flusher goroutine takes the whole batch, encodes it,
// writes it with one write and one fdatasync, and wakes exactly the appenders it covered (closing the
// batch's done), while the next batch gathers.
type writer struct {
	b    *Backend
	name string
	f    *os.File

	mu      sync.Mutex
	next    *batch        // the batch gathering records; nil when none has
	buf     []byte        // the flusher's buffer, reused
	kick    chan struct{} // wakes the flusher; capacity 1
	err     error         // sticky: after a failed write the file's tail is unknown
	closed  bool
	stopped chan struct{} // closed when the flusher has ended, after Close
}

// batch is records written together, encoded by the flusher (so that the appenders' stacks stay
// shallow); done is closed once they are durable or err is set. errs holds each record's own encoding
// error.
type batch struct {
	recs []state.Record
	errs []error
	done chan struct{}
	err  error
}

func (b *Backend) openWriter(name string) (*writer, error) {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("state: open journal: %w", err)
	}
	w := &writer{b: b, name: name, f: f, kick: make(chan struct{}, 1), stopped: make(chan struct{})}
	go w.flusher()
	return w, nil
}

// Append writes rec to the journal and returns once it is durable. A zero Time is set to now.
func (w *writer) Append(rec state.Record) error {
	if rec.Time.IsZero() {
		rec.Time = time.Now().UTC()
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return fmt.Errorf("state: append to %s: %w", w.name, ErrClosed)
	}
	if w.err != nil {
		w.mu.Unlock()
		return w.err
	}
	if w.next == nil {
		w.next = &batch{done: make(chan struct{})}
	}
	b := w.next
	i := len(b.recs)
	b.recs = append(b.recs, rec)
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default: // the flusher has been woken already
	}
	<-b.done
	if err := b.errs[i]; err != nil {
		return fmt.Errorf("state: append to %s: %w", w.name, err)
	}
	return b.err
}

// flusher writes batches as they gather until the writer is closed and nothing is left.
func (w *writer) flusher() {
	defer close(w.stopped)
	for range w.kick {
		for {
			w.mu.Lock()
			b := w.next
			w.next = nil
			closed := w.closed
			w.mu.Unlock()
			if b == nil {
				if closed {
					return
				}
				break
			}
			buf := w.buf[:0]
			b.errs = make([]error, len(b.recs))
			for i := range b.recs {
				buf, b.errs[i] = w.b.appendRecord(buf, &b.recs[i])
			}
			w.buf = buf
			var err error
			if len(buf) > 0 {
				err = w.flush(buf)
			}
			w.mu.Lock()
			if err != nil && w.err == nil {
				w.err = fmt.Errorf("state: append to %s: %w", w.name, err)
			}
			b.err = w.err
			w.mu.Unlock()
			close(b.done)
		}
	}
}

func (w *writer) flush(batch []byte) error {
	if w.err != nil { // only the flusher sets err, so reading it here is safe
		return w.err
	}
	markStart(batch)
	if _, err := w.f.Write(batch); err != nil {
		return err
	}
	if err := unix.Fdatasync(int(w.f.Fd())); err != nil {
		return fmt.Errorf("fdatasync: %w", err)
	}
	return nil
}

// Close writes what is queued, waits for the flusher and closes the file. Appends after Close fail
// with ErrClosed.
func (w *writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		<-w.stopped
		return nil
	}
	w.closed = true
	w.mu.Unlock()
	select { // the flusher drains the last batch, sees closed and ends
	case w.kick <- struct{}{}:
	default: // a wake is pending already
	}
	<-w.stopped
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("state: close %s: %w", w.name, err)
	}
	return w.err
}
