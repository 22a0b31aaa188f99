package journal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// tailScan is what scanning a last segment found.
type tailScan struct {
	last uint64 // seq of the last valid frame; first-1 when there is none
	end  int64  // offset just after the last valid frame
	torn int64  // bytes after end that form a torn tail
}

// scanTail reads every frame of the segment body that starts at offset start
// in r (size bytes long) and whose first frame carries seq first, calling fn,
// if not nil, for each valid one. A damaged or incomplete frame after which no
// valid frame follows is a torn tail, reported in the result; one followed by
// valid data is a *CorruptError naming file.
func scanTail(r io.ReaderAt, size, start int64, first uint64, file string, fn func(seq uint64, p []byte)) (tailScan, error) {
	fr := frameReader{
		r:    bufio.NewReaderSize(io.NewSectionReader(r, start, size-start), readBufSize),
		off:  start,
		next: first,
	}
	for {
		seq, p, err := fr.read(true)
		if err == nil {
			if fn != nil {
				fn(seq, p)
			}
			continue
		}
		res := tailScan{last: fr.next - 1, end: fr.off}
		if err == io.EOF {
			return res, nil
		}
		var bad *badFrame
		switch {
		case errors.As(err, &bad) && bad.hard:
			return res, &CorruptError{File: file, Offset: fr.off, Seq: fr.next, Reason: bad.reason}
		case bad != nil || errors.Is(err, errTorn):
			at, ferr := validFollows(r, fr.off+1, size, fr.next)
			if ferr != nil {
				return res, fmt.Errorf("journal: scan %s: %w", file, ferr)
			}
			if at >= 0 {
				return res, &CorruptError{File: file, Offset: fr.off, Seq: fr.next,
					Reason: fmt.Sprintf("%v, followed by a valid frame at offset %d", err, at)}
			}
			res.torn = size - fr.off
			return res, nil
		default:
			return res, fmt.Errorf("journal: scan %s: %w", file, err)
		}
	}
}

// validFollows reports the offset of the first valid frame at or after from
// whose seq is at least next, or -1. It tells a torn tail, behind which
// nothing valid was written, from a damaged frame in the middle of data.
func validFollows(r io.ReaderAt, from, size int64, next uint64) (int64, error) {
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
	for p := 0; p+frameHeader <= len(rest); p++ {
		n := int(binary.BigEndian.Uint32(rest[p:]))
		seq := binary.BigEndian.Uint64(rest[p+8:])
		if n > MaxEntry || seq < next || seq > maxSeq || p+frameHeader+n > len(rest) {
			continue
		}
		if frameCRC(seq, rest[p+frameHeader:p+frameHeader+n]) == binary.BigEndian.Uint32(rest[p+4:]) {
			return from + int64(p), nil
		}
	}
	return -1, nil
}
