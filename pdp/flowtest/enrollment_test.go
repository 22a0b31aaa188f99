package flowtest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/ciba/enrollment/enrollmenttest"
	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/trust"
)

// enrollmentEnv is stepgate's decision API for an Auth0-dialect issuer whose
// CIBA enrollment is read from the stand-in Management API.
type enrollmentEnv struct {
	*env
	idp  *pdptest.Issuer
	mgmt *enrollmenttest.Server
}

func newEnrollmentEnv(t *testing.T) *enrollmentEnv {
	t.Helper()
	idp := pdptest.NewIssuer(t)
	// The env's clock drives stepgate, the lookup's cache and the
	// Management API's token expiry alike; the env is built after the
	// server, whose URL its configuration names.
	var e *env
	mgmt := enrollmenttest.New(t, func() time.Time { return e.clock.Now() })
	mgmt.SetTokenLifetime(10 * time.Minute)
	mgmt.SetUser("auth0|phone", enrollmenttest.TOTP("otp"), enrollmenttest.Push("iphone"))
	mgmt.SetUser("auth0|nophone", enrollmenttest.TOTP("otp"))
	ic := idp.Config(resource)
	ic.Dialect = trust.DialectAuth0
	ic.CIBA = &trust.CIBAConfig{ClientID: cibaID, ClientSecret: cibaSecret, Enrollment: &trust.EnrollmentConfig{
		Domain: mgmt.URL, ClientID: mgmt.ClientID, ClientSecret: mgmt.ClientSecret, TTL: time.Minute, FailureTTL: 5 * time.Second}}
	e = newEnv(t, envConfig{issuer: ic})
	return &enrollmentEnv{env: e, idp: idp, mgmt: mgmt}
}

// payByPhone asks for a call-centre payment of sub through the HTTP API.
func (ee *enrollmentEnv) payByPhone(t *testing.T, sub string) pdp.Decision {
	t.Helper()
	now := ee.clock.Now()
	tok := ee.idp.Mint(t, map[string]any{"sub": sub, "aud": resource, "exp": now.Add(2 * time.Hour).Unix(),
		"amr": []any{"pwd", "mfa"}, "auth_time": now.Add(-2 * time.Minute).Unix()})
	return ee.decide(t, tok, "billing.pay", "", map[string]any{"channel": "call_center", "amount": 500})
}

func hasReason(d pdp.Decision, part string) bool {
	return slices.ContainsFunc(d.Reasons, func(r string) bool { return strings.Contains(r, part) })
}

