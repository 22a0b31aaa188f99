package pdp

import (
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/session"
	"github.com/stepgate/stepgate/pdp/trust"
)

// sessionLogout reports whether a logout ended the session of the call's
// user token (verified or asserted), with the reason naming it. It runs
// after applyElevation, so a step-up made after the logout counts as the
// new login it is, and after the policy and its decision cache, so a
// cached allow can never outlive a logout.
func (s *Service) sessionLogout(c *call, in *policy.Input, issuer *trust.IssuerConfig) (string, bool) {
	l := s.cfg.Logouts
	if l == nil || l.Len() == 0 || in.Subject.Claims == nil {
		return "", false
	}
	claims := in.Subject.Claims
	ref := session.SessionRef{Subject: in.Subject.ID, ClientID: c.client.ID, SessionID: sessionOf(c, in)}
	ref.Issuer, _ = claims["iss"].(string)
	if ref.Issuer == "" && issuer != nil {
		ref.Issuer = issuer.Issuer
	}
	ref.SID, _ = claims["sid"].(string)
	if a := in.Subject.Authn; a != nil && a.AuthTime != nil {
		ref.Login, ref.HasLogin = *a.AuthTime, true
	} else {
		ref.Login, ref.HasLogin = policy.NumericClaim(claims["iat"])
	}
	return l.Ended(ref)
}

// loggedOut turns the policy's answer for a session a logout ended into a
// step-up to a new login: a deny stays a deny (signing in again would not
// help), anything else asks for the policy's requirements, if any, plus a
// fresh login, with the logout as the first reason.
func loggedOut(res policy.Result, why string) policy.Result {
	if res.Outcome == policy.Deny {
		return res
	}
	res.Outcome = policy.StepUp
	res.Requirements.FreshLogin = true
	res.Reasons = append([]string{why}, res.Reasons...)
	res.CIBAMessage = ""
	return res
}
