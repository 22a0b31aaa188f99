package admin

import (
	"slices"
	"strings"

	"github.com/stepgate/stepgate/pdp/policy"
)

// DiffOp says whether a diff line is shared, removed or added.
type DiffOp string

// The diff operations.
const (
	DiffSame DiffOp = "same"
	DiffDel  DiffOp = "del"
	DiffAdd  DiffOp = "add"
)

// DiffLine is one line of a file diff with its line numbers on each side
// (0 where the line does not exist on that side).
type DiffLine struct {
	Op       DiffOp
	Old, New int
	Text     string
}

// FileDiff is the diff of one bundle file.
type FileDiff struct {
	Name  string
	Lines []DiffLine
	// Added and Removed count changed lines.
	Added, Removed int
}

// diffContext is how many unchanged lines a hunk shows around a change.
const diffContext = 3

// Hunk is a run of changed lines with up to diffContext unchanged lines
// on each side; Skipped counts the unchanged lines before it that are not
// shown.
type Hunk struct {
	Skipped int
	Lines   []DiffLine
}

// Hunks groups the diff's lines into hunks with their context, the way a
// reviewer reads a change; unchanged stretches between them are skipped.
func (d FileDiff) Hunks() []Hunk {
	show := make([]bool, len(d.Lines))
	for i, l := range d.Lines {
		if l.Op == DiffSame {
			continue
		}
		for k := max(0, i-diffContext); k <= min(len(d.Lines)-1, i+diffContext); k++ {
			show[k] = true
		}
	}
	var out []Hunk
	skipped := 0
	for i, l := range d.Lines {
		if !show[i] {
			skipped++
			continue
		}
		if i == 0 || !show[i-1] {
			out = append(out, Hunk{Skipped: skipped})
			skipped = 0
		}
		out[len(out)-1].Lines = append(out[len(out)-1].Lines, l)
	}
	return out
}

// maxDiffCells bounds the LCS table; larger files are shown as replaced.
const maxDiffCells = 4 << 20

// DiffFiles compares two bundles file by file and returns only files that
// differ, in name order.
func DiffFiles(a, b policy.Files) []FileDiff {
	names := map[string]bool{}
	for n := range a {
		names[n] = true
	}
	for n := range b {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	slices.Sort(sorted)
	var out []FileDiff
	for _, n := range sorted {
		if string(a[n]) == string(b[n]) {
			continue
		}
		out = append(out, diffText(n, string(a[n]), string(b[n])))
	}
	return out
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// diffText is a longest-common-subsequence line diff.
func diffText(name, a, b string) FileDiff {
	x, y := splitLines(a), splitLines(b)
	fd := FileDiff{Name: name}
	if len(x)*len(y) > maxDiffCells {
		for i, l := range x {
			fd.Lines = append(fd.Lines, DiffLine{Op: DiffDel, Old: i + 1, Text: l})
		}
		for j, l := range y {
			fd.Lines = append(fd.Lines, DiffLine{Op: DiffAdd, New: j + 1, Text: l})
		}
		fd.Removed, fd.Added = len(x), len(y)
		return fd
	}
	// lcs[i][j] is the LCS length of x[i:] and y[j:].
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			fd.Lines = append(fd.Lines, DiffLine{Op: DiffSame, Old: i + 1, New: j + 1, Text: x[i]})
			i++
			j++
		case i < len(x) && (j == len(y) || lcs[i+1][j] >= lcs[i][j+1]):
			fd.Lines = append(fd.Lines, DiffLine{Op: DiffDel, Old: i + 1, Text: x[i]})
			fd.Removed++
			i++
		default:
			fd.Lines = append(fd.Lines, DiffLine{Op: DiffAdd, New: j + 1, Text: y[j]})
			fd.Added++
			j++
		}
	}
	delsFirst(fd.Lines)
	return fd
}

// delsFirst orders every run of changed lines as a reviewer reads it: the
// removed lines, then the added ones, each in file order.
func delsFirst(lines []DiffLine) {
	for start := 0; start < len(lines); {
		if lines[start].Op == DiffSame {
			start++
			continue
		}
		end := start
		for end < len(lines) && lines[end].Op != DiffSame {
			end++
		}
		slices.SortStableFunc(lines[start:end], func(a, b DiffLine) int {
			switch {
			case a.Op == b.Op:
				return 0
			case a.Op == DiffDel:
				return -1
			}
			return 1
		})
		start = end
	}
}
