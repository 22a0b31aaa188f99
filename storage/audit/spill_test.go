package audit_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/audit"
)

// spillFiles lists the spill files of every chain in dir.
func spillFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "audit-spill-*.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// spillRecords makes a failing async writer of chain acknowledge n records
// (with inputs), closes it past its deadline and returns the decision ids.
func spillRecords(t *testing.T, dir, chain string, n int) []string {
	t.Helper()
	store := newFakeStore()
	store.setFailing(errors.New("disk full"))
	w := newWriter(t, audit.Config{Store: store, Mode: audit.ModeAsync, ChainID: chain, SpillDir: dir, Now: newTestClock().Now})
	var acked acks
	for i := range n - 2 {
		r := rec(i)
		r.DecisionID = chain + "/" + r.DecisionID
		r.Input = fmt.Appendf(nil, `{"n":%d,"note":"<&>"}`, i)
		if err := acked.write(t, w, r); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	batch := []storage.AuditRecord{rec(n - 2), rec(n - 1)}
	for i := range batch {
		batch[i].DecisionID = chain + "/" + batch[i].DecisionID
	}
	if err := w.WriteBatch(t.Context(), batch); err != nil {
		t.Fatalf("write batch: %v", err)
	}
	acked = append(acked, batch[0].DecisionID, batch[1].DecisionID)
	if err := closeNow(t, w); err != nil {
		t.Fatalf("close with the store failing: %v", err)
	}
	if s := w.Stats(); s.Spilled != uint64(n) || s.Lost != 0 {
		t.Fatalf("stats = %+v, want %d spilled", s, n)
	}
	return acked
}

// Close spills every acknowledged record while the store fails, and the
// next writer of the chain replays them, in order and before its own
// records, then removes the spill file.
func TestCloseSpillsAndTheNextWriterReplays(t *testing.T) {
	dir := t.TempDir()
	acked := spillRecords(t, dir, "test-chain", 27)
	if files := spillFiles(t, dir); len(files) != 1 || !strings.HasPrefix(filepath.Base(files[0]), "audit-spill-test-chain-") {
		t.Fatalf("spill files = %v, want one for test-chain", files)
	}
	un, err := audit.Unwritten(dir)
	if err != nil || len(un) != len(acked) {
		t.Fatalf("unwritten: %d records, %v; want %d", len(un), err, len(acked))
	}
	if got := string(un[3].Record.Input); got != `{"n":3,"note":"<&>"}` || un[3].Record.ChainID != "test-chain" || un[3].Record.Time.IsZero() {
		t.Errorf("spilled record 3 = %+v, want its input byte for byte, chain and time", un[3].Record)
	}

	store := newFakeStore()
	w := newWriter(t, audit.Config{Store: store, Mode: audit.ModeSync, SpillDir: dir, MaxBatch: 10})
	if err := w.Write(t.Context(), rec(100)); err != nil {
		t.Fatalf("write after start: %v", err)
	}
	if got, want := store.decisionIDs(), append(slices.Clone(acked), "dec-100"); !slices.Equal(got, want) {
		t.Errorf("committed %v, want the spilled records first, in order, then the new one %v", got, want)
	}
	if s := w.Stats(); s.Replayed != uint64(len(acked)) {
		t.Errorf("stats = %+v, want %d replayed", s, len(acked))
	}
	if files := spillFiles(t, dir); len(files) != 0 {
		t.Errorf("spill files left after replay: %v", files)
	}
	if ids, _ := unwrittenIDs(t, dir); len(ids) != 0 {
		t.Errorf("unwritten after replay: %v", ids)
	}
}

// flakyStore fails its calls numbered in failOn (from 1) and passes the
// others to the fake store.
type flakyStore struct {
	*fakeStore
	mu     sync.Mutex
	calls  int
	failOn map[int]bool
}

func (f *flakyStore) AppendAudit(ctx context.Context, recs []storage.AuditRecord) error {
	f.mu.Lock()
	f.calls++
	fail := f.failOn[f.calls]
	f.mu.Unlock()
	if fail {
		return errors.New("connection reset")
	}
	return f.fakeStore.AppendAudit(ctx, recs)
}

// A replay that fails half way keeps only the uncommitted records in the
// file and finishes after the next successful commit: nothing twice,
// nothing lost.
func TestReplayResumesAfterAFailure(t *testing.T) {
	dir := t.TempDir()
	acked := spillRecords(t, dir, "test-chain", 27)
	store := &flakyStore{fakeStore: newFakeStore(), failOn: map[int]bool{2: true}}
	w := newWriter(t, audit.Config{Store: store, Mode: audit.ModeSync, SpillDir: dir, MaxBatch: 10})
	if err := w.Write(t.Context(), rec(100)); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := w.Close(t.Context()); err != nil {
		t.Fatalf("close: %v", err)
	}
	want := append(append(slices.Clone(acked[:10]), "dec-100"), acked[10:]...)
	if got := store.decisionIDs(); !slices.Equal(got, want) {
		t.Errorf("committed\n %v\nwant\n %v", got, want)
	}
	if files := spillFiles(t, dir); len(files) != 0 {
		t.Errorf("spill files left: %v", files)
	}
}

// Each chain replays only its own spill files, even when one chain id
// extends another's or needs escaping.
func TestReplayTakesOnlyItsChain(t *testing.T) {
	dir := t.TempDir()
	other := spillRecords(t, dir, "eu/replica-1", 3)
	mine := spillRecords(t, dir, "eu/replica", 4)
	store := newFakeStore()
	w := newWriter(t, audit.Config{Store: store, ChainID: "eu/replica", SpillDir: dir})
	if err := w.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := store.decisionIDs(); !slices.Equal(got, mine) {
		t.Errorf("eu/replica replayed %v, want %v", got, mine)
	}
	if ids, _ := unwrittenIDs(t, dir); !slices.Equal(ids, other) {
		t.Errorf("unwritten = %v, want the other chain's %v", ids, other)
	}
}

// When even the spill file cannot be written, the records are counted as
// lost and Close says so.
func TestSpillFailureCountsLost(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	store := newFakeStore()
	store.setFailing(errors.New("disk full"))
	w := newWriter(t, audit.Config{Store: store, Mode: audit.ModeAsync, SpillDir: filepath.Join(blocker, "spill"), Now: newTestClock().Now})
	for i := range 3 {
		if err := w.Write(t.Context(), rec(i)); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	if err := closeNow(t, w); !errors.Is(err, audit.ErrUnavailable) {
		t.Fatalf("close = %v, want an error naming the loss", err)
	}
	if s := w.Stats(); s.Lost != 3 || s.Spilled != 0 {
		t.Errorf("stats = %+v, want 3 lost", s)
	}
}

// Without a spill directory, Close can only count and log what it loses.
func TestCloseWithoutSpillDirLosesLoudly(t *testing.T) {
	store := newFakeStore()
	store.setFailing(errors.New("database is down"))
	w := newWriter(t, audit.Config{Store: store, Mode: audit.ModeAsync, MaxDelay: time.Millisecond})
	for i := range 3 {
		if err := w.Write(t.Context(), rec(i)); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	if err := closeNow(t, w); !errors.Is(err, audit.ErrUnavailable) {
		t.Fatalf("close with the store down: %v, want an error naming the loss", err)
	}
	if s := w.Stats(); s.Lost != 3 || s.Committed != 0 {
		t.Errorf("stats = %+v, want 3 lost", s)
	}
}

// Records the store rejects as invalid cannot be replayed; they are lost,
// and the lost file names them for Unwritten.
func TestRejectedRecordsAreNamedAsLost(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "not-yet-created")
	store := newFakeStore()
	store.setFailing(fmt.Errorf("append audit: %w: bad record", storage.ErrInvalid))
	w := newWriter(t, audit.Config{Store: store, Mode: audit.ModeAsync, SpillDir: dir, Now: newTestClock().Now})
	var acked acks
	for i := range 2 {
		if err := acked.write(t, w, rec(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(t.Context()); !errors.Is(err, audit.ErrUnavailable) {
		t.Fatalf("close = %v, want an error naming the loss", err)
	}
	un, err := audit.Unwritten(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, u := range un {
		if !u.Lost || !strings.Contains(u.Reason, "invalid") || u.Record.ChainID != "test-chain" || u.LostAt.IsZero() {
			t.Errorf("unwritten %+v, want a lost record with its reason", u)
		}
		ids = append(ids, u.Record.DecisionID)
	}
	if !slices.Equal(ids, acked) {
		t.Errorf("lost ids = %v, want %v", ids, acked)
	}
}

// A damaged spill file is reported by Unwritten (with the records before
// the damage) and left in place by the writer.
func TestDamagedSpillFileIsReported(t *testing.T) {
	dir := t.TempDir()
	acked := spillRecords(t, dir, "test-chain", 3)
	file := spillFiles(t, dir)[0]
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"chain_id":"test-chain","ki`); err != nil {
		t.Fatal(err)
	}
	f.Close()
	un, err := audit.Unwritten(dir)
	if err == nil || !strings.Contains(err.Error(), filepath.Base(file)) || len(un) != len(acked) {
		t.Errorf("unwritten = %d records, %v; want %d and an error naming the file", len(un), err, len(acked))
	}
	store := newFakeStore()
	w := newWriter(t, audit.Config{Store: store, SpillDir: dir})
	if err := w.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := store.decisionIDs(); len(got) != 0 {
		t.Errorf("a damaged file was replayed: %v", got)
	}
	if files := spillFiles(t, dir); len(files) != 1 {
		t.Errorf("spill files = %v, want the damaged one kept", files)
	}
}

func TestUnwrittenWithoutDir(t *testing.T) {
	un, err := audit.Unwritten(filepath.Join(t.TempDir(), "missing"))
	if err != nil || un != nil {
		t.Errorf("Unwritten(missing dir) = %v, %v", un, err)
	}
}
