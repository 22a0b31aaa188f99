package pdp

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
// asks: a compact JWS with an asymmetric alg from a configured issuer,
// verified with its keys; not typed as another kind of token (typ
// logout+jwt is what providers should send); aud contains
// a client stepgate knows for that issuer (the authorize or CIBA client, or
// an accepted audience); iat present and exp not passed (with the leeway);
// a jti; an events object with the back-channel logout member; a sub or a
// sid; and no nonce, so that an ID token can never pass as a logout token.
// Every rejection is a *TokenError.
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
	if _, err := d.verifier.Verify(ctx, raw); err != nil {
		return nil, classifyOIDCError(ctx, "", err)
	}
	if _, err := v.checkLifetime(claims); err != nil {
		return nil, err
	}
	iat, ok, _ := claimTime(claims, "iat")
	if !ok {
		return nil, tokenErr(TokenMalformed, "the logout token has no iat")
	}
	aud, err := claimAudience(claims)
	if err != nil {
		return nil, err
	}
	known := slices.Clone(r.cfg.Audiences)
	if r.cfg.Authorize != nil {
		known = append(known, r.cfg.Authorize.ClientID)
	}
	if r.cfg.CIBA != nil {
		known = append(known, r.cfg.CIBA.ClientID)
	}
	if !slices.ContainsFunc(aud, func(a string) bool { return slices.Contains(known, a) }) {
		return nil, tokenErr(TokenWrongAudience, "aud "+quoteClaim(joinClaim(aud))+" names no client of "+quoteClaim(iss))
	}
	lt := &LogoutToken{Issuer: iss, IssuedAt: iat}
	var hasSub, hasSID bool
	lt.Subject, hasSub, _ = claimString(claims, "sub")
	if lt.SID, hasSID, err = claimString(claims, "sid"); err != nil {
		return nil, err
	}
	if lt.JTI, _, err = claimString(claims, "jti"); err != nil {
		return nil, err
	}
	events, _ := claims["events"].(map[string]any)
	_, isLogout := events[BackchannelLogoutEvent].(map[string]any)
	_, hasNonce := claims["nonce"]
	switch {
	case lt.JTI == "":
		return nil, tokenErr(TokenMalformed, "the logout token has no jti")
	case !isLogout:
		return nil, tokenErr(TokenMalformed, "the events claim has no "+BackchannelLogoutEvent+" object")
	case hasNonce:
		return nil, tokenErr(TokenMalformed, "a logout token must not carry a nonce")
	case (!hasSub || lt.Subject == "") && (!hasSID || lt.SID == ""):
		return nil, tokenErr(TokenMalformed, "the logout token names neither sub nor sid")
	}
	return lt, nil
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
