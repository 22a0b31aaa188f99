// Package flowtest holds end-to-end tests of the flows that continue after
// a decision, driven through the real HTTP router (pdphttp) the way an app
// drives them:
//
//   - step-up against a real OpenID provider (npm oidc-provider, started by
//     pdptest.StartOIDCProvider): decision → step_up → authorize_url in a
//     cookie-jar browser → login with OTP → code exchange with the PKCE
//     verifier → /v1/stepup/verify → allow; and the same with max_age and
//     acr_values stripped from the URL, which verify must reject;
//   - CIBA run by stepgate: approved, denied, expired, an approval too weak
//     for the policy, slow_down from a Go fake token endpoint, and a restart
//     while pending on a SQLite store;
//   - "MFA once per session": the elevation is honoured within max_age, not
//     after it (controlled clock), and ends on revocation or an OpenID
//     Connect back-channel logout.
//
// It has no non-test code.
package flowtest
