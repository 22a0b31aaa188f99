package journal

import (
	"bytes"
	"testing"
)

// FuzzScan feeds arbitrary bytes to the frame scanner as a segment body, and
// arbitrary payloads through encode and scan.
func FuzzScan(f *testing.F) {
	var valid []byte
	for seq := uint64(1); seq <= 4; seq++ {
		valid = appendFrame(valid, seq, entry(seq), seq%2 == 0) // batches 1-2, 3-4
	}
	f.Add([]byte{}, uint64(1))
	f.Add(valid, uint64(1))
	f.Add(valid, uint64(2))
	f.Add(valid[:len(valid)-3], uint64(1))
	f.Add(append(bytes.Clone(valid), make([]byte, 64)...), uint64(1))
	flipped := bytes.Clone(valid)
	flipped[frameHeader+2] ^= 1
	f.Add(flipped, uint64(1))
	endFlipped := bytes.Clone(valid)
	endFlipped[0] ^= 0x80
	f.Add(endFlipped, uint64(1))
	f.Add([]byte("\x00\x00\x00\x01\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x01x"), uint64(1))
	f.Add([]byte("a\xffbb\xff\xffccc"), uint64(7))
	f.Add([]byte("a\xff\xffbb\xff\xffccc\xff"), uint64(3))

	f.Fuzz(func(t *testing.T, body []byte, first uint64) {
		first = first%(1<<40) + 1

		// Arbitrary bytes: every entry returned is exactly a well-formed
		// frame with the next seq, the scan ends after the last batch-end
		// frame returned, and it accounts for every byte.
		off, endOff := 0, 0
		next, endSeq := first, first-1
		res, err := scanTail(bytes.NewReader(body), int64(len(body)), 0, first, "fuzz", func(seq uint64, p []byte, end bool) {
			want := appendFrame(nil, next, p, end)
			if seq != next || !bytes.HasPrefix(body[off:], want) {
				t.Fatalf("scanner returned seq %d at offset %d that is not a valid frame with seq %d", seq, off, next)
			}
			off += len(want)
			next++
			if end {
				endOff, endSeq = off, seq
			}
		})
		if err == nil && (res.end != int64(endOff) || res.last != endSeq || res.end+res.torn != max(res.end, int64(dataEnd(body)))) {
			t.Fatalf("scan result %+v after %d valid bytes of %d, the last batch ending at %d", res, off, len(body), endOff)
		}

		// Round trip: payloads cut from body at 0xff bytes come back
		// intact, in batches that end after each empty payload and at
		// the last one.
		payloads := bytes.Split(body, []byte{0xff})
		var enc []byte
		var ends []int // offsets where batches end
		for i, p := range payloads {
			last := len(p) == 0 || i == len(payloads)-1
			enc = appendFrame(enc, first+uint64(i), p, last)
			if last {
				ends = append(ends, len(enc))
			}
		}
		var got [][]byte
		res, err = scanTail(bytes.NewReader(enc), int64(len(enc)), 0, first, "fuzz", func(_ uint64, p []byte, _ bool) {
			got = append(got, bytes.Clone(p))
		})
		if err != nil || res.torn != 0 || res.last != first+uint64(len(payloads))-1 || len(got) != len(payloads) {
			t.Fatalf("round trip of %d payloads: %d back, %+v, %v", len(payloads), len(got), res, err)
		}
		for i := range got {
			if !bytes.Equal(got[i], payloads[i]) {
				t.Fatalf("payload %d: got %q, want %q", i, got[i], payloads[i])
			}
		}

		// Preallocated zeros after the data change nothing.
		padded := append(bytes.Clone(enc), make([]byte, len(body)%100)...)
		res2, err := scanTail(bytes.NewReader(padded), int64(len(padded)), 0, first, "fuzz", nil)
		if err != nil || res2 != res {
			t.Fatalf("round trip with %d zeros after: %+v, %v; want %+v", len(padded)-len(enc), res2, err, res)
		}

		// A cut anywhere is a torn tail back to the last batch end before
		// it (or, when a payload happens to hold valid frames, corruption),
		// never a silently shortened scan nor a partial batch.
		cut := len(body) % (len(enc) + 1)
		res, err = scanTail(bytes.NewReader(enc[:cut]), int64(cut), 0, first, "fuzz", nil)
		if err == nil {
			want := 0
			for _, e := range ends {
				if e <= cut {
					want = e
				}
			}
			if res.end != int64(want) || res.end+res.torn != max(res.end, int64(dataEnd(enc[:cut]))) {
				t.Fatalf("cut at %d: %+v, want end %d", cut, res, want)
			}
		}
	})
}
