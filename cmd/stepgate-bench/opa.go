package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/trust"
)

// opaQueryPath is the wrapper's decision, queried through OPA's Data API.
const opaQueryPath = "/v1/data/bench/decision"

// wrapperRego makes OPA answer the same question stepgate answers. OPA has
// no notion of subject.authn or of a server clock in input.now, so instead
// of precomputing them in the client (which would hand OPA work stepgate
// does), this module computes them on the server, exactly as
// pdp.NormalizeAuthn does for the benchmark's inputs, and evaluates the
// unchanged policy (data.stepgate.decision of whichever bundle the run
// measures) with the enriched input. For the token
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

// opaLoggedConfig adds console decision logs, which OPA writes to its
// standard output (the target's log file): what a team with an audit duty
// runs when OPA itself must record every decision.
const opaLoggedConfig = opaConfig + `decision_logs:
  console: true
`

// writeBundle copies src into dir, without its Rego tests when noTests.
func writeBundle(dir string, src fs.FS, noTests bool) error {
	return fs.WalkDir(src, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || (noTests && policy.IsTestModule(path)) {
			return err
		}
		b, err := fs.ReadFile(src, path)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
}

// writeOPAConfigs writes OPA's two config files (plain and with console
// decision logs) into dir.
func writeOPAConfigs(dir string) (plain, logged string, err error) {
	plain, logged = filepath.Join(dir, "opa-config.yaml"), filepath.Join(dir, "opa-config-logged.yaml")
	for f, c := range map[string]string{plain: opaConfig, logged: opaLoggedConfig} {
		if err := os.WriteFile(f, []byte(c), 0o644); err != nil {
			return "", "", fmt.Errorf("write OPA config: %w", err)
		}
	}
	return plain, logged, nil
}

// writeOPABundle lays out a policy bundle (without its tests), the wrapper
// module and its data in dir/opa-bundle-<name>.
func writeOPABundle(dir, name string, src fs.FS, p *idp) (bundleDir string, err error) {
	bundleDir = filepath.Join(dir, "opa-bundle-"+name)
	if err := writeBundle(bundleDir, src, true); err != nil {
		return "", fmt.Errorf("write OPA bundle: %w", err)
	}
	data, err := json.Marshal(map[string]any{"jwks": string(p.jwks), "issuer": p.url, "audience": benchAudience,
		"mfa_acr": []string{trust.PAPEMultiFactor}})
	if err != nil {
		return "", fmt.Errorf("write OPA bundle: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(bundleDir, "bench"), 0o755); err != nil {
		return "", fmt.Errorf("write OPA bundle: %w", err)
	}
	for name, content := range map[string][]byte{"bench/bench.rego": []byte(wrapperRego), "bench/data.json": data} {
		if err := os.WriteFile(filepath.Join(bundleDir, name), content, 0o644); err != nil {
			return "", fmt.Errorf("write OPA bundle: %w", err)
		}
	}
	return bundleDir, nil
}
