// Package demostack starts what the billing demo runs on: the test OpenID
// provider (testdata/oidc-provider, npm oidc-provider), stepgate (a built
// cmd/stepgate binary with a generated configuration and its own data
// directory) and the billing app itself. The one-command launcher
// (examples/billing/demo) and the demo's end-to-end tests share it, so the
// tests run the configuration a person clicks through.
//
// Data flow at start:
//
//	ModuleRoot ─► Build(cmd/stepgate, examples/billing) ─► binaries
//	ProviderConfig ─► node provider.mjs ─► "ISSUER http://…"      (Start)
//	StepgateConfig.YAML ─► stepgate.yaml
//	WritePolicyBundle(window) ─► stepgate policy push --activate  (Stepgate.PushPolicy)
//	stepgate serve ─► "decision API listening on http://…"        (Stepgate.Serve)
//	billing app ─► "billing demo listening on http://…"           (Start)
//
// Every child runs in its own process group; Process.Stop ends exactly
// that group (SIGTERM, then SIGKILL after a grace period).
//
// The policy bundle is stepgate's shipped default with one row changed:
// billing.view's max_age is the demo's window. The launcher keeps the
// shipped 15 minutes; the tests push a few seconds and wait them out,
// because the provider and stepgate run on real time.
package demostack
