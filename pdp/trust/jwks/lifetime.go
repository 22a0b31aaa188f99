package jwks

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// lifetime is how long a key set fetched with response header h may be
// used before it is fetched again: its Cache-Control max-age less its Age,
// within [lo, hi]. Without a usable max-age it is hi: providers that say
// nothing rotate slowly, and hi is what bounds the trust in a removed key.
// no-store and no-cache ask for every use to be revalidated, which would
// make every token a request to the provider: they give lo.
func lifetime(h http.Header, lo, hi time.Duration) time.Duration {
	maxAge, ok := cacheControlMaxAge(h.Values("Cache-Control"))
	if !ok {
		return hi
	}
	if age, err := strconv.ParseInt(strings.TrimSpace(h.Get("Age")), 10, 64); err == nil && age > 0 {
		maxAge = max(maxAge-age, 0)
	}
	// Compare in seconds first: a huge max-age must not overflow Duration.
	if maxAge >= int64(hi/time.Second) {
		return hi
	}
	return min(max(time.Duration(maxAge)*time.Second, lo), hi)
}

// cacheControlMaxAge reads the max-age directive (RFC 9111 §5.2.2.1) of
// the Cache-Control field lines; no-store and no-cache count as max-age 0.
// ok is false when there is neither.
func cacheControlMaxAge(lines []string) (seconds int64, ok bool) {
	for _, line := range lines {
		for d := range strings.SplitSeq(line, ",") {
			name, value, _ := strings.Cut(strings.TrimSpace(d), "=")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "no-store", "no-cache":
				return 0, true
			case "max-age":
				n, err := strconv.ParseInt(strings.Trim(strings.TrimSpace(value), `"`), 10, 64)
				if errors.Is(err, strconv.ErrRange) && n > 0 {
					err = nil // beyond int64: as long as can be
				}
				if err != nil || n < 0 {
					continue // an invalid max-age is ignored, as if absent
				}
				seconds, ok = n, true
			}
		}
	}
	return seconds, ok
}
