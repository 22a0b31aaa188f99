package forwardauth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// MinKeyBytes is the least length of a cookie key.
const MinKeyBytes = 32

// ErrBadCookie means a cookie was not sealed by one of the configured keys
// for its purpose (forged, foreign, truncated or from a retired key).
var ErrBadCookie = errors.New("the cookie was not sealed by this stepgate")

// sealer seals cookie values with AES-256-GCM: authenticated, so a cookie
// cannot be forged or altered, and confidential, so the PKCE verifier of a
// sign-in in flight is not readable from the cookie. The newest key seals;
// every key opens, so that a rotated key keeps existing cookies valid until
// it is removed.
type sealer struct {
	keys []sealKey
}

type sealKey struct {
	id   string
	aead cipher.AEAD
}

func newSealer(keys [][]byte) (*sealer, error) {
	if len(keys) == 0 {
		return nil, errors.New("at least one cookie key is required")
	}
	s := &sealer{}
	for i, k := range keys {
		if len(k) < MinKeyBytes {
			return nil, fmt.Errorf("cookie key %d is %d bytes; want at least %d", i, len(k), MinKeyBytes)
		}
		// Derived keys: the configured secret is never used directly, and
		// its id says nothing about it.
		enc := sha256.Sum256(append([]byte("stepgate forward-auth cookie v1\x00"), k...))
		id := sha256.Sum256(append([]byte("stepgate forward-auth key id\x00"), k...))
		block, err := aes.NewCipher(enc[:])
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		s.keys = append(s.keys, sealKey{id: hex.EncodeToString(id[:4]), aead: aead})
	}
	return s, nil
}

// seal returns "<key id>.<base64url(nonce|ciphertext)>" for v; purpose
// (the cookie's name) is authenticated, so one cookie cannot stand in for
// another.
func (s *sealer) seal(purpose string, v any) (string, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("seal %s: %w", purpose, err)
	}
	k := s.keys[0]
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plain)+k.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	sealed := k.aead.Seal(nonce, nonce, plain, []byte(purpose))
	return k.id + "." + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// open checks and decodes a value seal made for purpose into v.
func (s *sealer) open(purpose, value string, v any) error {
	id, enc, ok := strings.Cut(value, ".")
	if !ok {
		return ErrBadCookie
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return ErrBadCookie
	}
	for _, k := range s.keys {
		if k.id != id || len(raw) < k.aead.NonceSize() {
			continue
		}
		n := k.aead.NonceSize()
		plain, err := k.aead.Open(nil, raw[:n], raw[n:], []byte(purpose))
		if err != nil {
			return ErrBadCookie
		}
		if err := json.Unmarshal(plain, v); err != nil {
			return ErrBadCookie
		}
		return nil
	}
	return ErrBadCookie
}
