package audit

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// Spill files hold acknowledged async records that the store did not take
// before Close's deadline, so that shutting down during an outage loses
// nothing. One Close writes one file,
//
//	<SpillDir>/audit-spill-<chain>-<unix nanoseconds>.ndjson
//
// with <chain> path-escaped (url.PathEscape) and one storage.AuditRecord as
// JSON per line, in chain order. The file is written under a temporary
// name, fsynced and then linked into place, so a spill file is complete or
// absent. The next writer of the chain replays it (replaySpills).
const (
	spillPrefix = "audit-spill-"
	lostPrefix  = "audit-lost-"
	fileSuffix  = ".ndjson"
)

// spill writes recs to a new spill file, or counts them as lost when it
// cannot.
func (w *Writer) spill(recs []storage.AuditRecord) {
	if w.cfg.SpillDir == "" {
		w.lose(recs, "writer closed while the store was failing and no spill directory is configured")
		return
	}
	path, err := writeSpill(w.cfg.SpillDir, w.cfg.ChainID, w.cfg.Now(), recs)
	if err != nil {
		w.cfg.Logger.Error("audit spill failed", "dir", w.cfg.SpillDir, "records", len(recs), "err", err)
		w.lose(recs, "writer closed while the store was failing and the spill file could not be written: "+err.Error())
		return
	}
	w.c.spilled.Add(uint64(len(recs)))
	w.cfg.Logger.Error("audit store failing at close: acknowledged records spilled; the next start of this chain replays them",
		"file", path, "records", len(recs))
}

// writeSpill writes recs to a new spill file of chain in dir and returns
// its path.
func writeSpill(dir, chain string, now time.Time, recs []storage.AuditRecord) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("audit: spill: %w", err)
	}
	tmp, err := writeTemp(dir, recs)
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp)
	// Link, unlike Rename, never replaces a file that happens to carry the
	// same name (two spills within one tick of a coarse clock).
	for n := max(now.UnixNano(), 0); ; n++ {
		path := filepath.Join(dir, spillPrefix+url.PathEscape(chain)+"-"+strconv.FormatInt(n, 10)+fileSuffix)
		err := os.Link(tmp, path)
		if err == nil {
			return path, syncDir(dir)
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("audit: spill: %w", err)
		}
	}
}

// rewriteSpill atomically replaces the spill file at path with recs, the
// records of it that are still uncommitted.
func rewriteSpill(path string, recs []storage.AuditRecord) error {
	dir := filepath.Dir(path)
	tmp, err := writeTemp(dir, recs)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("audit: rewrite spill: %w", err)
	}
	return syncDir(dir)
}

// writeTemp writes recs as NDJSON to a fsynced temporary file in dir.
func writeTemp(dir string, recs []storage.AuditRecord) (string, error) {
	f, err := os.CreateTemp(dir, ".audit-spill-*.tmp")
	if err != nil {
		return "", fmt.Errorf("audit: spill: %w", err)
	}
	err = writeRecords(f, recs)
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("audit: spill: write %s: %w", f.Name(), err)
	}
	return f.Name(), nil
}

func writeRecords(w io.Writer, recs []storage.AuditRecord) error {
	var buf []byte
	for i := range recs {
		b, err := json.Marshal(&recs[i])
		if err != nil {
			return err
		}
		buf = append(append(buf, b...), '\n')
	}
	_, err := w.Write(buf)
	return err
}

// readSpill reads the records of one spill file.
func readSpill(path string) ([]storage.AuditRecord, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var recs []storage.AuditRecord
	dec := json.NewDecoder(f)
	for {
		var r storage.AuditRecord
		err := dec.Decode(&r)
		if errors.Is(err, io.EOF) {
			return recs, nil
		}
		if err != nil {
			return recs, fmt.Errorf("read %s: record %d: %w", path, len(recs)+1, err)
		}
		recs = append(recs, r)
	}
}

// spillFiles lists the spill files of chain in dir, oldest first.
func spillFiles(dir, chain string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	type file struct {
		path  string
		nanos int64
	}
	var files []file
	prefix := spillPrefix + url.PathEscape(chain) + "-"
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		digits, ok := strings.CutSuffix(rest, fileSuffix)
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(digits, 10, 64)
		if err != nil || n < 0 || strconv.FormatInt(n, 10) != digits {
			continue // another chain whose escaped id extends ours
		}
		files = append(files, file{filepath.Join(dir, e.Name()), n})
	}
	slices.SortFunc(files, func(a, b file) int { return cmp.Compare(a.nanos, b.nanos) })
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = f.path
	}
	return paths, nil
}

// syncDir makes a file created or renamed in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("audit: sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("audit: sync %s: %w", dir, err)
	}
	return nil
}
