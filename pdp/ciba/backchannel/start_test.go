package backchannel_test

import (
	"errors"
	"testing"

	"github.com/stepgate/stepgate/pdp/ciba/backchannel"
)

func TestStartValidatesBeforeSending(t *testing.T) {
	f := newFakeIdP(t)
	c := backchannel.NewClient(nil)
	creds := backchannel.Credentials{ClientID: fakeClientID, ClientSecret: fakeSecret}
	tests := []struct {
		name string
		req  backchannel.Request
	}{
		{name: "no hint", req: backchannel.Request{Scope: "openid"}},
		{name: "login_hint and id_token_hint", req: backchannel.Request{Scope: "openid", LoginHint: "alice", IDTokenHint: "x.y.z"}},
		{name: "all three hints", req: backchannel.Request{Scope: "openid", LoginHint: "a", LoginHintToken: "b", IDTokenHint: "c"}},
		{name: "scope without openid", req: backchannel.Request{Scope: "profile openidx", LoginHint: "alice"}},
		{name: "empty scope", req: backchannel.Request{LoginHint: "alice"}},
		{name: "negative requested_expiry", req: backchannel.Request{Scope: "openid", LoginHint: "alice", RequestedExpiry: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Start(t.Context(), f.endpoints(), creds, tc.req)
			if !errors.Is(err, backchannel.ErrInvalidRequest) {
				t.Fatalf("Start error = %v, want ErrInvalidRequest", err)
			}
		})
	}
	if len(f.backForm) != 0 {
		t.Fatalf("%d invalid requests reached the server", len(f.backForm))
	}
}

func TestStart(t *testing.T) {
	req := backchannel.Request{
		Scope: "openid profile", LoginHint: "alice", BindingMessage: "PAY-4821",
		RequestedExpiry: 300, ACRValues: []string{"urn:a", "urn:b"},
	}
	tests := []struct {
		name     string
		creds    backchannel.Credentials
		req      backchannel.Request
		ack      string
		wantAck  backchannel.Ack
		wantCode string // OAuth error code of a *backchannel.Error; "" for success
		wantHTTP int
	}{
		{name: "client_secret_basic", creds: backchannel.Credentials{ClientID: fakeClientID, ClientSecret: fakeSecret}, req: req,
			wantAck: backchannel.Ack{AuthReqID: "req-1", ExpiresIn: 120, Interval: 2}},
		{name: "client_secret_post", creds: backchannel.Credentials{ClientID: fakeClientID, ClientSecret: fakeSecret, AuthMethod: backchannel.AuthClientSecretPost}, req: req,
			wantAck: backchannel.Ack{AuthReqID: "req-1", ExpiresIn: 120, Interval: 2}},
		{name: "no interval in ack", creds: backchannel.Credentials{ClientID: fakeClientID, ClientSecret: fakeSecret}, req: req,
			ack: `{"auth_req_id":"req-2","expires_in":60}`, wantAck: backchannel.Ack{AuthReqID: "req-2", ExpiresIn: 60}},
		{name: "bad client secret", creds: backchannel.Credentials{ClientID: fakeClientID, ClientSecret: "wrong"}, req: req,
			wantCode: backchannel.CodeInvalidClient, wantHTTP: 401},
		{name: "unknown user", creds: backchannel.Credentials{ClientID: fakeClientID, ClientSecret: fakeSecret},
			req: backchannel.Request{Scope: "openid", LoginHint: "nobody"}, wantCode: backchannel.CodeUnknownUserID, wantHTTP: 400},
		{name: "ack without auth_req_id", creds: backchannel.Credentials{ClientID: fakeClientID, ClientSecret: fakeSecret}, req: req,
			ack: `{"expires_in":60}`, wantHTTP: 200},
		{name: "ack without expires_in", creds: backchannel.Credentials{ClientID: fakeClientID, ClientSecret: fakeSecret}, req: req,
			ack: `{"auth_req_id":"x"}`, wantHTTP: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeIdP(t)
			if tc.ack != "" {
				f.ack = tc.ack
			}
			ack, err := backchannel.NewClient(nil).Start(t.Context(), f.endpoints(), tc.creds, tc.req)
			if tc.wantHTTP != 0 {
				var oe *backchannel.Error
				if !errors.As(err, &oe) || oe.Code != tc.wantCode || oe.StatusCode != tc.wantHTTP {
					t.Fatalf("Start error = %#v, want *Error code %q status %d", err, tc.wantCode, tc.wantHTTP)
				}
				return
			}
			if err != nil || ack != tc.wantAck {
				t.Fatalf("Start = %+v, %v; want %+v", ack, err, tc.wantAck)
			}
			sent := f.backForm[0]
			for k, want := range map[string]string{
				"scope": "openid profile", "login_hint": "alice", "binding_message": "PAY-4821",
				"requested_expiry": "300", "acr_values": "urn:a urn:b",
			} {
				if got := sent.Get(k); got != want {
					t.Errorf("sent %s = %q, want %q", k, got, want)
				}
			}
			if sent.Has("id_token_hint") || sent.Has("login_hint_token") || sent.Has("user_code") {
				t.Errorf("sent unset parameters: %v", sent)
			}
		})
	}
}
