// Package clientauth knows the callers of the decision API: a Client (its
// id, whether it may assert claims, its return_to allowlist), how a client
// key is checked (Authenticator, with a short cache in front of a
// ClientLookup that cmd/stepgate adapts to storage; keys are stored only as
// SHA-256 hashes), and the errors a caller can get: ErrUnauthenticated,
// ErrForbidden and ErrInvalidRequest (built with Invalidf), which the HTTP
// adapters map to 401, 403 and 400, and ErrUnavailable (the store failed:
// retry), which they map to 503 with Retry-After.
package clientauth
