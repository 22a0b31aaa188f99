package redact

import (
	"errors"
	"fmt"
	"strings"
)

// Validate reports whether p is a well-formed path (see the package doc).
func Validate(p string) error {
	if p == "" {
		return errors.New("empty path")
	}
	segs := 0
	prev := ""
	for off := 0; off <= len(p); {
		end := segmentEnd(p, off)
		seg := p[off:end]
		segs++
		switch {
		case seg == "":
			return fmt.Errorf("path %q: empty segment", p)
		case seg == "**" && prev == "**":
			return fmt.Errorf("path %q: ** twice in a row", p)
		case seg != "*" && seg != "**" && hasUnescaped(seg, '*'):
			return fmt.Errorf("path %q: segment %q: * stands alone (escape a literal one as \\*)", p, seg)
		}
		if err := checkEscapes(seg); err != nil {
			return fmt.Errorf("path %q: %w", p, err)
		}
		prev = seg
		off = end + 1
	}
	if segs == 1 && (p == "*" || p == "**") {
		return fmt.Errorf("path %q would remove the whole input", p)
	}
	return nil
}

// segmentEnd returns the index of the first unescaped dot at or after off,
// or len(p).
func segmentEnd(p string, off int) int {
	for i := off; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '.':
			return i
		}
	}
	return len(p)
}

func hasUnescaped(seg string, c byte) bool {
	for i := 0; i < len(seg); i++ {
		switch seg[i] {
		case '\\':
			i++
		case c:
			return true
		}
	}
	return false
}

func checkEscapes(seg string) error {
	for i := 0; i < len(seg); i++ {
		if seg[i] != '\\' {
			continue
		}
		if i+1 == len(seg) || !strings.ContainsRune(`.*\`, rune(seg[i+1])) {
			return fmt.Errorf("segment %q: a backslash escapes only . * or \\", seg)
		}
		i++
	}
	return nil
}

// isBare reports whether p is a claim name: one segment, no wildcard.
func isBare(p string) bool {
	return segmentEnd(p, 0) == len(p) && p != "*" && p != "**"
}

// cursor is a position in a rooted path: the rest of paths[path] from off.
type cursor struct {
	path, off int32
}

// next returns the segment at c and the cursor after it; done is true when
// the segment was the path's last.
func (c cursor) next(paths []string) (seg string, after cursor, done bool) {
	p := paths[c.path]
	end := segmentEnd(p, int(c.off))
	if end == len(p) {
		return p[c.off:], cursor{}, true
	}
	return p[c.off:end], cursor{c.path, int32(end + 1)}, false
}

// trailingGlob reports whether c is at a final "**", which names the value
// it is at with everything below.
func (c cursor) trailingGlob(paths []string) bool {
	seg, _, done := c.next(paths)
	return done && seg == "**"
}

// matchSegment reports whether the path segment seg (escaped, not "**")
// matches the decoded key.
func matchSegment(seg string, key []byte) bool {
	if seg == "*" {
		return true
	}
	j := 0
	for i := 0; i < len(seg); i, j = i+1, j+1 {
		if seg[i] == '\\' {
			i++
		}
		if j >= len(key) || seg[i] != key[j] {
			return false
		}
	}
	return j == len(key)
}
