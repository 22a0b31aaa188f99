package main

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/ciba"
	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/storage/sqlstore/sqlstoretest"
)

var base = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// offerStores are the pdp.CIBAOffers implementations under test.
func offerStores() []struct {
	name    string
	require func(testing.TB)
	open    func(testing.TB) ciba.Offers
} {
	out := []struct {
		name    string
		require func(testing.TB)
		open    func(testing.TB) ciba.Offers
	}{{name: "memory", require: func(testing.TB) {}, open: func(testing.TB) ciba.Offers { return pdptest.NewCIBAOffers() }}}
	for _, b := range sqlstoretest.Backends() {
		out = append(out, struct {
			name    string
			require func(testing.TB)
			open    func(testing.TB) ciba.Offers
		}{b.Name, b.Require, func(t testing.TB) ciba.Offers { return cibaOfferStore{Backend: b.Open(t)} }})
	}
	return out
}

func sampleOffer(id, decision string) ciba.Offer {
	age := int64(300)
	return ciba.Offer{ID: id, DecisionID: decision, ClientID: "billing-svc", Issuer: "https://idp.example/",
		Subject: "alice", Action: "billing.pay",
		Request:      ciba.Request{LoginHint: "alice", BindingMessage: "PAY-1234", Scope: "openid", ACRValues: "urn:mfa", RequestedExpiry: 300},
		Requirements: policy.Requirements{AMRAny: []string{"mfa"}, ACRValues: []string{"urn:mfa"}, MaxAge: &age},
		CreatedAt:    base, ExpiresAt: base.Add(10 * time.Minute)}
}

func TestCIBAOffers(t *testing.T) {
	for _, st := range offerStores() {
		t.Run(st.name, func(t *testing.T) {
			st.require(t)
			tests := []struct {
				name string
				run  func(t *testing.T, s ciba.Offers)
			}{
				{"round trip by id and decision", testOfferRoundTrip},
				{"started once", testOfferStartOnce},
				{"expired offer is not started", testOfferExpired},
				{"unknown ids", testOfferUnknown},
				{"concurrent starts have one winner", testOfferRace},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, st.open(t)) })
			}
		})
	}
}

func mustSaveOffer(t testing.TB, s ciba.Offers, o ciba.Offer) {
	t.Helper()
	if err := s.SaveCIBAOffer(t.Context(), o); err != nil {
		t.Fatalf("save offer: %v", err)
	}
}

func testOfferRoundTrip(t *testing.T, s ciba.Offers) {
	want := sampleOffer("o1", "d1")
	mustSaveOffer(t, s, want)
	for name, get := range map[string]func() (ciba.Offer, error){
		"by id":       func() (ciba.Offer, error) { return s.GetCIBAOffer(t.Context(), "o1") },
		"by decision": func() (ciba.Offer, error) { return s.CIBAOfferByDecision(t.Context(), "d1") },
	} {
		got, err := get()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.ID != want.ID || got.Request != want.Request || *got.Requirements.MaxAge != 300 ||
			got.Requirements.AMRAny[0] != "mfa" || !got.ExpiresAt.Equal(want.ExpiresAt) || got.StartedAt != nil {
			t.Fatalf("%s: got %+v, want %+v", name, got, want)
		}
	}
}

func testOfferStartOnce(t *testing.T, s ciba.Offers) {
	mustSaveOffer(t, s, sampleOffer("o1", "d1"))
	got, err := s.StartCIBAOffer(t.Context(), "o1", base.Add(time.Minute))
	if err != nil || got.StartedAt == nil || !got.StartedAt.Equal(base.Add(time.Minute)) {
		t.Fatalf("first start = %+v, %v", got, err)
	}
	if _, err := s.StartCIBAOffer(t.Context(), "o1", base.Add(2*time.Minute)); !errors.Is(err, ciba.ErrOfferUsed) {
		t.Fatalf("second start = %v, want ErrCIBAOfferUsed", err)
	}
	again, err := s.GetCIBAOffer(t.Context(), "o1")
	if err != nil || again.StartedAt == nil {
		t.Fatalf("get after start = %+v, %v", again, err)
	}
}

func testOfferExpired(t *testing.T, s ciba.Offers) {
	mustSaveOffer(t, s, sampleOffer("o1", "d1"))
	if _, err := s.StartCIBAOffer(t.Context(), "o1", base.Add(11*time.Minute)); !errors.Is(err, ciba.ErrOfferExpired) {
		t.Fatalf("start after expiry = %v, want ErrCIBAOfferExpired", err)
	}
	if got, _ := s.GetCIBAOffer(t.Context(), "o1"); got.StartedAt != nil {
		t.Fatal("an expired offer was marked started")
	}
}

func testOfferUnknown(t *testing.T, s ciba.Offers) {
	mustSaveOffer(t, s, sampleOffer("explicit", ""))
	checks := map[string]error{}
	_, checks["get"] = s.GetCIBAOffer(t.Context(), "nope")
	_, checks["by decision"] = s.CIBAOfferByDecision(t.Context(), "nope")
	_, checks["by empty decision"] = s.CIBAOfferByDecision(t.Context(), "")
	_, checks["start"] = s.StartCIBAOffer(t.Context(), "nope", base)
	for name, err := range checks {
		if !errors.Is(err, ciba.ErrOfferNotFound) {
			t.Errorf("%s = %v, want ErrCIBAOfferNotFound", name, err)
		}
	}
}

func testOfferRace(t *testing.T, s ciba.Offers) {
	mustSaveOffer(t, s, sampleOffer("o1", "d1"))
	ctx := context.WithoutCancel(t.Context())
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			if _, err := s.StartCIBAOffer(ctx, "o1", base); err == nil {
				wins.Add(1)
			} else if !errors.Is(err, ciba.ErrOfferUsed) {
				t.Errorf("start: %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent starts succeeded, want 1", wins.Load())
	}
}
