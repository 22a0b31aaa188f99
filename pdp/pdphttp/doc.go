// Package pdphttp is the HTTP adapter of the decision core: it binds
// requests, authenticates the calling client, calls one pdp.Service method
// and renders the result. It holds no decision logic.
//
// Routes on the decision listener:
//
//	POST /v1/decision        one native decision
//	POST /v1/decisions       up to 100, answered in order
//	POST /v1/stepup/verify   check the ID token a user came back with
//	GET  /healthz            the process is up
//	GET  /readyz             a policy is active and the store answers
//	GET  /metrics            Prometheus
//
// Every response carries X-Request-ID (echoed when the caller sent a sane
// one, generated otherwise). Errors are JSON {"error", "error_description"}
// with stable codes; a 500 never shows internal detail.
package pdphttp
