package trust

import (
	"crypto/subtle"
	"slices"
	"time"

	"github.com/stepgate/stepgate/pdp/policy"
)

// ProofFacts are the authentication facts an ID token showed.
type ProofFacts struct {
	ACR      string    `json:"acr,omitempty"`
	AMR      []string  `json:"amr,omitempty"`
	AuthTime time.Time `json:"auth_time,omitzero"`
}

// Proof is what an ID token that comes back from the IdP must show: after
// a step-up redirect, a CIBA approval, or the admin UI's own sign-in. One
// check serves all three, so that they cannot drift apart.
type Proof struct {
	// Nonce is the value sent with the request; "" when the flow has none
	// (CIBA), in which case the token's nonce is not compared.
	Nonce string
	// Subject is the user who was asked to authenticate; "" accepts any.
	Subject string
	// Requirements are the decision's: amr/acr and max_age, measured at the
	// time of the check; FreshLogin (or max_age 0) also asks for a login
	// later than RequestedAt.
	Requirements policy.Requirements
	// RequestedAt is when the user was sent to the IdP (or the backchannel
	// request was sent).
	RequestedAt time.Time
	// Skew is how much earlier than RequestedAt a fresh login's auth_time
	// may be (clock differences with the IdP).
	Skew time.Duration
	// MFAACR are the acr values that mean MFA at the token's issuer.
	MFAACR []string
}

// maxFutureAuthTime is how far in the future an auth_time (or iat) may lie
// before the token is refused: the verifier's default leeway, as
// Verifier.VerifyIDToken allows, unless Proof.Skew is larger.
const maxFutureAuthTime = DefaultLeeway

// CheckProof checks the verified claims of an ID token against p at now
// and returns the authentication facts the token showed, also when it
// refuses them (they belong in the audit record either way). The token's
// signature, issuer, audience and lifetime must have been verified already.
//
// Freshness is proven by auth_time alone, never by trusting that max_age or
// prompt=login reached the IdP (a user can strip them from the URL). A
// freshness window accepts any auth_time within max_age of now: under single
// sign-on the IdP rightly answers from a session that already meets the
// requirement, and demanding a newer login would send the user round a loop
// with no way out. Only a fresh-login requirement demands an auth_time later
// than the request.
func CheckProof(claims map[string]any, p Proof, now time.Time) (ProofFacts, *VerifyError) {
	facts := ProofFacts{AMR: policy.AMRValues(claims["amr"])}
	facts.ACR, _ = claims["acr"].(string)
	authTime, hasAuthTime := policy.NumericClaim(claims["auth_time"])
	if hasAuthTime {
		facts.AuthTime = time.Unix(authTime, 0).UTC()
	}
	if p.Nonce != "" {
		nonce, _ := claims["nonce"].(string)
		if subtle.ConstantTimeCompare([]byte(nonce), []byte(p.Nonce)) != 1 {
			return facts, VerifyErrorf(VerifyNonceMismatch, "the ID token's nonce does not match the request")
		}
	}
	if sub, _ := claims["sub"].(string); p.Subject != "" && sub != p.Subject {
		return facts, VerifyErrorf(VerifySubjectMismatch, "the ID token is for another user than the one asked to authenticate")
	}
	// Checked here too, for callers that verified the token with go-oidc
	// alone (which does not look at iat).
	latest := now.Add(max(p.Skew, maxFutureAuthTime)).Unix()
	if iat, ok := policy.NumericClaim(claims["iat"]); ok && iat > latest {
		return facts, VerifyErrorf(VerifyInvalidToken, "iat %s lies in the future", time.Unix(iat, 0).UTC().Format(time.RFC3339))
	}
	req := p.Requirements
	fresh := req.NeedsFreshLogin()
	if !hasAuthTime {
		if req.MaxAge != nil || fresh {
			return facts, VerifyErrorf(VerifyMissingAuthTime, "the ID token has no auth_time, so how recently the user authenticated is not proven")
		}
	} else {
		if authTime > latest {
			return facts, VerifyErrorf(VerifyInvalidToken, "auth_time %s lies in the future", facts.AuthTime.Format(time.RFC3339))
		}
		if fresh && authTime < p.RequestedAt.Add(-p.Skew).Unix() {
			return facts, VerifyErrorf(VerifyStaleAuthTime,
				"a fresh login was required, but auth_time %s is before the request (%s): the identity provider answered from an existing session",
				facts.AuthTime.Format(time.RFC3339), p.RequestedAt.UTC().Format(time.RFC3339))
		}
		if m := req.MaxAge; m != nil && *m > 0 && now.Unix()-authTime > *m {
			return facts, VerifyErrorf(VerifyStaleAuthTime, "auth_time %s is more than max_age %ds ago",
				facts.AuthTime.Format(time.RFC3339), *m)
		}
	}
	mfaACR := p.MFAACR
	if len(mfaACR) == 0 && slices.Contains(req.AMRAny, "mfa") {
		// The acr values sent for "mfa" are the ones that mean MFA.
		mfaACR = req.ACRValues
	}
	authn := policy.NormalizeAuthn(claims, mfaACR, now.Unix())
	// Freshness was judged above (a fresh login's max_age 0 would always
	// fail a plain age test), so only the methods and acr are left.
	methods := req
	methods.MaxAge, methods.FreshLogin = nil, false
	if ok, why := methods.Satisfies(authn, now.Unix()); !ok {
		return facts, VerifyErrorf(VerifyInsufficient, "%s (required: %s; got amr %v, acr %q)", why, req.Describe(), authn.Methods, authn.ACR)
	}
	return facts, nil
}
