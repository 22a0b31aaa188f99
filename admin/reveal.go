package admin

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// ErrNothingToReveal means there is no secret waiting for this session
// under that name: never put, already shown, or expired.
var ErrNothingToReveal = errors.New("nothing to reveal")

// revealTTL is how long a secret waits for the page that shows it.
const revealTTL = 5 * time.Minute

// Reveals carries a secret (a new client key) from the POST that made it
// to the one GET that shows it, so that the key page can be reached by a
// redirect and a reload does not re-post the form (post/redirect/get).
//
// The secret waits server-side among the admin sessions, so it works
// across replicas, encrypted with a key derived from the session cookie,
// which the database never holds (it keeps only the cookie's hash): a
// copy of the database taken meanwhile does not yield the client key.
type Reveals struct {
	store SessionStore
	now   func() time.Time
}

// NewReveals returns Reveals keeping secrets in store.
func NewReveals(store SessionStore, now func() time.Time) *Reveals {
	if now == nil {
		now = time.Now
	}
	return &Reveals{store: store, now: now}
}

// Put keeps secret for the session whose cookie is sessionKey, under name.
func (r *Reveals) Put(ctx context.Context, sessionKey, name, secret string) error {
	id, aead, err := revealKeys(sessionKey, name)
	if err != nil {
		return err
	}
	expires := r.now().Add(revealTTL)
	head := binary.BigEndian.AppendUint64(nil, uint64(expires.UnixMicro()))
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	data := aead.Seal(append(head, nonce...), nonce, []byte(secret), head)
	if err := r.store.PutAdminSession(ctx, id, data, expires); err != nil {
		return fmt.Errorf("keep %s to show once: %w", name, err)
	}
	return nil
}

// Take returns the secret kept under name for this session and forgets
// it; ErrNothingToReveal when there is none (or it expired).
func (r *Reveals) Take(ctx context.Context, sessionKey, name string) (string, error) {
	id, aead, err := revealKeys(sessionKey, name)
	if err != nil {
		return "", err
	}
	data, err := r.store.GetAdminSession(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return "", ErrNothingToReveal
	}
	if err != nil {
		return "", fmt.Errorf("read %s to show: %w", name, err)
	}
	if err := r.store.DeleteAdminSession(ctx, id); err != nil {
		return "", fmt.Errorf("forget %s once shown: %w", name, err)
	}
	ns := aead.NonceSize()
	if len(data) < 8+ns {
		return "", ErrNothingToReveal
	}
	head, nonce, sealed := data[:8], data[8:8+ns], data[8+ns:]
	if !r.now().Before(time.UnixMicro(int64(binary.BigEndian.Uint64(head)))) {
		return "", ErrNothingToReveal
	}
	secret, err := aead.Open(nil, nonce, sealed, head)
	if err != nil {
		return "", ErrNothingToReveal
	}
	return string(secret), nil
}

// revealKeys derives the storage id and the cipher of one secret from the
// session cookie. The id is a hash in a different domain from the
// session's own record (hashKey), so the two never collide.
func revealKeys(sessionKey, name string) (string, cipher.AEAD, error) {
	if sessionKey == "" {
		return "", nil, errors.New("reveal: no session")
	}
	sum := sha256.Sum256([]byte("stepgate reveal id\x00" + name + "\x00" + sessionKey))
	key, err := hkdf.Key(sha256.New, []byte(sessionKey), nil, "stepgate reveal key\x00"+name, 32)
	if err != nil {
		return "", nil, fmt.Errorf("reveal: derive key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", nil, fmt.Errorf("reveal: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return "", nil, fmt.Errorf("reveal: %w", err)
	}
	return "reveal:" + hex.EncodeToString(sum[:]), aead, nil
}
