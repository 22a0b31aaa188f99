package trust

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/stepgate/stepgate/pdp/trust/jwks"
)

// Token is a verified token. Tokens returned by Verify may be shared between
// callers through the cache: treat a Token and its Claims as read-only.
type Token struct {
	// Issuer is the configuration of the issuer that signed the token.
	Issuer IssuerConfig
	// Subject is the `sub` claim.
	Subject string
	// Claims are all payload claims, decoded with json.Decoder.UseNumber:
	// numbers are json.Number, so policies see exact integers.
	Claims map[string]any
	// Expiry is the `exp` claim.
	Expiry time.Time

	// keys verified the signature, at generation keyGeneration (read
	// before verifying): the cache trusts the token only while it holds.
	keys          *jwks.Set
	keyGeneration uint64
}

// Verify checks a user's access or ID token. The issuer is chosen by the
// token's (unverified) `iss`; the signature must be asymmetric and verify
// with the issuer's JWKS (refreshed on schedule and on an unknown kid);
// `aud` must contain one of the issuer's Audiences; exp (required), nbf and
// iat are checked with the configured leeway. Tokens seen before are
// answered from the cache until their exp, or until a JWKS refresh drops a
// key. Every rejection is a *TokenError.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Token, error) {
	if err := v.checkSize(raw); err != nil {
		return nil, err
	}
	var key tokenCacheKey
	if v.cache != nil {
		key = cacheKeyOf(raw)
		if tok, ok := v.cache.get(ctx, key, v.now()); ok {
			return tok, nil
		}
	}
	jwt, err := parseUnverifiedJWT(raw)
	if err != nil {
		return nil, err
	}
	iss, err := claimIssuer(jwt.claims)
	if err != nil {
		return nil, err
	}
	r, ok := v.byIssuer[iss]
	if !ok {
		return nil, &TokenError{Code: TokenUnknownIssuer, Detail: "issuer " + quoteClaim(iss) + " is not configured", Err: ErrUnknownIssuer}
	}
	tok, err := v.verifyWith(ctx, r, raw, jwt)
	if err != nil {
		return nil, err
	}
	aud, err := claimAudience(jwt.claims)
	if err != nil {
		return nil, err
	}
	if len(aud) == 0 {
		return nil, tokenErr(TokenWrongAudience, "the token has no aud claim")
	}
	if !slices.ContainsFunc(aud, func(a string) bool { return slices.Contains(r.cfg.Audiences, a) }) {
		return nil, tokenErr(TokenWrongAudience, "aud "+quoteClaim(joinClaim(aud))+" holds none of the audiences accepted for "+quoteClaim(iss))
	}
	if v.cache != nil {
		v.cache.add(key, tok)
	}
	return tok, nil
}

// VerifyIDToken checks an ID token that came back to a relying party after
// step-up or CIBA: it must come from issuer, `aud` must contain clientID,
// `azp`, when present (required when aud has several values), must equal
// clientID. Signature and time checks are those of Verify, and more: the
// typ must be an ID token's (absent, JWT or application/jwt: never at+jwt),
// and auth_time, like iat, must not lie beyond the leeway in the future.
// Never cached.
func (v *Verifier) VerifyIDToken(ctx context.Context, raw, issuer, clientID string) (*Token, error) {
	if clientID == "" {
		return nil, errors.New("pdp: verify ID token: no client id to check the audience against")
	}
	if err := v.checkSize(raw); err != nil {
		return nil, err
	}
	r, ok := v.byIssuer[issuer]
	if !ok {
		return nil, &TokenError{Code: TokenUnknownIssuer, Detail: "issuer " + quoteClaim(issuer) + " is not configured", Err: ErrUnknownIssuer}
	}
	jwt, err := parseUnverifiedJWT(raw)
	if err != nil {
		return nil, err
	}
	iss, err := claimIssuer(jwt.claims)
	if err != nil {
		return nil, err
	}
	if iss != issuer {
		return nil, tokenErr(TokenWrongIssuer, "the ID token was issued by "+quoteClaim(iss)+", want "+quoteClaim(issuer))
	}
	if err := checkIDTokenType(jwt.typ); err != nil {
		return nil, err
	}
	tok, err := v.verifyWith(ctx, r, raw, jwt)
	if err != nil {
		return nil, err
	}
	if err := v.checkAuthTime(jwt.claims); err != nil {
		return nil, err
	}
	aud, err := claimAudience(jwt.claims)
	if err != nil {
		return nil, err
	}
	if len(aud) == 0 {
		return nil, tokenErr(TokenWrongAudience, "the ID token has no aud claim")
	}
	if !slices.Contains(aud, clientID) {
		return nil, tokenErr(TokenWrongAudience, "aud "+quoteClaim(joinClaim(aud))+" does not contain client "+quoteClaim(clientID))
	}
	azp, hasAZP, err := claimString(jwt.claims, "azp")
	if err != nil {
		return nil, err
	}
	switch {
	case len(aud) > 1 && !hasAZP:
		return nil, tokenErr(TokenWrongAudience, "the ID token has several audiences but no azp")
	case hasAZP && azp != clientID:
		return nil, tokenErr(TokenWrongAudience, "azp "+quoteClaim(azp)+" is not client "+quoteClaim(clientID))
	}
	return tok, nil
}

