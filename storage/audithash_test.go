package storage_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
)

var update = flag.Bool("update", false, "rewrite golden files")

func goldenRecord() storage.AuditRecord {
	return storage.AuditRecord{
		ID: 99, ChainID: "replica-1", Seq: 42, Time: time.Date(2025, 11, 20, 1, 2, 3, 456789000, time.UTC),
		Kind: storage.KindDecision, DecisionID: "dec-1", RequestID: "req-1", ClientID: "billing-svc",
		Subject: "user-1", Issuer: "https://idp.example/", Action: "billing.pay", ResourceType: "invoice",
		ResourceID: "inv_42", Outcome: "step_up", Reasons: []string{"needs mfa", "日本語,:"},
		PolicyRevision: 3, PolicyHash: "ab12", LatencyMicros: 1500, Input: []byte(`{"a":1}`),
		InputDigest: "cd34", StepUpID: "su-1", CIBAID: "", Actor: "", Detail: nil,
		PrevHash: "00ff",
	}
}

// TestCanonicalGolden pins the stepgate-audit-v1 encoding: an offline
// verifier written from the documentation must produce these bytes.
func TestCanonicalGolden(t *testing.T) {
	got := storage.CanonicalAudit(goldenRecord())
	hash := storage.ComputeAuditHash(goldenRecord())
	path := filepath.Join("testdata", "canonical_v1.golden")
	if *update {
		if err := os.WriteFile(path, append(got, "\n"+hash+"\n"...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden: %v", err)
	}
	if string(append(got, "\n"+hash+"\n"...)) != string(want) {
		t.Errorf("canonical encoding changed:\n got %q\nwant %q", append(got, "\n"+hash+"\n"...), want)
	}
}

func TestHashCoversEveryField(t *testing.T) {
	base := storage.ComputeAuditHash(goldenRecord())
	tests := []struct {
		name   string
		mutate func(*storage.AuditRecord)
	}{
		{"chain", func(r *storage.AuditRecord) { r.ChainID = "replica-2" }},
		{"seq", func(r *storage.AuditRecord) { r.Seq++ }},
		{"prev hash", func(r *storage.AuditRecord) { r.PrevHash = "" }},
		{"time", func(r *storage.AuditRecord) { r.Time = r.Time.Add(time.Microsecond) }},
		{"kind", func(r *storage.AuditRecord) { r.Kind = storage.KindAdmin }},
		{"decision id", func(r *storage.AuditRecord) { r.DecisionID = "dec-2" }},
		{"request id", func(r *storage.AuditRecord) { r.RequestID = "" }},
		{"client", func(r *storage.AuditRecord) { r.ClientID = "x" }},
		{"subject", func(r *storage.AuditRecord) { r.Subject = "x" }},
		{"issuer", func(r *storage.AuditRecord) { r.Issuer = "x" }},
		{"action", func(r *storage.AuditRecord) { r.Action = "x" }},
		{"resource type", func(r *storage.AuditRecord) { r.ResourceType = "x" }},
		{"resource id", func(r *storage.AuditRecord) { r.ResourceID = "x" }},
		{"outcome", func(r *storage.AuditRecord) { r.Outcome = "allow" }},
		{"reasons order", func(r *storage.AuditRecord) { r.Reasons[0], r.Reasons[1] = r.Reasons[1], r.Reasons[0] }},
		{"reasons split", func(r *storage.AuditRecord) { r.Reasons = []string{"needs", "mfa", "日本語,:"} }},
		{"policy revision", func(r *storage.AuditRecord) { r.PolicyRevision = 4 }},
		{"policy hash", func(r *storage.AuditRecord) { r.PolicyHash = "x" }},
		{"latency", func(r *storage.AuditRecord) { r.LatencyMicros = 1 }},
		{"input", func(r *storage.AuditRecord) { r.Input = []byte(`{"a": 1}`) }},
		{"input digest", func(r *storage.AuditRecord) { r.InputDigest = "x" }},
		{"step-up id", func(r *storage.AuditRecord) { r.StepUpID = "x" }},
		{"ciba id", func(r *storage.AuditRecord) { r.CIBAID = "x" }},
		{"actor", func(r *storage.AuditRecord) { r.Actor = "x" }},
		{"detail", func(r *storage.AuditRecord) { r.Detail = []byte("{}") }},
		{"field boundary", func(r *storage.AuditRecord) { r.ResourceType, r.ResourceID = "invoiceinv", "_42" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := goldenRecord()
			r.Reasons = append([]string(nil), r.Reasons...)
			tc.mutate(&r)
			if storage.ComputeAuditHash(r) == base {
				t.Errorf("changing %s does not change the hash", tc.name)
			}
		})
	}
	r := goldenRecord()
	r.ID, r.Hash = 1, "anything"
	if storage.ComputeAuditHash(r) != base {
		t.Errorf("ID or Hash changed the hash; they are not content")
	}
}
