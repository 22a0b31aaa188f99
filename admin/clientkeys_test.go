package admin_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/sqlstore/sqlstoretest"
)

// lastAdminRecord returns the newest admin record's action and detail.
func lastAdminRecord(t testing.TB, st storage.Store) (string, map[string]any) {
	t.Helper()
	page, err := st.SearchAudit(t.Context(), storage.AuditQuery{Kind: storage.KindAdmin, Limit: 1})
	if err != nil || len(page.Records) == 0 {
		t.Fatalf("newest admin record: %v (%d records)", err, len(page.Records))
	}
	var d map[string]any
	if err := json.Unmarshal(page.Records[0].Detail, &d); err != nil {
		t.Fatal(err)
	}
	return page.Records[0].Action, d
}

func TestClientKeyLifecycle(t *testing.T) {
	ctx := t.Context()
	st := sqlstoretest.Backends()[0].Open(t)
	now := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	rec, err := admin.NewRecorder(admin.RecorderConfig{ChainID: testChain, Log: storeLog{st}})
	if err != nil {
		t.Fatal(err)
	}
	changed := 0
	clients, err := admin.NewClients(admin.ClientsConfig{Store: st, Recorder: rec, Now: func() time.Time { return now },
		OnChange: func() { changed++ }})
	if err != nil {
		t.Fatal(err)
	}
	if clients.KeyGrace() != 24*time.Hour {
		t.Errorf("default grace = %v, want 24h", clients.KeyGrace())
	}
	if _, err := admin.NewClients(admin.ClientsConfig{Store: st, Recorder: rec, KeyGrace: 31 * 24 * time.Hour}); err == nil {
		t.Error("a 31-day default grace was accepted")
	}

	wantField := func(err error, field string) {
		t.Helper()
		var fe admin.FieldErrors
		if !errors.As(err, &fe) || fe[field] == "" || !errors.Is(err, admin.ErrInvalid) {
			t.Errorf("error = %v, want a field error on %q", err, field)
		}
	}
	_, err = clients.Create(ctx, "alice", admin.ClientSettings{ID: "billing", Name: "Billing"}, "  ")
	wantField(err, "reason")
	if _, err := st.GetClient(ctx, "billing"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a refused create stored the client: %v", err)
	}

	first, err := clients.Create(ctx, "alice", admin.ClientSettings{ID: "billing", Name: "Billing"}, "CHG-1 new service")
	if err != nil {
		t.Fatal(err)
	}
	if what, d := lastAdminRecord(t, st); what != "client.create" || d["reason"] != "CHG-1 new service" || d["client"] != "billing" {
		t.Errorf("create record = %s %v", what, d)
	}

	// Refused rotations change nothing.
	before, _ := st.GetClient(ctx, "billing")
	_, err = clients.Rotate(ctx, "alice", "billing", "", time.Hour)
	wantField(err, "reason")
	_, err = clients.Rotate(ctx, "alice", "billing", "too long", admin.MaxKeyGrace+time.Second)
	wantField(err, "grace")
	if after, _ := st.GetClient(ctx, "billing"); after.KeyHash != before.KeyHash || after.PreviousKeyHash != "" {
		t.Fatalf("a refused rotation changed the client: %+v", after)
	}

	now = now.Add(time.Hour)
	second, err := clients.Rotate(ctx, "bob", "billing", "CHG-2 yearly rotation", 6*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cl, _ := st.GetClient(ctx, "billing")
	until := now.Add(6 * time.Hour)
	if cl.KeyHash != clientauth.HashKey(second) || cl.PreviousKeyHash != clientauth.HashKey(first) ||
		cl.PreviousKeyExpiresAt == nil || !cl.PreviousKeyExpiresAt.Equal(until) || !cl.KeyCreatedAt.Equal(now) {
		t.Fatalf("after a rotation with grace: %+v", cl)
	}
	if !cl.PreviousKeyValid(until.Add(-time.Second)) || cl.PreviousKeyValid(until) {
		t.Error("the previous key is not valid exactly until the end of the grace period")
	}
	what, d := lastAdminRecord(t, st)
	if what != "client.rotate" || d["reason"] != "CHG-2 yearly rotation" || d["grace_seconds"] != float64(6*3600) ||
		d["previous_key_valid_until"] != until.Format(time.RFC3339) {
		t.Errorf("rotate record = %s %v", what, d)
	}

	// Rotating again during the overlap keeps only the key just replaced.
	third, err := clients.Rotate(ctx, "bob", "billing", "CHG-3 leaked in a log", 0)
	if err != nil {
		t.Fatal(err)
	}
	cl, _ = st.GetClient(ctx, "billing")
	if cl.KeyHash != clientauth.HashKey(third) || cl.PreviousKeyHash != "" || cl.PreviousKeyExpiresAt != nil {
		t.Fatalf("a rotation with no grace kept a previous key: %+v", cl)
	}
	if _, err := st.ClientByKeyHash(ctx, clientauth.HashKey(first)); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the first key still finds the client: %v", err)
	}

	if _, err := clients.Rotate(ctx, "bob", "billing", "CHG-4", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := clients.EndOverlap(ctx, "bob", "billing", ""); err == nil {
		t.Error("ending an overlap without a reason was accepted")
	}
	if err := clients.EndOverlap(ctx, "bob", "billing", "all callers switched"); err != nil {
		t.Fatal(err)
	}
	if cl, _ = st.GetClient(ctx, "billing"); cl.PreviousKeyHash != "" {
		t.Errorf("EndOverlap kept the previous key: %+v", cl)
	}

	if _, err := clients.Rotate(ctx, "bob", "billing", "CHG-5", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := clients.Revoke(ctx, "carol", "billing", "   "); err == nil {
		t.Error("a revocation without a reason was accepted")
	}
	if err := clients.Revoke(ctx, "carol", "billing", "INC-7 compromised"); err != nil {
		t.Fatal(err)
	}
	if cl, _ = st.GetClient(ctx, "billing"); !cl.Disabled || cl.PreviousKeyHash != "" {
		t.Errorf("revoke left a key working: %+v", cl)
	}
	if what, d := lastAdminRecord(t, st); what != "client.revoke" || d["reason"] != "INC-7 compromised" {
		t.Errorf("revoke record = %s %v", what, d)
	}
	// A revoked key gets no grace when the client is given a new one.
	if _, err := clients.Rotate(ctx, "carol", "billing", "INC-7 new key", 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if cl, _ = st.GetClient(ctx, "billing"); cl.Disabled || cl.PreviousKeyHash != "" {
		t.Errorf("rotation after a revocation: %+v, want enabled with no previous key", cl)
	}
	if changed != 8 {
		t.Errorf("OnChange ran %d times, want once per committed change (8)", changed)
	}
}
