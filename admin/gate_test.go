package admin_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/policy"
)

// fixedDecider answers every request with d, or fails with err.
type fixedDecider struct {
	d   pdp.Decision
	err error
}

func (f fixedDecider) Decide(context.Context, clientauth.Client, *pdp.Request) (*pdp.Decision, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &f.d, nil
}

// TestCheckRollback: the active policy decides a rollback only when it can
// be met; otherwise the built-in rule allows it after a fresh sign-in.
func TestCheckRollback(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	maxAge := int64(60)
	tests := []struct {
		name                        string
		decider                     fixedDecider
		signedIn                    time.Duration
		allowed, stepUp, breakGlass bool
		freshLogin                  bool
	}{
		{"policy allows", fixedDecider{d: pdp.Decision{Outcome: policy.Allow}}, time.Hour, true, false, false, false},
		{"policy step-up, stale sign-in: sign in again", fixedDecider{d: pdp.Decision{Outcome: policy.StepUp,
			Requirements: &policy.Requirements{MaxAge: &maxAge}}}, 10 * time.Minute, false, true, false, false},
		{"policy step-up a fresh sign-in did not meet", fixedDecider{d: pdp.Decision{Outcome: policy.StepUp,
			Requirements: &policy.Requirements{AMRAny: []string{"hwk"}}}}, time.Minute, true, false, true, false},
		{"policy denies, fresh sign-in", fixedDecider{d: pdp.Decision{Outcome: policy.Deny, Reasons: []string{"unknown action"}}}, time.Minute, true, false, true, false},
		{"policy denies, stale sign-in", fixedDecider{d: pdp.Decision{Outcome: policy.Deny}}, time.Hour, false, true, true, true},
		{"policy asks for CIBA", fixedDecider{d: pdp.Decision{Outcome: policy.CIBA}}, 30 * time.Second, true, false, true, false},
		{"decision fails, fresh sign-in", fixedDecider{err: errors.New("store down")}, time.Minute, true, false, true, false},
		{"decision fails, stale sign-in", fixedDecider{err: errors.New("store down")}, 3 * time.Minute, false, true, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := &admin.Gate{Decider: tc.decider}
			v := g.CheckRollback(context.Background(), &admin.Session{User: "admin", AuthTime: now.Add(-tc.signedIn)}, now)
			if v.Allowed != tc.allowed || v.StepUp != tc.stepUp || v.BreakGlass != tc.breakGlass {
				t.Errorf("verdict allowed=%v stepUp=%v breakGlass=%v, want %v %v %v", v.Allowed, v.StepUp, v.BreakGlass, tc.allowed, tc.stepUp, tc.breakGlass)
			}
			if v.Requirements.NeedsFreshLogin() != tc.freshLogin {
				t.Errorf("requirements %+v, fresh login wanted: %v", v.Requirements, tc.freshLogin)
			}
			if v.BreakGlass && len(v.Reasons) == 0 {
				t.Error("a break-glass verdict without the active policy's reasons")
			}
		})
	}
}
