package conformance

import (
	"bytes"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
)

func newStepUp(id string, issued time.Time, ttl time.Duration) storage.StepUpTransaction {
	return storage.StepUpTransaction{
		ID: id, ClientID: "billing-svc", Issuer: "https://idp.example/", ClientAppID: "web-app",
		State: "state-" + id, Nonce: "nonce-" + id, CodeVerifier: "verifier-" + id,
		DecisionID: "dec-" + id, Subject: "user-1", ReturnTo: "https://app.example/billing",
		Action: "billing.view", Requirements: []byte(`{"amr_any":["mfa"],"max_age":900}`),
		IssuedAt: issued, ExpiresAt: issued.Add(ttl),
	}
}

func stepUpTests() []subTest {
	return []subTest{
		{"StepUpCreateGet", testStepUpCreateGet},
		{"StepUpConsume", testStepUpConsume},
		{"StepUpDeleteExpired", testStepUpDeleteExpired},
	}
}

func testStepUpCreateGet(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	in := newStepUp("tx1", baseTime(), 10*time.Minute)
	mustNoErr(t, s.CreateStepUp(ctx, in), "create step-up")
	wantErr(t, s.CreateStepUp(ctx, in), storage.ErrAlreadyExists, "create duplicate step-up")
	got, err := s.GetStepUp(ctx, in.ID)
	mustNoErr(t, err, "get step-up")
	assertStepUp(t, got, in)
	if got.UsedAt != nil {
		t.Errorf("fresh transaction UsedAt = %v, want nil", got.UsedAt)
	}
	_, err = s.GetStepUp(ctx, "missing")
	wantErr(t, err, storage.ErrNotFound, "get missing step-up")
}

func testStepUpConsume(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	issued := baseTime()
	for _, id := range []string{"ok", "edge", "late", "theirs"} {
		mustNoErr(t, s.CreateStepUp(ctx, newStepUp(id, issued, 5*time.Minute)), "create "+id)
	}
	expiry := issued.Add(5 * time.Minute)
	const owner, other = "billing-svc", "other-svc"
	tests := []struct {
		name   string
		id     string
		client string // default owner
		now    time.Time
		want   error
	}{
		{"first use succeeds", "ok", "", issued.Add(time.Minute), nil},
		{"second use is refused", "ok", "", issued.Add(2 * time.Minute), storage.ErrUsed},
		{"use at the expiry instant succeeds", "edge", "", expiry, nil},
		{"use after expiry is refused", "late", "", expiry.Add(time.Microsecond), storage.ErrExpired},
		{"expired stays expired, not used", "late", "", expiry.Add(time.Second), storage.ErrExpired},
		{"unknown id", "missing", "", issued, storage.ErrNotFound},
		// Another client learns nothing, and consumes nothing.
		{"another client's transaction is not found", "theirs", other, issued.Add(time.Minute), storage.ErrNotFound},
		{"another client's used transaction is not found", "ok", other, issued.Add(3 * time.Minute), storage.ErrNotFound},
		{"another client's expired transaction is not found", "late", other, expiry.Add(time.Second), storage.ErrNotFound},
		{"the owner still consumes it", "theirs", "", issued.Add(2 * time.Minute), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client := tc.client
			if client == "" {
				client = owner
			}
			got, err := s.ConsumeStepUp(ctx, tc.id, client, tc.now)
			if tc.want != nil {
				wantErr(t, err, tc.want, "consume "+tc.id)
				if tc.want == storage.ErrNotFound && got.ID != "" {
					t.Errorf("not-found consume returned transaction %q, want none", got.ID)
				}
				if tc.want != storage.ErrNotFound && got.ID != tc.id {
					t.Errorf("refused consume returned transaction %q, want %q for the audit record", got.ID, tc.id)
				}
				return
			}
			mustNoErr(t, err, "consume "+tc.id)
			assertStepUp(t, got, newStepUp(tc.id, issued, 5*time.Minute))
			if got.UsedAt == nil {
				t.Fatalf("consumed transaction has no UsedAt")
			}
			sameTime(t, *got.UsedAt, tc.now, "UsedAt")
		})
	}
}

func testStepUpDeleteExpired(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	for i, ttl := range []time.Duration{time.Minute, 2 * time.Minute, time.Hour} {
		mustNoErr(t, s.CreateStepUp(ctx, newStepUp(string(rune('a'+i)), baseTime(), ttl)), "create")
	}
	n, err := s.DeleteExpiredStepUps(ctx, baseTime().Add(5*time.Minute))
	mustNoErr(t, err, "delete expired")
	if n != 2 {
		t.Errorf("deleted %d, want 2", n)
	}
	if _, err := s.GetStepUp(ctx, "c"); err != nil {
		t.Errorf("unexpired transaction was deleted: %v", err)
	}
	_, err = s.GetStepUp(ctx, "a")
	wantErr(t, err, storage.ErrNotFound, "get deleted")
}

func assertStepUp(t testing.TB, got, want storage.StepUpTransaction) {
	t.Helper()
	if got.ID != want.ID || got.ClientID != want.ClientID || got.Issuer != want.Issuer ||
		got.ClientAppID != want.ClientAppID || got.State != want.State || got.Nonce != want.Nonce ||
		got.CodeVerifier != want.CodeVerifier || got.DecisionID != want.DecisionID ||
		got.Subject != want.Subject || got.ReturnTo != want.ReturnTo || got.Action != want.Action ||
		!bytes.Equal(got.Requirements, want.Requirements) {
		t.Errorf("step-up = %+v, want %+v", got, want)
	}
	sameTime(t, got.IssuedAt, want.IssuedAt, "IssuedAt")
	sameTime(t, got.ExpiresAt, want.ExpiresAt, "ExpiresAt")
}
