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
// A segment is a 36-byte header followed by frames, back to back, and then,
// up to the end of the file, zeros:
//
//	header: magic "SGJRNL01"          8 bytes
//	        journal id (raw)         16 bytes
//	        first seq, big-endian     8 bytes
//	        CRC-32C of the 32 above   4 bytes, big-endian
//
//	frame:  length word               4 bytes, big-endian: bit 31 is the
//	                                  batch-end flag, bits 0-30 the payload
//	                                  length n, n <= 16 MiB (bits 25-30 zero)
//	        CRC-32C(length word ‖ seq ‖ payload)
//	                                  4 bytes, big-endian
//	        seq                       8 bytes, big-endian
//	        payload                   n bytes
//
// CRC-32C is CRC-32 with the Castagnoli polynomial. The checksum covers the
// length word as stored, batch-end flag included, so a flipped flag makes
// the frame damaged rather than moving a batch boundary. The first frame of
// a segment carries the header's first seq and every following frame the
// next number. The last frame of every Append batch, and only it, has the
// batch-end flag set; a batch never spans segments, so a segment other than
// the last ends with a batch-end frame. The magic's last two digits are the
// format version. A segment whose header names another journal's id is
// refused, which catches a segment copied from another journal.
//
// Segments are preallocated: a new segment file is written out to
// Options.SegmentSize bytes (header, then zeros actually written, not
// fallocated, and fsynced before the directory is), so that an Append
// overwrites allocated, initialized blocks and its fdatasync flushes data
// without committing a change of the file's size. The end of data in a
// segment is therefore the first frame position where the 16-byte frame
// header (length word, checksum and seq) is all zeros, or where the file
// ends (also in the middle of a frame header of zeros); the bytes after it
// are zeros. No real frame has such a header, since seqs start at 1. A
// frame header with a zero length word but a non-zero checksum or seq is
// read as a frame, and so is damaged unless it is a valid empty entry.
// Append writes each batch at the end of data, not at the end of the file,
// and starts a new segment when the batch would not fit in the active one's
// remaining space, except in an empty segment: a batch larger than a segment
// is written there and grows the file. A segment holding only zeros after
// its header is empty; its name still fixes its first seq. Files without
// zeros after their data (segments written before preallocation, or grown
// by a large batch) end their data at the end of the file and read the same.
//
// # Recovery
//
// Open checks every segment's header and the naming order and scans the last
// segment completely: its frames up to the end of data, and the rest of the
// file, where anything not zero belongs to a torn tail. Only the last batch
// can be incomplete: Append writes a batch after the previous one was
// synced. A crash (power loss) before its fdatasync may persist its pages in
// any order, leaving an incomplete frame, damaged frames, zeros, or valid
// frames of it after a damaged one or after zeros. So Open keeps the segment
// up to S, the end of the last valid batch-end frame before D, the first
// damaged or incomplete frame or the end of data (or the header's end when
// there is none), and everything from S on is the last, never-acknowledged
// batch, valid frames between S and D included — unless a valid batch-end
// frame after D is followed, after its end, by a valid frame with a higher
// seq: a batch after the damaged one was written, so the damaged one had
// been synced, and that is corruption, as is a frame with a valid checksum
// but the wrong seq. A last batch cut off cleanly at a frame boundary (by
// zeros or the end of the file), before its batch-end frame, is torn too.
// Open does not truncate a torn tail: it overwrites it with zeros, from S up
// to the last non-zero byte of the file, and syncs, so that S is the end of
// data and the segment keeps its preallocated size; Recovered reports the
// bytes zeroed. Their entries were never acknowledged. A last segment that
// holds nothing but zeros (or is shorter than a header) is one whose
// creation a crash cut short: Open writes its header and keeps it as an
// empty segment. Corruption is reported as a *CorruptError, never skipped:
// by Open for the last segment, by ReadFrom for the others, which also
// checks that each segment ends with a batch-end frame just before the next
// one begins, followed by the end of data.
//
// A damaged batch-end frame of a synced batch followed by exactly one
// complete batch at the end of the file looks like damage inside one last
// batch, and is cut as such; telling them apart would take a batch-start
// flag as well.
package journal
