// Package journal is an append-only, checksummed, segmented journal with
// group commit. The audit writer appends already-encoded records to it in
// batches, one fdatasync per batch, and answers its callers only after that
// sync; a background indexer later reads the entries back from a sequence
// number, commits them to the database and calls Release so that fully
// indexed segments are deleted. After a restart, the entries after the
// database's durable cursor are replayed with ReadFrom.
//
// # Concurrency
//
// One goroutine appends (Append, and Close at the end). ReadFrom, Release,
// First and Last may run concurrently with it and with each other; readers
// open their own file descriptors and see every entry up to Last as of their
// call. A directory is held by one Journal at a time through an exclusive
// flock on dir/LOCK; Inspect reads a directory without the lock and without
// changing it.
//
// # Sequence numbers
//
// Entries are numbered from 1, densely, and a number is never reused: Release
// never deletes the active (last) segment, and a segment's file name carries
// its first sequence number, so Last survives a restart even when every entry
// has been released.
//
// # Directory layout (format version 1)
//
//	LOCK                        flock target, empty
//	ID                          32 lowercase hex digits: the journal's random
//	                            128-bit id, written once (temp file, fsync,
//	                            rename, fsync dir) and never changed
//	00000000000000000001.seg    segments, named %020d.seg after the sequence
//	00000000000000004711.seg    number of their first entry
//
// # Segment file
//
// A segment is a 36-byte header followed by frames, back to back:
//
//	header: magic "SGJRNL01"          8 bytes
//	        journal id (raw)         16 bytes
//	        first seq, big-endian     8 bytes
//	        CRC-32C of the 32 above   4 bytes, big-endian
//
//	frame:  payload length n          4 bytes, big-endian, n <= 16 MiB
//	        CRC-32C(seq ‖ payload)    4 bytes, big-endian
//	        seq                       8 bytes, big-endian
//	        payload                   n bytes
//
// CRC-32C is CRC-32 with the Castagnoli polynomial. The first frame of a
// segment carries the header's first seq and every following frame the next
// number. The magic's last two digits are the format version. A segment whose
// header names another journal's id is refused, which catches a segment copied
// from another journal.
//
// # Recovery
//
// Open checks every segment's header and the naming order and scans the last
// segment completely. A torn tail — an incomplete frame, or damaged final
// frames after which no valid frame follows anywhere in the file — is what a
// crash in the middle of an unsynced batch leaves; Open truncates it, syncs,
// and reports the bytes cut in Recovered. Those entries were never
// acknowledged. A damaged frame followed by valid data is corruption and is
// reported as a *CorruptError, never skipped: by Open for the last segment,
// by ReadFrom for the others, which also checks that each segment ends just
// before the next one begins.
package journal
