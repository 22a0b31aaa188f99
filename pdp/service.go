package pdp

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/stepgate/stepgate/pdp/ciba"
	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/flow"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/session"
	"github.com/stepgate/stepgate/pdp/stepup"
	"github.com/stepgate/stepgate/pdp/trust"
)

// TokenVerifier verifies user tokens and knows the configured issuers.
// *Verifier implements it.
type TokenVerifier interface {
	Verify(ctx context.Context, raw string) (*trust.Token, error)
	VerifyIDToken(ctx context.Context, raw, issuer, clientID string) (*trust.Token, error)
	Endpoints(ctx context.Context, issuer string) (trust.Endpoints, error)
	Issuer(iss string) (trust.IssuerConfig, bool)
	Issuers() []trust.IssuerConfig
}

// Observer receives measurements for metrics. All methods must be cheap and
// safe for concurrent use.
type Observer interface {
	ObserveDecision(api string, outcome policy.Outcome, elapsed time.Duration)
	ObserveTokenRejected(code string)
	ObservePolicyError()
	// ObservePolicyTimeout follows ObservePolicyError when the evaluation
	// failed because it ran out of time.
	ObservePolicyTimeout()
}

// ServiceConfig wires a Service. Engine, Verifier and Transactions are
// required.
type ServiceConfig struct {
	Engine       *policy.Engine
	Verifier     TokenVerifier
	Transactions stepup.TransactionStore
	// Audit records every decision; nil records nothing (tests, dry runs).
	Audit AuditSink
	// Observer gets metrics; nil observes nothing.
	Observer Observer
	// StepUpTTL is how long a step-up transaction stays usable; default 10m.
	StepUpTTL time.Duration
	// CIBARequestedExpiry is requested_expiry in seconds; default 300.
	CIBARequestedExpiry int
	// AuthTimeSkew is how much earlier than the step-up request a returned
	// auth_time may be (clock differences with the IdP); default 5s.
	AuthTimeSkew time.Duration
	// RedactClaims are removed from the audited input, e.g. "email".
	RedactClaims []string
	// CIBAOffers, when set, keeps the backchannel request of every `ciba`
	// decision for an issuer with a CIBA client, so that POST /v1/ciba can
	// run it; the answer then carries ciba.id and ciba.status_url.
	CIBAOffers ciba.OfferStore
	// Elevations, when set, enables "MFA once per session": a verified
	// step-up elevates the session (VerifyStepUpSession) and later
	// decisions for it see the step-up's authentication.
	Elevations session.ElevationStore
	// Enrollment, when set, fills input.subject.authn.ciba_capable for
	// users of issuers with a ciba.enrollment lookup, on decisions whose
	// answer depends on it (see evaluate).
	Enrollment CIBAEnrollment
	// Logouts, when set, answers step_up (a fresh login) for a token of a
	// session that a back-channel logout or a client's revocation ended.
	Logouts *session.Logouts
	// Flows audits step-up verifications and session elevations; nil
	// records nothing.
	Flows flow.Auditor
	// Now is the clock; default time.Now. Callers can never supply `now`.
	Now    func() time.Time
	Logger *slog.Logger
}

// Service answers decision requests. It is safe for concurrent use.
type Service struct {
	cfg    ServiceConfig
	log    *slog.Logger
	stepUp *stepup.Service
}

