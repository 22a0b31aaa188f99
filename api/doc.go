// Package api holds stepgate's HTTP contract: openapi.json, the OpenAPI 3.1
// document of the decision listener (the native API, /v1/forward-auth and
// the OpenID AuthZEN API). It is the file that services in other languages
// generate clients from; pdphttp serves it at GET /openapi.json, and the
// tests of pdphttp and authzentest validate every response they receive
// against it (package apitest), so that the document cannot drift from the
// code.
package api
