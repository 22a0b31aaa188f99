package journal

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// maxKeptBuf bounds the encode buffer kept between batches, so one batch of
// huge entries does not pin its memory for the life of the journal.
const maxKeptBuf = 8 << 20

// Append writes entries as one batch: it encodes them into one buffer, writes
// it with one call and, unless Options.NoSync, makes it durable with one
// fdatasync before returning the seqs assigned to the first and last entry.
// The batch's last frame carries the batch-end bit, so that Open can tell
// the frames of a batch that was never synced from those of synced ones.
// When Append fails, none of the entries is in the journal and Last is
// unchanged. An empty batch is a no-op returning (0, 0, nil); an entry longer
// than MaxEntry fails the batch before anything is written.
//
// Append must be called from one goroutine at a time; it may run
// concurrently with ReadFrom, Release, First and Last.
func (j *Journal) Append(entries [][]byte) (first, last uint64, err error) {
	if len(entries) == 0 {
		return 0, 0, nil
	}
	for i, e := range entries {
		if len(e) > MaxEntry {
			return 0, 0, fmt.Errorf("journal: append: entry %d is %d bytes, over the %d-byte limit", i, len(e), MaxEntry)
		}
	}
	j.writeMu.Lock()
	defer j.writeMu.Unlock()
	if j.f == nil {
		return 0, 0, ErrClosed
	}
	if j.failed != nil {
		return 0, 0, fmt.Errorf("journal: append refused after an earlier failure: %w", j.failed)
	}
	first = j.next
	buf := j.buf[:0]
	for i, e := range entries {
		buf = appendFrame(buf, first+uint64(i), e, i == len(entries)-1)
	}
	last = first + uint64(len(entries)) - 1
	if cap(buf) <= maxKeptBuf {
		j.buf = buf
	} else {
		j.buf = nil
	}
	// A batch that does not fit in the active segment's preallocated space
	// starts a new segment, unless the active one is empty: a batch larger
	// than a segment grows the segment it is written to.
	if j.size > int64(headerSize) && j.size+int64(len(buf)) > max(j.opts.SegmentSize, int64(headerSize)) {
		if err := j.rotate(); err != nil {
			return 0, 0, err
		}
	}
	n, err := j.writeAt(j.f, buf, j.size)
	if err == nil && n < len(buf) {
		err = io.ErrShortWrite
	}
	if err == nil && !j.opts.NoSync {
		if err = j.sync(j.f); err != nil {
			err = fmt.Errorf("fdatasync: %w", err)
		}
	}
	if err != nil {
		err = fmt.Errorf("journal: append seqs %d-%d to %s: %w", first, last, j.f.Name(), err)
		return 0, 0, errors.Join(err, j.rollback(int64(len(buf))))
	}
	j.size += int64(len(buf))
	j.alloc = max(j.alloc, j.size)
	if j.spare == nil && j.size > j.opts.SegmentSize/2 {
		j.spare = startSpare(j.dir, j.opts.SegmentSize)
	}
	j.next = last + 1
	j.mu.Lock()
	j.last = last
	j.mu.Unlock()
	return first, last, nil
}

// rollback zeroes the n bytes of a failed batch after the end of data of the
// active segment, and cuts off what the batch added beyond the segment's
// size, after a failed write or sync, so that no part of the failed batch
// can resurface after a crash. If that fails too the journal refuses further
// appends: the file's tail is unknown.
func (j *Journal) rollback(n int64) error {
	err := writeZeros(j.f, j.size, min(j.size+n, j.alloc))
	if err == nil {
		err = j.f.Truncate(max(j.size, j.alloc))
	}
	if err == nil {
		err = j.f.Sync()
	}
	if err != nil {
		j.failed = fmt.Errorf("journal: roll back %s to %d bytes of data: %w", j.f.Name(), j.size, err)
		return j.failed
	}
	return nil
}

// rotate seals the active segment and starts a new one named after the next
// seq.
func (j *Journal) rotate() error {
	var f *os.File
	var alloc int64
	err := errNoSpare
	if j.spare != nil {
		s := <-j.spare
		j.spare = nil
		if err = s.err; err == nil {
			f, alloc, err = activateSpare(j.dir, j.id, j.next, s)
		}
	}
	if err != nil {
		// No spare, or it failed: preallocate the segment here.
		if f, alloc, err = createSegment(j.dir, j.id, j.next, j.opts.SegmentSize); err != nil {
			return fmt.Errorf("journal: rotate: %w", err)
		}
	}
	old := j.f
	j.f, j.size, j.alloc = f, int64(headerSize), alloc
	j.mu.Lock()
	j.segs = append(j.segs, segment{first: j.next, path: filepath.Join(j.dir, segmentName(j.next))})
	j.mu.Unlock()
	// Its batches were synced when they were appended: a failed close
	// loses nothing.
	_ = old.Close()
	return nil
}
