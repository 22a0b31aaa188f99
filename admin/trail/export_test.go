package trail_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepgate/stepgate/admin/trail"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/sqlstore"
	"github.com/stepgate/stepgate/storage/sqlstore/sqlstoretest"
)

// seedAudit appends n decision records with a pad-byte input each.
func seedAudit(t testing.TB, st *sqlstore.Store, n, pad int) {
	t.Helper()
	input := []byte(`{"subject":{"claims":{"sub":"user","amr":["pwd","mfa"]},"authn":{"mfa":true}},"context":{"pad":"` +
		strings.Repeat("x", pad) + `"}}`)
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	const batch = 2000
	for i := 0; i < n; i += batch {
		recs := make([]storage.AuditRecord, 0, batch)
		for j := i; j < min(i+batch, n); j++ {
			recs = append(recs, storage.AuditRecord{
				ChainID: "seed", Kind: storage.KindDecision, Time: start.Add(time.Duration(j) * time.Millisecond),
				DecisionID: fmt.Sprintf("d-%08d", j), ClientID: "billing-svc", Subject: fmt.Sprintf("user-%d", j%1000),
				Action: "billing.pay", Outcome: "allow", Reasons: []string{"ok"}, PolicyRevision: 1, Input: input,
			})
		}
		if err := st.AppendAudit(context.Background(), recs); err != nil {
			t.Fatal(err)
		}
	}
}

// trailOf reads st's trail.
func trailOf(t testing.TB, st trail.Store) *trail.Trail {
	t.Helper()
	tr, err := trail.New(trail.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// heapPeak samples the live heap until stop is called and returns the
// highest value seen.
func heapPeak() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	})
	return func() uint64 { close(done); wg.Wait(); return peak.Load() }
}

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// TestExportStreamsWithBoundedMemory exports far more data than the heap
// may grow by: rows must stream from the database cursor to the writer.
func TestExportStreamsWithBoundedMemory(t *testing.T) {
	// Few large rows: ~60 MB of CSV, far more than the heap may grow by,
	// without paying per-row seeding costs (slow under -race).
	const rows, pad = 15000, 4000
	st := sqlstoretest.NewSQLite(t)
	seedAudit(t, st, rows, pad)
	for _, format := range []trail.Format{trail.FormatCSV, trail.FormatNDJSON} {
		t.Run(string(format), func(t *testing.T) {
			runtime.GC()
			var base runtime.MemStats
			runtime.ReadMemStats(&base)
			stop := heapPeak()
			var w countingWriter
			if err := trailOf(t, st).Export(context.Background(), trail.Filter{}, format, &w); err != nil {
				t.Fatal(err)
			}
			peak := stop()
			if w.n < rows*pad {
				t.Fatalf("exported only %d bytes", w.n)
			}
			growth := int64(peak) - int64(base.HeapAlloc)
			if growth > 24<<20 {
				t.Errorf("heap grew by %d MiB while exporting %d MiB: rows are being buffered", growth>>20, w.n>>20)
			}
		})
	}
}

// TestExportVerifiesOffline checks that an export carries everything an
// auditor needs to recompute the chain without the database.
func TestExportVerifiesOffline(t *testing.T) {
	st := sqlstoretest.NewSQLite(t)
	seedAudit(t, st, 500, 100)
	tr := trailOf(t, st)
	var buf bytes.Buffer
	if err := tr.Export(context.Background(), trail.Filter{Query: storage.AuditQuery{ChainOrder: true}}, trail.FormatNDJSON, &buf); err != nil {
		t.Fatal(err)
	}
	v := storage.NewChainVerifier()
	sc := bufio.NewScanner(&buf)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		var r storage.AuditRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if b := v.Add(r); b != nil {
			t.Fatalf("record %d does not verify offline: %+v", n, b)
		}
		// The input is readable too, beside the hashed base64.
		var readable struct {
			InputJSON json.RawMessage `json:"input_json"`
		}
		if err := json.Unmarshal(sc.Bytes(), &readable); err != nil || !bytes.Equal(readable.InputJSON, r.Input) {
			t.Fatalf("input_json %s, want %s (%v)", readable.InputJSON, r.Input, err)
		}
		n++
	}
	if b := v.Finish(); b != nil || n != 500 {
		t.Fatalf("offline verification: %+v after %d records", b, n)
	}
	// The CSV carries the same hashes.
	buf.Reset()
	if err := tr.Export(context.Background(), trail.Filter{}, trail.FormatCSV, &buf); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	hash := slices.Index(trail.CSVHeader, "hash")
	if err != nil || len(recs) != 501 || recs[0][hash] != "hash" || len(recs[1][hash]) != 64 {
		t.Fatalf("csv: %v, %d rows", err, len(recs))
	}
	if err := tr.Export(context.Background(), trail.Filter{}, "xml", io.Discard); err == nil {
		t.Error("unknown format accepted")
	}
}

// BenchmarkExportAudit reports the export rate in rows per second.
func BenchmarkExportAudit(b *testing.B) {
	st := sqlstoretest.NewSQLite(b)
	const rows = 20000
	seedAudit(b, st, rows, 800)
	tr := trailOf(b, st)
	for _, format := range []trail.Format{trail.FormatCSV, trail.FormatNDJSON} {
		b.Run(string(format), func(b *testing.B) {
			for b.Loop() {
				if err := tr.Export(context.Background(), trail.Filter{}, format, io.Discard); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
