package journal

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

const (
	lockName = "LOCK"
	idName   = "ID"
	segExt   = ".seg"
)

// segment is one segment file; first is the seq of its first entry, taken
// from its name.
type segment struct {
	first uint64
	path  string
}

func segmentName(first uint64) string { return fmt.Sprintf("%020d%s", first, segExt) }

// listSegments returns dir's segments in seq order. Files that are not
// segments are ignored; a .seg file with a malformed name is an error rather
// than silently skipped, since it may hold entries.
func listSegments(dir string) ([]segment, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("journal: list segments: %w", err)
	}
	var segs []segment
	for _, de := range des {
		name := de.Name()
		if !strings.HasSuffix(name, segExt) {
			continue
		}
		num := strings.TrimSuffix(name, segExt)
		first, err := strconv.ParseUint(num, 10, 64)
		if err != nil || len(num) != 20 || first == 0 || !de.Type().IsRegular() {
			return nil, fmt.Errorf("journal: unexpected segment file %s", filepath.Join(dir, name))
		}
		segs = append(segs, segment{first: first, path: filepath.Join(dir, name)})
	}
	slices.SortFunc(segs, func(a, b segment) int {
		switch {
		case a.first < b.first:
			return -1
		case a.first > b.first:
			return 1
		}
		return 0
	})
	return segs, nil
}

// readID reads dir/ID; it returns an error wrapping fs.ErrNotExist when the
// file is missing.
func readID(dir string) ([idSize]byte, error) {
	var id [idSize]byte
	b, err := os.ReadFile(filepath.Join(dir, idName))
	if err != nil {
		return id, fmt.Errorf("journal: read id: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if len(s) != 2*idSize || strings.ToLower(s) != s {
		return id, fmt.Errorf("journal: malformed id file %s", filepath.Join(dir, idName))
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("journal: malformed id file %s: %w", filepath.Join(dir, idName), err)
	}
	return id, nil
}

// createID writes a fresh random id to dir/ID durably: temp file, fsync,
// rename, fsync dir, so that a crash leaves either no ID or a whole one.
func createID(dir string) ([idSize]byte, error) {
	var id [idSize]byte
	if _, err := rand.Read(id[:]); err != nil {
		return id, fmt.Errorf("journal: create id: %w", err)
	}
	tmp := filepath.Join(dir, idName+".tmp")
	err := writeFileSync(tmp, []byte(hex.EncodeToString(id[:])+"\n"))
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, idName))
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return id, fmt.Errorf("journal: create id: %w", err)
	}
	return id, nil
}

func writeFileSync(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// createSegment creates the segment whose first entry is first, writes its
// header, preallocates it to size bytes by writing zeros after the header
// and makes file and name durable. It returns the open file and its size.
//
// The zeros are written, not just allocated with fallocate: an unwritten
// extent would turn every first write of a block into a metadata change
// again, which is what preallocation is to spare the fdatasync of a batch.
func createSegment(dir string, id [idSize]byte, first uint64, size int64) (*os.File, int64, error) {
	path := filepath.Join(dir, segmentName(first))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o600)
	if err != nil {
		return nil, 0, fmt.Errorf("journal: create segment: %w", err)
	}
	size = max(size, int64(headerSize))
	_, err = f.WriteAt(encodeHeader(id, first), 0)
	if err == nil {
		err = writeZeros(f, int64(headerSize), size)
	}
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return nil, 0, fmt.Errorf("journal: create segment %s: %w", path, err)
	}
	return f, size, nil
}

// spareName is the file in which the next segment is preallocated, in the
// background, before its name (its first seq) is known. Not being named
// like a segment, it is never read as one; Open and Close remove it.
const spareName = "next.seg.tmp"

// spareFile is a preallocated spare segment file, or the error that made it.
type spareFile struct {
	f    *os.File
	size int64
	err  error
}

var errNoSpare = errors.New("no spare segment")

// startSpare preallocates dir's spare segment file of size bytes (zeros,
// fsynced) in a goroutine, which owns nothing else, and returns the channel
// on which it delivers the result once.
func startSpare(dir string, size int64) chan spareFile {
	ch := make(chan spareFile, 1)
	go func() {
		path := filepath.Join(dir, spareName)
		size := max(size, int64(headerSize))
		f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_RDWR, 0o600)
		if err == nil {
			err = writeZeros(f, 0, size)
			if err == nil {
				err = f.Sync()
			}
			if err != nil {
				_ = f.Close()
				_ = os.Remove(path)
				f = nil
			}
		}
		ch <- spareFile{f: f, size: size, err: err}
	}()
	return ch
}

// activateSpare makes the spare file s the segment whose first entry is
// first: it writes and syncs the header, then renames the file and syncs
// dir, so that a segment name never shows a file without its header.
func activateSpare(dir string, id [idSize]byte, first uint64, s spareFile) (*os.File, int64, error) {
	path := filepath.Join(dir, segmentName(first))
	spare := filepath.Join(dir, spareName)
	_, err := s.f.WriteAt(encodeHeader(id, first), 0)
	if err == nil {
		err = datasync(s.f)
	}
	if err == nil {
		if _, serr := os.Lstat(path); serr == nil {
			err = fmt.Errorf("segment %s exists", path)
		} else if !errors.Is(serr, fs.ErrNotExist) {
			err = serr
		}
	}
	if err == nil {
		err = os.Rename(spare, path)
	}
	if err == nil {
		err = syncDir(dir)
		if err != nil {
			// The name may or may not be durable; the segment is whole
			// either way, and the caller creates it afresh only when
			// this one is gone.
			_ = os.Remove(path)
		}
	}
	if err != nil {
		_ = s.f.Close()
		_ = os.Remove(spare)
		return nil, 0, fmt.Errorf("journal: activate spare segment as %s: %w", path, err)
	}
	return s.f, s.size, nil
}

// zeroChunk is the size of the writes that preallocate and zero segments.
const zeroChunk = 1 << 20

var zeroBuf [zeroChunk]byte

// writeZeros writes zeros to f from offset from up to offset to.
func writeZeros(f *os.File, from, to int64) error {
	for from < to {
		n, err := f.WriteAt(zeroBuf[:min(to-from, zeroChunk)], from)
		if err != nil {
			return err
		}
		from += int64(n)
	}
	return nil
}

// readHeader reads and checks the header of the open segment s. It returns
// io.ErrUnexpectedEOF (unwrapped) when the file is shorter than a header.
func readHeader(f *os.File, s segment, id [idSize]byte) error {
	var h [headerSize]byte
	if _, err := f.ReadAt(h[:], 0); err != nil {
		if errors.Is(err, io.EOF) {
			return io.ErrUnexpectedEOF
		}
		return fmt.Errorf("journal: read header of %s: %w", s.path, err)
	}
	if reason := checkHeader(h[:], id, s.first); reason != "" {
		return &CorruptError{File: s.path, Reason: reason}
	}
	return nil
}

// checkSegments checks the headers of all segments but the last.
func checkSegments(segs []segment, id [idSize]byte) error {
	for _, s := range segs {
		f, err := os.Open(s.path)
		if err != nil {
			return fmt.Errorf("journal: open segment: %w", err)
		}
		err = readHeader(f, s, id)
		_ = f.Close()
		if err == io.ErrUnexpectedEOF {
			err = &CorruptError{File: s.path, Reason: "short segment header"}
		}
		if err != nil {
			return err
		}
	}
	return nil
}
