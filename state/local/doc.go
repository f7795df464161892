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
//	1c291ca3 {"kind":"begin","time":"…","plan":"…","mode":"apply"}
//	0e4f2a17 {"kind":"intent","time":"…","op":"…","addr":"files.motd","action":"create"}
//
// The header's prov_journal is the format version; codec says whether records are encoded with the
// backend's Codec. A record line is the CRC-32C (Castagnoli) of its payload as 8 lowercase hex digits, a
// space, the payload, and a newline. The payload is the record's JSON (which never contains a newline)
// or, with a Codec, the standard base64 of the Codec's encoding of that JSON.
//
// A last line that has no newline, or whose checksum does not match, is a record torn by a crash in the
// middle of its write: the reader drops it, and reopening the journal for appending cuts it off. A bad
// line followed by good ones is corruption, reported with the file name and the record's number.
//
// Appends are group-committed: records appended concurrently while a write is in flight are written
// together by the next write, and one fdatasync makes them all durable. Append returns when its record
// is durable.
package local
