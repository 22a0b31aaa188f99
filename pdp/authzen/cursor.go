package authzen

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"

	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/policy"
)

// maxCursorLen bounds a page token before it is decoded.
const maxCursorLen = 2048

// cursor is the content of a search page token: the key of the last result
// returned and a fingerprint of the request it belongs to. Paging by key,
// not by offset, keeps pages consistent when entities come and go between
// requests. The token is not secret: forging one only skips results of a
// search the caller may run anyway.
type cursor struct {
	After string `json:"a"`
	Query string `json:"q"`
}

func encodeCursor(after, fingerprint string) string {
	b, _ := json.Marshal(cursor{After: after, Query: fingerprint})
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor returns the key to continue after; "" for no token.
func decodeCursor(token, fingerprint string) (string, error) {
	if token == "" {
		return "", nil
	}
	if len(token) > maxCursorLen {
		return "", clientauth.Invalidf("page.token is not a token this server issued")
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", clientauth.Invalidf("page.token is not a token this server issued")
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || c.After == "" {
		return "", clientauth.Invalidf("page.token is not a token this server issued")
	}
	if c.Query != fingerprint {
		return "", clientauth.Invalidf("page.token belongs to a different search request")
	}
	return c.After, nil
}

// searchFingerprint identifies a search request apart from its page: the
// kind, the entities (the searched one by type only) and the context.
func searchFingerprint(kind SearchKind, in *policy.Input) string {
	fp := struct {
		Kind     SearchKind      `json:"k"`
		Subject  policy.Subject  `json:"s"`
		Action   policy.Action   `json:"a"`
		Resource policy.Resource `json:"r"`
		Context  map[string]any  `json:"c"`
	}{Kind: kind, Subject: in.Subject, Action: in.Action, Resource: in.Resource, Context: in.Context}
	switch kind {
	case SearchSubject:
		fp.Subject = policy.Subject{Type: in.Subject.Type}
	case SearchResource:
		fp.Resource = policy.Resource{Type: in.Resource.Type}
	case SearchAction:
		fp.Action = policy.Action{}
	}
	b, err := json.Marshal(fp)
	if err != nil {
		// Decoded JSON always marshals; an unmarshalable input gets a
		// fingerprint no token matches.
		return "unhashable"
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}
