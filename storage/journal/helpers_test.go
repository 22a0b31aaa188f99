package journal

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// entry is the deterministic payload of seq, of varying length.
func entry(seq uint64) []byte {
	return append([]byte(fmt.Sprintf("entry-%d-", seq)), bytes.Repeat([]byte{byte('a' + seq%26)}, int(seq*37%200))...)
}

func openT(t testing.TB, dir string, opts Options) *Journal {
	t.Helper()
	j, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() {
		if err := j.Close(); err != nil && !errors.Is(err, ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	return j
}

// appendN appends entries next..next+n-1 in batches of batch and checks the
// seqs returned.
func appendN(t testing.TB, j *Journal, n, batch int) {
	t.Helper()
	for n > 0 {
		k := min(n, batch)
		want := j.Last() + 1
		es := make([][]byte, k)
		for i := range es {
			es[i] = entry(want + uint64(i))
		}
		first, last, err := j.Append(es)
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
		if first != want || last != want+uint64(k)-1 {
			t.Fatalf("Append got seqs %d-%d, want %d-%d", first, last, want, want+uint64(k)-1)
		}
		n -= k
	}
}

// checkRead reads from from and checks that it sees exactly from..to with the
// payloads entry() made.
func checkRead(t testing.TB, j *Journal, from, to uint64) {
	t.Helper()
	want := max(from, 1)
	err := j.ReadFrom(from, func(seq uint64, p []byte) error {
		if seq != want {
			return fmt.Errorf("got seq %d, want %d", seq, want)
		}
		if !bytes.Equal(p, entry(seq)) {
			return fmt.Errorf("seq %d: payload %q", seq, p)
		}
		want++
		return nil
	})
	if err != nil {
		t.Fatalf("ReadFrom(%d): %v", from, err)
	}
	if want != max(from, 1, to+1) {
		t.Fatalf("ReadFrom(%d) stopped before seq %d, want through %d", from, want, to)
	}
}

func segFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// frameOffsets returns the offsets of the valid frames of a segment file.
func frameOffsets(t testing.TB, path string) []int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var offs []int64
	off := int64(headerSize)
	_, err = scanTail(bytes.NewReader(b), int64(len(b)), off, firstOf(t, path), path, func(_ uint64, p []byte, _ bool) {
		offs = append(offs, off)
		off += int64(frameHeader + len(p))
	})
	if err != nil {
		t.Fatal(err)
	}
	return offs
}

func firstOf(t testing.TB, path string) uint64 {
	t.Helper()
	var first uint64
	if _, err := fmt.Sscanf(filepath.Base(path), "%020d.seg", &first); err != nil {
		t.Fatal(err)
	}
	return first
}

func flipByte(t testing.TB, path string, off int64) {
	t.Helper()
	xorByte(t, path, off, 0x5a)
}

func xorByte(t testing.TB, path string, off int64, mask byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := []byte{0}
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= mask
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// dataEndOf returns the offset just after the last non-zero byte of a file:
// where a segment's data ends when preallocated zeros follow it.
func dataEndOf(t testing.TB, path string) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return int64(dataEnd(b))
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}
