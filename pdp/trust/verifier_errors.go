package trust

import (
	"context"
	"errors"
	"strconv"
	"strings"
)

// Codes of a TokenError. They are stable and machine-readable: the decision
// API puts them in reasons and the step-up API returns them as `error`.
const (
	// TokenMalformed: not a compact JWS, bad base64/JSON, a required claim
	// missing or of the wrong type, an encrypted (JWE) token, or a token
	// typed as another kind (a logout token as a user token, an access
	// token as an ID token).
	TokenMalformed = "malformed"
	// TokenTooLarge: longer than VerifierConfig.MaxTokenBytes; never parsed.
	TokenTooLarge = "too_large"
	// TokenUnknownIssuer: the `iss` claim names no configured issuer.
	TokenUnknownIssuer = "unknown_issuer"
	// TokenUnsupportedAlg: `alg` is none, HS*, or anything not asymmetric.
	TokenUnsupportedAlg = "unsupported_alg"
	// TokenBadSignature: no key in the issuer's JWKS verifies the signature,
	// including a `kid` that is still unknown after a JWKS refresh.
	TokenBadSignature = "bad_signature"
	// TokenExpired: `exp` plus the leeway has passed.
	TokenExpired = "expired"
	// TokenNotYetValid: `nbf` minus the leeway is still in the future.
	TokenNotYetValid = "not_yet_valid"
	// TokenIssuedInFuture: `iat` (or an ID token's `auth_time`) minus the
	// leeway is in the future.
	TokenIssuedInFuture = "issued_in_future"
	// TokenMissingExp: the token has no `exp`; tokens must expire.
	TokenMissingExp = "missing_exp"
	// TokenWrongAudience: `aud` holds none of the accepted audiences (or, for
	// ID tokens, `azp` names another client).
	TokenWrongAudience = "wrong_audience"
	// TokenWrongIssuer: an ID token came from another issuer than expected.
	TokenWrongIssuer = "wrong_issuer"
	// TokenDiscoveryFailed: the IdP's discovery document or JWKS could not be
	// fetched or understood. Not the user's fault, but still a rejection.
	TokenDiscoveryFailed = "discovery_failed"
)

// Sentinel errors that a TokenError wraps, for callers that branch with
// errors.Is instead of comparing codes.
var (
	// ErrUnknownIssuer is wrapped by unknown_issuer errors and returned
	// (wrapped) by Verifier.Endpoints for an issuer that is not configured.
	ErrUnknownIssuer = errors.New("issuer is not configured")
	// ErrDiscovery is wrapped by discovery_failed errors and by
	// Verifier.Endpoints when the IdP cannot be discovered.
	ErrDiscovery = errors.New("OIDC discovery failed")
)

// TokenError says why a token was rejected. Code is one of the Token*
// constants; Detail is a human-readable explanation safe to show to the
// caller (it never contains the token); Err is the underlying cause, if any.
type TokenError struct {
	Code   string
	Detail string
	Err    error
}

// Error returns "invalid token: <code>: <detail>".
func (e *TokenError) Error() string {
	return "invalid token: " + e.Code + ": " + e.Detail
}

// Unwrap returns the underlying cause.
func (e *TokenError) Unwrap() error { return e.Err }

func tokenErr(code, detail string) *TokenError {
	return &TokenError{Code: code, Detail: detail}
}

// classifyOIDCError maps an error from go-oidc's IDTokenVerifier.Verify to a
// TokenError. go-oidc reports failures as formatted strings (the JWKS fetch
// error is flattened with %v), so the message prefixes it documents are the
// only signal; anything unrecognised is treated as a malformed token, which
// is a rejection either way.
func classifyOIDCError(ctx context.Context, kid string, err error) *TokenError {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "fetching keys") && ctx.Err() != nil:
		return &TokenError{Code: TokenDiscoveryFailed, Detail: "verification was cancelled while fetching the JWKS", Err: errors.Join(ErrDiscovery, ctx.Err())}
	case strings.Contains(msg, "fetching keys"):
		return &TokenError{Code: TokenDiscoveryFailed, Detail: "the issuer's JWKS could not be fetched", Err: errors.Join(ErrDiscovery, err)}
	case strings.HasPrefix(msg, "failed to verify signature"):
		return &TokenError{Code: TokenBadSignature, Detail: "no key of the issuer's JWKS verifies the signature (kid " + quoteClaim(kid) + ")", Err: err}
	case strings.Contains(msg, "issued by a different provider"):
		return &TokenError{Code: TokenWrongIssuer, Detail: "the token was issued by another issuer", Err: err}
	default:
		return &TokenError{Code: TokenMalformed, Detail: "the token could not be parsed: " + truncate(msg, 160), Err: err}
	}
}

// quoteClaim renders an untrusted value for an error detail: quoted, with
// control characters escaped, and cut to a sane length.
func quoteClaim(s string) string {
	return strconv.Quote(truncate(s, 100))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
