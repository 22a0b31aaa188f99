package users_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/admin/users"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/sqlstore/sqlstoretest"
)

// storeLog writes admin events straight into the store.
type storeLog struct{ s storage.Store }

func (l storeLog) Write(ctx context.Context, rec storage.AuditRecord) error {
	rec.ChainID = "test"
	return l.s.AppendAudit(ctx, []storage.AuditRecord{rec})
}

var errAuditDown = errors.New("audit inserts are failing")

// auditDown is a store whose transactions cannot append audit records.
type auditDown struct{ storage.Store }

func (s auditDown) Atomic(ctx context.Context, fn func(tx storage.Store) error) error {
	return s.Store.Atomic(ctx, func(tx storage.Store) error { return fn(failingTx{tx}) })
}

type failingTx struct{ storage.Store }

func (failingTx) AppendAudit(context.Context, []storage.AuditRecord) error { return errAuditDown }

type fixture struct {
	store storage.Store
	rec   *admin.Recorder
	svc   *users.Service
	now   time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st := sqlstoretest.NewSQLite(t)
	f := &fixture{store: st, now: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	var err error
	if f.rec, err = admin.NewRecorder(admin.RecorderConfig{ChainID: "test", Log: storeLog{st}, Now: func() time.Time { return f.now }}); err != nil {
		t.Fatal(err)
	}
	if f.svc, err = users.New(users.Config{Store: st, Recorder: f.rec, Cost: bcrypt.MinCost, Now: func() time.Time { return f.now }}); err != nil {
		t.Fatal(err)
	}
	return f
}

type record struct {
	Actor, Action, Outcome string
	Detail                 map[string]any
}

func (f *fixture) records(t *testing.T) []record {
	t.Helper()
	page, err := f.store.SearchAudit(t.Context(), storage.AuditQuery{Kind: storage.KindAdmin, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]record, 0, len(page.Records))
	for i := len(page.Records) - 1; i >= 0; i-- {
		r := page.Records[i]
		var d map[string]any
		_ = json.Unmarshal(r.Detail, &d)
		out = append(out, record{r.Actor, r.Action, r.Outcome, d})
	}
	return out
}

func (f *fixture) last(t *testing.T) record {
	t.Helper()
	recs := f.records(t)
	if len(recs) == 0 {
		t.Fatal("no admin record")
	}
	return recs[len(recs)-1]
}

func TestAddRefusesBadInputAndChangesNothing(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	cases := []struct {
		name, account, role, password, want string
	}{
		{"upper case", "Alice", "admin", "a-long-enough-password", "lower-case"},
		{"colon", "cli:alice", "admin", "a-long-enough-password", "lower-case"},
		{"pipe", "idp|alice", "admin", "a-long-enough-password", "lower-case"},
		{"empty", "", "admin", "a-long-enough-password", "lower-case"},
		{"unknown role", "alice", "root", "a-long-enough-password", "admin or auditor"},
		{"short password", "alice", "admin", "short", "at least 12 characters"},
		{"long password", "alice", "admin", string(make([]byte, 73)), "at most 72 bytes"},
		{"password is the name", "alice.example", "auditor", "ALICE.EXAMPLE", "must not be the account name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.Add(ctx, "admin", tc.account, admin.Role(tc.role), tc.password)
			if !errors.Is(err, admin.ErrInvalid) || !contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want ErrInvalid saying %q", err, tc.want)
			}
			if r := f.last(t); r.Action != users.ActionAdd || r.Outcome != admin.OutcomeRefused || r.Actor != "admin" {
				t.Errorf("record = %+v, want a refused add by admin", r)
			}
		})
	}
	if list, _ := f.svc.List(ctx); len(list) != 0 {
		t.Fatalf("refused adds stored %v", list)
	}
}

