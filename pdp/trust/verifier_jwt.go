package trust

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strings"
	"time"
)

// verifierSigningAlgs returns the JOSE algorithms a user token may be signed
// with: asymmetric only, so that nobody but the IdP can mint a token.
func verifierSigningAlgs() []string {
	return []string{
		"RS256", "RS384", "RS512",
		"PS256", "PS384", "PS512",
		"ES256", "ES384", "ES512",
		"EdDSA",
	}
}

// unverifiedJWT is what Verify learns from a token before its signature is
// checked. Nothing in it may be trusted until go-oidc has verified the
// signature over exactly these bytes.
type unverifiedJWT struct {
	alg    string
	kid    string
	typ    string
	claims map[string]any
}

type jwtHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
}

// parseUnverifiedJWT splits a compact JWS, rejects algorithms that are not
// asymmetric, and decodes the payload with UseNumber so that numbers stay
// exact. Logout and security event tokens are refused: they are not user
// tokens. It never panics on hostile input.
func parseUnverifiedJWT(raw string) (*unverifiedJWT, error) {
	h, claims, err := decodeJWS(raw, func(typ string) error {
		if isEventTokenType(typ) {
			return tokenErr(TokenMalformed, "a "+quoteClaim(typ)+" token is a logout or security event token, not a user token")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &unverifiedJWT{alg: h.Alg, kid: h.Kid, typ: h.Typ, claims: claims}, nil
}

// checkIDTokenType refuses a token typed as anything but an ID token: an
// RFC 9068 access token (at+jwt) carries the same iss, sub and aud an ID
// token does, and must not prove a login. ID tokens are untyped or "JWT"
// (RFC 7519 §5.1 recommends upper case; media types ignore case).
func checkIDTokenType(typ string) error {
	switch strings.ToLower(typ) {
	case "", "jwt", "application/jwt":
		return nil
	}
	return tokenErr(TokenMalformed, "a token typed "+quoteClaim(typ)+" is not an ID token")
}

// decodeJWS is the shared, untrusting decoder of every JWT stepgate reads:
// it splits a compact JWS, checks the alg is asymmetric, lets checkTyp
// refuse a token typed as another kind, and decodes the payload with
// UseNumber and the registered claims' types checked.
func decodeJWS(raw string, checkTyp func(typ string) error) (jwtHeader, map[string]any, error) {
	var h jwtHeader
	if raw == "" {
		return h, nil, tokenErr(TokenMalformed, "the token is empty")
	}
	switch strings.Count(raw, ".") {
	case 2:
	case 4:
		return h, nil, tokenErr(TokenMalformed, "encrypted tokens (JWE) are not supported")
	default:
		return h, nil, tokenErr(TokenMalformed, "not a compact JWS (want three dot-separated parts)")
	}
	headerPart, rest, _ := strings.Cut(raw, ".")
	payloadPart, sigPart, _ := strings.Cut(rest, ".")

	headerJSON, err := base64.RawURLEncoding.DecodeString(headerPart)
	if err != nil {
		return h, nil, &TokenError{Code: TokenMalformed, Detail: "the header is not base64url", Err: err}
	}
	if err := json.Unmarshal(headerJSON, &h); err != nil {
		return h, nil, &TokenError{Code: TokenMalformed, Detail: "the header is not a JSON object with string alg, kid and typ", Err: err}
	}
	if err := checkAlg(h.Alg); err != nil {
		return h, nil, err
	}
	if err := checkTyp(h.Typ); err != nil {
		return h, nil, err
	}
	if sigPart == "" {
		return h, nil, tokenErr(TokenMalformed, "the signature is missing")
	}

	payload, err := base64.RawURLEncoding.DecodeString(payloadPart)
	if err != nil {
		return h, nil, &TokenError{Code: TokenMalformed, Detail: "the payload is not base64url", Err: err}
	}
	claims, err := decodeClaims(payload)
	if err != nil {
		return h, nil, &TokenError{Code: TokenMalformed, Detail: "the payload is not a JSON object", Err: err}
	}
	if err := checkClaimTypes(claims); err != nil {
		return h, nil, err
	}
	return h, claims, nil
}

// checkAlg rejects everything but the asymmetric signature algorithms, with
// a detail that names the attack when there obviously is one.
func checkAlg(alg string) error {
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA":
		return nil
	}
	switch {
	case alg == "":
		return tokenErr(TokenUnsupportedAlg, "the header names no alg")
	case strings.EqualFold(alg, "none"):
		return tokenErr(TokenUnsupportedAlg, `alg "none" (an unsigned token) is never accepted`)
	case strings.HasPrefix(strings.ToUpper(alg), "HS"):
		return tokenErr(TokenUnsupportedAlg, "symmetric alg "+quoteClaim(alg)+
			" is not accepted: user tokens must carry an asymmetric signature by the issuer")
	default:
		return tokenErr(TokenUnsupportedAlg, "alg "+quoteClaim(alg)+" is not accepted; want one of "+
			strings.Join(verifierSigningAlgs(), ", "))
	}
}

// isEventTokenType reports whether typ marks a back-channel logout token or
// another security event token, which is signed by the same keys but must
// never be accepted as a user's token.
func isEventTokenType(typ string) bool {
	t := strings.TrimPrefix(strings.ToLower(typ), "application/")
	return t == "logout+jwt" || t == "secevent+jwt"
}

// decodeClaims decodes a JSON object keeping numbers as json.Number, and
// rejects trailing data.
func decodeClaims(payload []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var claims map[string]any
	if err := dec.Decode(&claims); err != nil {
		return nil, err
	}
	if claims == nil {
		return nil, io.ErrUnexpectedEOF
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON object")
	}
	return claims, nil
}

// checkClaimTypes rejects registered claims of the wrong JSON type up
// front, so that every later reading of them is unambiguous (and go-oidc,
// which decodes them too, has nothing left to object to).
func checkClaimTypes(claims map[string]any) error {
	for _, name := range [...]string{"iss", "sub", "azp", "nonce", "at_hash", "acr"} {
		if _, _, err := claimString(claims, name); err != nil {
			return err
		}
	}
	for _, name := range [...]string{"exp", "nbf", "iat", "auth_time"} {
		if _, _, err := claimTime(claims, name); err != nil {
			return err
		}
	}
	_, err := claimAudience(claims)
	return err
}

// claimString returns a string claim; present reports whether it exists.
func claimString(claims map[string]any, name string) (s string, present bool, err error) {
	v, ok := claims[name]
	if !ok {
		return "", false, nil
	}
	s, ok = v.(string)
	if !ok {
		return "", true, tokenErr(TokenMalformed, "the "+name+" claim is not a string")
	}
	return s, true, nil
}

// claimTime returns a NumericDate claim (RFC 7519 §2); present reports
// whether it exists. Fractional seconds are truncated as go-oidc does.
func claimTime(claims map[string]any, name string) (t time.Time, present bool, err error) {
	v, ok := claims[name]
	if !ok {
		return time.Time{}, false, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, true, tokenErr(TokenMalformed, "the "+name+" claim is not a number")
	}
	// Beyond year 9999 time arithmetic could overflow and turn a far-future
	// date into a past one; no honest token carries such a date.
	const maxNumericDate = 253402300799 // 9999-12-31T23:59:59Z
	bad := tokenErr(TokenMalformed, "the "+name+" claim is not a usable NumericDate")
	if i, err := n.Int64(); err == nil {
		if i > maxNumericDate || i < -maxNumericDate {
			return time.Time{}, true, bad
		}
		return time.Unix(i, 0), true, nil
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || f > maxNumericDate || f < -maxNumericDate {
		return time.Time{}, true, bad
	}
	return time.Unix(int64(f), 0), true, nil
}

// claimAudience returns `aud` as a list, whether it is a string or an array.
func claimAudience(claims map[string]any) ([]string, error) {
	switch v := claims["aud"].(type) {
	case nil:
		return nil, nil
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, tokenErr(TokenMalformed, "the aud claim holds a value that is not a string")
			}
			out = append(out, s)
		}
		return out, nil
	default:
		return nil, tokenErr(TokenMalformed, "the aud claim is neither a string nor an array of strings")
	}
}
