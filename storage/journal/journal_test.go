package journal

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRoundTripAcrossSegments(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "j")
	j := openT(t, dir, Options{SegmentSize: 1 << 10, NoSync: true})
	if j.First() != 0 || j.Last() != 0 {
		t.Fatalf("empty journal: First %d Last %d, want 0 0", j.First(), j.Last())
	}
	if len(j.ID()) != 32 || strings.ToLower(j.ID()) != j.ID() {
		t.Fatalf("ID %q is not 32 lowercase hex digits", j.ID())
	}
	checkRead(t, j, 1, 0)
	appendN(t, j, 300, 7)
	if got := len(segFiles(t, dir)); got < 5 {
		t.Fatalf("%d segments, want several", got)
	}
	if j.First() != 1 || j.Last() != 300 {
		t.Fatalf("First %d Last %d, want 1 300", j.First(), j.Last())
	}
	var froms []uint64
	for _, s := range segFiles(t, dir) {
		f := firstOf(t, s)
		froms = append(froms, f-1, f, f+1)
	}
	froms = append(froms, 0, 1, 150, 299, 300, 301, 1000)
	for _, from := range froms {
		checkRead(t, j, from, 300)
	}
	id := j.ID()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v, want ErrClosed", err)
	}
	if _, _, err := j.Append([][]byte{[]byte("x")}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close: %v, want ErrClosed", err)
	}
	if err := j.ReadFrom(1, func(uint64, []byte) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("ReadFrom after Close: %v, want ErrClosed", err)
	}

	j2 := openT(t, dir, Options{SegmentSize: 1 << 10})
	if j2.ID() != id || j2.First() != 1 || j2.Last() != 300 || j2.Recovered() != 0 {
		t.Fatalf("reopened: ID %s First %d Last %d Recovered %d, want %s 1 300 0", j2.ID(), j2.First(), j2.Last(), j2.Recovered(), id)
	}
	checkRead(t, j2, 1, 300)
	appendN(t, j2, 20, 3)
	checkRead(t, j2, 250, 320)
}