func TestAccountLifecycle(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	alice, err := f.svc.Add(ctx, "admin", "alice", admin.RoleAdmin, "alice-password-1")
	if err != nil {
		t.Fatal(err)
	}
	if r := f.last(t); r.Action != users.ActionAdd || r.Outcome != admin.OutcomeOK || r.Detail["account"] != "alice" || r.Detail["role"] != "admin" {
		t.Errorf("add record = %+v", r)
	}
	if _, err := f.svc.Add(ctx, "admin", "alice", admin.RoleAuditor, "another-password"); !errors.Is(err, admin.ErrInvalid) {
		t.Errorf("second alice: %v, want ErrInvalid", err)
	}
	if _, err := f.svc.Add(ctx, "alice", "audrey", admin.RoleAuditor, "audrey-password-1"); err != nil {
		t.Fatal(err)
	}

	// Verify: the right password, a wrong one, an unknown name.
	acct, err := f.svc.Verify(ctx, "audrey", "audrey-password-1")
	if err != nil || acct.Name != "audrey" || acct.Role != admin.RoleAuditor || acct.Version != 1 {
		t.Fatalf("verify audrey = %+v, %v", acct, err)
	}
	if acct, err := f.svc.Verify(ctx, "audrey", "wrong-password"); !errors.Is(err, admin.ErrBadCredentials) || acct.Name != "audrey" {
		t.Errorf("wrong password = %+v, %v; want ErrBadCredentials naming the account", acct, err)
	}
	if acct, err := f.svc.Verify(ctx, "nobody", "audrey-password-1"); !errors.Is(err, admin.ErrBadCredentials) || acct.Name != "" {
		t.Errorf("unknown account = %+v, %v; want ErrBadCredentials naming nobody", acct, err)
	}
	if ok, err := f.svc.Current(ctx, "audrey", 1); !ok || err != nil {
		t.Fatalf("current audrey v1 = %v, %v", ok, err)
	}

	// A new password: the old one stops working, and so do sessions of
	// the earlier version.
	f.now = f.now.Add(time.Minute)
	if _, err := f.svc.SetPassword(ctx, "alice", "audrey", "short"); !errors.Is(err, admin.ErrInvalid) {
		t.Errorf("short new password: %v", err)
	}
	u, err := f.svc.SetPassword(ctx, "alice", "audrey", "audrey-password-2")
	if err != nil || u.Version != 2 || !u.UpdatedAt.Equal(f.now) {
		t.Fatalf("set password = %+v, %v", u, err)
	}
	if r := f.last(t); r.Action != users.ActionPassword || r.Actor != "alice" || r.Detail["account"] != "audrey" {
		t.Errorf("password record = %+v", r)
	}
	if _, err := f.svc.Verify(ctx, "audrey", "audrey-password-1"); !errors.Is(err, admin.ErrBadCredentials) {
		t.Errorf("old password still works: %v", err)
	}
	if ok, _ := f.svc.Current(ctx, "audrey", 1); ok {
		t.Error("a session of version 1 is still current after the password changed")
	}

	// Disabling needs a reason; a disabled account cannot sign in.
	if _, err := f.svc.Disable(ctx, "alice", "audrey", " "); !errors.Is(err, admin.ErrInvalid) {
		t.Errorf("disable without reason: %v", err)
	}
	if _, err := f.svc.Disable(ctx, "alice", "audrey", "left the company"); err != nil {
		t.Fatal(err)
	}
	if r := f.last(t); r.Action != users.ActionDisable || r.Detail["reason"] != "left the company" {
		t.Errorf("disable record = %+v", r)
	}
	if _, err := f.svc.Verify(ctx, "audrey", "audrey-password-2"); !errors.Is(err, admin.ErrBadCredentials) {
		t.Errorf("disabled account signs in: %v", err)
	}
	if ok, _ := f.svc.Current(ctx, "audrey", 3); ok {
		t.Error("a disabled account is current")
	}
	if _, err := f.svc.Enable(ctx, "alice", "audrey", "came back"); err != nil {
		t.Fatal(err)
	}
	if acct, err := f.svc.Verify(ctx, "audrey", "audrey-password-2"); err != nil || acct.Version != 4 {
		t.Errorf("enabled again = %+v, %v", acct, err)
	}

	// The last enabled admin stays.
	if _, err := f.svc.Disable(ctx, "alice", "alice", "testing"); !errors.Is(err, users.ErrLastAdmin) {
		t.Fatalf("disable the last admin: %v, want ErrLastAdmin", err)
	}
	if r := f.last(t); r.Action != users.ActionDisable || r.Outcome != admin.OutcomeRefused {
		t.Errorf("last-admin refusal record = %+v", r)
	}
	if got, _ := f.store.GetAdminUser(ctx, "alice"); got.Disabled || got.Version != alice.Version {
		t.Errorf("refused disable changed alice: %+v", got)
	}
	if _, err := f.svc.Disable(ctx, "alice", "nobody", "x"); !errors.Is(err, admin.ErrInvalid) {
		t.Errorf("disable unknown: %v", err)
	}
}