func (v *Verifier) checkSize(raw string) error {
	if len(raw) > v.maxTokenBytes {
		return tokenErr(TokenTooLarge, "the token is "+strconv.Itoa(len(raw))+" bytes; at most "+strconv.Itoa(v.maxTokenBytes)+" are accepted")
	}
	return nil
}

// verifyWith checks the signature with issuer r's keys, then the subject and
// the token's lifetime. Audience rules differ by caller and are left to it.
func (v *Verifier) verifyWith(ctx context.Context, r *issuerRemote, raw string, jwt *unverifiedJWT) (*Token, error) {
	d, err := r.discovered(ctx)
	if err != nil {
		return nil, &TokenError{Code: TokenDiscoveryFailed, Detail: "the issuer " + quoteClaim(r.cfg.Issuer) + " cannot be discovered right now", Err: err}
	}
	// Read before verifying: a refresh that drops a key while the signature
	// is checked makes the cached token stale rather than trusted.
	gen := d.keys.Generation(ctx)
	if _, err := d.verifier.Verify(ctx, raw); err != nil {
		return nil, classifyOIDCError(ctx, jwt.kid, err)
	}
	// The signature covers the payload we decoded before: from here on the
	// claims are the issuer's.
	sub, _, err := claimString(jwt.claims, "sub")
	if err != nil {
		return nil, err
	}
	if sub == "" {
		return nil, tokenErr(TokenMalformed, "the token has no sub claim")
	}
	exp, err := v.checkLifetime(jwt.claims)
	if err != nil {
		return nil, err
	}
	return &Token{Issuer: r.cfg, Subject: sub, Claims: jwt.claims, Expiry: exp, keys: d.keys, keyGeneration: gen}, nil
}

// checkLifetime enforces exp (required), nbf and iat with the leeway, and
// returns exp.
func (v *Verifier) checkLifetime(claims map[string]any) (time.Time, error) {
	now := v.now()
	exp, ok, err := claimTime(claims, "exp")
	if err != nil {
		return time.Time{}, err
	}
	if !ok {
		return time.Time{}, tokenErr(TokenMissingExp, "the token has no exp claim; tokens without expiry are not accepted")
	}
	if !now.Before(exp.Add(v.leeway)) {
		return time.Time{}, tokenErr(TokenExpired, "the token expired at "+exp.UTC().Format(time.RFC3339)+" ("+now.Sub(exp).Truncate(time.Second).String()+" ago)")
	}
	if nbf, ok, err := claimTime(claims, "nbf"); err != nil {
		return time.Time{}, err
	} else if ok && now.Add(v.leeway).Before(nbf) {
		return time.Time{}, tokenErr(TokenNotYetValid, "the token is not valid before "+nbf.UTC().Format(time.RFC3339))
	}
	if iat, ok, err := claimTime(claims, "iat"); err != nil {
		return time.Time{}, err
	} else if ok && iat.After(now.Add(v.leeway)) {
		return time.Time{}, tokenErr(TokenIssuedInFuture, "the token claims to be issued at "+iat.UTC().Format(time.RFC3339)+", in the future")
	}
	return exp, nil
}

// checkAuthTime refuses an auth_time beyond the leeway in the future, as
// checkLifetime does an iat: a login cannot have happened later than now,
// and a future auth_time would pass every freshness window for as long as
// it lies ahead.
func (v *Verifier) checkAuthTime(claims map[string]any) error {
	now := v.now()
	at, ok, err := claimTime(claims, "auth_time")
	if err != nil {
		return err
	}
	if ok && at.After(now.Add(v.leeway)) {
		return tokenErr(TokenIssuedInFuture, "the token claims a login at "+at.UTC().Format(time.RFC3339)+" (auth_time), in the future")
	}
	return nil
}

// claimIssuer returns the non-empty `iss` claim.
func claimIssuer(claims map[string]any) (string, error) {
	iss, _, err := claimString(claims, "iss")
	if err != nil {
		return "", err
	}
	if iss == "" {
		return "", tokenErr(TokenMalformed, "the token has no iss claim")
	}
	return iss, nil
}

func joinClaim(vals []string) string {
	if len(vals) == 1 {
		return vals[0]
	}
	b := []byte{'['}
	for i, s := range vals {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, s...)
	}
	return string(append(b, ']'))
}