func TestAppendEdgeCases(t *testing.T) {
	j := openT(t, t.TempDir(), Options{NoSync: true})
	if first, last, err := j.Append(nil); first != 0 || last != 0 || err != nil {
		t.Fatalf("Append(nil) = %d, %d, %v", first, last, err)
	}
	big := make([]byte, MaxEntry+1)
	if _, _, err := j.Append([][]byte{[]byte("ok"), big}); err == nil {
		t.Fatal("Append of an oversized entry succeeded")
	}
	if j.Last() != 0 {
		t.Fatalf("Last %d after refused batch, want 0", j.Last())
	}
	if first, last, err := j.Append([][]byte{{}, big[:MaxEntry]}); err != nil || first != 1 || last != 2 {
		t.Fatalf("Append(empty, max) = %d, %d, %v", first, last, err)
	}
	var sizes []int
	if err := j.ReadFrom(1, func(_ uint64, p []byte) error { sizes = append(sizes, len(p)); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(sizes) != 2 || sizes[0] != 0 || sizes[1] != MaxEntry {
		t.Fatalf("read back sizes %v", sizes)
	}
	stop := errors.New("stop")
	n := 0
	if err := j.ReadFrom(1, func(uint64, []byte) error { n++; return stop }); err != stop || n != 1 {
		t.Fatalf("ReadFrom with failing fn: %v after %d calls", err, n)
	}
}

func TestRelease(t *testing.T) {
	dir := t.TempDir()
	j := openT(t, dir, Options{SegmentSize: 1 << 10, NoSync: true})
	appendN(t, j, 200, 5)
	segs := segFiles(t, dir)
	if len(segs) < 4 {
		t.Fatalf("%d segments, want at least 4", len(segs))
	}
	// Through the last entry of segment 1 but one: nothing goes.
	second := firstOf(t, segs[1])
	if err := j.Release(second - 2); err != nil {
		t.Fatal(err)
	}
	if got := segFiles(t, dir); len(got) != len(segs) || j.First() != 1 {
		t.Fatalf("Release(%d) left %d segments, First %d", second-2, len(got), j.First())
	}
	third := firstOf(t, segs[2])
	if err := j.Release(third); err != nil { // covers segments 0 and 1 fully, 2 partly
		t.Fatal(err)
	}
	if got := segFiles(t, dir); len(got) != len(segs)-2 || got[0] != segs[2] || j.First() != third {
		t.Fatalf("Release(%d) left %v, First %d", third, got, j.First())
	}
	err := j.ReadFrom(third-1, func(uint64, []byte) error { return nil })
	if !errors.Is(err, ErrReleased) {
		t.Fatalf("ReadFrom below First: %v, want ErrReleased", err)
	}
	checkRead(t, j, third, 200)

	// Everything: only the active segment stays.
	if err := j.Release(1 << 40); err != nil {
		t.Fatal(err)
	}
	active := segs[len(segs)-1]
	if got := segFiles(t, dir); len(got) != 1 || got[0] != active {
		t.Fatalf("Release(all) left %v, want only %s", got, active)
	}
	if j.First() != firstOf(t, active) || j.Last() != 200 {
		t.Fatalf("First %d Last %d", j.First(), j.Last())
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := j.Release(1); !errors.Is(err, ErrClosed) {
		t.Fatalf("Release after Close: %v", err)
	}

	j2 := openT(t, dir, Options{SegmentSize: 1 << 10, NoSync: true})
	if j2.Last() != 200 || j2.First() != firstOf(t, active) {
		t.Fatalf("reopened: First %d Last %d", j2.First(), j2.Last())
	}
	appendN(t, j2, 50, 5)
	if err := j2.Release(250); err != nil {
		t.Fatal(err)
	}
	if got := segFiles(t, dir); len(got) != 1 {
		t.Fatalf("Release(250) left %v", got)
	}
	if err := j2.Close(); err != nil {
		t.Fatal(err)
	}
	j3 := openT(t, dir, Options{SegmentSize: 1 << 10, NoSync: true})
	if j3.Last() != 250 {
		t.Fatalf("Last after releasing all and reopening: %d, want 250", j3.Last())
	}
	appendN(t, j3, 1, 1) // checks the seq is 251
}

func TestTornTail(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, path string, lastFrame int64)
	}{
		{"cut mid payload", func(t *testing.T, path string, _ int64) {
			end := dataEndOf(t, path)
			zeroRange(t, path, end-3, end)
		}},
		{"cut mid frame header", func(t *testing.T, path string, off int64) {
			zeroRange(t, path, off+5, fileSize(t, path))
		}},
		{"truncated mid payload", func(t *testing.T, path string, _ int64) {
			if err := os.Truncate(path, dataEndOf(t, path)-3); err != nil {
				t.Fatal(err)
			}
		}},
		{"flipped payload byte", func(t *testing.T, path string, _ int64) {
			flipByte(t, path, dataEndOf(t, path)-1)
		}},
		{"flipped length", func(t *testing.T, path string, off int64) {
			flipByte(t, path, off+3)
		}},
		{"zeros after last frame", func(t *testing.T, path string, _ int64) {
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.Write(make([]byte, 4096)); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			j := openT(t, dir, Options{SegmentSize: 1 << 10})
			appendN(t, j, 40, 4)
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			segs := segFiles(t, dir)
			path := segs[len(segs)-1]
			offs := frameOffsets(t, path)
			lastFrame := offs[len(offs)-1]
			damaged := tc.name != "zeros after last frame"
			tc.damage(t, path, lastFrame)

			size := fileSize(t, path)
			j2 := openT(t, dir, Options{SegmentSize: 1 << 10})
			wantLast := uint64(40)
			clean := dataEndOf(t, path)
			if damaged {
				// The whole last batch of 4 goes.
				wantLast, clean = 36, offs[len(offs)-4]
			}
			if (j2.Recovered() <= 0) == damaged || j2.Last() != wantLast {
				t.Fatalf("Recovered %d Last %d, want >0 (when damaged: %v) and %d", j2.Recovered(), j2.Last(), damaged, wantLast)
			}
			if got := dataEndOf(t, path); got != clean {
				t.Fatalf("segment data ends at %d after recovery, want %d", got, clean)
			}
			if got := fileSize(t, path); got != size {
				t.Fatalf("segment is %d bytes after recovery, want %d", got, size)
			}
			appendN(t, j2, 3, 3)
			checkRead(t, j2, 1, wantLast+3)
			if err := j2.Close(); err != nil {
				t.Fatal(err)
			}
			j3 := openT(t, dir, Options{SegmentSize: 1 << 10})
			if j3.Recovered() != 0 || j3.Last() != wantLast+3 {
				t.Fatalf("third open: Recovered %d Last %d", j3.Recovered(), j3.Last())
			}
		})
	}
}

func TestCorruptionIsReported(t *testing.T) {
	t.Run("last segment, frame followed by valid data", func(t *testing.T) {
		dir := t.TempDir()
		j := openT(t, dir, Options{SegmentSize: 1 << 20})
		appendN(t, j, 20, 10) // seq 5 is in a batch followed by a complete one
		j.Close()
		path := segFiles(t, dir)[0]
		off := frameOffsets(t, path)[4]
		for _, at := range []int64{off + frameHeader, off + 3} { // payload, then length
			flipByte(t, path, at)
			_, err := Open(dir, Options{})
			wantCorrupt(t, err, path, off, 5)
			_, _, _, err = Inspect(dir)
			wantCorrupt(t, err, path, off, 5)
			flipByte(t, path, at)
		}
	})
	t.Run("non-last segment", func(t *testing.T) {
		dir := t.TempDir()
		j := openT(t, dir, Options{SegmentSize: 1 << 10, NoSync: true})
		appendN(t, j, 60, 4)
		j.Close()
		segs := segFiles(t, dir)
		path := segs[1]
		offs := frameOffsets(t, path)
		off := offs[len(offs)-1]
		seq := firstOf(t, path) + uint64(len(offs)) - 1
		flipByte(t, path, off+frameHeader+2)
		j2 := openT(t, dir, Options{SegmentSize: 1 << 10, NoSync: true})
		err := j2.ReadFrom(1, func(uint64, []byte) error { return nil })
		wantCorrupt(t, err, path, off, seq)
		// Reading past the damaged segment does not touch it.
		checkRead(t, j2, firstOf(t, segs[2]), 60)
	})
	t.Run("non-last segment cut short", func(t *testing.T) {
		dir := t.TempDir()
		j := openT(t, dir, Options{SegmentSize: 1 << 10, NoSync: true})
		appendN(t, j, 60, 4)
		j.Close()
		path := segFiles(t, dir)[0]
		offs := frameOffsets(t, path)
		if err := os.Truncate(path, offs[len(offs)-1]); err != nil {
			t.Fatal(err)
		}
		j2 := openT(t, dir, Options{NoSync: true})
		err := j2.ReadFrom(1, func(uint64, []byte) error { return nil })
		wantCorrupt(t, err, path, offs[len(offs)-1], uint64(len(offs)))
	})
}

func wantCorrupt(t *testing.T, err error, file string, off int64, seq uint64) {
	t.Helper()
	var ce *CorruptError
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want a *CorruptError", err)
	}
	if ce.File != file || ce.Offset != off || ce.Seq != seq {
		t.Fatalf("CorruptError at %s:%d seq %d, want %s:%d seq %d (%v)", ce.File, ce.Offset, ce.Seq, file, off, seq, ce)
	}
}

