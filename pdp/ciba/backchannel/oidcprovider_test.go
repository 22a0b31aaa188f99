//go:build unix

package backchannel_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/stepgate/stepgate/pdp/ciba/backchannel"
	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/trust"
)

const (
	realClientID = "stepgate-ciba"
	realSecret   = "stepgate-ciba-secret"
)

// providerResolver resolves the test provider's issuer to its discovered endpoints.
type providerResolver struct {
	p     *pdptest.OIDCProvider
	creds backchannel.Credentials
}

func (r providerResolver) Resolve(_ context.Context, issuer string) (backchannel.Endpoints, backchannel.Credentials, error) {
	if issuer != r.p.Issuer() {
		return backchannel.Endpoints{}, backchannel.Credentials{}, errors.New("unknown issuer " + issuer)
	}
	return backchannel.Endpoints{Backchannel: r.p.BackchannelEndpoint(), Token: r.p.TokenEndpoint()}, r.creds, nil
}

func startRealProvider(t testing.TB) (*pdptest.OIDCProvider, providerResolver) {
	t.Helper()
	p := pdptest.StartOIDCProvider(t, pdptest.ProviderConfig{
		Clients: []pdptest.ProviderClient{pdptest.CIBAClient(realClientID, realSecret)},
		Users: []pdptest.ProviderUser{
			{Sub: pdptest.TestUsername, Username: pdptest.TestUsername, Password: pdptest.TestPassword, OTP: pdptest.TestOTP},
			{Sub: "bob", Username: "bob", Password: "bob-password", UserCode: "4711"},
		},
	})
	return p, providerResolver{p: p, creds: backchannel.Credentials{ClientID: realClientID, ClientSecret: realSecret}}
}

// TestCIBAAgainstOIDCProvider runs the whole exchange against the real
// provider: Begin → the user's device answers → the poller's next pass.
func TestCIBAAgainstOIDCProvider(t *testing.T) {
	p, resolver := startRealProvider(t)
	keys := oidc.NewRemoteKeySet(t.Context(), p.Issuer()+"/jwks")
	verifier := oidc.NewVerifier(p.Issuer(), keys, &oidc.Config{ClientID: realClientID})
	tests := []struct {
		name    string
		answer  func(authReqID string) error
		want    backchannel.Status
		wantACR string
		wantAMR []string
	}{
		{name: "approved with mfa", answer: func(id string) error { return p.ApproveCIBA(id, "", nil) },
			want: backchannel.StatusApproved, wantACR: trust.PAPEMultiFactor, wantAMR: []string{"pwd", "otp", "mfa"}},
		{name: "approved with password only", answer: func(id string) error { return p.ApproveCIBA(id, pdptest.ProviderACRPassword, []string{"pwd"}) },
			want: backchannel.StatusApproved, wantACR: pdptest.ProviderACRPassword, wantAMR: []string{"pwd"}},
		{name: "denied", answer: p.DenyCIBA, want: backchannel.StatusDenied},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock, rec := newFakeClock(), newRecorder()
			poller, err := backchannel.New(backchannel.Config{
				Store: backchannel.NewMemoryStore(), Resolver: resolver, Changes: rec.ch,
				Now: clock.Now, After: clock.After,
			})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			started := time.Now().Add(-time.Second).Unix()
			r, err := poller.Begin(t.Context(), backchannel.Origin{DecisionID: "dec-1", Issuer: p.Issuer()}, backchannel.Request{
				Scope: "openid", LoginHint: pdptest.TestUsername, BindingMessage: "PAY-4821", ACRValues: []string{trust.PAPEMultiFactor},
			})
			if err != nil {
				t.Fatalf("Begin: %v", err)
			}
			if r.Interval != 5*time.Second {
				t.Fatalf("interval %s, want the 5 s default (oidc-provider sends none)", r.Interval)
			}
			pending, err := p.PendingCIBA()
			if err != nil || !slices.ContainsFunc(pending, func(q pdptest.PendingCIBARequest) bool {
				return q.AuthReqID == r.AuthReqID && q.BindingMessage == "PAY-4821" && q.Sub == pdptest.TestUsername
			}) {
				t.Fatalf("PendingCIBA() = %+v, %v; want %s with its binding message", pending, err, r.AuthReqID)
			}

			clock.Advance(5 * time.Second)
			if _, err := poller.RunOnce(t.Context()); err != nil {
				t.Fatalf("RunOnce: %v", err)
			}
			if got, _ := poller.Get(t.Context(), r.ID); got.Status != backchannel.StatusPending || !got.NextPollAt.After(r.NextPollAt) {
				t.Fatalf("before the answer: %+v, want pending with a later next poll", got)
			}
			if err := tc.answer(r.AuthReqID); err != nil {
				t.Fatalf("answer on the device: %v", err)
			}
			clock.Advance(5 * time.Second)
			if _, err := poller.RunOnce(t.Context()); err != nil {
				t.Fatalf("RunOnce: %v", err)
			}
			got, _ := poller.Get(t.Context(), r.ID)
			if got.Status != tc.want {
				t.Fatalf("after the answer: %+v, want %s", got, tc.want)
			}
			if tc.want != backchannel.StatusApproved {
				return
			}
			idt, err := verifier.Verify(t.Context(), got.IDToken)
			if err != nil {
				t.Fatalf("verify approval ID token: %v", err)
			}
			var c struct {
				ACR      string   `json:"acr"`
				AMR      []string `json:"amr"`
				AuthTime int64    `json:"auth_time"`
			}
			if err := idt.Claims(&c); err != nil || idt.Subject != pdptest.TestUsername || c.ACR != tc.wantACR || !slices.Equal(c.AMR, tc.wantAMR) || c.AuthTime < started {
				t.Fatalf("ID token sub %s claims %+v (%v); want %s acr %s amr %v auth_time ≥ %d", idt.Subject, c, err, pdptest.TestUsername, tc.wantACR, tc.wantAMR, started)
			}
			if sts := rec.statuses(); !slices.Equal(sts, []backchannel.Status{backchannel.StatusPending, backchannel.StatusApproved}) {
				t.Fatalf("reported %v, want [pending approved]", sts)
			}
		})
	}
}

