package trail_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/admin/trail"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/sqlstore/sqlstoretest"
)

// recordOfCSV reads a CSV row back into the record it was exported from,
// undoing the formula neutralisation: one leading ' off every text cell.
func recordOfCSV(t testing.TB, header, row []string) storage.AuditRecord {
	t.Helper()
	col := map[string]string{}
	for i, h := range header {
		col[h] = row[i]
		if v, ok := strings.CutPrefix(row[i], "'"); ok {
			col[h] = v
		}
	}
	num := func(k string) int64 {
		n, err := strconv.ParseInt(col[k], 10, 64)
		if err != nil {
			t.Fatalf("column %s: %v", k, err)
		}
		return n
	}
	at, err := time.Parse("2006-01-02T15:04:05.000000Z", col["time"])
	if err != nil {
		t.Fatal(err)
	}
	r := storage.AuditRecord{ID: num("id"), ChainID: col["chain_id"], Seq: num("seq"), Time: at, Kind: col["kind"],
		DecisionID: col["decision_id"], RequestID: col["request_id"], ClientID: col["client_id"], Subject: col["subject"],
		Issuer: col["issuer"], Action: col["action"], ResourceType: col["resource_type"], ResourceID: col["resource_id"],
		Outcome: col["outcome"], PolicyRevision: num("policy_revision"), PolicyHash: col["policy_hash"],
		LatencyMicros: num("latency_micros"), Input: []byte(col["input"]), InputDigest: col["input_digest"],
		StepUpID: col["step_up_id"], CIBAID: col["ciba_id"], Actor: col["actor"], Detail: []byte(col["detail"]),
		PrevHash: col["prev_hash"], Hash: col["hash"]}
	if err := json.Unmarshal([]byte(col["reasons"]), &r.Reasons); err != nil {
		t.Fatalf("reasons %q: %v", col["reasons"], err)
	}
	return r
}

// TestExportCSVDefusesFormulas: a cell a spreadsheet would run as a
// formula gets a leading quote in CSV, while NDJSON keeps the raw value and
// the CSV still determines every hashed field.
func TestExportCSVDefusesFormulas(t *testing.T) {
	st := sqlstoretest.NewSQLite(t)
	evil := map[string]string{
		"subject": `=HYPERLINK("http://evil","x")`, "action": "+cmd|' /C calc'!A0", "resource_id": "-2+3",
		"actor": "@SUM(A1)", "client_id": "\tpad", "request_id": "\rcr", "issuer": "'already-quoted",
	}
	rec := storage.AuditRecord{ChainID: "c", Kind: storage.KindDecision, Time: time.Date(2026, 11, 1, 0, 0, 0, 123456000, time.UTC),
		DecisionID: "d-1", ClientID: evil["client_id"], Subject: evil["subject"], Issuer: evil["issuer"], Action: evil["action"],
		ResourceID: evil["resource_id"], RequestID: evil["request_id"], Actor: evil["actor"], Outcome: "allow",
		Reasons: []string{"=1+1", "ok"}, PolicyRevision: 1, Input: []byte(`{"subject":{"authn":{"mfa":true,"methods":["pwd","otp"]}}}`)}
	if err := st.AppendAudit(context.Background(), []storage.AuditRecord{rec}); err != nil {
		t.Fatal(err)
	}
	tr := trailOf(t, st)
	var buf bytes.Buffer
	if err := tr.Export(context.Background(), trail.Filter{}, trail.FormatCSV, &buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	for i, h := range rows[0] {
		if want, ok := evil[h]; ok && rows[1][i] != "'"+want {
			t.Errorf("%s exported as %q, want %q", h, rows[1][i], "'"+want)
		}
	}
	back := recordOfCSV(t, rows[0], rows[1])
	if got := storage.ComputeAuditHash(back); got != back.Hash || back.Subject != evil["subject"] {
		t.Fatalf("the CSV row does not determine the hashed fields: hash %s, column says %s", got, back.Hash)
	}
	col := map[string]string{}
	for i, h := range rows[0] {
		col[h] = rows[1][i]
	}
	if col["mfa"] != "true" || col["amr"] != "pwd otp" || col["reasons"] != `["=1+1","ok"]` || col["time"] != "2026-11-01T00:00:00.123456Z" {
		t.Errorf("readable columns %v", col)
	}

	buf.Reset()
	if err := tr.Export(context.Background(), trail.Filter{}, trail.FormatNDJSON, &buf); err != nil {
		t.Fatal(err)
	}
	var got storage.AuditRecord
	sc := bufio.NewScanner(&buf)
	if !sc.Scan() || json.Unmarshal(sc.Bytes(), &got) != nil {
		t.Fatalf("ndjson %q", buf.String())
	}
	if got.Subject != evil["subject"] || got.Action != evil["action"] || storage.ComputeAuditHash(got) != got.Hash {
		t.Errorf("NDJSON changed the hashed values: %+v", got)
	}
}