func TestChangesWithoutTheirRecordDoNotHappen(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	if _, err := f.svc.Add(ctx, "admin", "alice", admin.RoleAdmin, "alice-password-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Add(ctx, "admin", "bob", admin.RoleAdmin, "bob-password-12"); err != nil {
		t.Fatal(err)
	}
	down, err := users.New(users.Config{Store: auditDown{f.store}, Recorder: f.rec, Cost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	before, _ := f.store.ListAdminUsers(ctx)
	steps := map[string]func() error{
		"add": func() error {
			_, err := down.Add(ctx, "admin", "carol", admin.RoleAuditor, "carol-password-1")
			return err
		},
		"disable":  func() error { _, err := down.Disable(ctx, "admin", "bob", "x"); return err },
		"password": func() error { _, err := down.SetPassword(ctx, "admin", "bob", "bob-password-new"); return err },
	}
	for name, step := range steps {
		if err := step(); !errors.Is(err, admin.ErrUnrecorded) {
			t.Errorf("%s with the trail down: %v, want ErrUnrecorded", name, err)
		}
	}
	after, _ := f.store.ListAdminUsers(ctx)
	if len(after) != len(before) {
		t.Fatalf("accounts %d → %d", len(before), len(after))
	}
	for i := range after {
		if after[i] != before[i] {
			t.Errorf("%s changed without its record: %+v", after[i].Name, after[i])
		}
	}
}

// TestSessionsEndWithTheAccount: a session of a disabled account, or of
// one whose password was replaced, no longer loads.
func TestSessionsEndWithTheAccount(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	for _, n := range []string{"alice", "bob"} {
		if _, err := f.svc.Add(ctx, "admin", n, admin.RoleAdmin, n+"-password-123"); err != nil {
			t.Fatal(err)
		}
	}
	sessions, err := admin.NewSessions(admin.SessionsConfig{Store: f.store, Recorder: f.rec, Accounts: f.svc, Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	open := func(name string) string {
		acct, err := f.svc.Verify(ctx, name, name+"-password-123")
		if err != nil {
			t.Fatal(err)
		}
		s, err := sessions.Create(ctx, admin.Session{User: acct.Name, Role: acct.Role, Version: acct.Version, Method: "password"})
		if err != nil {
			t.Fatal(err)
		}
		return s.Key()
	}
	a, b := open("alice"), open("bob")
	if s, err := sessions.Load(ctx, a); err != nil || s.Actor() != "alice" {
		t.Fatalf("load alice = %v, %v", s, err)
	}
	if _, err := f.svc.Disable(ctx, "alice", "bob", "lost laptop"); err != nil {
		t.Fatal(err)
	}
	if _, err := sessions.Load(ctx, b); !errors.Is(err, admin.ErrNoSession) {
		t.Errorf("disabled bob's session: %v, want ErrNoSession", err)
	}
	if _, err := sessions.Load(ctx, a); err != nil {
		t.Errorf("alice's session ended with bob's: %v", err)
	}
	if _, err := f.svc.SetPassword(ctx, "alice", "alice", "alice-password-456"); err != nil {
		t.Fatal(err)
	}
	if _, err := sessions.Load(ctx, a); !errors.Is(err, admin.ErrNoSession) {
		t.Errorf("session after a new password: %v, want ErrNoSession", err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
