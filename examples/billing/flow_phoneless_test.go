package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/examples/billing/internal/demostack"
)

// TestCallCentrePaymentWithoutAPhone: a customer with no phone that can
// approve gets no CIBA request. stepgate's enrollment lookup (the app's
// /phone/enrollment) says so, the policy answers step_up to a fresh
// sign-in, and right after it the same payment is allowed.
func TestCallCentrePaymentWithoutAPhone(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	issuer := s.idp.Issuer()

	for sub, want := range map[string]string{demostack.Username: `{"push":true}`, demostack.PhonelessUsername: `{"push":false}`} {
		if p := newVisitor(t, s.url).get(demostack.EnrollmentPath + "?sub=" + url.QueryEscape(sub)); strings.TrimSpace(p.body) != want {
			t.Errorf("enrollment of %s: %q, want %s", sub, p.body, want)
		}
	}

	v := newVisitor(t, s.url)
	u, pw, otp := demostack.PhonelessUsername, demostack.PhonelessPassword, demostack.OTP
	if p := v.login(v.get("/login"), u, pw, ""); p.url.Path != "/" {
		t.Fatalf("after the password sign-in: %s", p.url)
	}
	p := v.post("/pay", url.Values{"invoice": {"INV-2041"}, "amount": {"120.00"}})
	auth := p.hopTo(issuer)
	if !p.atProviderLogin(issuer) || auth == nil || auth.Query().Get("max_age") != "0" {
		t.Fatalf("a payment without a phone did not ask for a fresh sign-in at the provider: %s via %v: %.400s", p.url, p.hops, p.body)
	}
	p = v.login(p, u, pw, otp)
	if p.url.Path != "/pay" || !strings.Contains(p.body, `id="signed-in-again"`) || !strings.Contains(p.body, `value="INV-2041" selected`) {
		t.Fatalf("back from the fresh sign-in: %s %.600s", p.url, p.body)
	}
	p = v.post("/pay", url.Values{"invoice": {"INV-2041"}, "amount": {"120.00"}})
	if !strings.HasPrefix(p.url.Path, "/payments/") || p.status != http.StatusOK || !strings.Contains(p.body, `data-status="approved"`) ||
		!strings.Contains(p.body, "stands in for the approval") {
		t.Fatalf("payment after the fresh sign-in: %s HTTP %d %.800s", p.url, p.status, p.body)
	}
	if phone := v.get("/phone"); strings.Contains(phone.body, `/approve"`) {
		t.Errorf("a CIBA request reached the phone of a customer without one: %.400s", phone.body)
	}
}
