package backchannel_test

import (
	"errors"
	"testing"

	"github.com/stepgate/stepgate/pdp/ciba/backchannel"
)

func TestPoll(t *testing.T) {
	good := backchannel.Credentials{ClientID: fakeClientID, ClientSecret: fakeSecret}
	tests := []struct {
		name        string
		answer      answer
		creds       backchannel.Credentials
		want        backchannel.Outcome
		wantCode    string
		wantRetry   bool // a returned error, worth retrying
		wantIDToken string
	}{
		{name: "pending", answer: pending, creds: good, want: backchannel.OutcomePending, wantCode: backchannel.CodeAuthorizationPending},
		{name: "slow down", answer: slowDown, creds: good, want: backchannel.OutcomeSlowDown, wantCode: backchannel.CodeSlowDown},
		{name: "approved", answer: approved, creds: good, want: backchannel.OutcomeApproved, wantIDToken: "raw.id.token"},
		{name: "denied", answer: denied, creds: good, want: backchannel.OutcomeDenied, wantCode: backchannel.CodeAccessDenied},
		{name: "expired", answer: expired, creds: good, want: backchannel.OutcomeExpired, wantCode: backchannel.CodeExpiredToken},
		{name: "unknown auth_req_id", answer: answer{400, `{"error":"invalid_grant"}`}, creds: good, want: backchannel.OutcomeFailed, wantCode: backchannel.CodeInvalidGrant},
		{name: "bad client credentials", answer: pending, creds: backchannel.Credentials{ClientID: fakeClientID, ClientSecret: "nope"},
			want: backchannel.OutcomeFailed, wantCode: backchannel.CodeInvalidClient},
		{name: "bad gateway", answer: broken, creds: good, wantRetry: true},
		{name: "temporarily unavailable", answer: answer{400, `{"error":"temporarily_unavailable"}`}, creds: good, wantRetry: true},
		{name: "success without id_token", answer: answer{200, `{"access_token":"at","token_type":"Bearer"}`}, creds: good, wantRetry: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeIdP(t)
			f.answers("req-1", tc.answer)
			res, err := backchannel.NewClient(nil).Poll(t.Context(), f.endpoints(), tc.creds, "req-1")
			if tc.wantRetry {
				var oe *backchannel.Error
				if err == nil || !errors.As(err, &oe) {
					t.Fatalf("Poll = %+v, %v; want a retryable *Error", res, err)
				}
				return
			}
			if err != nil || res.Outcome != tc.want {
				t.Fatalf("Poll = %+v, %v; want outcome %s", res, err, tc.want)
			}
			if tc.wantCode != "" && (res.Err == nil || res.Err.Code != tc.wantCode) {
				t.Fatalf("Poll error = %+v, want code %q", res.Err, tc.wantCode)
			}
			if tc.wantIDToken != "" && (res.Tokens == nil || res.Tokens.IDToken != tc.wantIDToken || res.Tokens.ExpiresIn != 3600) {
				t.Fatalf("Poll tokens = %+v, want id_token %q", res.Tokens, tc.wantIDToken)
			}
		})
	}
}

func TestErrorTemporary(t *testing.T) {
	tests := []struct {
		name string
		err  backchannel.Error
		want bool
	}{
		{name: "server error", err: backchannel.Error{StatusCode: 503}, want: true},
		{name: "rate limited", err: backchannel.Error{StatusCode: 429}, want: true},
		{name: "temporarily_unavailable", err: backchannel.Error{StatusCode: 400, Code: backchannel.CodeTemporarilyUnavailable}, want: true},
		{name: "access_denied", err: backchannel.Error{StatusCode: 400, Code: backchannel.CodeAccessDenied}, want: false},
		{name: "invalid_client", err: backchannel.Error{StatusCode: 401, Code: backchannel.CodeInvalidClient}, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Temporary(); got != tc.want {
				t.Fatalf("Temporary() = %v, want %v", got, tc.want)
			}
		})
	}
}