// NewService validates cfg and returns a Service.
func NewService(cfg ServiceConfig) (*Service, error) {
	switch {
	case cfg.Engine == nil:
		return nil, errors.New("pdp: service config: Engine is required")
	case cfg.Verifier == nil:
		return nil, errors.New("pdp: service config: Verifier is required")
	case cfg.Transactions == nil:
		return nil, errors.New("pdp: service config: Transactions is required")
	case cfg.StepUpTTL < 0 || cfg.CIBARequestedExpiry < 0 || cfg.AuthTimeSkew < 0:
		return nil, errors.New("pdp: service config: durations must not be negative")
	}
	cfg.StepUpTTL = cmp.Or(cfg.StepUpTTL, 10*time.Minute)
	cfg.CIBARequestedExpiry = cmp.Or(cfg.CIBARequestedExpiry, 300)
	cfg.AuthTimeSkew = cmp.Or(cfg.AuthTimeSkew, 5*time.Second)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	su, err := stepup.New(stepup.Config{Verifier: cfg.Verifier, Transactions: cfg.Transactions, Flows: cfg.Flows,
		TTL: cfg.StepUpTTL, Skew: cfg.AuthTimeSkew, Now: cfg.Now, Logger: cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("pdp: service config: %w", err)
	}
	return &Service{cfg: cfg, log: cfg.Logger, stepUp: su}, nil
}

// VerifyStepUp checks the ID token a user came back with against the
// step-up transaction (see stepup.Service.Verify) and records the attempt.
func (s *Service) VerifyStepUp(ctx context.Context, c clientauth.Client, transactionID, idToken string) (*stepup.Result, error) {
	return s.stepUp.Verify(ctx, c, transactionID, idToken)
}

func (s *Service) now() time.Time { return s.cfg.Now() }

// Engine returns the engine the service evaluates with.
func (s *Service) Engine() *policy.Engine { return s.cfg.Engine }

// call is one decision in progress.
type call struct {
	api      string
	client   clientauth.Client
	token    string // verified here; never audited
	input    *policy.Input
	returnTo string
	session  string // app-supplied session id (native session_id)
	start    time.Time
}

// Decide answers a native decision request. It returns an error only for a
// request that is invalid (ErrInvalidRequest) or not permitted
// (ErrForbidden); every other failure is a deny Decision.
func (s *Service) Decide(ctx context.Context, c clientauth.Client, req *Request) (*Decision, error) {
	ds, err := s.DecideBatch(ctx, c, []*Request{req})
	if err != nil {
		return nil, err
	}
	return ds[0], nil
}

// DecideBatch answers several requests in order. All are validated first, so
// one bad request rejects the batch before anything is decided or recorded.
func (s *Service) DecideBatch(ctx context.Context, c clientauth.Client, reqs []*Request) ([]*Decision, error) {
	for i, r := range reqs {
		if err := r.Validate(c); err != nil {
			if len(reqs) == 1 {
				return nil, err
			}
			if errors.Is(err, clientauth.ErrInvalidRequest) {
				return nil, clientauth.Invalidf("requests[%d]: %s", i, strings.TrimPrefix(err.Error(), clientauth.ErrInvalidRequest.Error()+": "))
			}
			return nil, fmt.Errorf("requests[%d]: %w", i, err)
		}
	}
	calls := make([]call, len(reqs))
	for i, r := range reqs {
		calls[i] = call{api: "native", client: c, token: r.Token, returnTo: r.ReturnTo, session: r.SessionID, start: s.now(), input: &policy.Input{
			Subject:  policy.Subject{Type: "user", Claims: r.Claims},
			Action:   policy.Action{Name: r.Action},
			Resource: r.Resource,
			Context:  r.Context,
		}}
	}
	return s.run(ctx, calls), nil
}

// Evaluate answers an AuthZEN evaluation. A user token may travel in
// subject.properties.token; it is verified like a native token and removed
// from the input before the policy or the audit trail sees it.
func (s *Service) Evaluate(ctx context.Context, c clientauth.Client, in *policy.Input) *Decision {
	return s.EvaluateBatch(ctx, c, []*policy.Input{in})[0]
}

// EvaluateBatch is Evaluate for several inputs, recorded together.
func (s *Service) EvaluateBatch(ctx context.Context, c clientauth.Client, ins []*policy.Input) []*Decision {
	calls := make([]call, len(ins))
	for i, in := range ins {
		cl := call{api: "authzen", client: c, input: in, start: s.now()}
		if tok, ok := in.Subject.Properties["token"].(string); ok {
			cl.token = tok
			props := make(map[string]any, len(in.Subject.Properties)-1)
			for k, v := range in.Subject.Properties {
				if k != "token" {
					props[k] = v
				}
			}
			in.Subject.Properties = props
		}
		calls[i] = cl
	}
	return s.run(ctx, calls)
}

// run decides every call, then records them all in one audit write.
func (s *Service) run(ctx context.Context, calls []call) []*Decision {
	release := func() {}
	if a, ok := s.cfg.Audit.(AuditAnnouncer); ok {
		release = a.Announce()
	}
	defer release()
	out := make([]*Decision, len(calls))
	events := make([]AuditEvent, 0, len(calls))
	for i := range calls {
		d, ev := s.decide(ctx, &calls[i])
		out[i] = d
		events = append(events, ev)
	}
	release()
	if s.cfg.Audit != nil {
		if err := s.cfg.Audit.Record(ctx, events); err != nil {
			s.log.ErrorContext(ctx, "audit write failed; failing closed", "err", err)
			for i, d := range out {
				out[i] = &Decision{ID: d.ID, Outcome: policy.Deny, PolicyRevision: d.PolicyRevision,
					Reasons: []string{ErrAuditUnavailable.Error() + ": the decision could not be recorded"}}
			}
		}
	}
	for i, d := range out {
		if s.cfg.Observer != nil {
			s.cfg.Observer.ObserveDecision(calls[i].api, d.Outcome, s.now().Sub(calls[i].start))
		}
	}
	return out
}

func newDecisionID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}
