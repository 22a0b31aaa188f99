package adminhttp_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/admin/adminhttp"
	"github.com/stepgate/stepgate/storage"
)

// adminRecord is one admin audit record with its Detail decoded.
type adminRecord struct {
	storage.AuditRecord
	detail map[string]any
}

// adminRecordsSince returns the admin records after the first skip, oldest
// first.
func (e *env) adminRecordsSince(skip int) []adminRecord {
	e.t.Helper()
	page, err := e.store.SearchAudit(context.Background(), storage.AuditQuery{Kind: storage.KindAdmin, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []adminRecord
	for i := len(page.Records) - 1 - skip; i >= 0; i-- {
		r := adminRecord{AuditRecord: page.Records[i]}
		if err := json.Unmarshal(r.Detail, &r.detail); err != nil {
			e.t.Fatalf("detail of %s: %v", r.Action, err)
		}
		out = append(out, r)
	}
	return out
}

func (e *env) adminRecordCount() int { return len(e.adminRecordsSince(0)) }

// TestPasswordSessionIsRecorded: a failed sign-in, a sign-in, a refused
// write and a sign-out each leave a record.
func TestPasswordSessionIsRecorded(t *testing.T) {
	e := newEnv(t)
	start := e.adminRecordCount()
	b := e.browser()
	b.get("/login")
	if r := b.post("/login", url.Values{"user": {"admin"}, "password": {"wrong-password"}}); r.Code != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", r.Code)
	}
	b.signIn()
	auditor := e.auditor()
	if r := auditor.post("/policies/1/activate", url.Values{"reason": {"x"}, "confirm": {"yes"}}); r.Code != http.StatusForbidden {
		t.Fatalf("auditor activating: %d", r.Code)
	}
	if r := b.post("/logout", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("logout: %d", r.Code)
	}
	want := []struct{ action, outcome, actor string }{
		{admin.ActionSignIn, admin.OutcomeFailed, admin.LocalAdmin},
		{admin.ActionSignIn, admin.OutcomeOK, admin.LocalAdmin},
		{"admin.write", admin.OutcomeRefused, "https://idp.example|sub-audrey"},
		{admin.ActionSignOut, admin.OutcomeOK, admin.LocalAdmin},
	}
	got := e.adminRecordsSince(start)
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if r := got[i]; r.Action != w.action || r.Outcome != w.outcome || r.Actor != w.actor {
			t.Errorf("record %d: %s %s by %q, want %s %s by %q", i, r.Action, r.Outcome, r.Actor, w.action, w.outcome, w.actor)
		}
	}
	if r := got[2]; r.detail["route"] != "POST /policies/:id/activate" || r.detail["actor_label"] != "audrey@example.com" || len(r.Reasons) != 1 {
		t.Errorf("refusal detail %v reasons %q: want the route, the auditor's label and the reason", r.detail, r.Reasons)
	}
}

