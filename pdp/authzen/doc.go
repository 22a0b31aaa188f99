// Package authzen answers OpenID AuthZEN 1.0 searches (subject, resource
// and action search) for policies that say how to enumerate their entities.
// Evaluations (/access/v1/evaluation[s]) are ordinary decisions of the
// decision service; a search lists the candidates a policy's
// data.stepgate.search rules name and keeps those the decision service's
// active policy allows, so a result is exactly an entity an evaluation
// would answer true for. Pages are bound to their request by an opaque
// cursor. The HTTP adapter is pdp/pdphttp.
package authzen
