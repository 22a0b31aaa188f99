package sqlstore_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/sqlstore/sqlstoretest"
)

// BenchmarkAppendAudit measures one AppendAudit transaction of a typical
// sync-mode batch (16 decision records, one chain) and of a full async
// batch, per backend; ns/op is per batch, records/s the throughput of a
// single committing goroutine.
func BenchmarkAppendAudit(b *testing.B) {
	input := []byte(`{"subject":{"claims":{"amr":["pwd","mfa"],"auth_time":1763769500,"sub":"user-1"}},"action":{"name":"billing.view"},"resource":{"type":"invoice","id":"inv-1"}}`)
	for _, be := range sqlstoretest.Backends() {
		for _, n := range []int{1, 16, 250} {
			b.Run(be.Name+"/batch-"+strconv.Itoa(n), func(b *testing.B) {
				be.Require(b)
				store := be.Open(b)
				recs := make([]storage.AuditRecord, n)
				ctx := context.Background()
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					for j := range recs {
						recs[j] = storage.AuditRecord{ChainID: "bench", Kind: storage.KindDecision,
							DecisionID: "dec-" + strconv.Itoa(i*n+j), RequestID: "req-1", ClientID: "billing-svc",
							Subject: "user-1", Issuer: "https://idp.example", Action: "billing.view",
							ResourceType: "invoice", ResourceID: "inv-1", Outcome: "allow",
							Reasons: []string{"mfa within 900s"}, PolicyRevision: 3,
							PolicyHash:    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
							LatencyMicros: 250, Input: input,
							InputDigest: "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"}
					}
					if err := store.AppendAudit(ctx, recs); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "records/s")
			})
		}
	}
}
