// Package stepup sends a user to the identity provider for a stronger or
// fresher authentication and checks what comes back.
//
// Begin turns a policy's step_up into an Answer: an OpenID Connect
// authorization request built with golang.org/x/oauth2 (response_type code,
// state, nonce, PKCE S256, acr_values and/or an essential acr claims
// request in the issuer's dialect, max_age — 0 and prompt=login for a fresh
// login — and a login hint) and the RFC 9470 WWW-Authenticate challenge for
// APIs. State, nonce and the PKCE verifier are kept server-side in a
// Transaction, so they survive the round trip whatever the app's cookies do.
//
// Verify consumes the transaction (once, whatever the outcome, and only for
// the decision API client that asked for it: another client's attempt is
// answered as for an unknown id and leaves the transaction usable), verifies
// the returned ID token for the transaction's issuer and app client (typed
// as an ID token, auth_time and iat not in the future), and
// checks it with trust.CheckProof: nonce, subject, amr/acr, and auth_time
// within max_age now (later than the request only for a fresh login, so
// single sign-on never loops). Every attempt is a flow.Event of kind
// stepup, and an accepted step-up that cannot be recorded is refused.
//
// The decision service (package pdp) calls Begin while shaping a decision
// and elevates the session after a successful Verify.
package stepup
