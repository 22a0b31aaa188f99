package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// UnwrittenRecord is an acknowledged audit record that is not in the
// database: spilled at Close and waiting for the next start of its chain,
// or lost.
type UnwrittenRecord struct {
	// Record is the record as the writer acknowledged it, for a spilled
	// record (ID, Seq, PrevHash and Hash are unset: the store never linked
	// it). For a lost record only ChainID, Time, Kind, DecisionID and
	// RequestID are known.
	Record storage.AuditRecord
	// Lost is true when the record was written nowhere: neither the store
	// nor a spill file took it, so only its identity survives, in the lost
	// file. False for a spilled record.
	Lost bool
	// Reason says why a lost record was lost; empty for spilled records.
	Reason string
	// LostAt is when a lost record was given up; zero for spilled records.
	LostAt time.Time
	// File is the spill file or lost file (a path in dir) naming the record.
	File string
}

// lostLine is one line of a lost file,
//
//	<SpillDir>/audit-lost-<chain>.ndjson
//
// which names each record the writer acknowledged and could write nowhere.
type lostLine struct {
	ChainID    string    `json:"chain_id"`
	Time       time.Time `json:"time"`
	Kind       string    `json:"kind"`
	DecisionID string    `json:"decision_id,omitempty"`
	RequestID  string    `json:"request_id,omitempty"`
	Reason     string    `json:"reason"`
	LostAt     time.Time `json:"lost_at"`
}

// Unwritten returns the acknowledged records of every chain that are not in
// the database according to dir, a writer's SpillDir: first the records in
// spill files (Lost false; by file name, so per chain oldest first, and in
// chain order within a file), then the records named in lost files (Lost
// true). A missing dir has none. A file that cannot be read or parsed is
// reported in the error, which names it, while the records of the other
// files (and those read before the damage) are still returned; a caller
// such as `audit verify` should show both.
//
// Records lost while even the lost file could not be written appear only
// in the writer's log and its Stats.Lost counter.
func Unwritten(dir string) ([]UnwrittenRecord, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit: unwritten: %w", err)
	}
	var spilled, lost []string
	for _, e := range entries {
		name := e.Name()
		switch {
		case !e.Type().IsRegular() || !strings.HasSuffix(name, fileSuffix):
		case strings.HasPrefix(name, spillPrefix):
			spilled = append(spilled, name)
		case strings.HasPrefix(name, lostPrefix):
			lost = append(lost, name)
		}
	}
	slices.Sort(spilled) // ReadDir sorts by name already; keep it explicit
	slices.Sort(lost)
	var out []UnwrittenRecord
	var errs []error
	for _, name := range spilled {
		path := filepath.Join(dir, name)
		recs, err := readSpill(path)
		if err != nil {
			errs = append(errs, err)
		}
		for _, r := range recs {
			out = append(out, UnwrittenRecord{Record: r, File: path})
		}
	}
	for _, name := range lost {
		path := filepath.Join(dir, name)
		recs, err := readLost(path)
		if err != nil {
			errs = append(errs, err)
		}
		out = append(out, recs...)
	}
	if err := errors.Join(errs...); err != nil {
		return out, fmt.Errorf("audit: unwritten: %w", err)
	}
	return out, nil
}

func readLost(path string) ([]UnwrittenRecord, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []UnwrittenRecord
	dec := json.NewDecoder(f)
	for {
		var l lostLine
		err := dec.Decode(&l)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("read %s: line %d: %w", path, len(out)+1, err)
		}
		out = append(out, UnwrittenRecord{Lost: true, Reason: l.Reason, LostAt: l.LostAt, File: path,
			Record: storage.AuditRecord{ChainID: l.ChainID, Time: l.Time, Kind: l.Kind, DecisionID: l.DecisionID, RequestID: l.RequestID}})
	}
}

// lose counts recs as lost, logs each with its decision id and names them
// in the lost file when SpillDir is set and writable.
func (w *Writer) lose(recs []storage.AuditRecord, why string) {
	for _, r := range recs {
		w.c.lost.Add(1)
		w.cfg.Logger.Error("audit record lost", "reason", why, "chain_id", r.ChainID,
			"decision_id", r.DecisionID, "request_id", r.RequestID, "kind", r.Kind, "time", r.Time)
	}
	if w.cfg.SpillDir == "" || len(recs) == 0 {
		return
	}
	if err := appendLost(w.cfg.SpillDir, w.cfg.ChainID, w.cfg.Now(), recs, why); err != nil {
		w.cfg.Logger.Error("audit lost records could not be named in the lost file; only this log names them",
			"dir", w.cfg.SpillDir, "records", len(recs), "err", err)
	}
}

// appendLost appends one line per record to the lost file of chain and
// fsyncs it.
func appendLost(dir, chain string, now time.Time, recs []storage.AuditRecord, why string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	path := filepath.Join(dir, lostPrefix+url.PathEscape(chain)+fileSuffix)
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	var buf []byte
	for _, r := range recs {
		b, err := json.Marshal(lostLine{ChainID: r.ChainID, Time: r.Time, Kind: r.Kind, DecisionID: r.DecisionID,
			RequestID: r.RequestID, Reason: why, LostAt: now})
		if err != nil {
			f.Close()
			return err
		}
		buf = append(append(buf, b...), '\n')
	}
	_, err = f.Write(buf)
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && statErr != nil {
		err = syncDir(dir)
	}
	return err
}
