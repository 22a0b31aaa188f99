// Package authzentest proves stepgate's OpenID AuthZEN 1.0 API against the
// public interop and certification suites. Its tests start the real decision
// router (pdphttp.New plus RegisterAuthZEN) on httptest with a pdp.Service
// whose engine loads one of the interop bundles under testdata/authzen the
// way a pushed revision is loaded (policy.ReadFS, Engine.Load), then replay the
// upstream request/expected pairs from ../shared/authzen and compare the
// answers as the upstream runners do. It holds no production code.
package authzentest
