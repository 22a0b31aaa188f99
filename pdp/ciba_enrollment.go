package pdp

import (
	"context"
	"reflect"

	"github.com/stepgate/stepgate/pdp/ciba/enrollment"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/trust"
)

// CIBAEnrollment answers whether a user of an issuer can approve a CIBA
// request on a device; ok is false when the issuer has no lookup
// configured. *enrollment.Issuers implements it.
type CIBAEnrollment interface {
	Check(ctx context.Context, issuer, sub string) (a enrollment.Answer, ok bool)
}

// enrollmentRecord is what the audit record says about the lookup, in the
// audited input's top-level "ciba_enrollment" member.
type enrollmentRecord struct {
	// Capable is capable, not_capable or unknown.
	Capable string `json:"capable"`
	Reason  string `json:"reason"`
	Source  string `json:"source"`
	Cached  bool   `json:"cached"`
}

// evaluate runs the active policy on in. input.subject.authn.ciba_capable
// is filled only when the user's issuer has an enrollment lookup, the
// policy can read the field, and its answer depends on it: the policy is
// evaluated with each value the lookup could give, and only when those
// answers differ is the user looked up; the answer for what the lookup said
// is the decision. That holds for every policy, because an answer is a
// function of the input, and it spares the identity provider's API the
// decisions (other actions, other channels) that cannot use it.
func (s *Service) evaluate(ctx context.Context, in *policy.Input, issuer *trust.IssuerConfig) (policy.Result, *enrollmentRecord) {
	p := s.cfg.Engine.Active()
	if p == nil {
		return s.cfg.Engine.Eval(ctx, in), nil
	}
	if !s.enrollmentApplies(p, in, issuer) {
		return p.Eval(ctx, in), nil
	}
	authn := in.Subject.Authn
	var results [len(policy.CIBACapabilities)]policy.Result
	same := true
	for i, c := range policy.CIBACapabilities {
		a := *authn
		a.CIBACapable = c
		probe := *in
		probe.Subject.Authn = &a
		results[i] = p.Eval(ctx, &probe)
		same = same && results[i].Err == nil && sameAnswer(results[i], results[0])
	}
	if same {
		return results[0], nil
	}
	rec := s.lookUpCIBACapable(ctx, in, issuer)
	for i, v := range policy.CIBACapabilities {
		if v == in.Subject.Authn.CIBACapable {
			return results[i], rec
		}
	}
	return p.Eval(ctx, in), rec
}

// lookUpCIBACapable asks the issuer's enrollment lookup about the subject
// and sets in.Subject.Authn.CIBACapable (on a copy of the authn) to what it
// said. in.Subject.Authn must not be nil.
func (s *Service) lookUpCIBACapable(ctx context.Context, in *policy.Input, issuer *trust.IssuerConfig) *enrollmentRecord {
	ans, ok := s.cfg.Enrollment.Check(ctx, issuer.Issuer, in.Subject.ID)
	if !ok {
		// Configured for the verifier but not for the lookup: nothing is
		// known, which the policy must not mistake for capable.
		ans = enrollment.Answer{Status: enrollment.Unknown, Reason: "no enrollment lookup is configured for " + issuer.Issuer}
	}
	c := policy.CIBAUnknown
	switch ans.Status {
	case enrollment.Capable:
		c = policy.CIBACapable
	case enrollment.NotCapable:
		c = policy.CIBANotCapable
	}
	a := *in.Subject.Authn
	a.CIBACapable = c
	in.Subject.Authn = &a
	return &enrollmentRecord{Capable: ans.Status.String(), Reason: ans.Reason, Source: ans.Source, Cached: ans.Cached}
}

// enrollmentApplies reports whether the subject's issuer has an enrollment
// lookup that the active policy p could use.
func (s *Service) enrollmentApplies(p *policy.Policy, in *policy.Input, issuer *trust.IssuerConfig) bool {
	return p != nil && s.cfg.Enrollment != nil && issuer != nil && issuer.CIBA != nil && issuer.CIBA.Enrollment != nil &&
		in.Subject.Authn != nil && p.ReadsCIBACapable()
}

// sameAnswer reports whether two results give the caller the same answer.
func sameAnswer(a, b policy.Result) bool {
	return a.Outcome == b.Outcome && a.CIBAMessage == b.CIBAMessage && a.ValidFor == b.ValidFor &&
		reflect.DeepEqual(a.Reasons, b.Reasons) && reflect.DeepEqual(a.Requirements, b.Requirements)
}
