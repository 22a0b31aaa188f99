// Package jwks keeps an identity provider's signing keys (its JSON Web Key
// Set) current and verifies JWS signatures with them.
//
// A Set is an oidc.KeySet: go-oidc's IDTokenVerifier hands it every token
// whose claims it checks. go-oidc's own RemoteKeySet fetches the JWKS only
// when a token names an unknown kid, so a key the provider removed stays
// trusted for as long as no new kid shows up. A Set also refreshes on a
// schedule:
//
//   - Each fetched set lives for the response's Cache-Control max-age (less
//     its Age), bounded by Config.RefreshMin and RefreshMax (defaults 30s and
//     5m); no max-age means RefreshMax, no-store or no-cache RefreshMin.
//   - Three quarters into that lifetime the next verification starts a
//     refresh in the background; once the lifetime is over, verifications
//     wait for the refresh. There is no timer: an idle Set fetches nothing.
//   - A successful fetch replaces the keys at once: a key absent from it is
//     no longer trusted, and Generation changes so that whoever remembers a
//     verification (the trust package's token cache) can tell.
//   - A failed fetch keeps the last good keys, is logged, and is retried
//     with exponential backoff (from Config.UnknownKIDInterval up to
//     RefreshMax), whoever asks in the meantime.
//   - A token whose kid is unknown (or that no key verifies) triggers a
//     fetch, at most once per UnknownKIDInterval (default 5s), so that
//     forged kids cannot turn into a flood of requests to the provider.
//
// The HTTP client is the caller's; the trust package gives it a transport
// that caps response sizes.
package jwks
