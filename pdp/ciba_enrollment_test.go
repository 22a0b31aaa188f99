package pdp_test

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/ciba/enrollment"
	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/trust"
	"github.com/stepgate/stepgate/policies"
)

const (
	enrolledIssuer = "https://tenant.example/"
	plainIssuer    = "https://plain.example/"
)

// fakeEnrollment answers a fixed status per user and counts the lookups.
type fakeEnrollment struct {
	issuer  string // the one issuer with a lookup; default enrolledIssuer
	mu      sync.Mutex
	answers map[string]enrollment.Answer
	asked   []string
}

func (f *fakeEnrollment) Check(_ context.Context, issuer, sub string) (enrollment.Answer, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if issuer != cmp.Or(f.issuer, enrolledIssuer) {
		return enrollment.Answer{}, false
	}
	f.asked = append(f.asked, sub)
	return f.answers[sub], true
}

func (f *fakeEnrollment) lookups() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.asked)
}

type memAudit struct {
	mu     sync.Mutex
	events []pdp.AuditEvent
}

func (m *memAudit) Record(_ context.Context, evs []pdp.AuditEvent) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events = append(m.events, evs...)
	return nil
}

func (m *memAudit) last(t *testing.T) map[string]any {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	var in map[string]any
	if err := json.Unmarshal(m.events[len(m.events)-1].Input, &in); err != nil {
		t.Fatal(err)
	}
	return in
}

type enrollmentService struct {
	svc    *pdp.Service
	lookup *fakeEnrollment
	audit  *memAudit
	now    time.Time
}

