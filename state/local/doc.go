// Package local is the state backend that keeps everything in one directory on the local file system:
//
//	prov.state.json          the state (compact JSON, or the Codec's encoding of it)
//	prov.state.json.backup   the state it replaced
//	prov.state.journal       the journal of an apply in progress, absent between applies
//	prov.state.lock          the lock, held with flock(2) while an operation runs
//	prov.state.lock.info     who holds the lock (JSON LockInfo), for messages and force-unlock
//
// State writes are atomic (temporary file in the same directory, write, fsync, rename, fsync of the
// directory) and a state file that does not decode is never replaced, so a damaged file is never lost.
//
// The lock is an flock on prov.state.lock: the kernel releases it when its holder dies, so the lock of a
// crashed prov never blocks the next one, whatever its info file still says. Unlock removes both files.
//
// # Journal format
//
// The journal is a text file: a header line, then one line per record. Appending a record writes one
// line at the end of the file; nothing is ever rewritten.
//
//	{"prov_journal":1,"codec":false}
//	5c0e4a3d>{"kind":"begin","time":"…","plan":"…","mode":"apply"}
//	a1f3e0b2>{"kind":"intent","time":"…","op":"…","addr":"files.motd","action":"create"}
//	0e4f2a17 {"kind":"intent","time":"…","op":"…","addr":"files.index","action":"create"}
//
// The header's prov_journal is the format version; codec says whether records are encoded with the
// backend's Codec. A record line is the CRC-32C (Castagnoli) of the rest of the line as 8 lowercase hex
// digits, a flag byte, the payload, and a newline. The flag is '>' on the first record of each write
// (one write holds one group commit's records) and a space on the others. The payload is the record's
// JSON (which never contains a newline) or, with a Codec, the standard base64 of the Codec's encoding
// of that JSON.
//
// A write starts only after the fsync of the previous one returned, so only the last write can be torn
// by a crash. The reader drops an unfinished last line, and a damaged line (bad checksum) with all
// after it when no valid line starting a later write follows; reopening the journal for appending cuts
// that torn tail off. A damaged line followed by a later write is corruption of durable records,
// reported with the file name, the record's number and its byte offset. So is a line whose checksum
// matches but that does not decode (a wrong codec key).
//
// Appends are group-committed: records appended concurrently while a write is in flight are written
// together by the next write, and one fdatasync makes them all durable. Append returns when its record
// is durable.
package local