// TestSSOActorIsIssuerAndSubject: two people whose ID tokens share an
// e-mail address are two actors, each with the address as label.
func TestSSOActorIsIssuerAndSubject(t *testing.T) {
	idp := newFakeIdP(t)
	e := newEnv(t, func(c *adminhttp.Config) {
		c.SSO = &adminhttp.SSOConfig{Issuer: idp.iss.URL(), ClientID: "admin-ui", RedirectURL: "http://admin.test/auth/callback",
			AdminValues: []string{"sec-admins"}}
	})
	idp.clock = e.clock
	start := e.adminRecordCount()
	for _, sub := range []string{"u-1", "u-2"} {
		idp.sub = sub
		b := e.browser()
		q := idp.start(t, b)
		if r := b.get("/auth/callback?code=good-code&state=" + url.QueryEscape(q.Get("state"))); r.Code != http.StatusSeeOther {
			t.Fatalf("sign-in of %s: %d %s", sub, r.Code, r.Body)
		}
		b.get("/policies/rollback")
		if r := b.post("/policies/rollback", url.Values{"reason": {"by " + sub}, "confirm": {"yes"}}); r.Code != http.StatusUnprocessableEntity {
			t.Fatalf("rollback without an earlier revision by %s: %d", sub, r.Code)
		}
	}
	b := e.browser()
	idp.start(t, b)
	if r := b.get("/auth/callback?code=good-code&state=forged"); r.Code != http.StatusBadRequest {
		t.Fatalf("forged state: %d", r.Code)
	}
	got := e.adminRecordsSince(start)
	want := []struct{ action, outcome, actor string }{
		{admin.ActionSignIn, admin.OutcomeOK, idp.iss.URL() + "|u-1"},
		{"policy.rollback", admin.OutcomeRefused, idp.iss.URL() + "|u-1"},
		{admin.ActionSignIn, admin.OutcomeOK, idp.iss.URL() + "|u-2"},
		{"policy.rollback", admin.OutcomeRefused, idp.iss.URL() + "|u-2"},
		{admin.ActionSignIn, admin.OutcomeFailed, "anonymous"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		r := got[i]
		if r.Action != w.action || r.Outcome != w.outcome || r.Actor != w.actor {
			t.Errorf("record %d: %s %s by %q, want %s %s by %q", i, r.Action, r.Outcome, r.Actor, w.action, w.outcome, w.actor)
		}
		if w.actor != "anonymous" && r.detail["actor_label"] != "ada@example.com" {
			t.Errorf("record %d: actor_label %v, want the e-mail address", i, r.detail["actor_label"])
		}
	}
}

// auditDown is the store with audit inserts failing inside transactions.
type auditDown struct{ storage.Store }

var errAuditDown = errors.New("audit inserts are failing")

func (a auditDown) Atomic(ctx context.Context, fn func(tx storage.Store) error) error {
	return a.Store.Atomic(ctx, func(tx storage.Store) error { return fn(appendFails{tx}) })
}

type appendFails struct{ storage.Store }

func (appendFails) AppendAudit(context.Context, []storage.AuditRecord) error { return errAuditDown }

// TestClientChangesWithAuditDown: a client change the trail cannot record
// answers 503 saying nothing was done, and nothing was.
func TestClientChangesWithAuditDown(t *testing.T) {
	e := newEnv(t, func(c *adminhttp.Config) { c.Store = auditDown{c.Store} })
	ctx := context.Background()
	if err := e.store.CreateClient(ctx, storage.Client{ID: "billing-svc", KeyHash: "keyhash", Name: "Billing"}); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.signIn()
	b.get("/clients/billing-svc")
	for _, path := range []string{"/clients/billing-svc/revoke", "/clients/billing-svc/rotate"} {
		r := b.post(path, url.Values{"reason": {"INC-1"}, "grace": {"1h0m0s"}})
		if r.Code != http.StatusServiceUnavailable {
			t.Fatalf("POST %s: %d, want 503", path, r.Code)
		}
		mustContain(t, r, "Nothing was done", "audit trail")
	}
	r := b.post("/clients", url.Values{"id": {"shop"}, "name": {"Shop"}, "reason": {"CHG-1"}})
	if r.Code != http.StatusServiceUnavailable {
		t.Fatalf("create: %d, want 503", r.Code)
	}
	cl, err := e.store.GetClient(ctx, "billing-svc")
	if err != nil || cl.Disabled || cl.KeyHash != "keyhash" {
		t.Errorf("client after the refused changes: %+v, %v", cl, err)
	}
	if _, err := e.store.GetClient(ctx, "shop"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("client created without a record: %v", err)
	}
}

// TestPolicyRefusalIsRecorded: when stepgate's own policy refuses a
// sensitive admin action that signing in again cannot satisfy, the refusal
// is recorded with the engine's reason and decision.
func TestPolicyRefusalIsRecorded(t *testing.T) {
	e, _, b := clientEnv(t)
	ctx := context.Background()
	_, files, err := e.policies.Files(ctx, e.active.ID)
	if err != nil {
		t.Fatal(err)
	}
	rules, _, err := admin.ReadActions(files)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for i := range rules {
		if rules[i].Name == admin.ActionClientKey {
			rules[i].AMRAny, found = []string{"hwk"}, true
		}
	}
	if !found {
		t.Fatalf("the default policy has no %s rule", admin.ActionClientKey)
	}
	if files, err = admin.WriteActions(files, rules); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.policies.Push(ctx, "setup", files, "client keys need a hardware key", true); err != nil {
		t.Fatal(err)
	}
	start := e.adminRecordCount()
	b.get("/clients/new")
	r := b.post("/clients", url.Values{"id": {"hw-svc"}, "name": {"HW"}})
	if r.Code != http.StatusForbidden {
		t.Fatalf("create a client key with a password sign-in: %d, want 403\n%s", r.Code, r.Body)
	}
	got := e.adminRecordsSince(start)
	if len(got) != 1 {
		t.Fatalf("%d records, want the refusal: %+v", len(got), got)
	}
	rec := got[0]
	if rec.Action != admin.ActionClientKey || rec.Outcome != admin.OutcomeRefused || rec.Actor != admin.LocalAdmin ||
		len(rec.Reasons) != 1 || rec.detail["decision_id"] == "" || rec.detail["route"] != "POST /clients" {
		t.Errorf("refusal record: %s %s by %q reasons %q detail %v", rec.Action, rec.Outcome, rec.Actor, rec.Reasons, rec.detail)
	}
}

// TestSSOErrorResponseIsRecorded: a sign-in the IdP refused is a failed
// sign-in with the IdP's error as the reason.
func TestSSOErrorResponseIsRecorded(t *testing.T) {
	idp := newFakeIdP(t)
	e := newEnv(t, func(c *adminhttp.Config) {
		c.SSO = &adminhttp.SSOConfig{Issuer: idp.iss.URL(), ClientID: "admin-ui", RedirectURL: "http://admin.test/auth/callback",
			AdminValues: []string{"sec-admins"}}
	})
	start := e.adminRecordCount()
	b := e.browser()
	if r := b.get("/auth/callback?error=access_denied&error_description=user+cancelled"); r.Code != http.StatusBadRequest {
		t.Fatalf("callback with an error: %d", r.Code)
	}
	got := e.adminRecordsSince(start)
	if len(got) != 1 || got[0].Action != admin.ActionSignIn || got[0].Outcome != admin.OutcomeFailed ||
		len(got[0].Reasons) != 1 || !strings.Contains(got[0].Reasons[0], "access_denied user cancelled") {
		t.Fatalf("records: %+v, want one failed sign-in naming the IdP's error", got)
	}
}
