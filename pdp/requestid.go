package pdp

import "context"

type requestIDKey struct{}

// WithRequestID returns ctx carrying the request id, so that decisions, audit
// records and log lines name the HTTP request they belong to.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestIDFrom returns the request id carried by ctx, or "".
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
