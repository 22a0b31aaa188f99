package admin

import (
	"context"
	"fmt"
	"strings"
	"time"

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
	// BreakGlass means the active policy could not be met (it failed,
	// refused, or asked for more than a fresh sign-in gives) and the
	// built-in rollback rule decided instead; Reasons are the policy's.
	BreakGlass bool
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

// BreakGlassMaxAge is how recent a sign-in must be for the built-in
// rollback rule: the same window in which the admin UI treats a repeated
// step-up as "this sign-in cannot meet the policy".
const BreakGlassMaxAge = 2 * time.Minute

// CheckRollback decides whether a session may roll back to the previously
// active revision. A policy that errors on, refuses or cannot be met for
// the admin gate's own action must not keep the admin UI from undoing its
// activation, so the policy being rolled back only gets to ask for more
// when it can be satisfied:
//
//   - the active policy allows: go ahead;
//   - it asks for a step-up and the sign-in is older than
//     BreakGlassMaxAge: sign in again first, then ask anew;
//   - otherwise (an error, deny or CIBA, or a step-up a fresh sign-in did
//     not meet) the built-in rule decides: allowed with a sign-in within
//     BreakGlassMaxAge (the route already demands the admin role), else a
//     fresh login first. The verdict is marked BreakGlass, and the caller
//     records it with the rollback.
func (g *Gate) CheckRollback(ctx context.Context, s *Session, now time.Time) GateVerdict {
	v, err := g.Check(ctx, s, ActionPolicyActivate)
	fresh := now.Sub(s.AuthTime) <= BreakGlassMaxAge
	switch {
	case err == nil && v.Allowed:
		return v
	case err == nil && v.StepUp && !fresh:
		return v
	}
	bg := GateVerdict{BreakGlass: true, DecisionID: v.DecisionID, Reasons: v.Reasons}
	if err != nil {
		bg.Reasons = []string{"the active policy failed: " + err.Error()}
	}
	if len(bg.Reasons) == 0 {
		bg.Reasons = []string{"the active policy gave no usable answer"}
	}
	if !fresh {
		zero := int64(0)
		bg.StepUp = true
		bg.Requirements = policy.Requirements{MaxAge: &zero, FreshLogin: true}
		return bg
	}
	bg.Allowed = true
	return bg
}

// Describe renders the verdict's reasons for a page.
func (v GateVerdict) Describe() string { return strings.Join(v.Reasons, "; ") }
