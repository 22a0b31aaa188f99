// Package pdphttp is the HTTP adapter of the decision core: it binds
// requests, authenticates the calling client, calls one pdp.Service method
// and renders the result. It holds no decision logic.
//
// Routes on the decision listener:
//
//	POST /v1/decision                 one native decision
//	POST /v1/decisions                up to 100, answered in order
//	POST /v1/stepup/verify            check the ID token a user came back with
//	POST /v1/ciba, GET /v1/ciba/{id}  run a CIBA request (RegisterCIBA)
//	POST /v1/sessions/{sid}/revoke    end a session (RegisterSessions)
//	POST /v1/backchannel-logout       OpenID Back-Channel Logout (RegisterSessions)
//	/access/v1/evaluation[s], /access/v1/search/{subject,resource,action},
//	GET /.well-known/authzen-configuration   AuthZEN 1.0 (RegisterAuthZEN)
//	GET  /healthz                     the process is up
//	GET  /readyz                      each readiness check and its state (see package readiness)
//	GET  /metrics                     Prometheus
//
// Every response carries X-Request-ID (echoed when the caller sent a sane
// one, generated otherwise). Errors are JSON {"error", "error_description"}
// with stable codes; a 500 never shows internal detail.
package pdphttp
