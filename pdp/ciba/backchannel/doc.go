// Package backchannel runs OpenID Connect CIBA (Client-Initiated Backchannel
// Authentication) in poll mode for stepgate: it asks an IdP to authenticate a
// user on their own device and waits for the answer.
//
// It is pure OAuth/OpenID: no HTTP server, no database, no policy. Two layers:
//
//   - Client speaks the two exchanges. Start posts the backchannel
//     authentication request (client-authenticated, form-encoded; exactly one
//     hint; scope with openid) and returns the Ack (auth_req_id, expires_in,
//     interval). Poll makes one token request with grant_type
//     urn:openid:params:grant-type:ciba and classifies the answer: pending,
//     slow_down, approved (with tokens), denied, expired, or failed.
//   - Poller runs many requests in the background. Begin (or Track, for a
//     request started elsewhere) stores a Record as pending; Run polls every
//     due request honouring interval (5 s when the IdP sends none, never below
//     Config.MinInterval), adding SlowDownStep per slow_down, ending at
//     expires_in or at a terminal answer. Every change is written to the
//     Store and sent on the Config.Changes channel, which the consumer
//     reads on its own goroutine: nothing of the consumer runs inside the
//     poller, and the consumer calls back into the poller (Settle) from
//     its own call stack, never from inside a poll.
//
// Data flow of one request:
//
//	Begin ─► Resolver (endpoints, credentials of the issuer) ─► Client.Start
//	      ─► Store.SaveRequest(pending, leased to this replica) ─► Changes (read by the consumer)
//	Run   ─► Store.PendingRequests ─► Store.TryLease ─► Client.Poll
//	      ─► Store.UpdateRequest(next poll | approved/denied/expired/error) ─► Changes
//	consumer ─► verify State.IDToken ─► Poller.Settle(verified claims | error)
//
// Exactly once: a terminal state is stored by the one replica holding the
// lease (UpdateRequest is conditional on it), and only that replica reports
// it, so a consumer that records every terminal report records each
// transition once, however many replicas poll. Settle succeeds for one
// caller only (ErrSettled, ErrLeaseLost for the others) and reports
// nothing: its caller knows the outcome already. A crash between storing a
// state and reporting it loses the report, not the state.
//
// Restarts and replicas: the Store is the source of truth. Run resumes every
// pending request it finds; a lease (owner, until) makes sure only one replica
// polls a request, and a replica that stops renewing is taken over once its
// lease has run out. The SQL Store comes from the storage package;
// MemoryStore serves tests and single-process use.
//
// Tokens: the ID token of an approval is NOT verified here. The consumer gets
// it raw in State.IDToken (and Record.IDToken), verifies it with
// trust.Verifier.VerifyIDToken and trust.CheckProof (in package ciba) —
// issuer, audience (the CIBA client id),
// signature, auth_time, acr/amr against the decision's requirements — and
// calls Poller.Settle, which replaces the raw token with the verified claims.
// Access and refresh tokens are dropped and never stored.
//
// Time: the Poller takes its clock (Config.Now) and scheduler (Config.After)
// from its configuration, and RunOnce makes one synchronous pass, so tests
// drive polling without sleeping.
package backchannel
