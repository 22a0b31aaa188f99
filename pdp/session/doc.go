// Package session decides what stepgate remembers about a user's session
// beyond one token.
//
//   - Elevation: "MFA once per session". After a verified step-up the
//     session (the app's id, or the IdP's sid) counts as authenticated the
//     way the step-up was, until auth_time + max_age; the decision service
//     applies it to later decisions of the same client and user.
//   - Logouts: an in-memory index of ended sessions — back-channel logouts
//     for (iss, sid) or (iss, sub) and clients' revocations — loaded from
//     the store at start, recorded locally at once and synced from the
//     store so that every replica ends the session within about a second.
//     Ended tells the decision service that a token's login predates a
//     logout; no decision needs a database round trip for it.
//   - Sessions: the two ways a session ends (POST /v1/sessions/{sid}/revoke
//     and OpenID Connect Back-Channel Logout, verified by package trust):
//     store the logout mark, revoke the elevations, record flow events.
package session
