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
		valid = appendFrame(valid, seq, entry(seq))
	}
	f.Add([]byte{}, uint64(1))
	f.Add(valid, uint64(1))
	f.Add(valid, uint64(2))
	f.Add(valid[:len(valid)-3], uint64(1))
	f.Add(append(bytes.Clone(valid), make([]byte, 64)...), uint64(1))
	flipped := bytes.Clone(valid)
	flipped[frameHeader+2] ^= 1
	f.Add(flipped, uint64(1))
	f.Add([]byte("\x00\x00\x00\x01\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x01x"), uint64(1))
	f.Add([]byte("a\xffbb\xff\xffccc"), uint64(7))

	f.Fuzz(func(t *testing.T, body []byte, first uint64) {
		first = first%(1<<40) + 1

		// Arbitrary bytes: every entry returned is exactly a well-formed
		// frame with the next seq, and the scan accounts for every byte.
		off := 0
		next := first
		res, err := scanTail(bytes.NewReader(body), int64(len(body)), 0, first, "fuzz", func(seq uint64, p []byte) {
			want := appendFrame(nil, next, p)
			if seq != next || !bytes.HasPrefix(body[off:], want) {
				t.Fatalf("scanner returned seq %d at offset %d that is not a valid frame with seq %d", seq, off, next)
			}
			off += len(want)
			next++
		})
		if err == nil && (res.end != int64(off) || res.last != next-1 || res.end+res.torn != int64(len(body))) {
			t.Fatalf("scan result %+v after %d valid bytes of %d", res, off, len(body))
		}

		// Round trip: payloads cut from body at 0xff bytes come back intact.
		payloads := bytes.Split(body, []byte{0xff})
		var enc []byte
		for i, p := range payloads {
			enc = appendFrame(enc, first+uint64(i), p)
		}
		var got [][]byte
		res, err = scanTail(bytes.NewReader(enc), int64(len(enc)), 0, first, "fuzz", func(_ uint64, p []byte) {
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

		// A cut anywhere but a frame boundary is a torn tail (or, when a
		// payload happens to hold a valid frame, corruption), never a
		// silently shortened scan.
		cut := len(body) % (len(enc) + 1)
		res, err = scanTail(bytes.NewReader(enc[:cut]), int64(cut), 0, first, "fuzz", nil)
		if err == nil && res.end+res.torn != int64(cut) {
			t.Fatalf("cut at %d: %+v", cut, res)
		}
	})
}
