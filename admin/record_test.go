package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/admin/users"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/policies"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/sqlstore/sqlstoretest"
)

const testChain = "replica-1"

var errAuditDown = errors.New("audit inserts are failing")

// storeLog writes admin events straight into the store on testChain, as the
// audit writer in sync mode would.
type storeLog struct{ s storage.Store }

func (l storeLog) Write(ctx context.Context, rec storage.AuditRecord) error {
	rec.ChainID = testChain
	return l.s.AppendAudit(ctx, []storage.AuditRecord{rec})
}

// failingLog is an audit writer that can write nothing.
type failingLog struct{}

func (failingLog) Write(context.Context, storage.AuditRecord) error { return errAuditDown }

// failingStore is a real store whose audit inserts fail inside Atomic, as
// when the database refuses them (privilege revoked, disk full): every
// other write of the transaction works until the append fails.
type failingStore struct{ storage.Store }

func (f failingStore) Atomic(ctx context.Context, fn func(tx storage.Store) error) error {
	return f.Store.Atomic(ctx, func(tx storage.Store) error { return fn(failingAppend{tx}) })
}

type failingAppend struct{ storage.Store }

func (failingAppend) AppendAudit(context.Context, []storage.AuditRecord) error { return errAuditDown }

func defaultFiles(t testing.TB) policy.Files {
	t.Helper()
	files, err := policy.ReadFS(policies.Bundle())
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// withFile returns files plus one more.
func withFile(files policy.Files, name, content string) policy.Files {
	out := maps.Clone(files)
	out[name] = []byte(content)
	return out
}

// lifecycle is the admin services of one process over st.
type lifecycle struct {
	store     storage.Store
	policies  *admin.Policies
	clients   *admin.Clients
	recorder  *admin.Recorder
	activated []int64
	changed   int
}

func newLifecycle(t testing.TB, st storage.Store, log admin.AuditLog) *lifecycle {
	t.Helper()
	l := &lifecycle{store: st}
	var err error
	if l.recorder, err = admin.NewRecorder(admin.RecorderConfig{ChainID: testChain, Log: log}); err != nil {
		t.Fatal(err)
	}
	l.policies, err = admin.NewPolicies(admin.PoliciesConfig{Store: st, Recorder: l.recorder,
		Compiler:   policy.NewEngine(policy.EngineConfig{}),
		OnActivate: func(_ context.Context, rev storage.PolicyRevision) { l.activated = append(l.activated, rev.ID) }})
	if err != nil {
		t.Fatal(err)
	}
	l.clients, err = admin.NewClients(admin.ClientsConfig{Store: st, Recorder: l.recorder, OnChange: func() { l.changed++ }})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// snapshot is everything an admin change may touch.
type snapshot struct {
	revisions int
	active    int64
	client    storage.Client
	password  string
	records   int
}

func takeSnapshot(t testing.TB, st storage.Store) snapshot {
	t.Helper()
	ctx := t.Context()
	var s snapshot
	revs, err := st.ListRevisions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.revisions = len(revs)
	if s.active, _, err = st.ActiveRevisionID(ctx); err != nil {
		t.Fatal(err)
	}
	if s.client, err = st.GetClient(ctx, "billing"); err != nil {
		t.Fatal(err)
	}
	u, err := st.GetAdminUser(ctx, admin.BootstrapAdmin)
	if err != nil {
		t.Fatal(err)
	}
	s.password = u.PasswordHash
	page, err := st.SearchAudit(ctx, storage.AuditQuery{Kind: storage.KindAdmin, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	s.records = len(page.Records)
	return s
}

// TestChangesWithFailingAuditChangeNothing: with audit inserts failing,
// every admin change answers an error naming the failed record and leaves
// the store as it was; no side effect (hot swap, cache flush) runs.
func TestChangesWithFailingAuditChangeNothing(t *testing.T) {
	files := defaultFiles(t)
	tests := []struct {
		name string
		run  func(ctx context.Context, l *lifecycle, draft int64) error
	}{
		{"push", func(ctx context.Context, l *lifecycle, _ int64) error {
			_, _, err := l.policies.Push(ctx, "alice", withFile(files, "extra.rego", "package extra\n"), "m", false)
			return err
		}},
		{"push --activate", func(ctx context.Context, l *lifecycle, _ int64) error {
			_, _, err := l.policies.Push(ctx, "alice", withFile(files, "extra.rego", "package extra\n"), "m", true)
			return err
		}},
		{"activate", func(ctx context.Context, l *lifecycle, draft int64) error {
			_, err := l.policies.Activate(ctx, "alice", draft, "go live")
			return err
		}},
		{"rollback", func(ctx context.Context, l *lifecycle, _ int64) error {
			_, err := l.policies.Rollback(ctx, "alice", "bad release")
			return err
		}},
		{"client create", func(ctx context.Context, l *lifecycle, _ int64) error {
			_, err := l.clients.Create(ctx, "alice", admin.ClientSettings{ID: "shop", Name: "Shop"}, "ticket 1")
			return err
		}},
		{"client update", func(ctx context.Context, l *lifecycle, _ int64) error {
			return l.clients.Update(ctx, "alice", admin.ClientSettings{ID: "billing", Name: "Renamed", AssertClaims: true})
		}},
		{"client rotate", func(ctx context.Context, l *lifecycle, _ int64) error {
			_, err := l.clients.Rotate(ctx, "alice", "billing", "ticket 2", time.Hour)
			return err
		}},
		{"client revoke", func(ctx context.Context, l *lifecycle, _ int64) error {
			return l.clients.Revoke(ctx, "alice", "billing", "ticket 3")
		}},
		{"bootstrap password", func(ctx context.Context, l *lifecycle, _ int64) error {
			_, err := admin.EnsureBootstrapPassword(ctx, l.store, l.recorder, "system:bootstrap", "a-new-password-of-length")
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			st := sqlstoretest.NewSQLite(t)
			healthy := newLifecycle(t, st, storeLog{st})
			// Two activations (so rollback has a target) and a draft.
			if _, _, err := healthy.policies.Push(ctx, "setup", files, "first", true); err != nil {
				t.Fatal(err)
			}
			if _, _, err := healthy.policies.Push(ctx, "setup", withFile(files, "second.rego", "package second\n"), "second", true); err != nil {
				t.Fatal(err)
			}
			draft, _, err := healthy.policies.Push(ctx, "setup", withFile(files, "draft.rego", "package draft\n"), "draft", false)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := healthy.clients.Create(ctx, "setup", admin.ClientSettings{ID: "billing", Name: "Billing"}, "setup"); err != nil {
				t.Fatal(err)
			}
			if _, err := admin.EnsureBootstrapPassword(ctx, st, healthy.recorder, "setup", "the-first-password"); err != nil {
				t.Fatal(err)
			}
			before := takeSnapshot(t, st)

			failing := newLifecycle(t, failingStore{st}, failingLog{})
			err = tc.run(ctx, failing, draft.ID)
			if !errors.Is(err, errAuditDown) {
				t.Fatalf("error = %v, want the failed audit insert", err)
			}
			if !strings.Contains(err.Error(), "record admin change") {
				t.Errorf("error %q does not say that the change could not be recorded", err)
			}
			if after := takeSnapshot(t, st); !reflect.DeepEqual(after, before) {
				t.Errorf("the store changed:\nbefore %+v\nafter  %+v", before, after)
			}
			if len(failing.activated) != 0 || failing.changed != 0 {
				t.Errorf("side effects ran for a change that did not commit: activated %v, client cache flushed %d times",
					failing.activated, failing.changed)
			}
			rep, err := st.VerifyAudit(ctx)
			if err != nil || !rep.OK {
				t.Errorf("verify after the failed change: %+v, %v", rep, err)
			}
		})
	}
}

// adminRecords returns the admin records, oldest first.
func adminRecords(t testing.TB, st storage.Store) []storage.AuditRecord {
	t.Helper()
	page, err := st.SearchAudit(t.Context(), storage.AuditQuery{Kind: storage.KindAdmin, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	recs := page.Records
	for i, j := 0, len(recs)-1; i < j; i, j = i+1, j-1 {
		recs[i], recs[j] = recs[j], recs[i]
	}
	return recs
}

func lastRecord(t testing.TB, st storage.Store) (storage.AuditRecord, map[string]any) {
	t.Helper()
	recs := adminRecords(t, st)
	if len(recs) == 0 {
		t.Fatal("no admin record")
	}
	r := recs[len(recs)-1]
	var d map[string]any
	if err := json.Unmarshal(r.Detail, &d); err != nil {
		t.Fatalf("detail of %s: %v", r.Action, err)
	}
	return r, d
}

const failingTest = "package stepgate.failing_test\n\ntest_always_fails if { false }\n"

// TestRefusalsAreRecorded: a push or activation refused by validation is
// recorded with the reason, under the actor, and changes nothing.
func TestRefusalsAreRecorded(t *testing.T) {
	files := defaultFiles(t)
	tests := []struct {
		name   string
		run    func(ctx context.Context, l *lifecycle) error
		want   error
		action string
		reason string
	}{
		{"push that does not compile", func(ctx context.Context, l *lifecycle) error {
			_, _, err := l.policies.Push(ctx, "alice", withFile(files, "broken.rego", "package broken\n\nallow if {\n"), "m", false)
			return err
		}, admin.ErrInvalid, "policy.push", "broken.rego"},
		{"push --activate with failing tests", func(ctx context.Context, l *lifecycle) error {
			_, _, err := l.policies.Push(ctx, "alice", withFile(files, "stepgate/failing_test.rego", failingTest), "m", true)
			return err
		}, admin.ErrTestsFailed, "policy.push", "1 of"},
		{"activation with failing tests", func(ctx context.Context, l *lifecycle) error {
			draft, _, err := l.policies.Push(ctx, "alice", withFile(files, "stepgate/failing_test.rego", failingTest), "m", false)
			if err != nil {
				return err
			}
			_, err = l.policies.Activate(ctx, "alice", draft.ID, "go live")
			return err
		}, admin.ErrTestsFailed, "policy.activate", "1 of"},
		{"rollback without an earlier revision", func(ctx context.Context, l *lifecycle) error {
			_, err := l.policies.Rollback(ctx, "alice", "undo")
			return err
		}, admin.ErrNoPrevious, "policy.rollback", "no earlier revision"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			st := sqlstoretest.NewSQLite(t)
			l := newLifecycle(t, st, storeLog{st})
			first, _, err := l.policies.Push(ctx, "setup", files, "first", true)
			if err != nil {
				t.Fatal(err)
			}
			err = tc.run(admin.WithActorLabel(ctx, "alice@example.com"), l)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error = %v, want %v", err, tc.want)
			}
			rec, d := lastRecord(t, st)
			if rec.Action != tc.action || rec.Outcome != admin.OutcomeRefused || rec.Actor != "alice" || rec.ChainID != testChain {
				t.Errorf("record = %s %s by %q on %q, want %s refused by alice on %s",
					rec.Action, rec.Outcome, rec.Actor, rec.ChainID, tc.action, testChain)
			}
			if len(rec.Reasons) != 1 || !strings.Contains(rec.Reasons[0], tc.reason) || d["error"] != rec.Reasons[0] {
				t.Errorf("record reasons %q, detail error %v; want the refusal, mentioning %q", rec.Reasons, d["error"], tc.reason)
			}
			if d["actor_label"] != "alice@example.com" {
				t.Errorf("detail actor_label = %v, want the label of the request", d["actor_label"])
			}
			if id, _, err := st.ActiveRevisionID(ctx); err != nil || id != first.ID {
				t.Errorf("active revision %d (%v), want %d still", id, err, first.ID)
			}
		})
	}
	t.Run("refusal that cannot be recorded", func(t *testing.T) {
		ctx := t.Context()
		st := sqlstoretest.NewSQLite(t)
		l := newLifecycle(t, st, failingLog{})
		_, _, err := l.policies.Push(ctx, "alice", withFile(files, "stepgate/failing_test.rego", failingTest), "m", true)
		if !errors.Is(err, admin.ErrTestsFailed) || !errors.Is(err, errAuditDown) {
			t.Fatalf("error = %v, want the refusal and the failure to record it", err)
		}
	})
}

// TestChangesAreRecordedWithTheirChange: a committed change's record is on
// the recorder's chain, names the verified actor and keeps the label apart.
func TestChangesAreRecordedWithTheirChange(t *testing.T) {
	ctx := t.Context()
	st := sqlstoretest.NewSQLite(t)
	l := newLifecycle(t, st, storeLog{st})
	actor := admin.SSOActor("https://idp.example", "sub-123")
	rev, _, err := l.policies.Push(admin.WithActorLabel(ctx, "alice@example.com"), actor, defaultFiles(t), "first", true)
	if err != nil {
		t.Fatal(err)
	}
	recs := adminRecords(t, st)
	if len(recs) != 2 || recs[0].Action != "policy.push" || recs[1].Action != "policy.activate" {
		t.Fatalf("records = %+v, want policy.push then policy.activate", recs)
	}
	for _, r := range recs {
		var d map[string]any
		if err := json.Unmarshal(r.Detail, &d); err != nil {
			t.Fatal(err)
		}
		if r.Actor != "https://idp.example|sub-123" || d["actor_label"] != "alice@example.com" || r.ChainID != testChain {
			t.Errorf("%s record: actor %q label %v chain %q", r.Action, r.Actor, d["actor_label"], r.ChainID)
		}
		if d["revision"] != float64(rev.ID) || r.Outcome != admin.OutcomeOK {
			t.Errorf("%s record: detail %v outcome %q, want revision %d ok", r.Action, d, r.Outcome, rev.ID)
		}
	}
	if len(l.activated) != 1 || l.activated[0] != rev.ID {
		t.Errorf("OnActivate ran for %v, want once for %d after the commit", l.activated, rev.ID)
	}
	if got, err := st.GetRevision(ctx, rev.ID); err != nil || got.ActivatedBy != actor || got.Author != actor {
		t.Errorf("revision author %q, activated by %q (%v); want the actor", got.Author, got.ActivatedBy, err)
	}
}

// TestPasswordSignInsAreRecorded: every attempt is recorded; a sign-in
// whose record cannot be written fails.
func TestPasswordSignInsAreRecorded(t *testing.T) {
	ctx := t.Context()
	st := sqlstoretest.NewSQLite(t)
	l := newLifecycle(t, st, storeLog{st})
	if _, err := admin.EnsureBootstrapPassword(ctx, st, l.recorder, "system:bootstrap", "the-right-password"); err != nil {
		t.Fatal(err)
	}
	clk := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	accounts, err := users.New(users.Config{Store: st, Recorder: l.recorder, Cost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	signIn := &admin.PasswordSignIn{Accounts: accounts, Recorder: l.recorder,
		Limiter: admin.NewLoginLimiter(2, time.Minute, func() time.Time { return clk })}
	steps := []struct {
		name, user, password, what string
		reauth                     bool
		want                       error
		actor, outcome             string
	}{
		{"wrong password", "admin", "guess", admin.ActionSignIn, false, admin.ErrBadCredentials, admin.LocalAdmin, admin.OutcomeFailed},
		{"unknown account", "mallory", "the-right-password", admin.ActionSignIn, false, admin.ErrBadCredentials, "anonymous", admin.OutcomeFailed},
		{"rate limited", "admin", "the-right-password", admin.ActionSignIn, false, admin.ErrRateLimited, admin.LocalAdmin, admin.OutcomeFailed},
	}
	for _, s := range steps {
		_, err := signIn.Check(ctx, "192.0.2.1", s.user, s.password)
		if !errors.Is(err, s.want) {
			t.Fatalf("%s: error = %v, want %v", s.name, err, s.want)
		}
		rec, d := lastRecord(t, st)
		if rec.Action != s.what || rec.Actor != s.actor || rec.Outcome != s.outcome || len(rec.Reasons) != 1 || d["remote_addr"] != "192.0.2.1" {
			t.Errorf("%s: record %s by %q %s %q detail %v", s.name, rec.Action, rec.Actor, rec.Outcome, rec.Reasons, d)
		}
		if s.user == "mallory" && d["user"] != "mallory" {
			t.Errorf("%s: detail user = %v, want the name typed", s.name, d["user"])
		}
	}
	clk = clk.Add(time.Hour)
	if acct, err := signIn.Check(ctx, "192.0.2.7", "admin", "the-right-password"); err != nil || acct.Name != "admin" || acct.Role != admin.RoleAdmin {
		t.Fatalf("sign-in: %v", err)
	}
	if rec, _ := lastRecord(t, st); rec.Action != admin.ActionSignIn || rec.Outcome != admin.OutcomeOK || rec.Actor != admin.LocalAdmin {
		t.Errorf("sign-in record: %s %s by %q", rec.Action, rec.Outcome, rec.Actor)
	}
	if _, err := signIn.Reauthenticate(ctx, "192.0.2.7", "admin", "the-right-password"); err != nil {
		t.Fatalf("re-authentication: %v", err)
	}
	if rec, _ := lastRecord(t, st); rec.Action != admin.ActionReauth || rec.Outcome != admin.OutcomeOK {
		t.Errorf("re-authentication record: %s %s", rec.Action, rec.Outcome)
	}

	down, err := admin.NewRecorder(admin.RecorderConfig{ChainID: testChain, Log: failingLog{}})
	if err != nil {
		t.Fatal(err)
	}
	unrecorded := &admin.PasswordSignIn{Accounts: accounts, Recorder: down, Limiter: admin.NewLoginLimiter(5, time.Minute, time.Now)}
	if _, err := unrecorded.Check(ctx, "192.0.2.7", "admin", "the-right-password"); !errors.Is(err, errAuditDown) {
		t.Errorf("sign-in with the trail down: %v, want it to fail for want of a record", err)
	}
}

// TestSessionsNameTheVerifiedIdentity: two SSO people sharing an e-mail
// address are two actors; the local admin is LocalAdmin; a sign-out is
// recorded under the actor with the label beside it.
func TestSessionsNameTheVerifiedIdentity(t *testing.T) {
	ctx := t.Context()
	st := sqlstoretest.NewSQLite(t)
	l := newLifecycle(t, st, storeLog{st})
	sessions, err := admin.NewSessions(admin.SessionsConfig{Store: st, Recorder: l.recorder})
	if err != nil {
		t.Fatal(err)
	}
	a := &admin.Session{User: "shared@example.com", Method: "sso", Issuer: "https://idp.example", Subject: "sub-1"}
	b := &admin.Session{User: "shared@example.com", Method: "sso", Issuer: "https://idp.example", Subject: "sub-2"}
	if a.Actor() == b.Actor() || a.Actor() != "https://idp.example|sub-1" {
		t.Errorf("actors %q and %q: want two, issuer|subject", a.Actor(), b.Actor())
	}
	if got := (&admin.Session{User: "admin", Method: "password"}).Actor(); got != admin.LocalAdmin {
		t.Errorf("password session actor = %q, want %q", got, admin.LocalAdmin)
	}
	sess, err := sessions.Create(ctx, admin.Session{User: "shared@example.com", Role: admin.RoleAdmin, Method: "sso",
		Issuer: "https://idp.example", Subject: "sub-1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := sessions.SignOut(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if _, err := sessions.Load(ctx, sess.Key()); !errors.Is(err, admin.ErrNoSession) {
		t.Errorf("session after sign-out: %v, want ErrNoSession", err)
	}
	rec, d := lastRecord(t, st)
	if rec.Action != admin.ActionSignOut || rec.Actor != "https://idp.example|sub-1" || d["actor_label"] != "shared@example.com" {
		t.Errorf("sign-out record: %s by %q, label %v", rec.Action, rec.Actor, d["actor_label"])
	}
	// A session kept from before subjects were stored cannot name its actor.
	old, err := sessions.Create(ctx, admin.Session{User: "shared@example.com", Role: admin.RoleAdmin, Method: "sso", Issuer: "https://idp.example"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sessions.Load(ctx, old.Key()); !errors.Is(err, admin.ErrNoSession) {
		t.Errorf("SSO session without a subject loaded: %v, want ErrNoSession", err)
	}
}
