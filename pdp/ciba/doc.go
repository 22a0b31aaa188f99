// Package ciba runs OpenID Connect CIBA for decisions that must be
// approved on the user's own device.
//
// When the policy answers ciba, the decision service builds the request
// parameters in the issuer's dialect (LoginHint, BindingMessage: a short
// message every provider accepts, a policy's hint sanitised), checks them
// against the provider's documented rules (CheckRequest) and, for an
// issuer with a CIBA client, stores an Offer. POST /v1/ciba then has the
// Runner start it (Runner.Start: the offer, or an explicit user and binding
// message from a trusted client), and its backchannel.Poller polls the
// IdP's token endpoint honouring interval and slow_down, across restarts
// and replicas. An approval's ID token is checked like a step-up's
// (trust.CheckProof: signature, subject, amr/acr, and an auth_time later
// than the request) before Runner.Status reports the verified claims.
//
// Every transition (started, approved, denied, expired, error) is one
// flow.Event of kind ciba, linked to the decision and the request.
//
// The sub-package backchannel speaks the protocol and keeps the polling
// state; this package owns offers, verification and the audit trail. The
// sub-package enrollment finds out beforehand whether the user has a
// device that can approve at all (input.subject.authn.ciba_capable). The
// poller reports state changes on a channel that the Runner reads on its
// own (Run's goroutine, or right after RunOnce and Start), so the protocol
// never calls back into this package to finish its work.
package ciba
