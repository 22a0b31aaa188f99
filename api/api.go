package api

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"sync"
)

//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the OpenAPI document as committed. Callers must not
// modify it.
func OpenAPI() []byte { return openAPI }

// ETag is the document's strong entity tag (a quoted SHA-256 prefix), so
// that a client revalidates instead of downloading it again.
var ETag = sync.OnceValue(func() string {
	sum := sha256.Sum256(openAPI)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
})
