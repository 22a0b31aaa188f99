package journal

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// Options configure Open.
type Options struct {
	// SegmentSize: a new segment file is preallocated to this many bytes
	// (zeros written and synced), and Append starts a new segment before
	// writing a batch that would not fit in the active one's remaining
	// space; a batch larger than a whole segment is written to a segment of
	// its own, grown to fit. Default 16 MiB.
	SegmentSize int64
	// NoSync skips fdatasync (tests and benchmarks of the CPU path only).
	NoSync bool
}

const defaultSegmentSize = 16 << 20

// Journal is an open journal directory. Append and Close must be called from
// one goroutine at a time (the audit writer); ReadFrom, Release, First and
// Last may be called concurrently with them and with each other.
type Journal struct {
	dir       string
	id        [idSize]byte
	opts      Options
	lock      *os.File
	recovered int64

	// Writer state, owned by the appending goroutine under writeMu.
	writeMu sync.Mutex
	f       *os.File // active segment; nil once closed
	size    int64    // bytes of the active segment that hold whole frames: the end of data
	alloc   int64    // the active segment's file size
	next    uint64   // seq the next appended entry gets
	buf     []byte
	failed  error          // set when a failed append could not be rolled back
	spare   chan spareFile // the next segment's file being preallocated, or nil

	// Test seams for the write and the sync of a batch.
	writeAt func(f *os.File, b []byte, off int64) (int, error)
	sync    func(f *os.File) error

	// Shared state, under mu.
	mu     sync.Mutex
	segs   []segment // in seq order; the last one is active
	last   uint64
	closed bool
}

// Open opens the journal in dir, creating dir (0700) and the journal when
// missing, locks it, and recovers a torn tail left by a crash (see the
// package doc). It returns an error wrapping ErrLocked when another Journal
// holds dir, and a *CorruptError when the last segment is damaged.
func Open(dir string, opts Options) (*Journal, error) {
	if opts.SegmentSize <= 0 {
		opts.SegmentSize = defaultSegmentSize
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("journal: open: %w", err)
	}
	lockPath := filepath.Join(dir, lockName)
	lock, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: open lock: %w", err)
	}
	if err := lockFile(lock); err != nil {
		_ = lock.Close()
		return nil, fmt.Errorf("journal: lock %s: %w", lockPath, err)
	}
	j := &Journal{dir: dir, opts: opts, lock: lock, writeAt: (*os.File).WriteAt, sync: datasync}
	if err := j.load(); err != nil {
		if j.f != nil {
			_ = j.f.Close()
		}
		_ = unlockFile(lock)
		_ = lock.Close()
		return nil, err
	}
	return j, nil
}

