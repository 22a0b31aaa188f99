package journal

import (
	"errors"
	"fmt"
)

// ErrLocked reports that another process, or another Journal in this one,
// holds the directory's lock.
var ErrLocked = errors.New("journal: directory is locked by another journal")

// ErrClosed reports a call on a closed Journal.
var ErrClosed = errors.New("journal: closed")

// ErrReleased reports that ReadFrom was asked for entries that Release has
// already deleted.
var ErrReleased = errors.New("journal: entries already released")

// CorruptError reports a damaged frame or segment header that is not a torn
// tail. Offset is the byte offset of the frame (0 for a header) in File, and
// Seq the sequence number the frame should have carried (0 for a header).
type CorruptError struct {
	File   string
	Offset int64
	Seq    uint64
	Reason string
}

func (e *CorruptError) Error() string {
	if e.Seq == 0 {
		return fmt.Sprintf("journal: corrupt %s at offset %d: %s", e.File, e.Offset, e.Reason)
	}
	return fmt.Sprintf("journal: corrupt %s at offset %d (seq %d): %s", e.File, e.Offset, e.Seq, e.Reason)
}
