package audit_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/audit"
	"github.com/stepgate/stepgate/storage/sqlstore/sqlstoretest"
)

// BenchmarkWriter measures decisions per second through the writer with
// many concurrent producers, per backend and mode. PostgreSQL runs when
// STEPGATE_TEST_POSTGRES_URL is set.
func BenchmarkWriter(b *testing.B) {
	for _, be := range sqlstoretest.Backends() {
		for _, mode := range []string{audit.ModeSync, audit.ModeAsync} {
			b.Run(be.Name+"/"+mode, func(b *testing.B) {
				be.Require(b)
				store := be.Open(b)
				w, err := audit.NewWriter(audit.Config{Store: store, ChainID: "bench", Mode: mode,
					Logger: slog.New(slog.DiscardHandler)})
				if err != nil {
					b.Fatal(err)
				}
				input := []byte(`{"subject":{"claims":{"amr":["pwd","mfa"],"auth_time":1763769500}},"action":{"name":"billing.view"}}`)
				b.SetParallelism(16)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						r := storage.AuditRecord{Kind: storage.KindDecision, DecisionID: "d", ClientID: "billing-svc",
							Subject: "user-1", Action: "billing.view", Outcome: "allow", Input: input,
							Reasons: []string{"mfa within 900s"}, PolicyRevision: 3, LatencyMicros: 250}
						if err := w.Write(context.Background(), r); err != nil {
							b.Error(err)
							return
						}
					}
				})
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				if err := w.Close(ctx); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				s := w.Stats()
				b.ReportMetric(float64(s.Committed)/float64(max(s.Batches, 1)), "records/batch")
			})
		}
	}
}
