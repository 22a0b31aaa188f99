package stepup

import (
	"crypto/rand"
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
