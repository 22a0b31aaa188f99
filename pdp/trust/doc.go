// Package trust decides what stepgate believes from identity providers.
//
//   - The configured issuers (IssuerConfig: audiences, dialect, the acr
//     values that mean MFA, the authorize and CIBA clients), discovered
//     with go-oidc and cached with their key sets.
//   - Verifier.Verify checks a user token (signature with an allowed
//     asymmetric alg, iss, aud, exp/nbf/iat with leeway, size) and returns
//     its verified claims; every rejection is a *TokenError naming the
//     defect. Verified tokens are cached until they expire, or until a
//     refresh of the issuer's key set drops a key.
//   - Each issuer's JWKS is a jwks.Set: refreshed on an unknown kid (at
//     most every 5s) and on a schedule, after the response's Cache-Control
//     max-age bounded by IssuerConfig.JWKSRefreshMin/Max (30s to 5m by
//     default), so a key the provider removed stops being trusted; a failed
//     refresh keeps the last good keys.
//   - Verifier.VerifyIDToken checks an ID token coming back to a relying
//     party (step-up, CIBA) for one issuer and client; CheckProof then
//     checks what it proves against the decision's requirements — nonce,
//     subject, amr/acr and auth_time (a freshness window measured now, or a
//     fresh login later than the request). Step-up verification, CIBA
//     approvals and the admin UI's sign-in share that one check.
//   - Verifier.VerifyLogoutToken checks a Back-Channel Logout token
//     (go-oidc's VerifyLogout plus stepgate's own audience and iat rules).
//
// The package depends on the policy package only for the Requirements and
// authentication facts it checks; it knows nothing of the decision service.
package trust
