package journal

import (
	"encoding/hex"
	"fmt"
	"os"
)

// Inspect reads the journal in dir without locking or changing it, so that
// an offline check can run while the server holds the journal: it returns
// the id and the first and last seq of the entries of complete batches (0, 0
// when there is none). A torn tail, which may be a batch being written, is
// ignored, as are the valid frames of a last batch that lacks its batch-end
// frame; so Last is what Open would recover. Damage Open would refuse is a
// *CorruptError. Like Open it checks segment headers and scans only the last
// segment.
func Inspect(dir string) (id string, first, last uint64, err error) {
	rawID, err := readID(dir)
	if err != nil {
		return "", 0, 0, err
	}
	id = hex.EncodeToString(rawID[:])
	segs, err := listSegments(dir)
	if err != nil || len(segs) == 0 {
		return id, 0, 0, err
	}
	if err := checkSegments(segs[:len(segs)-1], rawID); err != nil {
		return id, 0, 0, err
	}
	s := segs[len(segs)-1]
	f, err := os.Open(s.path)
	if err != nil {
		return id, 0, 0, fmt.Errorf("journal: inspect: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return id, 0, 0, fmt.Errorf("journal: inspect: %w", err)
	}
	last = s.first - 1
	err = readHeader(f, s, rawID)
	switch {
	case err != nil && headerTorn(f, st.Size()):
	case err != nil:
		return id, 0, 0, err
	default:
		res, err := scanTail(f, st.Size(), int64(headerSize), s.first, s.path, nil)
		if err != nil {
			return id, 0, 0, err
		}
		last = res.last
	}
	if last >= segs[0].first {
		first = segs[0].first
	}
	return id, first, last, nil
}
