// Package pdp is stepgate's decision service: it turns "may this user,
// holding this token, do this action right now?" into one of four answers —
// allow, deny, step_up or ciba — by composing the packages beneath it.
//
// One decision flows through Service like this:
//
//	Request (native API) or policy.Input (AuthZEN)
//	  → verify the user token (trust.Verifier) or accept asserted claims
//	    from a client allowed to assert them (clientauth)
//	  → build the policy input: AuthZEN entities, subject.authn
//	    (policy.NormalizeAuthn), now, client; apply a session elevation
//	    (session.Elevation) when the session stepped up before
//	  → policy.Engine.Eval: the active revision, prepared once, swapped
//	    atomically, with its caches
//	  → a session ended by a logout (session.Logouts) becomes a step-up to
//	    a fresh login
//	  → shape the answer: step_up (stepup.Service.Begin: authorize URL built
//	    with x/oauth2, PKCE, state, nonce, RFC 9470 challenge, a stored
//	    Transaction) or ciba
//	    (request parameters in the issuer's dialect, an offer for ciba.Runner)
//	  → AuditSink.Record (sync mode: after the commit), then the Decision
//	    goes back to the caller.
//
// After the user comes back, VerifyStepUp (stepup.Service.Verify) checks the
// ID token with trust.CheckProof against the transaction's requirements and
// records every attempt as a flow.Event; VerifyStepUpSession then elevates
// the session.
//
// Any failure after the calling client is authenticated becomes a deny with
// a reason; nothing in this package turns an error into an allow.
//
// The package knows nothing of HTTP frameworks or SQL: stores and sinks are
// small interfaces declared next to their users and adapted in
// cmd/stepgate. The HTTP adapter lives in pdp/pdphttp.
package pdp
