// Command demo is the billing demo's one command: it starts the test OpenID
// provider, stepgate and the billing app on fixed loopback ports, prints
// the URL and the credentials, and stops all three on Ctrl-C.
//
//	go run ./examples/billing/demo
//
// It builds cmd/stepgate and examples/billing into a temporary directory
// (installing the provider's npm packages with `npm ci` when they are
// missing), gives stepgate a fresh data directory and a generated
// configuration, and pushes the demo policy: stepgate's default with
// billing.view unlocked for -window after a step-up (15 minutes; pass
// -window 1m to see the second prompt sooner).
package main
