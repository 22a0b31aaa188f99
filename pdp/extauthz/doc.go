// Package extauthz serves Envoy's external authorization over gRPC (the
// envoy.service.auth.v3.Authorization service of ext_authz) with the same
// mapping as /v1/forward-auth, so that Envoy gets per-route step-up like
// NGINX, Traefik and Caddy do.
//
// One Check flows like this:
//
//	CheckRequest.attributes.request.http (method, scheme, host, path with
//	query, headers including authorization and cookie)
//	  → the proxy client: the key in the x-stepgate-client-key gRPC
//	    metadata (Envoy's grpc_service.initial_metadata), which must be
//	    Config.Client's
//	  → forwardauth.Original and the original headers
//	  → Config.Decider (a *forwardauth.Handler): route table, credentials,
//	    decision, audit — exactly as for /v1/forward-auth
//	  → the forward-auth Response rendered for Envoy: 200 is OK, with
//	    X-Stepgate-Decision-Id and X-Stepgate-Subject set for the upstream
//	    (and removed when stepgate has none, so that a client cannot send
//	    its own); any other status is a DeniedHttpResponse carrying the
//	    status, headers and body (403 deny; 302 + Location for a browser
//	    step-up; 401 + WWW-Authenticate for an API step-up; 401 with the
//	    CIBA status link).
//
// A request that cannot be decided is denied too (400, 503 or 500): Envoy
// never lets a request through because stepgate failed. Envoy's
// failure_mode_allow must stay false.
package extauthz
