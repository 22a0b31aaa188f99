// Command billing is stepgate's demo app: a small server-rendered billing
// site that asks stepgate, through pdp/stepgateclient, whether the signed-in
// user may do what they ask — and acts on the answer.
//
//   - Sign-in is an ordinary OpenID Connect login (code flow with PKCE,
//     state and nonce, acr urn:stepgate:pwd): password only. Home and
//     profile need nothing more.
//   - Billing is guarded by Guard.Require("billing.view"). stepgate answers
//     step_up for a password login; the guard keeps the pending step-up in
//     its own SameSite=Lax cookie, named after its state, and sends the
//     browser to the IdP's authorize URL that stepgate built. The IdP asks
//     for the one-time code and returns to /callback, where Guard.Callback
//     takes only that step-up, redeems the code with the PKCE verifier and
//     has stepgate verify the ID token, which elevates this app session at
//     stepgate. Two tabs stepping up at once therefore both succeed. Opening
//     billing again within the policy's max_age is allowed on the session
//     elevation; after it, stepgate asks again.
//   - A failed callback (Cancel at the IdP, a replayed or altered callback
//     URL, an expired or refused step-up) shows the library's error page in
//     this app's layout, with "Try again" to the page the user wanted, and
//     is logged with the decision id. Nothing is elevated, and the next
//     billing request decides afresh.
//   - Signed-out visitors are sent to /login?return_to=<page>; after the
//     sign-in they land on that page (same-origin paths only).
//   - Signing out deletes the app session and revokes its elevation
//     (POST /v1/sessions/{sid}/revoke).
//   - A call-centre payment asks for billing.pay with context.channel
//     call_center; stepgate answers ciba, the app starts the CIBA request
//     (POST /v1/ciba) and shows its status until the customer approves or
//     denies it on their phone. With -phone-sim the app also serves
//     /phone, a clearly labelled simulation of that phone which answers
//     through the test provider's /__test/ciba routes.
//
// Sessions live in memory. The app session has two identifiers: the
// cookie's secret key, and a public id that names the session at stepgate
// (so the cookie secret never leaves the app).
//
// Run it with examples/billing/demo, which also starts the test IdP and
// stepgate; see README.md.
package main
