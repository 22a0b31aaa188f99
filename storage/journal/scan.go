package journal

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// tailScan is what scanning a last segment found.
type tailScan struct {
	last uint64 // seq of the last frame of the last complete batch; first-1 when there is none
	end  int64  // offset just after that frame, or start
	torn int64  // bytes from end up to the last non-zero byte: an incomplete last batch, to be zeroed
}

// scanTail reads every frame of the segment body that starts at offset start
// in r (size bytes long) and whose first frame carries seq first, calling fn,
// if not nil, for each valid one with its batch-end bit. The body is whole
// up to the end of the last valid batch-end frame (the first damage, if any,
// lies after it); everything after that up to the last non-zero byte belongs
// to the last batch, which did not complete, and is a torn tail — valid
// frames of that batch included — unless the damage (or the end of data: a
// frame header of zeros) is followed by a complete batch and valid data
// after it, which proves the damaged batch had been synced: that is a
// *CorruptError naming file. Zeros after the end of data are preallocated
// space, not a torn tail.
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
		var bad *badFrame
		switch {
		case errors.As(err, &bad) && bad.hard:
			return res, &CorruptError{File: file, Offset: fr.off, Seq: fr.next, Reason: bad.reason}
		case err == io.EOF || bad != nil || errors.Is(err, errTorn):
			// The end of data, or damage: check what lies after it.
			rest, ferr := readRest(r, res.end, size)
			if ferr != nil {
				return res, fmt.Errorf("journal: scan %s: %w", file, ferr)
			}
			from := fr.off + 1 - res.end // skip the frame that stopped the scan
			if at := batchFollows(rest[min(from, int64(len(rest))):], fr.next); at >= 0 {
				reason := err.Error()
				if err == io.EOF {
					reason = "zero frame header"
				}
				return res, &CorruptError{File: file, Offset: fr.off, Seq: fr.next,
					Reason: fmt.Sprintf("%s, followed by a complete batch and a valid frame at offset %d", reason, fr.off+1+int64(at))}
			}
			res.torn = int64(dataEnd(rest))
			return res, nil
		default:
			return res, fmt.Errorf("journal: scan %s: %w", file, err)
		}
	}
}

// readRest reads r from from to size.
func readRest(r io.ReaderAt, from, size int64) ([]byte, error) {
	if size <= from {
		return nil, nil
	}
	rest := make([]byte, size-from)
	if _, err := r.ReadAt(rest, from); err != nil && err != io.EOF {
		return nil, err
	}
	return rest, nil
}

// batchFollows looks in rest for a valid batch-end frame whose seq is at
// least next followed, at or after its end, by a valid frame with a higher
// seq. It returns that second frame's offset in rest, or -1 when there is
// none. Append writes a batch only after the previous one was synced, so such
// a pair proves that damage before rest is in a synced batch, not in the
// unsynced last one (whose frames may reach the disk in any order after a
// power loss).
func batchFollows(rest []byte, next uint64) int {
	// A frame's seq is never zero, so no frame starts 16 or more bytes
	// before the first non-zero byte: skip preallocated zeros quickly.
	p := len(rest) - len(bytes.TrimLeft(rest, "\x00"))
	p = max(0, p-frameHeader+1)
	if len(rest)-p < frameHeader {
		return -1
	}
	// No frame is shorter than frameHeader, so seqs beyond this bound
	// cannot be real.
	maxSeq := next + uint64(len(rest)/frameHeader)
	endSeq, endAt := uint64(0), -1 // the first batch-end frame found, and where it ends
	for ; p+frameHeader <= len(rest); p++ {
		seq, n, end, ok := frameAt(rest[p:], next, maxSeq)
		switch {
		case !ok:
		case endAt >= 0 && p >= endAt && seq > endSeq:
			return p
		case endAt < 0 && end:
			endSeq, endAt = seq, p+n
		}
	}
	return -1
}
