package journal

import (
	"bytes"
	"os"
	"testing"
)

// unsyncedBatch makes a journal of batches 1-5 and 6-10, then the 3-frame
// batch 11-13 and, when more, the complete batch 14-15. It returns the
// directory, the segment and its frame offsets.
func unsyncedBatch(t *testing.T, more bool) (string, string, []int64) {
	t.Helper()
	dir := t.TempDir()
	j := openT(t, dir, Options{NoSync: true})
	appendN(t, j, 10, 5)
	appendN(t, j, 3, 3)
	if more {
		appendN(t, j, 2, 2)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	path := segFiles(t, dir)[0]
	return dir, path, frameOffsets(t, path)
}

func zeroRange(t *testing.T, path string, from, to int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(make([]byte, to-from), from); err != nil {
		t.Fatal(err)
	}
}

// wantRecovered opens dir and checks that the last batch was zeroed back to
// the end of seq 10 at offset clean, keeping the file's size, and that
// numbering continues at 11.
func wantRecovered(t *testing.T, dir, path string, clean int64) {
	t.Helper()
	size, data := fileSize(t, path), dataEndOf(t, path)
	if _, _, last, err := Inspect(dir); err != nil || last != 10 {
		t.Fatalf("Inspect: Last %d, %v; want 10", last, err)
	}
	j := openT(t, dir, Options{NoSync: true})
	if j.Recovered() != data-clean || j.Last() != 10 {
		t.Fatalf("Recovered %d Last %d, want %d 10", j.Recovered(), j.Last(), data-clean)
	}
	if got := dataEndOf(t, path); got != clean {
		t.Fatalf("segment data ends at %d after recovery, want %d", got, clean)
	}
	if got := fileSize(t, path); got != size {
		t.Fatalf("segment is %d bytes after recovery, want %d (its preallocated size)", got, size)
	}
	checkRead(t, j, 1, 10)
	appendN(t, j, 4, 2) // checks the seqs are 11-14
	checkRead(t, j, 1, 14)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j2 := openT(t, dir, Options{NoSync: true})
	if j2.Recovered() != 0 || j2.Last() != 14 {
		t.Fatalf("reopened: Recovered %d Last %d, want 0 14", j2.Recovered(), j2.Last())
	}
}

// A power loss before the last batch's fdatasync may persist its pages out
// of order: a damaged frame followed by valid frames of the same batch.
// None of them was acknowledged, so Open cuts the whole batch.
func TestUnsyncedBatchOutOfOrder(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, path string, offs []int64)
	}{
		{"middle frame flipped", func(t *testing.T, path string, offs []int64) {
			flipByte(t, path, offs[11]+frameHeader+3)
		}},
		{"middle frame zeroed", func(t *testing.T, path string, offs []int64) {
			zeroRange(t, path, offs[11], offs[12])
		}},
		{"first frame zeroed", func(t *testing.T, path string, offs []int64) {
			zeroRange(t, path, offs[10], offs[11])
		}},
		{"first two frames zeroed", func(t *testing.T, path string, offs []int64) {
			zeroRange(t, path, offs[10], offs[12])
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir, path, offs := unsyncedBatch(t, false)
			tc.damage(t, path, offs)
			wantRecovered(t, dir, path, offs[10])
		})
	}
}

// The same damage followed by a complete batch is in a batch that was
// synced before the next one was written: corruption.
func TestDamagedBatchFollowedByBatch(t *testing.T) {
	for _, zero := range []bool{false, true} {
		dir, path, offs := unsyncedBatch(t, true)
		if zero {
			zeroRange(t, path, offs[11], offs[12])
		} else {
			flipByte(t, path, offs[11]+frameHeader+3)
		}
		_, err := Open(dir, Options{})
		wantCorrupt(t, err, path, offs[11], 12)
		_, _, _, err = Inspect(dir)
		wantCorrupt(t, err, path, offs[11], 12)
	}
}

// A last batch cut off cleanly at a frame boundary before its batch-end
// frame, zeros after it or the end of the file, is cut back to the previous
// batch end.
func TestBatchCutAtFrameBoundary(t *testing.T) {
	for _, cut := range []int{11, 12} {
		dir, path, offs := unsyncedBatch(t, false)
		zeroRange(t, path, offs[cut], fileSize(t, path))
		wantRecovered(t, dir, path, offs[10])

		dir, path, offs = unsyncedBatch(t, false)
		if err := os.Truncate(path, offs[cut]); err != nil {
			t.Fatal(err)
		}
		j := openT(t, dir, Options{NoSync: true})
		if j.Last() != 10 || j.Recovered() != offs[cut]-offs[10] || dataEndOf(t, path) != offs[10] {
			t.Fatalf("truncated file: Last %d Recovered %d", j.Last(), j.Recovered())
		}
		appendN(t, j, 2, 2)
		checkRead(t, j, 1, 12)
	}
}

// The batch-end bit is covered by the checksum: flipping it either way makes
// the frame damaged, never a frame with another batch boundary.
func TestFlippedBatchEndBit(t *testing.T) {
	for _, end := range []bool{true, false} {
		b := appendFrame(nil, 7, []byte("payload"), end)
		if _, _, gotEnd, ok := frameAt(b, 7, 7); !ok || gotEnd != end {
			t.Fatalf("frameAt of a frame with end %v: end %v ok %v", end, gotEnd, ok)
		}
		b[0] ^= 0x80
		if _, _, _, ok := frameAt(b, 7, 7); ok {
			t.Fatalf("frameAt accepted a frame whose batch-end bit was flipped from %v", end)
		}
		res, err := scanTail(bytes.NewReader(b), int64(len(b)), 0, 7, "x", nil)
		if err != nil || res.last != 6 || res.end != 0 || res.torn != int64(len(b)) {
			t.Fatalf("scan of a frame whose batch-end bit was flipped from %v: %+v, %v", end, res, err)
		}
	}

	// Set on a middle frame, cleared on the last frame of the last batch:
	// the batch did not complete.
	for _, at := range []int{11, 12} {
		dir, path, offs := unsyncedBatch(t, false)
		xorByte(t, path, offs[at], 0x80)
		wantRecovered(t, dir, path, offs[10])
	}
	// Cleared on the end of a batch followed by complete batches:
	// corruption.
	dir, path, offs := unsyncedBatch(t, false)
	xorByte(t, path, offs[4], 0x80)
	_, err := Open(dir, Options{})
	wantCorrupt(t, err, path, offs[4], 5)
}

// A sealed segment's last frame must end a batch.
func TestSealedSegmentEndsBatch(t *testing.T) {
	dir := t.TempDir()
	j := openT(t, dir, Options{SegmentSize: 1 << 10, NoSync: true})
	appendN(t, j, 60, 4)
	j.Close()
	path := segFiles(t, dir)[0]
	offs := frameOffsets(t, path)
	off, seq := offs[len(offs)-1], uint64(len(offs))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b = appendFrame(b[:off], seq, bytes.Clone(b[off+frameHeader:]), false)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	j2 := openT(t, dir, Options{NoSync: true})
	err = j2.ReadFrom(1, func(uint64, []byte) error { return nil })
	wantCorrupt(t, err, path, off, seq)
}