func newEnrollmentService(t *testing.T, p policy.Revision) *enrollmentService {
	t.Helper()
	engine := policy.NewEngine(policy.EngineConfig{})
	if err := engine.Load(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	ciba := func(e *trust.EnrollmentConfig) *trust.CIBAConfig {
		return &trust.CIBAConfig{ClientID: "ciba", ClientSecret: "s", LoginHint: "iss_sub", Enrollment: e}
	}
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	verifier, err := trust.NewVerifier(trust.VerifierConfig{Issuers: []trust.IssuerConfig{
		{Issuer: enrolledIssuer, Audiences: []string{"api"}, Dialect: trust.DialectAuth0, CIBA: ciba(&trust.EnrollmentConfig{})},
		{Issuer: plainIssuer, Audiences: []string{"api"}, Dialect: trust.DialectAuth0, CIBA: ciba(nil)},
	}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	es := &enrollmentService{lookup: &fakeEnrollment{answers: map[string]enrollment.Answer{
		"auth0|phone":   {Status: enrollment.Capable, Reason: "confirmed push authenticator push|dev_1 enrolled at Auth0", Source: "auth0"},
		"auth0|nophone": {Status: enrollment.NotCapable, Reason: "no confirmed push authenticator among the user's 1 Auth0 authentication methods", Source: "auth0", Cached: true},
		"auth0|outage":  {Status: enrollment.Unknown, Reason: "auth0 lookup failed: auth0 authentication methods: HTTP 503", Source: "auth0"},
	}}, audit: &memAudit{}, now: now}
	es.svc, err = pdp.NewService(pdp.ServiceConfig{Engine: engine, Verifier: verifier, Transactions: pdptest.NewTransactions(),
		Enrollment: es.lookup, Audit: es.audit, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func (es *enrollmentService) decide(t *testing.T, iss, sub, action string, ctx map[string]any) *pdp.Decision {
	t.Helper()
	claims := map[string]any{"iss": iss, "sub": sub, "amr": []any{"pwd", "mfa"}, "auth_time": es.now.Add(-2 * time.Minute).Unix()}
	d, err := es.svc.Decide(t.Context(), clientauth.Client{ID: "callcentre", AssertClaims: true},
		&pdp.Request{Claims: claims, Action: action, Context: ctx})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func defaultRevision(t *testing.T) policy.Revision {
	t.Helper()
	files, err := policy.ReadFS(policies.Bundle())
	if err != nil {
		t.Fatal(err)
	}
	return policy.Revision{ID: 1, Hash: files.Hash(), Files: files}
}

func TestDefaultPolicyUsesEnrollment(t *testing.T) {
	es := newEnrollmentService(t, defaultRevision(t))
	callCentre := map[string]any{"channel": "call_center", "amount": 500}
	for _, tc := range []struct {
		name, iss, sub string
		want           policy.Outcome
		capable        any // in the audited input; nil: absent
		reason         string
	}{
		{"enrolled user", enrolledIssuer, "auth0|phone", policy.CIBA, true, ""},
		{"user without push", enrolledIssuer, "auth0|nophone", policy.StepUp, false, "the user has no device enrolled that can approve billing.pay"},
		{"management api down", enrolledIssuer, "auth0|outage", policy.StepUp, "unknown", "could not be determined"},
		{"issuer without lookup", plainIssuer, "auth0|nophone", policy.CIBA, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := es.lookup.lookups()
			d := es.decide(t, tc.iss, tc.sub, "billing.pay", callCentre)
			if d.Outcome != tc.want {
				t.Fatalf("decision %s %v, want %s", d.Outcome, d.Reasons, tc.want)
			}
			if tc.reason != "" && !slices.ContainsFunc(d.Reasons, func(r string) bool { return strings.Contains(r, tc.reason) }) {
				t.Errorf("reasons %v lack %q", d.Reasons, tc.reason)
			}
			if d.Outcome == policy.StepUp && (d.Requirements == nil || !d.Requirements.FreshLogin || d.StepUp == nil) {
				t.Errorf("the fallback must be a step-up to a fresh login: %+v %+v", d.Requirements, d.StepUp)
			}
			in := es.audit.last(t)
			authn := in["subject"].(map[string]any)["authn"].(map[string]any)
			rec, looked := in["ciba_enrollment"].(map[string]any)
			if tc.capable == nil {
				if _, ok := authn["ciba_capable"]; ok || looked || es.lookup.lookups() != before {
					t.Errorf("looked up for an issuer without a lookup: %v %v", authn, rec)
				}
				return
			}
			if authn["ciba_capable"] != tc.capable {
				t.Errorf("audited ciba_capable %v, want %v", authn["ciba_capable"], tc.capable)
			}
			want := es.lookup.answers[tc.sub]
			if !looked || rec["capable"] != want.Status.String() || rec["reason"] != want.Reason || rec["source"] != "auth0" || rec["cached"] != want.Cached {
				t.Errorf("audited ciba_enrollment %v, want %+v", rec, want)
			}
			if es.lookup.lookups() != before+1 {
				t.Errorf("%d lookups, want one", es.lookup.lookups()-before)
			}
		})
	}
}

// A decision whose answer cannot depend on the capability (another action,
// a channel without CIBA) never asks the identity provider.
func TestNoLookupWhenTheAnswerCannotUseIt(t *testing.T) {
	es := newEnrollmentService(t, defaultRevision(t))
	for _, tc := range []struct {
		action string
		ctx    map[string]any
		want   policy.Outcome
	}{
		{"billing.view", nil, policy.Allow},
		{"billing.pay", map[string]any{"channel": "web", "amount": 10}, policy.Allow},
		{"no.such.action", nil, policy.Deny},
	} {
		d := es.decide(t, enrolledIssuer, "auth0|phone", tc.action, tc.ctx)
		if d.Outcome != tc.want {
			t.Errorf("%s: %s %v, want %s", tc.action, d.Outcome, d.Reasons, tc.want)
		}
		if _, looked := es.audit.last(t)["ciba_enrollment"]; looked {
			t.Errorf("%s: audit record claims a lookup", tc.action)
		}
	}
	if n := es.lookup.lookups(); n != 0 {
		t.Errorf("%d lookups for decisions that cannot use them", n)
	}
}

// A policy that does not read ciba_capable is never looked up for, even
// where it answers ciba.
func TestNoLookupWhenThePolicyDoesNotReadIt(t *testing.T) {
	es := newEnrollmentService(t, rev(2, `
decision := {"decision": "ciba", "reasons": ["always on the phone"]} if input.context.channel == "call_center"

decision := {"decision": "allow", "reasons": []} if input.context.channel != "call_center"
`))
	if d := es.decide(t, enrolledIssuer, "auth0|nophone", "billing.pay", map[string]any{"channel": "call_center"}); d.Outcome != policy.CIBA {
		t.Errorf("decision %s %v", d.Outcome, d.Reasons)
	}
	if n := es.lookup.lookups(); n != 0 {
		t.Errorf("%d lookups for a policy that does not read ciba_capable", n)
	}
	if p := es.svc.Engine().Active(); p.ReadsCIBACapable() {
		t.Error("policy counted as reading ciba_capable")
	}
}

// An AuthZEN search's subject is looked up once, when the policy reads the
// capability, so that every candidate is judged with it.
func TestSearchInputLooksUpOnce(t *testing.T) {
	iss := pdptest.NewIssuer(t)
	ic := iss.Config()
	ic.Dialect = trust.DialectAuth0
	ic.CIBA = &trust.CIBAConfig{ClientID: "ciba", ClientSecret: "s", Enrollment: &trust.EnrollmentConfig{}}
	verifier, err := trust.NewVerifier(trust.VerifierConfig{Issuers: []trust.IssuerConfig{ic}})
	if err != nil {
		t.Fatal(err)
	}
	engine := policy.NewEngine(policy.EngineConfig{})
	if err := engine.Load(t.Context(), defaultRevision(t)); err != nil {
		t.Fatal(err)
	}
	lookup := &fakeEnrollment{issuer: iss.URL(), answers: map[string]enrollment.Answer{"auth0|nophone": {Status: enrollment.NotCapable}}}
	svc, err := pdp.NewService(pdp.ServiceConfig{Engine: engine, Verifier: verifier, Transactions: pdptest.NewTransactions(), Enrollment: lookup})
	if err != nil {
		t.Fatal(err)
	}
	tok := iss.Mint(t, map[string]any{"sub": "auth0|nophone", "aud": pdptest.DefaultAudience, "exp": time.Now().Add(time.Hour).Unix(),
		"amr": []any{"pwd", "mfa"}, "auth_time": time.Now().Unix()})
	in, ok := svc.SearchInput(t.Context(), clientauth.Client{ID: "c"}, false,
		&policy.Input{Subject: policy.Subject{Type: "user", Properties: map[string]any{"token": tok}}})
	if !ok {
		t.Fatal("token refused")
	}
	if in.Subject.Authn == nil || in.Subject.Authn.CIBACapable != policy.CIBANotCapable || lookup.lookups() != 1 {
		t.Errorf("search subject authn %+v after %d lookups, want not capable after one", in.Subject.Authn, lookup.lookups())
	}
}
