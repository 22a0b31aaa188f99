// Package pdp is stepgate's decision core: it turns "may this user, holding this
// token, do this action right now?" into one of four answers — allow, deny,
// step_up or ciba.
//
// One decision flows through the package like this:
//
//	Request (native API) or Input (AuthZEN)
//	  → Service.Decide: verify the user token (Verifier, go-oidc) or accept
//	    asserted claims from a trusted client
//	  → build the policy Input (AuthZEN entities + subject.authn + now + client)
//	  → Engine.Eval: the active Rego revision, prepared once, swapped atomically
//	  → shape the answer: StepUp (authorize URL, PKCE, state, nonce, RFC 9470
//	    challenge, stored Transaction) or CIBA (backchannel request parameters)
//	  → AuditSink.Record, then the Decision goes back to the caller.
//
// Any failure after the calling client is authenticated becomes a deny with a
// reason; nothing in this package ever turns an error into an allow.
//
// Each compiled Policy carries a decision cache of policy Results (never of
// step-up or CIBA answers, which are built fresh with new state, nonce and
// PKCE every time). Its key is an exact encoding of the whole input, so two
// inputs share an entry only if the policy would see the same document; a
// new revision starts with an empty cache; and an entry lives one second
// (now is part of the input) unless the policy's time dependence has been
// reviewed — see timeModel for the argument made for the default policy.
//
// The package knows nothing about HTTP frameworks or SQL: storage, audit and
// policy sources are small interfaces declared next to their users and adapted
// in cmd/stepgate. The HTTP adapter lives in pdp/pdphttp.
package pdp
