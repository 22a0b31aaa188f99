package journal

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// tailScan is what scanning a last segment found.
type tailScan struct {
	last uint64 // seq of the last frame of the last complete batch; first-1 when there is none
	end  int64  // offset just after that frame, or start
	torn int64  // bytes after end that form a torn tail: an incomplete last batch
}

// scanTail reads every frame of the segment body that starts at offset start
// in r (size bytes long) and whose first frame carries seq first, calling fn,
// if not nil, for each valid one with its batch-end bit. The body is whole
// up to the end of the last valid batch-end frame (the first damage, if any,
// lies after it); everything after that belongs to the last batch, which did
// not complete, and is a torn tail — valid frames of that batch included —
// unless the damage is followed by a complete batch and valid data after it,
// which proves the damaged batch had been synced: that is a *CorruptError
// naming file.
func scanTail(r io.ReaderAt, size, start int64, first uint64, file string, fn func(seq uint64, p []byte, end bool)) (tailScan, error) {
	fr := frameReader{
		r:    bufio.NewReaderSize(io.NewSectionReader(r, start, size-start), readBufSize),
		off:  start,
		next: first,
	}
	res := tailScan{last: first - 1, end: start}
	for {
		seq, p, err := fr.read(true)
		if err == nil {
			if fn != nil {
				fn(seq, p, fr.end)
			}
			if fr.end {
				res.last, res.end = seq, fr.off
			}
			continue
		}
		if err == io.EOF {
			// Frames after the last batch end: a batch cut off at a
			// frame boundary.
			res.torn = size - res.end
			return res, nil
		}
		var bad *badFrame
		switch {
		case errors.As(err, &bad) && bad.hard:
			return res, &CorruptError{File: file, Offset: fr.off, Seq: fr.next, Reason: bad.reason}
		case bad != nil || errors.Is(err, errTorn):
			at, ferr := batchFollows(r, fr.off+1, size, fr.next)
			if ferr != nil {
				return res, fmt.Errorf("journal: scan %s: %w", file, ferr)
			}
			if at >= 0 {
				return res, &CorruptError{File: file, Offset: fr.off, Seq: fr.next,
					Reason: fmt.Sprintf("%v, followed by a complete batch and a valid frame at offset %d", err, at)}
			}
			res.torn = size - res.end
			return res, nil
		default:
			return res, fmt.Errorf("journal: scan %s: %w", file, err)
		}
	}
}

// batchFollows looks, at and after from, for a valid batch-end frame whose
// seq is at least next followed, at or after its end, by a valid frame with a
// higher seq. It returns that second frame's offset, or -1 when there is
// none. Append writes a batch only after the previous one was synced, so such
// a pair proves that damage before from is in a synced batch, not in the
// unsynced last one (whose frames may reach the disk in any order after a
// power loss).
func batchFollows(r io.ReaderAt, from, size int64, next uint64) (int64, error) {
	if size-from < frameHeader {
		return -1, nil
	}
	rest := make([]byte, size-from)
	if _, err := r.ReadAt(rest, from); err != nil && err != io.EOF {
		return -1, err
	}
	// No frame is shorter than frameHeader, so seqs beyond this bound
	// cannot be real.
	maxSeq := next + uint64(len(rest)/frameHeader)
	endSeq, endAt := uint64(0), -1 // the first batch-end frame found, and where it ends
	for p := 0; p+frameHeader <= len(rest); p++ {
		seq, n, end, ok := frameAt(rest[p:], next, maxSeq)
		switch {
		case !ok:
		case endAt >= 0 && p >= endAt && seq > endSeq:
			return from + int64(p), nil
		case endAt < 0 && end:
			endSeq, endAt = seq, p+n
		}
	}
	return -1, nil
}
