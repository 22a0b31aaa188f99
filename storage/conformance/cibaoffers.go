package conformance

import (
	"bytes"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
)

func cibaOfferTests() []subTest {
	return []subTest{
		{"CIBAOfferRoundTrip", testCIBAOfferRoundTrip},
		{"CIBAOfferStartOnce", testCIBAOfferStartOnce},
		{"CIBAOfferExpired", testCIBAOfferExpired},
		{"CIBAOfferErrors", testCIBAOfferErrors},
	}
}

func newOffer(id, decision string) storage.CIBAOffer {
	return storage.CIBAOffer{ID: id, DecisionID: decision, ClientID: "billing-svc", Issuer: "https://idp.example/",
		Subject: "alice", Action: "billing.pay", Request: []byte(`{"login_hint":"alice"}`),
		Requirements: []byte(`{"amr_any":["mfa"]}`), CreatedAt: baseTime(), ExpiresAt: baseTime().Add(10 * time.Minute)}
}

func assertOfferEqual(t testing.TB, got, want storage.CIBAOffer) {
	t.Helper()
	if got.ID != want.ID || got.DecisionID != want.DecisionID || got.ClientID != want.ClientID ||
		got.Issuer != want.Issuer || got.Subject != want.Subject || got.Action != want.Action ||
		!bytes.Equal(got.Request, want.Request) || !bytes.Equal(got.Requirements, want.Requirements) {
		t.Errorf("offer = %+v, want %+v", got, want)
	}
	sameTime(t, got.CreatedAt, want.CreatedAt, "CreatedAt")
	sameTime(t, got.ExpiresAt, want.ExpiresAt, "ExpiresAt")
}

func testCIBAOfferRoundTrip(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	want := newOffer("o1", "d1")
	mustNoErr(t, s.SaveCIBAOffer(ctx, want), "save offer")
	byID, err := s.GetCIBAOffer(ctx, "o1")
	mustNoErr(t, err, "get offer")
	assertOfferEqual(t, byID, want)
	byDecision, err := s.CIBAOfferByDecision(ctx, "d1")
	mustNoErr(t, err, "offer by decision")
	assertOfferEqual(t, byDecision, want)
	if byID.StartedAt != nil || byDecision.StartedAt != nil {
		t.Errorf("a saved offer is started: %v", byID.StartedAt)
	}
}

func testCIBAOfferStartOnce(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	mustNoErr(t, s.SaveCIBAOffer(ctx, newOffer("o1", "d1")), "save offer")
	// The last instant of an offer's life still starts it.
	at := baseTime().Add(10 * time.Minute)
	got, err := s.StartCIBAOffer(ctx, "o1", at)
	mustNoErr(t, err, "first start")
	if got.StartedAt == nil {
		t.Fatal("started offer has no StartedAt")
	}
	sameTime(t, *got.StartedAt, at, "StartedAt")
	assertOfferEqual(t, got, newOffer("o1", "d1"))
	_, err = s.StartCIBAOffer(ctx, "o1", at)
	wantErr(t, err, storage.ErrUsed, "second start")
	again, err := s.GetCIBAOffer(ctx, "o1")
	mustNoErr(t, err, "get after start")
	if again.StartedAt == nil || !again.StartedAt.Equal(micro(at)) {
		t.Errorf("StartedAt after start = %v, want %v", again.StartedAt, micro(at))
	}
}

func testCIBAOfferExpired(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	mustNoErr(t, s.SaveCIBAOffer(ctx, newOffer("o1", "d1")), "save offer")
	_, err := s.StartCIBAOffer(ctx, "o1", baseTime().Add(10*time.Minute+time.Millisecond))
	wantErr(t, err, storage.ErrExpired, "start after expiry")
	got, err := s.GetCIBAOffer(ctx, "o1")
	mustNoErr(t, err, "get expired offer")
	if got.StartedAt != nil {
		t.Error("an expired offer was marked started")
	}
}

func testCIBAOfferErrors(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	mustNoErr(t, s.SaveCIBAOffer(ctx, newOffer("explicit", "")), "save offer without decision")
	noExpiry := newOffer("o2", "d2")
	noExpiry.ExpiresAt = time.Time{}
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"duplicate id", func() error { return s.SaveCIBAOffer(ctx, newOffer("explicit", "d3")) }, storage.ErrAlreadyExists},
		{"empty id", func() error { return s.SaveCIBAOffer(ctx, newOffer("", "d4")) }, storage.ErrInvalid},
		{"no expiry", func() error { return s.SaveCIBAOffer(ctx, noExpiry) }, storage.ErrInvalid},
		{"get unknown", func() error { _, err := s.GetCIBAOffer(ctx, "nope"); return err }, storage.ErrNotFound},
		{"unknown decision", func() error { _, err := s.CIBAOfferByDecision(ctx, "nope"); return err }, storage.ErrNotFound},
		{"empty decision", func() error { _, err := s.CIBAOfferByDecision(ctx, ""); return err }, storage.ErrNotFound},
		{"start unknown", func() error { _, err := s.StartCIBAOffer(ctx, "nope", baseTime()); return err }, storage.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.call(), tc.want, tc.name) })
	}
}
