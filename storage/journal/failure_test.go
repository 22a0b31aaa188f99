package journal

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestAppendFailureRollsBack(t *testing.T) {
	boom := errors.New("boom")
	cases := []struct {
		name  string
		setup func(j *Journal)
	}{
		{"partial write", func(j *Journal) {
			j.writeAt = func(f *os.File, b []byte, off int64) (int, error) {
				n, _ := f.WriteAt(b[:len(b)/2], off)
				return n, boom
			}
		}},
		{"short write", func(j *Journal) {
			j.writeAt = func(f *os.File, b []byte, off int64) (int, error) {
				return f.WriteAt(b[:len(b)-1], off)
			}
		}},
		{"sync", func(j *Journal) {
			j.sync = func(*os.File) error { return boom }
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			j := openT(t, dir, Options{SegmentSize: 1 << 10})
			appendN(t, j, 10, 3)
			segs := segFiles(t, dir)
			path := segs[len(segs)-1]
			size := fileSize(t, path)
			tc.setup(j)
			if _, _, err := j.Append([][]byte{entry(11), entry(12)}); err == nil {
				t.Fatal("Append succeeded through a failing hook")
			}
			if j.Last() != 10 {
				t.Fatalf("Last %d after a failed Append, want 10", j.Last())
			}
			if got := fileSize(t, path); got != size {
				t.Fatalf("segment is %d bytes after rollback, want %d", got, size)
			}
			j.writeAt, j.sync = (*os.File).WriteAt, datasync
			appendN(t, j, 5, 2)
			checkRead(t, j, 1, 15)
			j.Close()
			j2 := openT(t, dir, Options{})
			if j2.Recovered() != 0 || j2.Last() != 15 {
				t.Fatalf("reopened: Recovered %d Last %d", j2.Recovered(), j2.Last())
			}
			checkRead(t, j2, 1, 15)
		})
	}
}

func TestAppendOnClosedFile(t *testing.T) {
	dir := t.TempDir()
	j, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, j, 3, 3)
	j.f.Close() // the rollback fails too: the journal must stop appending
	if _, _, err := j.Append([][]byte{entry(4)}); err == nil {
		t.Fatal("Append on a closed file succeeded")
	}
	if _, _, err := j.Append([][]byte{entry(4)}); err == nil {
		t.Fatal("Append after a failed rollback succeeded")
	}
	if j.Last() != 3 {
		t.Fatalf("Last %d, want 3", j.Last())
	}
	checkRead(t, j, 1, 3)
	if err := j.Close(); err == nil {
		t.Fatal("Close of a journal whose file was closed reported no error")
	}
	j2 := openT(t, dir, Options{}) // the lock was released all the same
	if j2.Last() != 3 || j2.Recovered() != 0 {
		t.Fatalf("reopened: Last %d Recovered %d", j2.Last(), j2.Recovered())
	}
}

func TestTornSegmentHeader(t *testing.T) {
	dir := t.TempDir()
	j := openT(t, dir, Options{SegmentSize: 1 << 10, NoSync: true})
	appendN(t, j, 20, 4)
	j.Close()
	// A crash while rotating left the next segment with half a header.
	path := filepath.Join(dir, segmentName(21))
	if err := os.WriteFile(path, encodeHeader(j.id, 21)[:10], 0o600); err != nil {
		t.Fatal(err)
	}
	j2 := openT(t, dir, Options{SegmentSize: 1 << 10, NoSync: true})
	if j2.Recovered() != 10 || j2.Last() != 20 {
		t.Fatalf("Recovered %d Last %d, want 10 20", j2.Recovered(), j2.Last())
	}
	appendN(t, j2, 5, 5)
	checkRead(t, j2, 1, 25)
	if fileSize(t, path) <= int64(headerSize) {
		t.Fatal("appends did not go to the recovered segment")
	}
}

func TestConcurrentReadersAndRelease(t *testing.T) {
	dir := t.TempDir()
	j := openT(t, dir, Options{SegmentSize: 4 << 10, NoSync: true})
	const total = 3000
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(done)
		appendN(t, j, total, 13)
	})
	for range 3 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				from := j.First()
				last := j.Last()
				want := max(from, 1)
				err := j.ReadFrom(from, func(seq uint64, p []byte) error {
					if seq != want || string(p) != string(entry(seq)) {
						t.Errorf("seq %d (want %d): %q", seq, want, p)
					}
					want++
					return nil
				})
				if errors.Is(err, ErrReleased) {
					continue // Release overtook this reader
				}
				if err != nil {
					t.Errorf("ReadFrom(%d): %v", from, err)
					return
				}
				if want <= last {
					t.Errorf("ReadFrom(%d) stopped at %d before Last %d at its start", from, want, last)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			if err := j.Release(j.Last() / 2); err != nil {
				t.Errorf("Release: %v", err)
				return
			}
		}
	})
	wg.Wait()
	checkRead(t, j, j.First(), total)
}