func TestStartAgainstOIDCProvider(t *testing.T) {
	p, resolver := startRealProvider(t)
	ep, good, _ := resolver.Resolve(t.Context(), p.Issuer())
	tests := []struct {
		name     string
		creds    backchannel.Credentials
		req      backchannel.Request
		wantCode string
	}{
		{name: "accepted", creds: good, req: backchannel.Request{Scope: "openid", LoginHint: pdptest.TestUsername}},
		{name: "client_secret_post", creds: backchannel.Credentials{ClientID: realClientID, ClientSecret: realSecret, AuthMethod: backchannel.AuthClientSecretPost},
			req: backchannel.Request{Scope: "openid", LoginHint: pdptest.TestUsername}},
		{name: "bad client secret", creds: backchannel.Credentials{ClientID: realClientID, ClientSecret: "wrong"},
			req: backchannel.Request{Scope: "openid", LoginHint: pdptest.TestUsername}, wantCode: backchannel.CodeInvalidClient},
		{name: "unknown user", creds: good, req: backchannel.Request{Scope: "openid", LoginHint: "mallory"}, wantCode: backchannel.CodeUnknownUserID},
		{name: "user code required and given", creds: good, req: backchannel.Request{Scope: "openid", LoginHint: "bob", UserCode: "4711"}},
		{name: "user code required but wrong", creds: good, req: backchannel.Request{Scope: "openid", LoginHint: "bob", UserCode: "1234"}, wantCode: "invalid_user_code"},
		{name: "binding message the IdP refuses", creds: good,
			req: backchannel.Request{Scope: "openid", LoginHint: pdptest.TestUsername, BindingMessage: "pay 100 € now!"}, wantCode: "invalid_binding_message"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ack, err := backchannel.NewClient(nil).Start(t.Context(), ep, tc.creds, tc.req)
			var oe *backchannel.Error
			switch {
			case tc.wantCode == "" && (err != nil || ack.AuthReqID == "" || ack.ExpiresIn <= 0):
				t.Fatalf("Start = %+v, %v; want an acknowledgement", ack, err)
			case tc.wantCode != "" && (!errors.As(err, &oe) || oe.Code != tc.wantCode):
				t.Fatalf("Start error = %v, want %s", err, tc.wantCode)
			}
		})
	}
}
