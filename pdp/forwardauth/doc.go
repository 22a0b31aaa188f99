// Package forwardauth answers a reverse proxy's authorization subrequest
// (NGINX auth_request, Traefik ForwardAuth, Caddy forward_auth) and signs
// browsers in and up for apps that have no login of their own.
//
// One subrequest flows through Handler.Check (HTTP) or Handler.Decide (any
// transport: the facts and headers in, a Response out) like this:
//
//	the proxy's subrequest (client already authenticated by pdp/pdphttp)
//	  → Original: method, host and URI from X-Forwarded-Method|Proto|Host|Uri
//	    (Traefik, Caddy) or X-Original-Method|URI (NGINX)
//	  → Table: the route's action and resource type, or the explicit
//	    default (or X-Stepgate-Action when the operator enabled it)
//	  → credentials: the forwarded Authorization: Bearer token (verified by
//	    pdp), else stepgate's own session cookie (sealed here), else none
//	  → pdp.Service.Decide, audited with the proxy's client id
//	  → the answer: 200 allow (X-Stepgate-Decision-Id, X-Stepgate-Subject),
//	    403 deny, 401 for a bad token, step_up as a redirect to the IdP for
//	    a browser navigation (302; 401 with Location for NGINX, whose
//	    auth_request passes only 401 and 403) or 401 with the RFC 9470
//	    challenge for an API call, ciba as 401 with the status link.
//
// A browser without a cookie is sent to a plain sign-in: a step-up with no
// requirements, begun with pdp/stepup. The redirect carries a sealed
// "pending" cookie (transaction id, state, PKCE verifier, return URL), and
// the IdP comes back to Handler.Callback on the same host (the proxy routes
// Config.CallbackPath to stepgate), which exchanges the code with PKCE
// (golang.org/x/oauth2), verifies the ID token exactly as
// POST /v1/stepup/verify does (pdp.Service.VerifyStepUp → trust.CheckProof,
// audited), and sets the session cookie: the verified authentication facts
// (sub, iss, amr, acr, auth_time, sid), the host and client it belongs to,
// a local session id and an expiry, sealed with AES-GCM under the newest
// key of Config.Keys (every key opens). Handler.SignOut clears it and
// revokes its session (pdp/session), so a copy of the cookie no longer
// counts, and the next sign-in is a fresh login.
//
// Claims from the cookie are stepgate's own assertion, so the decision
// takes them as asserted claims on the proxy client's behalf; claims a
// caller sends never reach this package.
package forwardauth
