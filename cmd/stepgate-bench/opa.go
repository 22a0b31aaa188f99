package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/trust"
	"github.com/stepgate/stepgate/policies"
)

// opaQueryPath is the wrapper's decision, queried through OPA's Data API.
const opaQueryPath = "/v1/data/bench/decision"

// wrapperRego makes OPA answer the same question stepgate answers. OPA has
// no notion of subject.authn or of a server clock in input.now, so instead
// of precomputing them in the client (which would hand OPA work stepgate
// does), this module computes them on the server, exactly as
// pdp.NormalizeAuthn does for the benchmark's inputs, and evaluates the
// unchanged default policy with the enriched input. For the token
// workloads it verifies the JWT with io.jwt.decode_verify against the same
// JWKS (OPA's io_jwt verification cache is on, as stepgate's token cache is).
const wrapperRego = `package bench

# now is the server clock in whole seconds, like stepgate's input.now.
now := floor(time.now_ns() / 1000000000)

claims := c if {
	not input.token
	c := input.subject.claims
} else := c if {
	[valid, _, c] := io.jwt.decode_verify(input.token, {
		"cert": data.bench.jwks,
		"iss": data.bench.issuer,
		"aud": data.bench.audience,
	})
	valid
}

methods := [m | some m in claims.amr; is_string(m); m != ""] if {
	is_array(claims.amr)
} else := [claims.amr] if {
	is_string(claims.amr)
	claims.amr != ""
} else := []

acr := a if {
	a := claims.acr
	is_string(a)
} else := ""

default mfa := false

mfa if "mfa" in methods

mfa if {
	acr != ""
	acr in data.bench.mfa_acr
}

_acr_part := {"acr": acr} if acr != "" else := {}

_time_part := {"auth_time": t, "age": now - t} if {
	t := claims.auth_time
	is_number(t)
} else := {}

authn := object.union_n([{"methods": methods, "mfa": mfa}, _acr_part, _time_part])

enriched := object.union(object.remove(input, ["token"]), {
	"now": now,
	"subject": {"type": "user", "id": object.get(claims, "sub", ""), "claims": claims, "authn": authn},
})

decision := d if {
	_ = claims
	d := data.stepgate.decision with input as enriched
} else := {"decision": "deny", "reasons": ["the user's token is invalid"]}
`

const opaConfig = `caching:
  inter_query_builtin_value_cache:
    named:
      io_jwt:
        max_num_entries: 10000
`

// writeOPABundle lays out the default bundle (without its tests), the
// wrapper module and its data in dir, and OPA's config file beside it.
func writeOPABundle(dir string, p *idp) (bundleDir, configFile string, err error) {
	bundleDir = filepath.Join(dir, "opa-bundle")
	err = fs.WalkDir(policies.Bundle(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || policy.IsTestModule(path) {
			return err
		}
		b, err := fs.ReadFile(policies.Bundle(), path)
		if err != nil {
			return err
		}
		dst := filepath.Join(bundleDir, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		return "", "", fmt.Errorf("write OPA bundle: %w", err)
	}
	data, err := json.Marshal(map[string]any{"jwks": string(p.jwks), "issuer": p.url, "audience": benchAudience,
		"mfa_acr": []string{trust.PAPEMultiFactor}})
	if err != nil {
		return "", "", fmt.Errorf("write OPA bundle: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(bundleDir, "bench"), 0o755); err != nil {
		return "", "", fmt.Errorf("write OPA bundle: %w", err)
	}
	for name, content := range map[string][]byte{"bench/bench.rego": []byte(wrapperRego), "bench/data.json": data} {
		if err := os.WriteFile(filepath.Join(bundleDir, name), content, 0o644); err != nil {
			return "", "", fmt.Errorf("write OPA bundle: %w", err)
		}
	}
	configFile = filepath.Join(dir, "opa-config.yaml")
	if err := os.WriteFile(configFile, []byte(opaConfig), 0o644); err != nil {
		return "", "", fmt.Errorf("write OPA config: %w", err)
	}
	return bundleDir, configFile, nil
}
