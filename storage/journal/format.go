package journal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

const (
	magic       = "SGJRNL01"
	idSize      = 16
	headerSize  = len(magic) + idSize + 8 + 4
	frameHeader = 4 + 4 + 8
	// MaxEntry is the largest payload Append accepts.
	MaxEntry = 16 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// encodeHeader returns a segment header for the journal id and first seq.
func encodeHeader(id [idSize]byte, first uint64) []byte {
	h := make([]byte, headerSize)
	copy(h, magic)
	copy(h[len(magic):], id[:])
	binary.BigEndian.PutUint64(h[len(magic)+idSize:], first)
	binary.BigEndian.PutUint32(h[headerSize-4:], crc32.Checksum(h[:headerSize-4], castagnoli))
	return h
}

// checkHeader validates a segment header against the journal id and the
// first seq its file name promises; it returns a reason when they disagree.
func checkHeader(h []byte, id [idSize]byte, first uint64) string {
	if len(h) < headerSize {
		return "short segment header"
	}
	if string(h[:len(magic)]) != magic {
		return fmt.Sprintf("bad magic %q", h[:len(magic)])
	}
	if crc32.Checksum(h[:headerSize-4], castagnoli) != binary.BigEndian.Uint32(h[headerSize-4:]) {
		return "segment header checksum mismatch"
	}
	if [idSize]byte(h[len(magic):len(magic)+idSize]) != id {
		return "segment belongs to another journal"
	}
	if got := binary.BigEndian.Uint64(h[len(magic)+idSize:]); got != first {
		return fmt.Sprintf("header first seq %d does not match file name seq %d", got, first)
	}
	return ""
}

// appendFrame appends one encoded frame to buf without allocating when buf
// has room.
func appendFrame(buf []byte, seq uint64, payload []byte) []byte {
	start := len(buf)
	buf = append(buf, make([]byte, frameHeader)...)
	buf = append(buf, payload...)
	h := buf[start:]
	binary.BigEndian.PutUint32(h[0:], uint32(len(payload)))
	binary.BigEndian.PutUint64(h[8:], seq)
	crc := crc32.Update(0, castagnoli, h[8:])
	binary.BigEndian.PutUint32(h[4:], crc)
	return buf
}

// frameCRC is the checksum a frame with this seq and payload must carry.
func frameCRC(seq uint64, payload []byte) uint32 {
	var s [8]byte
	binary.BigEndian.PutUint64(s[:], seq)
	return crc32.Update(crc32.Checksum(s[:], castagnoli), castagnoli, payload)
}

// errTorn marks a frame cut short by the end of the file.
var errTorn = errors.New("incomplete frame")

// badFrame is a frame that is complete but wrong; reason says how. A hard
// one (a valid checksum on a wrong seq) is never a torn write.
type badFrame struct {
	reason string
	hard   bool
}

func (b *badFrame) Error() string { return b.reason }

// frameReader reads frames sequentially from a segment body.
type frameReader struct {
	r    *bufio.Reader
	off  int64  // offset of the next frame in the file
	next uint64 // seq the next frame must carry
	hdr  [frameHeader]byte
	buf  []byte
}

// read returns the next frame's seq and payload; the payload is valid until
// the next call. It returns io.EOF at a clean end, errTorn for a frame cut
// short, *badFrame for a damaged one. When verify is false the payload is
// skipped rather than read and checked, and nil is returned for it.
func (fr *frameReader) read(verify bool) (uint64, []byte, error) {
	n, err := io.ReadFull(fr.r, fr.hdr[:])
	if err != nil {
		if n == 0 && err == io.EOF {
			return 0, nil, io.EOF
		}
		if err == io.ErrUnexpectedEOF {
			return 0, nil, errTorn
		}
		return 0, nil, err
	}
	size := binary.BigEndian.Uint32(fr.hdr[0:])
	sum := binary.BigEndian.Uint32(fr.hdr[4:])
	seq := binary.BigEndian.Uint64(fr.hdr[8:])
	if size > MaxEntry {
		return 0, nil, &badFrame{reason: fmt.Sprintf("payload length %d exceeds limit", size)}
	}
	if !verify {
		if seq != fr.next {
			return 0, nil, &badFrame{reason: fmt.Sprintf("frame carries seq %d", seq)}
		}
		d, err := fr.r.Discard(int(size))
		if err != nil {
			if err == io.EOF || d < int(size) {
				return 0, nil, errTorn
			}
			return 0, nil, err
		}
		fr.advance(int(size))
		return seq, nil, nil
	}
	if cap(fr.buf) < int(size) {
		fr.buf = make([]byte, size)
	}
	p := fr.buf[:size]
	if _, err := io.ReadFull(fr.r, p); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return 0, nil, errTorn
		}
		return 0, nil, err
	}
	if crc32.Update(crc32.Checksum(fr.hdr[8:], castagnoli), castagnoli, p) != sum {
		return 0, nil, &badFrame{reason: "frame checksum mismatch"}
	}
	if seq != fr.next {
		return 0, nil, &badFrame{fmt.Sprintf("frame carries seq %d", seq), true}
	}
	fr.advance(int(size))
	return seq, p, nil
}

func (fr *frameReader) advance(size int) {
	fr.off += int64(frameHeader + size)
	fr.next++
}
