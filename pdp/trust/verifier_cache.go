package trust

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// tokenCacheKey is the SHA-256 of a raw token: the cache never holds a
// token itself, only proof that it was seen.
type tokenCacheKey [sha256.Size]byte

// tokenCache remembers verified tokens so that a token presented again skips
// parsing and signature checks. It is bounded (LRU) and never answers for a
// token past its exp, nor for one whose issuer's key set dropped a key since
// the token was verified (the key that signed it may be gone): such an
// entry is dropped on lookup, and the caller then verifies the token in
// full, leeway included, against the keys in force.
type tokenCache struct {
	lru *lru.Cache[tokenCacheKey, *Token]
}

func newTokenCache(size int) (*tokenCache, error) {
	l, err := lru.New[tokenCacheKey, *Token](size)
	if err != nil {
		return nil, fmt.Errorf("token cache of %d entries: %w", size, err)
	}
	return &tokenCache{lru: l}, nil
}

func cacheKeyOf(raw string) tokenCacheKey {
	return sha256.Sum256([]byte(raw))
}

// get returns the cached token for key if it has not expired at now and
// its issuer's keys are still of the generation that verified it. Reading
// the generation also refreshes the key set when it is due, so that tokens
// answered from here see key removals on the same schedule as the others.
func (c *tokenCache) get(ctx context.Context, key tokenCacheKey, now time.Time) (*Token, bool) {
	tok, ok := c.lru.Get(key)
	if !ok {
		return nil, false
	}
	if !now.Before(tok.Expiry) || tok.keys == nil || tok.keys.Generation(ctx) != tok.keyGeneration {
		c.lru.Remove(key)
		return nil, false
	}
	return tok, true
}

func (c *tokenCache) add(key tokenCacheKey, tok *Token) {
	c.lru.Add(key, tok)
}
