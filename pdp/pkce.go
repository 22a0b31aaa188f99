package pdp

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
)

// randomToken returns n random bytes, base64url encoded without padding.
// 32 bytes give 256 bits: well above the 128 bits state and nonce need.
func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random bytes: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// newPKCE returns an RFC 7636 verifier (43 characters of the unreserved
// alphabet) and its S256 challenge.
func newPKCE() (verifier, challenge string, err error) {
	verifier, err = randomToken(32)
	if err != nil {
		return "", "", err
	}
	return verifier, S256Challenge(verifier), nil
}

// S256Challenge is base64url(SHA-256(verifier)) without padding.
func S256Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