func TestForeignSegment(t *testing.T) {
	for _, which := range []string{"last", "earlier"} {
		t.Run(which, func(t *testing.T) {
			a, b := t.TempDir(), t.TempDir()
			ja := openT(t, a, Options{SegmentSize: 1 << 10, NoSync: true})
			jb := openT(t, b, Options{SegmentSize: 1 << 10, NoSync: true})
			appendN(t, ja, 40, 4)
			appendN(t, jb, 40, 4)
			ja.Close()
			jb.Close()
			sa, sb := segFiles(t, a), segFiles(t, b)
			i := len(sa) - 1
			if which == "earlier" {
				i = 1
			}
			if filepath.Base(sa[i]) != filepath.Base(sb[i]) {
				t.Fatalf("journals segmented differently: %s vs %s", sa[i], sb[i])
			}
			data, err := os.ReadFile(sb[i])
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(sa[i], data, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err = Open(a, Options{})
			var ce *CorruptError
			if !errors.As(err, &ce) || ce.File != sa[i] || !strings.Contains(ce.Reason, "another journal") {
				t.Fatalf("Open with a foreign segment: %v", err)
			}
		})
	}
}

func TestLockAndInspect(t *testing.T) {
	dir := t.TempDir()
	j := openT(t, dir, Options{SegmentSize: 1 << 10})
	appendN(t, j, 30, 4)
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	before := snapshotDir(t, dir)
	// A half-written batch at the tail, as a concurrent Append may leave
	// for a moment, is not counted.
	segs := segFiles(t, dir)
	id, first, last, err := Inspect(dir)
	if err != nil || id != j.ID() || first != 1 || last != 30 {
		t.Fatalf("Inspect = %s %d %d %v, want %s 1 30", id, first, last, err, j.ID())
	}
	if after := snapshotDir(t, dir); !equalSnapshots(before, after) {
		t.Fatal("Inspect changed the directory")
	}
	f, err := os.OpenFile(segs[len(segs)-1], os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(appendFrame(nil, 31, entry(31), true)[:20], dataEndOf(t, segs[len(segs)-1]))
	f.Close()
	if _, _, last, err := Inspect(dir); err != nil || last != 30 {
		t.Fatalf("Inspect with a partial frame: last %d, %v", last, err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j2 := openT(t, dir, Options{})
	if j2.Recovered() != 20 {
		t.Fatalf("Recovered %d, want 20", j2.Recovered())
	}
	j2.Release(j2.Last())
	j2.Close()
	if _, first, last, err := Inspect(dir); err != nil || first != firstOf(t, segFiles(t, dir)[0]) || last != 30 {
		t.Fatalf("Inspect after Release: %d %d %v", first, last, err)
	}
	if _, _, _, err := Inspect(t.TempDir()); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Inspect of an empty dir: %v", err)
	}
}

// snapshotDir returns every file's contents but the spare segment's.
func snapshotDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		if de.Name() == spareName {
			// Written by the open journal's background preallocation,
			// at its own pace: not what the snapshot compares.
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, de.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[de.Name()] = b
	}
	return m
}

func equalSnapshots(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !bytes.Equal(v, w) {
			return false
		}
	}
	return true
}
