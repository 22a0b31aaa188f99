package trust

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/stepgate/stepgate/pdp/trust/jwks"
)

const (
	// discoveryRetryInterval is how long a failed discovery is remembered
	// before the next token for that issuer tries again.
	discoveryRetryInterval = 5 * time.Second
	// discoveryTimeout bounds one discovery even with an HTTP client that has
	// no timeout of its own.
	discoveryTimeout = 30 * time.Second
)

// Endpoints are the endpoints an issuer's discovery document announces.
// Empty strings mean the IdP does not announce that endpoint.
type Endpoints struct {
	Authorization, Token, Backchannel, JWKS, EndSession string
}

// issuerRemote is the discovered state of one configured issuer. Discovery
// runs lazily, once; concurrent first callers wait for the same attempt, and
// a failed attempt is retried by a later call after discoveryRetryInterval.
type issuerRemote struct {
	cfg    IssuerConfig
	client *http.Client // for discovery and the JWKS
	now    func() time.Time
	log    *slog.Logger

	ready atomic.Pointer[discoveredIssuer]

	mu          sync.Mutex
	inflight    chan struct{} // closed when the running attempt has finished
	lastErr     error
	lastAttempt time.Time
}

// discoveredIssuer is what one successful discovery yields; immutable.
type discoveredIssuer struct {
	verifier  *oidc.IDTokenVerifier
	keys      *jwks.Set // the verifier's key set
	endpoints Endpoints
}

func newIssuerRemote(cfg IssuerConfig, client *http.Client, now func() time.Time, log *slog.Logger) *issuerRemote {
	return &issuerRemote{
		cfg:    cfg,
		client: wrapIdPClient(client),
		now:    now,
		log:    log.With("issuer", cfg.Issuer),
	}
}

// discovered returns the issuer's discovered state, discovering it first if
// needed. Errors wrap ErrDiscovery (or the caller's context error).
func (r *issuerRemote) discovered(ctx context.Context) (*discoveredIssuer, error) {
	if d := r.ready.Load(); d != nil {
		return d, nil
	}
	r.mu.Lock()
	if d := r.ready.Load(); d != nil {
		r.mu.Unlock()
		return d, nil
	}
	if r.inflight == nil {
		if r.lastErr != nil && r.now().Sub(r.lastAttempt) < discoveryRetryInterval {
			err := r.lastErr
			r.mu.Unlock()
			return nil, err
		}
		r.inflight = make(chan struct{})
		r.lastAttempt = r.now()
		// Detached from the caller: one impatient request must not fail the
		// attempt that every other waiter depends on.
		go r.discover(context.WithoutCancel(ctx), r.inflight)
	}
	done := r.inflight
	r.mu.Unlock()

	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: waiting for discovery of %s: %w", ErrDiscovery, r.cfg.Issuer, ctx.Err())
	case <-done:
	}
	if d := r.ready.Load(); d != nil {
		return d, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return nil, r.lastErr
}

// discover runs one discovery attempt and publishes its outcome.
func (r *issuerRemote) discover(ctx context.Context, done chan struct{}) {
	d, err := r.fetch(ctx)
	r.mu.Lock()
	if err != nil {
		r.lastErr = err
		r.log.WarnContext(ctx, "OIDC discovery failed; tokens of this issuer are rejected until it succeeds",
			"error", err, "retry_after", discoveryRetryInterval)
	} else {
		r.lastErr = nil
		r.ready.Store(d)
		r.log.InfoContext(ctx, "OIDC discovery succeeded", "jwks_uri", d.endpoints.JWKS)
	}
	r.inflight = nil
	r.mu.Unlock()
	close(done)
}

// fetch reads the discovery document and builds the go-oidc verifier. The
// JWKS itself is fetched by the jwks.Set on the first token, and refreshed
// on its schedule: go-oidc's RemoteKeySet would keep a removed key for as
// long as no unknown kid shows up.
func (r *issuerRemote) fetch(ctx context.Context) (*discoveredIssuer, error) {
	ctx, cancel := context.WithTimeout(ctx, discoveryTimeout)
	defer cancel()
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, r.client), r.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrDiscovery, r.cfg.Issuer, err)
	}
	var doc struct {
		Authorization string `json:"authorization_endpoint"`
		Token         string `json:"token_endpoint"`
		Backchannel   string `json:"backchannel_authentication_endpoint"`
		JWKS          string `json:"jwks_uri"`
		EndSession    string `json:"end_session_endpoint"`
	}
	if err := provider.Claims(&doc); err != nil {
		return nil, fmt.Errorf("%w: %s: decoding the discovery document: %w", ErrDiscovery, r.cfg.Issuer, err)
	}
	// The JWKS decides which signatures are trusted, so it gets the same
	// transport rules as the issuer itself.
	if err := checkIdPURL(doc.JWKS); err != nil {
		return nil, fmt.Errorf("%w: %s: jwks_uri: %w", ErrDiscovery, r.cfg.Issuer, err)
	}
	keys, err := jwks.New(jwks.Config{URL: doc.JWKS, Client: r.client, RefreshMin: r.cfg.JWKSRefreshMin,
		RefreshMax: r.cfg.JWKSRefreshMax, Now: r.now, Logger: r.log})
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrDiscovery, r.cfg.Issuer, err)
	}
	verifier := oidc.NewVerifier(r.cfg.Issuer, keys, &oidc.Config{
		SkipClientIDCheck:    true, // aud is checked by Verify/VerifyIDToken
		SkipExpiryCheck:      true, // exp/nbf/iat are checked with our leeway
		SupportedSigningAlgs: verifierSigningAlgs(),
		Now:                  r.now,
	})
	return &discoveredIssuer{
		verifier:  verifier,
		keys:      keys,
		endpoints: Endpoints(doc),
	}, nil
}

// Endpoints returns the endpoints discovered for a configured issuer,
// running discovery if it has not succeeded yet. The error wraps
// ErrUnknownIssuer or ErrDiscovery.
func (v *Verifier) Endpoints(ctx context.Context, issuer string) (Endpoints, error) {
	r, ok := v.byIssuer[issuer]
	if !ok {
		return Endpoints{}, fmt.Errorf("pdp: endpoints of %q: %w", issuer, ErrUnknownIssuer)
	}
	d, err := r.discovered(ctx)
	if err != nil {
		return Endpoints{}, fmt.Errorf("pdp: endpoints of %q: %w", issuer, err)
	}
	return d.endpoints, nil
}
