package trust

import (
	"context"
	"slices"
	"strings"
	"time"
)

// BackchannelLogoutEvent is the member of a logout token's events claim
// that makes it one (OpenID Connect Back-Channel Logout 1.0 §2.4).
const BackchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// LogoutToken is a verified OpenID Connect Back-Channel Logout token: the
// IdP says that the session SID (or every session of Subject) has ended.
type LogoutToken struct {
	Issuer string
	// Subject and SID: at least one is set.
	Subject  string
	SID      string
	JTI      string
	IssuedAt time.Time
}

// VerifyLogoutToken checks a logout token as Back-Channel Logout 1.0 §2.6
// asks. go-oidc's VerifyLogout checks the signature (a compact JWS with an
// asymmetric alg, verified with the issuer's keys), iss, an exp, a jti, the
// events claim's back-channel logout member, a sub or a sid, and no nonce
// (so that an ID token can never pass as a logout token). The rest is
// stepgate's: the size limit; the typ rule (not typed as another kind of
// token; logout+jwt is what providers should send); the issuer being
// configured; aud containing a client stepgate knows for that issuer (the
// authorize or CIBA client, or an accepted audience: the go-oidc verifier
// skips the client check); iat present, and exp not passed, with the
// configured leeway; and the events member being an object, as the spec
// says. Every rejection is a *TokenError.
func (v *Verifier) VerifyLogoutToken(ctx context.Context, raw string) (*LogoutToken, error) {
	if err := v.checkSize(raw); err != nil {
		return nil, err
	}
	claims, err := parseLogoutJWT(raw)
	if err != nil {
		return nil, err
	}
	iss, err := claimIssuer(claims)
	if err != nil {
		return nil, err
	}
	r, ok := v.byIssuer[iss]
	if !ok {
		return nil, &TokenError{Code: TokenUnknownIssuer, Detail: "issuer " + quoteClaim(iss) + " is not configured", Err: ErrUnknownIssuer}
	}
	d, err := r.discovered(ctx)
	if err != nil {
		return nil, &TokenError{Code: TokenDiscoveryFailed, Detail: "the issuer " + quoteClaim(iss) + " cannot be discovered right now", Err: err}
	}
	olt, err := d.verifier.VerifyLogout(ctx, raw)
	if err != nil {
		return nil, classifyLogoutError(ctx, err)
	}
	if _, err := v.checkLifetime(claims); err != nil {
		return nil, err
	}
	if _, ok, _ := claimTime(claims, "iat"); !ok {
		return nil, tokenErr(TokenMalformed, "the logout token has no iat")
	}
	known := slices.Clone(r.cfg.Audiences)
	if r.cfg.Authorize != nil {
		known = append(known, r.cfg.Authorize.ClientID)
	}
	if r.cfg.CIBA != nil {
		known = append(known, r.cfg.CIBA.ClientID)
	}
	if !slices.ContainsFunc(olt.Audience, func(a string) bool { return slices.Contains(known, a) }) {
		return nil, tokenErr(TokenWrongAudience, "aud "+quoteClaim(joinClaim(olt.Audience))+" names no client of "+quoteClaim(iss))
	}
	events, _ := claims["events"].(map[string]any)
	if _, isObject := events[BackchannelLogoutEvent].(map[string]any); !isObject {
		return nil, tokenErr(TokenMalformed, "the events claim's "+BackchannelLogoutEvent+" member is not an object")
	}
	return &LogoutToken{Issuer: olt.Issuer, Subject: olt.Subject, SID: olt.SessionID, JTI: olt.TokenID,
		IssuedAt: olt.IssuedAt}, nil
}

// classifyLogoutError maps go-oidc's VerifyLogout errors: a failed
// signature or issuer as for any token, a missing or forbidden claim as a
// malformed logout token.
func classifyLogoutError(ctx context.Context, err error) *TokenError {
	if msg := err.Error(); strings.HasPrefix(msg, "oidc: logout token") && !strings.Contains(msg, "different provider") {
		return tokenErr(TokenMalformed, "the "+strings.TrimPrefix(msg, "oidc: "))
	}
	return classifyOIDCError(ctx, "", err)
}

// parseLogoutJWT decodes a logout token's header and claims without
// trusting them, through the same decoder as user tokens but with its own
// typ rule: parseUnverifiedJWT refuses exactly the tokens this accepts.
func parseLogoutJWT(raw string) (map[string]any, error) {
	_, claims, err := decodeJWS(raw, func(typ string) error {
		switch strings.TrimPrefix(strings.ToLower(typ), "application/") {
		case "at+jwt", "secevent+jwt", "dpop+jwt":
			// Typed as another kind of token; an untyped or "JWT" token is
			// told apart from an ID token by its events claim and no nonce.
			return tokenErr(TokenMalformed, "typ "+quoteClaim(typ)+" is not a logout token")
		}
		return nil
	})
	return claims, err
}