// TestEnrollmentAwareCIBA: the call centre gets ciba for a user who can
// approve on a phone and a step-up to a fresh login for one who cannot or
// when the Management API cannot say; the Management API token is reused
// across decisions and fetched again after it expires.
func TestEnrollmentAwareCIBA(t *testing.T) {
	ee := newEnrollmentEnv(t)

	d := ee.payByPhone(t, "auth0|phone")
	wantOutcome(t, d, policy.CIBA)
	if d.CIBA == nil || !strings.Contains(d.CIBA.Request.LoginHint, `"format":"iss_sub"`) {
		t.Fatalf("ciba answer %+v", d.CIBA)
	}

	d = ee.payByPhone(t, "auth0|nophone")
	wantOutcome(t, d, policy.StepUp)
	if !hasReason(d, "the user has no device enrolled that can approve billing.pay") ||
		d.Requirements == nil || !d.Requirements.FreshLogin || d.StepUp == nil || d.StepUp.WWWAuthenticate == "" {
		t.Fatalf("step-up without a device: %+v %+v", d.Reasons, d.Requirements)
	}
	if n := ee.mgmt.TokenRequests(); n != 1 {
		t.Errorf("%d token requests for two users, want the token reused", n)
	}
	// Right after the fresh login the step-up asked for, the payment is
	// allowed: the login stands in for the approval.
	now := ee.clock.Now()
	fresh := ee.idp.Mint(t, map[string]any{"sub": "auth0|nophone", "aud": resource, "exp": now.Add(time.Hour).Unix(),
		"amr": []any{"pwd", "mfa"}, "auth_time": now.Add(-5 * time.Second).Unix()})
	d = ee.decide(t, fresh, "billing.pay", "", map[string]any{"channel": "call_center", "amount": 500})
	wantOutcome(t, d, policy.Allow)
	if !hasReason(d, "stands in for the approval") {
		t.Errorf("fallback allow reasons %v", d.Reasons)
	}

	// Cached within the TTL: no new lookup.
	methods := ee.mgmt.MethodRequests()
	wantOutcome(t, ee.payByPhone(t, "auth0|phone"), policy.CIBA)
	if ee.mgmt.MethodRequests() != methods {
		t.Error("a cached answer was looked up again")
	}

	// After the token's life the next lookup fetches a new one.
	ee.clock.Advance(11 * time.Minute)
	wantOutcome(t, ee.payByPhone(t, "auth0|phone"), policy.CIBA)
	if n := ee.mgmt.TokenRequests(); n != 2 {
		t.Errorf("%d token requests after expiry, want 2", n)
	}

	// The Management API down: unknown, so a step-up with the reason.
	ee.mgmt.SetDown(true)
	ee.clock.Advance(2 * time.Minute)
	d = ee.payByPhone(t, "auth0|phone")
	wantOutcome(t, d, policy.StepUp)
	if !hasReason(d, "could not be determined") || !d.Requirements.FreshLogin {
		t.Fatalf("outage: %v %+v", d.Reasons, d.Requirements)
	}
	// Rate limited: unknown too, and nothing is asked until Retry-After.
	ee.mgmt.SetDown(false)
	ee.mgmt.RateLimit(1, time.Minute)
	ee.clock.Advance(10 * time.Second)
	wantOutcome(t, ee.payByPhone(t, "auth0|nophone"), policy.StepUp)
	calls := ee.mgmt.MethodRequests() + ee.mgmt.TokenRequests()
	ee.clock.Advance(30 * time.Second)
	d = ee.payByPhone(t, "auth0|phone")
	wantOutcome(t, d, policy.StepUp)
	if !hasReason(d, "could not be determined") || ee.mgmt.MethodRequests()+ee.mgmt.TokenRequests() != calls {
		t.Errorf("during Retry-After: %v, %d new requests", d.Reasons, ee.mgmt.MethodRequests()+ee.mgmt.TokenRequests()-calls)
	}
	ee.clock.Advance(31 * time.Second)
	wantOutcome(t, ee.payByPhone(t, "auth0|phone"), policy.CIBA)
}

// TestEnrollmentLookupOnlyWhenNeeded: decisions the capability cannot
// change, and every decision of a policy that does not read it, make no
// Management API request at all.
func TestEnrollmentLookupOnlyWhenNeeded(t *testing.T) {
	ee := newEnrollmentEnv(t)
	now := ee.clock.Now()
	tok := ee.idp.Mint(t, map[string]any{"sub": "auth0|nophone", "aud": resource, "exp": now.Add(time.Hour).Unix(),
		"amr": []any{"pwd", "mfa"}, "auth_time": now.Add(-time.Minute).Unix()})
	wantOutcome(t, ee.decide(t, tok, "billing.view", "", nil), policy.Allow)
	wantOutcome(t, ee.decide(t, tok, "billing.pay", "", map[string]any{"channel": "web", "amount": 10}), policy.Allow)

	body := `package stepgate

decision := {"decision": "ciba", "reasons": ["phone approval"]} if input.context.channel == "call_center"

decision := {"decision": "allow", "reasons": []} if input.context.channel != "call_center"
`
	if err := ee.svc.Engine().Load(t.Context(), policy.Revision{ID: 2, Hash: "no-enrollment",
		Files: policy.Files{"stepgate/policy.rego": []byte(body)}}); err != nil {
		t.Fatal(err)
	}
	wantOutcome(t, ee.payByPhone(t, "auth0|nophone"), policy.CIBA)
	if n, m := ee.mgmt.TokenRequests(), ee.mgmt.MethodRequests(); n != 0 || m != 0 {
		t.Errorf("%d token and %d method requests, want none", n, m)
	}
}
