package jwks

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// maxBodyBytes caps a key set document.
const maxBodyBytes = 1 << 20

// signingAlgs are the algorithms a key of the set may verify: asymmetric
// only. The caller's verifier narrows them further.
var signingAlgs = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA,
}

// keySnapshot is one fetched key set; immutable once published.
type keySnapshot struct {
	list []jose.JSONWebKey
	// ids identify each key by kid and thumbprint, to tell which keys a
	// later set dropped or replaced.
	ids                map[string]string // id → kid
	refreshAt, expires time.Time
	generation         uint64
}

func newSnapshot(list []jose.JSONWebKey, now time.Time, life time.Duration) *keySnapshot {
	k := &keySnapshot{list: list, ids: make(map[string]string, len(list)),
		refreshAt: now.Add(life * 3 / 4), expires: now.Add(life)}
	for _, key := range list {
		k.ids[keyID(key)] = key.KeyID
	}
	return k
}

// keyID is a key's kid with its RFC 7638 thumbprint: the same kid with
// other key material is another key.
func keyID(key jose.JSONWebKey) string {
	tp, err := key.Thumbprint(crypto.SHA256)
	if err != nil {
		// Only parsed public keys are kept, and all of them have one.
		return key.KeyID + "|" + err.Error()
	}
	return key.KeyID + "|" + base64.RawURLEncoding.EncodeToString(tp)
}

// missingFrom returns the kids of the keys of k that next does not hold.
func (k *keySnapshot) missingFrom(next *keySnapshot) []string {
	var gone []string
	for id, kid := range k.ids {
		if _, ok := next.ids[id]; !ok {
			gone = append(gone, kid)
		}
	}
	return gone
}

// verify tries the keys that kid selects (all of them without a kid).
func (k *keySnapshot) verify(jws *jose.JSONWebSignature, kid string) ([]byte, bool) {
	for i := range k.list {
		key := &k.list[i]
		if kid != "" && key.KeyID != kid {
			continue
		}
		if payload, err := jws.Verify(key); err == nil {
			return payload, true
		}
	}
	return nil, false
}

// fetch downloads and parses the key set, and returns the response header
// for its caching directives. Every error says "fetching keys".
func fetch(ctx context.Context, client *http.Client, url string) ([]jose.JSONWebKey, http.Header, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("fetching keys from %s: %w", url, fmt.Errorf(format, args...))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, fail("%w", err)
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	// Ask caches on the way for the provider's current set.
	req.Header.Set("Cache-Control", "no-cache")
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, fail("%w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))
	switch {
	case err != nil:
		return nil, nil, fail("reading the body: %w", err)
	case resp.StatusCode != http.StatusOK:
		return nil, nil, fail("the provider answered %s", resp.Status)
	case len(body) > maxBodyBytes:
		return nil, nil, fail("the key set exceeds %d bytes", maxBodyBytes)
	}
	list, err := parseKeys(body)
	if err != nil {
		return nil, nil, fail("%w", err)
	}
	return list, resp.Header, nil
}

// parseKeys reads a JWK Set (RFC 7517 §5), keeping the public signature
// keys stepgate can use. Keys of other types, curves or algorithms, and
// encryption keys, are skipped as §5 asks; private and symmetric members
// never become verification keys. A document without a keys array is an
// error, so that a broken response is never mistaken for an empty set.
func parseKeys(body []byte) ([]jose.JSONWebKey, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("decoding the key set: %w", err)
	}
	if doc.Keys == nil {
		return nil, errors.New("the document has no keys array")
	}
	list := make([]jose.JSONWebKey, 0, len(doc.Keys))
	for _, raw := range doc.Keys {
		var meta struct {
			Alg string `json:"alg"`
			Use string `json:"use"`
		}
		if err := json.Unmarshal(raw, &meta); err != nil {
			return nil, fmt.Errorf("decoding a key: %w", err)
		}
		if (meta.Use != "" && meta.Use != "sig") || (meta.Alg != "" && !isSigningAlg(meta.Alg)) {
			continue
		}
		var key jose.JSONWebKey
		if err := key.UnmarshalJSON(raw); err != nil {
			continue // an unsupported or invalid key does not spoil the others
		}
		if _, symmetric := key.Key.([]byte); symmetric || !key.Valid() {
			continue
		}
		if !key.IsPublic() {
			key = key.Public()
		}
		list = append(list, key)
	}
	return list, nil
}

func isSigningAlg(alg string) bool {
	return slices.Contains(signingAlgs, jose.SignatureAlgorithm(alg))
}
