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
	// batchEnd is the bit of a frame's length word that marks the last
	// frame of an Append batch; the other bits hold the payload length.
	batchEnd = 1 << 31
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
// has room; end marks it as the last frame of its batch.
func appendFrame(buf []byte, seq uint64, payload []byte, end bool) []byte {
	start := len(buf)
	buf = append(buf, make([]byte, frameHeader)...)
	buf = append(buf, payload...)
	h := buf[start:]
	word := uint32(len(payload))
	if end {
		word |= batchEnd
	}
	binary.BigEndian.PutUint32(h[0:], word)
	binary.BigEndian.PutUint64(h[8:], seq)
	binary.BigEndian.PutUint32(h[4:], frameSum(h[0:4], h[8:]))
	return buf
}

// frameSum is a frame's checksum: CRC-32C of its length word (batch-end bit
// included) followed by its seq and payload (rest).
func frameSum(word, rest []byte) uint32 {
	return crc32.Update(crc32.Checksum(word, castagnoli), castagnoli, rest)
}

// frameAt decodes the frame at the start of b when b holds all of it and its
// checksum is right, returning its seq, its encoded length and whether it
// ends a batch. Frames whose seq lies outside [minSeq, maxSeq] are rejected
// before their checksum is computed.
func frameAt(b []byte, minSeq, maxSeq uint64) (seq uint64, length int, end, ok bool) {
	if len(b) < frameHeader {
		return 0, 0, false, false
	}
	word := binary.BigEndian.Uint32(b)
	n := int(word &^ batchEnd)
	seq = binary.BigEndian.Uint64(b[8:])
	if n > MaxEntry || seq < minSeq || seq > maxSeq || frameHeader+n > len(b) {
		return 0, 0, false, false
	}
	if frameSum(b[:4], b[8:frameHeader+n]) != binary.BigEndian.Uint32(b[4:]) {
		return 0, 0, false, false
	}
	return seq, frameHeader + n, word&batchEnd != 0, true
}

// allZero reports whether b holds only zero bytes.
func allZero(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b) != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// dataEnd returns the offset just after the last non-zero byte of b, or 0.
func dataEnd(b []byte) int {
	i := len(b)
	for i >= 8 && binary.LittleEndian.Uint64(b[i-8:i]) == 0 {
		i -= 8
	}
	for i > 0 && b[i-1] == 0 {
		i--
	}
	return i
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
	end  bool   // whether the last frame read carries the batch-end bit
	hdr  [frameHeader]byte
	buf  []byte
}

// read returns the next frame's seq and payload; the payload is valid until
// the next call, and fr.end tells whether the frame ends a batch. It returns
// io.EOF at the end of data (the end of the file, or a frame header of zeros,
// whole or cut short by the end of the file), errTorn for a frame cut short,
// *badFrame for a damaged one. When verify is false the payload is skipped rather than read
// and checked (so neither it nor fr.end is verified), and nil is returned
// for it.
func (fr *frameReader) read(verify bool) (uint64, []byte, error) {
	n, err := io.ReadFull(fr.r, fr.hdr[:])
	if allZero(fr.hdr[:n]) && (err == nil || err == io.EOF || err == io.ErrUnexpectedEOF) {
		// The end of data: the file's end, or preallocated zeros.
		return 0, nil, io.EOF
	}
	if err != nil {
		if err == io.ErrUnexpectedEOF {
			return 0, nil, errTorn
		}
		return 0, nil, err
	}
	word := binary.BigEndian.Uint32(fr.hdr[0:])
	size := word &^ batchEnd
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
		fr.advance(int(size), word)
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
	if crc32.Update(frameSum(fr.hdr[0:4], fr.hdr[8:]), castagnoli, p) != sum {
		return 0, nil, &badFrame{reason: "frame checksum mismatch"}
	}
	if seq != fr.next {
		return 0, nil, &badFrame{fmt.Sprintf("frame carries seq %d", seq), true}
	}
	fr.advance(int(size), word)
	return seq, p, nil
}

func (fr *frameReader) advance(size int, word uint32) {
	fr.off += int64(frameHeader + size)
	fr.next++
	fr.end = word&batchEnd != 0
}