// load reads or creates the id and the segments and recovers the last one.
func (j *Journal) load() error {
	segs, err := listSegments(j.dir)
	if err != nil {
		return err
	}
	j.id, err = readID(j.dir)
	switch {
	case errors.Is(err, fs.ErrNotExist) && len(segs) == 0:
		if j.id, err = createID(j.dir); err != nil {
			return err
		}
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("journal: %s has segments but no %s file", j.dir, idName)
	case err != nil:
		return err
	}
	// A spare segment file left by a crash or a failed Close: never part of
	// the journal, since it has no segment name.
	if err := os.Remove(filepath.Join(j.dir, spareName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("journal: remove stale spare segment: %w", err)
	}
	if len(segs) == 0 {
		if j.f, j.alloc, err = createSegment(j.dir, j.id, 1, j.opts.SegmentSize); err != nil {
			return err
		}
		j.segs = []segment{{first: 1, path: filepath.Join(j.dir, segmentName(1))}}
		j.size, j.next = int64(headerSize), 1
		return nil
	}
	if err := checkSegments(segs[:len(segs)-1], j.id); err != nil {
		return err
	}
	active := segs[len(segs)-1]
	if j.f, err = os.OpenFile(active.path, os.O_RDWR, 0); err != nil {
		return fmt.Errorf("journal: open segment: %w", err)
	}
	if err := j.recoverActive(active); err != nil {
		return err
	}
	j.segs = segs
	return nil
}

// recoverActive checks the active segment's header, scans its frames and cuts
// off a torn tail.
func (j *Journal) recoverActive(s segment) error {
	st, err := j.f.Stat()
	if err != nil {
		return fmt.Errorf("journal: stat %s: %w", s.path, err)
	}
	size := st.Size()
	j.alloc = size
	err = readHeader(j.f, s, j.id)
	if err != nil && headerTorn(j.f, size) {
		// A crash while the segment was being created: it holds no entry,
		// and its name still says where numbering continues.
		if err := j.rewriteHeader(s); err != nil {
			return err
		}
		j.recovered = min(size, int64(headerSize))
		j.alloc = max(size, int64(headerSize))
		j.size, j.next, j.last = int64(headerSize), s.first, s.first-1
		return nil
	}
	if err != nil {
		return err
	}
	res, err := scanTail(j.f, size, int64(headerSize), s.first, s.path, nil)
	if err != nil {
		return err
	}
	if res.torn > 0 {
		// Zero the torn tail rather than cutting it off, so that the
		// segment keeps its preallocated blocks.
		if err := writeZeros(j.f, res.end, res.end+res.torn); err != nil {
			return fmt.Errorf("journal: zero torn tail of %s: %w", s.path, err)
		}
		if err := j.sync(j.f); err != nil {
			return fmt.Errorf("journal: sync %s: %w", s.path, err)
		}
		j.recovered = res.torn
	}
	j.size, j.next, j.last = res.end, res.last+1, res.last
	return nil
}

// headerTorn reports whether a segment of this size with a bad header can be
// one whose creation was cut short: shorter than a header, or nothing but
// zeros (a header of zeros and preallocated space, if any).
func headerTorn(f *os.File, size int64) bool {
	if size < int64(headerSize) {
		return true
	}
	b := make([]byte, min(size, 1<<20))
	for off := int64(0); off < size; off += int64(len(b)) {
		n, err := f.ReadAt(b[:min(int64(len(b)), size-off)], off)
		if err != nil && err != io.EOF {
			return false
		}
		if !allZero(b[:n]) {
			return false
		}
		if n == 0 {
			break
		}
	}
	return true
}

func (j *Journal) rewriteHeader(s segment) error {
	_, err := j.f.WriteAt(encodeHeader(j.id, s.first), 0)
	if err == nil {
		err = j.f.Sync()
	}
	if err != nil {
		return fmt.Errorf("journal: rewrite torn header of %s: %w", s.path, err)
	}
	return nil
}

// ID returns the journal's random 128-bit id in lowercase hex. It is created
// with the directory and never changes.
func (j *Journal) ID() string { return hex.EncodeToString(j.id[:]) }

// Dir returns the journal's directory.
func (j *Journal) Dir() string { return j.dir }

// First returns the lowest seq still stored, or 0 when the journal holds no
// entry.
func (j *Journal) First() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.segs) == 0 || j.last < j.segs[0].first {
		return 0
	}
	return j.segs[0].first
}

// Last returns the seq of the last appended entry, or 0 when none was ever
// appended.
func (j *Journal) Last() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.last
}

// Recovered returns how many bytes of a torn tail Open cut off; normally 0.
func (j *Journal) Recovered() (truncatedBytes int64) { return j.recovered }

// Close syncs and closes the active segment and releases the lock. Later
// calls, and calls of the other methods, return ErrClosed.
func (j *Journal) Close() error {
	j.writeMu.Lock()
	defer j.writeMu.Unlock()
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return ErrClosed
	}
	j.closed = true
	j.mu.Unlock()
	var errs []error
	if j.spare != nil {
		if s := <-j.spare; s.f != nil {
			_ = s.f.Close()
		}
		j.spare = nil
		if err := os.Remove(filepath.Join(j.dir, spareName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("journal: close: remove spare segment: %w", err))
		}
	}
	if err := j.f.Sync(); err != nil {
		errs = append(errs, fmt.Errorf("journal: close: sync: %w", err))
	}
	if err := j.f.Close(); err != nil {
		errs = append(errs, fmt.Errorf("journal: close: %w", err))
	}
	j.f = nil
	if err := unlockFile(j.lock); err != nil {
		errs = append(errs, fmt.Errorf("journal: close: unlock: %w", err))
	}
	if err := j.lock.Close(); err != nil {
		errs = append(errs, fmt.Errorf("journal: close: %w", err))
	}
	return errors.Join(errs...)
}
