package pdp

import (
	"context"
	"maps"

	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/policy"
)

// SearchInput prepares an AuthZEN search's policy input the way decide
// prepares a decision's: stepgate's clock, the calling client, and, when the subject
// carries a user token in properties.token, the verified claims and
// normalised authn in place of the token. The raw token never reaches the
// policy. ok is false when that token fails verification in a resource or
// action search: such a subject may do nothing, so the search finds nothing.
// In a subject search the subject is what is searched for and each candidate
// replaces it, so its token is only dropped.
// subjectSearched is true for a subject search.
func (s *Service) SearchInput(ctx context.Context, c clientauth.Client, subjectSearched bool, req *policy.Input) (*policy.Input, bool) {
	in := *req
	in.Now = s.now().Unix()
	in.Client = policy.Caller{ID: c.ID}
	raw, has := in.Subject.Properties["token"].(string)
	if !has {
		return &in, true
	}
	in.Subject.Properties = maps.Clone(in.Subject.Properties)
	delete(in.Subject.Properties, "token")
	if subjectSearched || raw == "" {
		return &in, true
	}
	tok, err := s.cfg.Verifier.Verify(ctx, raw)
	if err != nil {
		s.log.InfoContext(ctx, "authzen search subject token rejected; nothing found", "err", err)
		return nil, false
	}
	in.Subject.Claims = tok.Claims
	in.Subject.ID = tok.Subject
	in.Subject.Authn = policy.NormalizeAuthn(tok.Claims, tok.Issuer.EffectiveMFAACRValues(), in.Now)
	// A search evaluates many candidates with one subject: one lookup
	// serves them all, when the policy can read the capability at all.
	if s.enrollmentApplies(s.cfg.Engine.Active(), &in, &tok.Issuer) {
		s.lookUpCIBACapable(ctx, &in, &tok.Issuer)
	}
	// A session a logout ended is allowed nothing, so it finds nothing.
	if why, ended := s.sessionLogout(&call{client: c}, &in, &tok.Issuer); ended {
		s.log.InfoContext(ctx, "authzen search subject's session was ended; nothing found", "reason", why)
		return nil, false
	}
	return &in, true
}
