package admin

import (
	"context"
	"fmt"
	"strings"

	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/policy"
)

// Sensitive admin actions, decided by stepgate's own engine before they run.
// The active policy's actions table must define them (e.g. "mfa within 900s").
const (
	ActionPolicyActivate = "stepgate.admin.policy.activate"
	ActionClientKey      = "stepgate.admin.client.key"
)

// AdminClientID is the decision client id under which the admin UI asks the
// engine about sensitive actions; it shows up in the audit trail.
const AdminClientID = "stepgate-admin-ui"

// Decider answers decision requests; *pdp.Service implements it.
type Decider interface {
	Decide(ctx context.Context, c clientauth.Client, req *pdp.Request) (*pdp.Decision, error)
}

// GateVerdict is what the engine said about a sensitive admin action.
type GateVerdict struct {
	// Allowed means go ahead.
	Allowed bool
	// StepUp means the person must authenticate again first, meeting
	// Requirements; Reasons say why.
	StepUp       bool
	Requirements policy.Requirements
	Reasons      []string
	DecisionID   string
}

// Gate asks the engine whether a session may perform a sensitive action,
// so that the admin UI uses its own product: an admin whose sign-in is
// older than the policy allows is sent through step-up first. A nil Gate
// (no decision service wired) allows everything an admin role allows.
type Gate struct{ Decider Decider }

// Check decides action for the session's authentication facts.
func (g *Gate) Check(ctx context.Context, s *Session, action string) (GateVerdict, error) {
	if g == nil || g.Decider == nil {
		return GateVerdict{Allowed: true}, nil
	}
	claims := map[string]any{"sub": s.User, "auth_time": s.AuthTime.Unix()}
	if s.Issuer != "" {
		claims["iss"] = s.Issuer
	}
	if len(s.AMR) > 0 {
		amr := make([]any, len(s.AMR))
		for i, a := range s.AMR {
			amr[i] = a
		}
		claims["amr"] = amr
	}
	if s.ACR != "" {
		claims["acr"] = s.ACR
	}
	d, err := g.Decider.Decide(ctx, clientauth.Client{ID: AdminClientID, AssertClaims: true},
		&pdp.Request{Claims: claims, Action: action, Resource: policy.Resource{Type: "stepgate.admin"},
			Context: map[string]any{"role": string(s.Role), "method": s.Method}})
	if err != nil {
		return GateVerdict{}, fmt.Errorf("decide %s: %w", action, err)
	}
	v := GateVerdict{Reasons: d.Reasons, DecisionID: d.ID}
	switch d.Outcome {
	case policy.Allow:
		v.Allowed = true
	case policy.StepUp:
		v.StepUp = true
		if d.Requirements != nil {
			v.Requirements = *d.Requirements
		}
	default:
		if d.Outcome == policy.CIBA {
			v.Reasons = append(v.Reasons, "approval on a device (CIBA) is not available for admin actions")
		}
	}
	return v, nil
}

// Describe renders the verdict's reasons for a page.
func (v GateVerdict) Describe() string { return strings.Join(v.Reasons, "; ") }
