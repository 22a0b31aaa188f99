package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
)

// placeholder marks where the load generator inserts a per-request counter,
// so that every request of the cold workloads is distinct.
const placeholder = "@@N@@"

// spec is one decision request, independent of any target's wire shape.
type spec struct {
	sub      string
	amr      []string
	authTime int64          // 0: the claims carry no auth_time
	extra    map[string]any // further claims (roles, department, clearance)
	action   string
	resource resource
	amount   int
	channel  string
	token    string // token workloads: the user's JWT instead of claims
	request  string // cold workloads: a per-request id in the context
}

// resource is the request's resource; the zero value is the default
// policy's invoice.
type resource struct {
	typ, id string
	props   map[string]any // nil: no properties
}

func (r resource) body() map[string]any {
	if r.typ == "" {
		return map[string]any{"type": "invoice", "id": "inv_42"}
	}
	m := map[string]any{"type": r.typ, "id": r.id}
	if r.props != nil {
		m["properties"] = r.props
	}
	return m
}

// Ages are drawn away from the default policy's boundaries (clock skew 60,
// max_age 300 and 900), so that the clock ticking between two targets'
// answers cannot flip a decision.
var ageBands = [][2]int64{{5, 240}, {360, 840}, {960, 5000}}

// action variants: the five things each user does in the mix.
var variants = []struct {
	action, channel string
}{
	{"billing.view", "web"},
	{"billing.pay", "web"},         // ciba when amount >= 100000
	{"billing.pay", "call_center"}, // always ciba
	{"profile.update", "web"},
	{"orders.list", "web"}, // unknown action: deny
}

// userAuth gives user u's authentication: 80% MFA, 10% password only, 10%
// MFA too long ago for billing.
func userAuth(u int, now int64, rng *rand.Rand) ([]string, int64) {
	switch u % 10 {
	case 8:
		return []string{"pwd"}, now - randAge(rng, 0)
	case 9:
		return []string{"pwd", "mfa"}, now - randAge(rng, 2)
	default:
		return []string{"pwd", "mfa"}, now - randAge(rng, rng.IntN(2))
	}
}

func randAge(rng *rand.Rand, band int) int64 {
	b := ageBands[band]
	return b[0] + rng.Int64N(b[1]-b[0])
}

// coldSpecs are n templates whose subject and context (request_id) contain
// the placeholder: with the counter the load generator inserts, no two
// requests are equal, also in what the policy reads (the context), so no
// decision cache can answer one from another.
func coldSpecs(n int, now int64) []spec {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]spec, n)
	for i := range out {
		amr, at := userAuth(rng.IntN(1000), now, rng)
		v := variants[rng.IntN(len(variants))]
		out[i] = spec{sub: fmt.Sprintf("cold-%s-%d", placeholder, i), amr: amr, authTime: at,
			action: v.action, channel: v.channel, amount: rng.IntN(150_000), request: fmt.Sprintf("req-%s-%d", placeholder, i)}
	}
	return out
}

// warmSpecs are users × len(variants) requests: a fixed population whose
// every request repeats for the whole run, as a service's users do.
func warmSpecs(users int, now int64) []spec {
	rng := rand.New(rand.NewPCG(3, 4))
	out := make([]spec, 0, users*len(variants))
	for u := range users {
		amr, at := userAuth(u, now, rng)
		for _, v := range variants {
			out = append(out, spec{sub: fmt.Sprintf("user-%04d", u), amr: amr, authTime: at,
				action: v.action, channel: v.channel, amount: (u * 131) % 120_000})
		}
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// withTokens replaces claims by a token per user, minted once with alg and
// reused for every request of that user (exp one hour ahead).
func withTokens(specs []spec, p *idp, alg string, now int64) ([]spec, error) {
	tokens := map[string]string{}
	out := make([]spec, len(specs))
	for i, s := range specs {
		tok, ok := tokens[s.sub]
		if !ok {
			var err error
			c := map[string]any{"iss": p.url, "sub": s.sub, "aud": benchAudience,
				"iat": now, "exp": now + 3600, "auth_time": s.authTime, "amr": s.amr}
			for k, v := range s.extra {
				c[k] = v
			}
			tok, err = p.mint(alg, c)
			if err != nil {
				return nil, err
			}
			tokens[s.sub] = tok
		}
		s.token = tok
		out[i] = s
	}
	return out, nil
}

func (s spec) claims(iss string) map[string]any {
	c := map[string]any{"iss": iss, "sub": s.sub, "amr": s.amr}
	for k, v := range s.extra {
		c[k] = v
	}
	if s.authTime != 0 {
		c["auth_time"] = s.authTime
	}
	return c
}

func (s spec) context() map[string]any {
	c := map[string]any{"amount": s.amount, "channel": s.channel, "currency": "JPY"}
	if s.request != "" {
		c["request_id"] = s.request
	}
	return c
}

// native is the body of stepgate's /v1/decision (also sent to the no-op).
func (s spec) native(iss string) map[string]any {
	m := map[string]any{"action": s.action, "resource": s.resource.body(), "context": s.context()}
	if s.token != "" {
		m["token"] = s.token
	} else {
		m["claims"] = s.claims(iss)
	}
	return m
}

// opaInput is the same request as OPA's input; the wrapper module computes
// subject.authn and now from it exactly as stepgate does (see opa.go).
func (s spec) opaInput(iss string) map[string]any {
	subject := map[string]any{"type": "user"}
	in := map[string]any{"subject": subject, "action": map[string]any{"name": s.action},
		"resource": s.resource.body(), "context": s.context(),
		"client": map[string]any{"id": "dev"}}
	if s.token != "" {
		in["token"] = s.token
	} else {
		subject["claims"] = s.claims(iss)
		subject["id"] = s.sub
	}
	return in
}

// line renders a body as one line of the bodies file: the JSON split at the
// placeholders by \x01, which the Lua script joins with a counter.
func line(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("render request body: %w", err)
	}
	return strings.ReplaceAll(string(b), placeholder, "\x01"), nil
}
