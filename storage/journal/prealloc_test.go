package journal

import (
	"os"
	"path/filepath"
	"testing"
)

// Segments are preallocated with zeros; reopening finds the end of data
// before the file's end and appends continue there, not at the file size.
func TestPreallocatedReopenAppendsAfterData(t *testing.T) {
	dir := t.TempDir()
	const segSize = 64 << 10
	j := openT(t, dir, Options{SegmentSize: segSize})
	appendN(t, j, 10, 3)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	path := segFiles(t, dir)[0]
	if got := fileSize(t, path); got != segSize {
		t.Fatalf("segment is %d bytes, want it preallocated to %d", got, segSize)
	}
	data := dataEndOf(t, path)
	if _, first, last, err := Inspect(dir); err != nil || first != 1 || last != 10 {
		t.Fatalf("Inspect: %d %d %v, want 1 10", first, last, err)
	}

	j2 := openT(t, dir, Options{SegmentSize: segSize})
	if j2.Recovered() != 0 || j2.Last() != 10 {
		t.Fatalf("reopened: Recovered %d Last %d, want 0 10", j2.Recovered(), j2.Last())
	}
	appendN(t, j2, 5, 5)
	checkRead(t, j2, 1, 15)
	offs := frameOffsets(t, path)
	if len(offs) != 15 || offs[10] != data {
		t.Fatalf("after reopen, %d frames, seq 11 at %d; want 15, at %d", len(offs), offs[10], data)
	}
	if got := fileSize(t, path); got != segSize {
		t.Fatalf("segment grew to %d bytes, want %d", got, segSize)
	}
	if err := j2.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, last, err := Inspect(dir); err != nil || last != 15 {
		t.Fatalf("Inspect: last %d, %v; want 15", last, err)
	}
}

// Rotation happens when a batch would not fit in the preallocated space;
// a batch larger than a segment grows one, and every segment reads back.
func TestPreallocatedRotation(t *testing.T) {
	dir := t.TempDir()
	const segSize = 4 << 10
	j := openT(t, dir, Options{SegmentSize: segSize, NoSync: true})
	appendN(t, j, 100, 7)
	big := make([][]byte, 40) // about 10 KiB: larger than a segment
	for i := range big {
		big[i] = entry(101 + uint64(i))
	}
	if _, _, err := j.Append(big); err != nil {
		t.Fatal(err)
	}
	appendN(t, j, 20, 3)
	checkRead(t, j, 1, 160)
	grown := 0
	for _, s := range segFiles(t, dir) {
		size, data := fileSize(t, s), dataEndOf(t, s)
		if size < segSize || (size > segSize && data != size) {
			t.Fatalf("%s: %d bytes, data to %d", s, size, data)
		}
		if size > segSize {
			grown++
		}
	}
	if grown != 1 {
		t.Fatalf("%d segments grown beyond %d bytes, want 1", grown, segSize)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j2 := openT(t, dir, Options{SegmentSize: segSize, NoSync: true})
	checkRead(t, j2, 1, 160)
	if _, _, last, err := Inspect(dir); err != nil || last != 160 {
		t.Fatalf("Inspect: last %d, %v", last, err)
	}
}

// A segment file of nothing but zeros (a creation cut short by a crash) is
// an empty segment: its name fixes where numbering continues. One with a
// valid header and zeros after it is empty too.
func TestZeroSegmentIsHarmless(t *testing.T) {
	dir := t.TempDir()
	j := openT(t, dir, Options{SegmentSize: 4 << 10})
	appendN(t, j, 10, 5)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, segmentName(11))
	if err := os.WriteFile(zero, make([]byte, 4<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, last, err := Inspect(dir); err != nil || last != 10 {
		t.Fatalf("Inspect with a zero segment: last %d, %v", last, err)
	}
	j2 := openT(t, dir, Options{SegmentSize: 4 << 10})
	if j2.Last() != 10 {
		t.Fatalf("Last %d, want 10", j2.Last())
	}
	checkRead(t, j2, 1, 10)
	if fileSize(t, zero) != 4<<10 {
		t.Fatalf("zero segment is %d bytes after Open", fileSize(t, zero))
	}
	if err := j2.Close(); err != nil {
		t.Fatal(err)
	}
	// Now it has a header and zeros.
	j3 := openT(t, dir, Options{SegmentSize: 4 << 10})
	if j3.Last() != 10 || j3.Recovered() != 0 {
		t.Fatalf("Last %d Recovered %d, want 10 0", j3.Last(), j3.Recovered())
	}
	checkRead(t, j3, 1, 10)
	checkRead(t, j3, 11, 10)
	appendN(t, j3, 3, 3)
	checkRead(t, j3, 1, 13)
	if offs := frameOffsets(t, zero); len(offs) != 3 || offs[0] != int64(headerSize) {
		t.Fatalf("frames of the new segment at %v", offs)
	}
}

// A length word of zero with a non-zero checksum is damage, not the end of
// data: followed by a complete batch and more, it is corruption.
func TestZeroLengthWordIsDamage(t *testing.T) {
	dir, path, offs := unsyncedBatch(t, true)
	zeroRange(t, path, offs[11], offs[11]+4)
	_, err := Open(dir, Options{})
	wantCorrupt(t, err, path, offs[11], 12)

	// A whole frame header of zeros followed by a complete batch: a synced
	// batch lost its frame, corruption as well.
	dir, path, offs = unsyncedBatch(t, true)
	zeroRange(t, path, offs[11], offs[11]+frameHeader)
	_, err = Open(dir, Options{})
	wantCorrupt(t, err, path, offs[11], 12)
}

// The next segment is preallocated in the background once the active one is
// half full and takes its name at rotation; Close removes an unused spare,
// and a spare of zeros left by a crash is harmless: Open removes it.
func TestSpareSegment(t *testing.T) {
	dir := t.TempDir()
	spare := filepath.Join(dir, spareName)
	j := openT(t, dir, Options{SegmentSize: 4 << 10})
	appendN(t, j, 60, 4)
	if n := len(segFiles(t, dir)); n < 3 {
		t.Fatalf("%d segments, want several", n)
	}
	for _, s := range segFiles(t, dir) {
		if fileSize(t, s) < 4<<10 {
			t.Fatalf("%s is %d bytes, want it preallocated", s, fileSize(t, s))
		}
	}
	checkRead(t, j, 1, 60)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(spare); !os.IsNotExist(err) {
		t.Fatalf("spare segment after Close: %v", err)
	}
	if err := os.WriteFile(spare, make([]byte, 4<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, last, err := Inspect(dir); err != nil || last != 60 {
		t.Fatalf("Inspect with a stale spare: last %d, %v", last, err)
	}
	j2 := openT(t, dir, Options{SegmentSize: 4 << 10})
	if j2.Last() != 60 || j2.Recovered() != 0 {
		t.Fatalf("Last %d Recovered %d, want 60 0", j2.Last(), j2.Recovered())
	}
	if _, err := os.Stat(spare); !os.IsNotExist(err) {
		t.Fatalf("stale spare segment after Open: %v", err)
	}
	appendN(t, j2, 40, 5)
	checkRead(t, j2, 1, 100)
}
