package journal

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
)

const readBufSize = 256 << 10

// ReadFrom calls fn, in order, for every entry with seq >= from up to Last as
// of the call, after checking each frame's checksum and seq. The entry slice
// is only valid during the call to fn: ReadFrom reuses it. An error from fn
// stops the iteration and is returned as is. Asking for entries below First
// returns an error wrapping ErrReleased; damage returns a *CorruptError. A
// from of 0 reads from the start.
func (j *Journal) ReadFrom(from uint64, fn func(seq uint64, entry []byte) error) error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return ErrClosed
	}
	segs, last := slices.Clone(j.segs), j.last
	j.mu.Unlock()

	from = max(from, 1)
	if from < segs[0].first {
		return fmt.Errorf("journal: read from seq %d: %w (the first stored seq is %d)", from, ErrReleased, segs[0].first)
	}
	if from > last {
		return nil
	}
	// Skip the segments that end before from.
	i := 0
	for i+1 < len(segs) && segs[i+1].first <= from {
		i++
	}
	fr := frameReader{r: bufio.NewReaderSize(nil, readBufSize)}
	for ; i < len(segs) && segs[i].first <= last; i++ {
		end, sealed := last, i+1 < len(segs)
		if sealed {
			end = min(last, segs[i+1].first-1)
		}
		if err := j.readSegment(&fr, segs[i], from, end, sealed && end == segs[i+1].first-1, fn); err != nil {
			return err
		}
	}
	return nil
}

// readSegment calls fn for the entries from..end of segment s. When whole is
// set, end is the segment's last seq: its frame must end a batch and nothing
// may follow it.
func (j *Journal) readSegment(fr *frameReader, s segment, from, end uint64, whole bool, fn func(uint64, []byte) error) error {
	f, err := os.Open(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("journal: read %s: %w", s.path, ErrReleased)
	}
	if err != nil {
		return fmt.Errorf("journal: read: %w", err)
	}
	defer f.Close()
	if err := readHeader(f, s, j.id); err != nil {
		if err == io.ErrUnexpectedEOF {
			err = &CorruptError{File: s.path, Reason: "short segment header"}
		}
		return err
	}
	if _, err := f.Seek(int64(headerSize), io.SeekStart); err != nil {
		return fmt.Errorf("journal: read %s: %w", s.path, err)
	}
	fr.r.Reset(f)
	fr.off, fr.next = int64(headerSize), s.first
	lastAt := fr.off // offset of the last frame read
	for fr.next <= end {
		lastAt = fr.off
		verify := fr.next >= from
		seq, p, err := fr.read(verify)
		if err != nil {
			return j.frameError(fr, s, end, err)
		}
		if verify {
			if err := fn(seq, p); err != nil {
				return err
			}
		}
	}
	if whole {
		// Batches never span segments, so a sealed segment's last frame
		// ends a batch.
		if end >= from && !fr.end {
			return &CorruptError{File: s.path, Offset: lastAt, Seq: end,
				Reason: "the segment's last frame does not end a batch"}
		}
		// What follows is the end of data: the file's end or the zeros
		// of preallocated space.
		b, err := fr.r.Peek(frameHeader)
		if err != nil && err != io.EOF {
			return fmt.Errorf("journal: read %s: %w", s.path, err)
		}
		if !allZero(b) {
			return &CorruptError{File: s.path, Offset: fr.off, Seq: fr.next,
				Reason: "data after the segment's last entry"}
		}
	}
	return nil
}

// frameError turns a frame reader's error into the error ReadFrom returns.
// Below end every frame must be whole and valid, so a torn frame is
// corruption here.
func (j *Journal) frameError(fr *frameReader, s segment, end uint64, err error) error {
	var bad *badFrame
	switch {
	case err == io.EOF:
		return &CorruptError{File: s.path, Offset: fr.off, Seq: fr.next,
			Reason: fmt.Sprintf("segment ends before seq %d", end)}
	case errors.Is(err, errTorn):
		return &CorruptError{File: s.path, Offset: fr.off, Seq: fr.next, Reason: err.Error()}
	case errors.As(err, &bad):
		return &CorruptError{File: s.path, Offset: fr.off, Seq: fr.next, Reason: bad.reason}
	}
	return fmt.Errorf("journal: read %s: %w", s.path, err)
}

// Release deletes every segment whose entries all have seq <= through,
// except the active (last) segment, and syncs the directory. Seqs are never
// reused: numbering continues after Last whatever was released.
func (j *Journal) Release(through uint64) error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return ErrClosed
	}
	k := 0
	for k+1 < len(j.segs) && j.segs[k+1].first-1 <= through {
		k++
	}
	doomed := slices.Clone(j.segs[:k])
	j.segs = slices.Clone(j.segs[k:])
	j.mu.Unlock()
	if len(doomed) == 0 {
		return nil
	}
	for i, s := range doomed {
		if err := os.Remove(s.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			// Keep the rest, oldest first, so that the segments left on
			// disk stay contiguous and a later Release can retry.
			j.mu.Lock()
			j.segs = append(slices.Clone(doomed[i:]), j.segs...)
			j.mu.Unlock()
			err = fmt.Errorf("journal: release through seq %d: %w", through, err)
			if serr := syncDir(j.dir); serr != nil {
				err = errors.Join(err, fmt.Errorf("journal: release: sync dir: %w", serr))
			}
			return err
		}
	}
	if err := syncDir(j.dir); err != nil {
		return fmt.Errorf("journal: release through seq %d: sync dir: %w", through, err)
	}
	return nil
}
