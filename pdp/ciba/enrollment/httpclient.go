package enrollment

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// maxBody bounds how much of a lookup response is read.
const maxBody = 1 << 20

// defaultRetryAfter is the pause after a 429 that says nothing about when
// to come back.
const defaultRetryAfter = 5 * time.Second

// rateLimited reads how long a 429 response asks to wait: Retry-After in
// seconds or as an HTTP date, else Auth0's X-RateLimit-Reset (Unix seconds),
// else defaultRetryAfter.
func rateLimited(op string, resp *http.Response, now time.Time) *RateLimitError {
	wait := defaultRetryAfter
	if v := resp.Header.Get("Retry-After"); v != "" {
		if s, err := strconv.ParseInt(v, 10, 64); err == nil && s >= 0 {
			wait = time.Duration(s) * time.Second
		} else if t, err := http.ParseTime(v); err == nil {
			wait = max(t.Sub(now), 0)
		}
	} else if v := resp.Header.Get("X-RateLimit-Reset"); v != "" {
		if s, err := strconv.ParseInt(v, 10, 64); err == nil {
			wait = max(time.Unix(s, 0).Sub(now), 0)
		}
	}
	return &RateLimitError{Op: op, RetryAfter: wait}
}

// statusError describes an unexpected HTTP answer, with the error code of
// an Auth0-style error body when there is one.
func statusError(op string, resp *http.Response) error {
	var body struct {
		Error     string `json:"error"`
		ErrorCode string `json:"errorCode"`
		Message   string `json:"message"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	_ = json.Unmarshal(b, &body)
	detail := body.ErrorCode
	if detail == "" {
		detail = body.Error
	}
	if detail != "" {
		return fmt.Errorf("%s: HTTP %d (%s)", op, resp.StatusCode, detail)
	}
	return fmt.Errorf("%s: HTTP %d", op, resp.StatusCode)
}

// decodeJSON reads a bounded JSON body into v.
func decodeJSON(op string, resp *http.Response, v any) error {
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(v); err != nil {
		return fmt.Errorf("%s: malformed response: %w", op, err)
	}
	return nil
}
