// Package stepgateclient is the Go client of stepgate's decision API for
// the services that ask it, with middleware that acts on the answers.
//
// It does not import the decision core: a service links only net/http,
// golang.org/x/oauth2 and this package.
//
// Flow of a guarded request (Guard.Require):
//
//	request ─► Client.Decide(token, action, session_id)
//	  allow   ─► the handler runs
//	  deny    ─► 403 (401 with the invalid_token challenge for a bad token)
//	  step_up ─► browser: the pending step-up (transaction, state, PKCE
//	             verifier, where to return) goes into the app's session
//	             through StepUpStore, then 303 to step_up.authorize_url
//	             API call: 401 with the RFC 9470 WWW-Authenticate challenge
//	  ciba    ─► 403 with the CIBA id; the app starts and polls it
//	             (Client.StartCIBA, Client.WaitCIBA)
//
// The IdP sends the browser back to the app's redirect URI, where
// Guard.Callback takes the pending step-up by state, redeems the code with
// the PKCE verifier (oauth2.Config.Exchange) and asks stepgate to verify the
// ID token (Client.VerifyStepUp), which elevates the app's session; then it
// redirects to the page the user came from. CookieStore keeps the pending
// step-up in an HMAC-signed, HttpOnly, SameSite=Lax cookie — Lax, because a
// Strict cookie is not sent on the IdP's cross-site redirect back, which is
// the classic "state argument is missing" failure.
package stepgateclient
