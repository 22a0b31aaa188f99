package ciba

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/stepgate/stepgate/pdp/ciba/backchannel"
	"github.com/stepgate/stepgate/pdp/flow"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/trust"
)

// Every transition of a CIBA request stepgate runs is one KindCIBA audit
// record linked to the decision (DecisionID) and the request (CIBAID):
//
//	started   Start: the IdP acknowledged the backchannel request
//	error     Start: the IdP refused it or could not be reached (Code: its error)
//	approved  settle: the approval's ID token verified (Proof: its acr/amr/auth_time)
//	error     settle: the approval's ID token failed verification (Code, reason)
//	denied, expired, error   handle: the IdP's answer to a poll (Code: its error)
//
// Exactly once: Start records only the call that started the offer
// (StartCIBAOffer lets one caller through); the poller reports a terminal
// answer only from the replica that stored it under its lease; Settle lets
// one caller through however many settle at once. Pending reports
// (acknowledged, slow_down) are no transitions and are not recorded.

// cibaStarted is the outcome of a start; the others are backchannel statuses.
const cibaStarted = "started"

// CIBA flow error codes stepgate sets itself, next to the IdP's OAuth codes.
const (
	// CodeUnavailable: the IdP (or its discovery) could not be reached, or
	// answered with a server error, when the request was sent.
	CodeUnavailable = "temporarily_unavailable"
	// CodeInvalidResponse: the IdP acknowledged with a response stepgate
	// cannot use (no auth_req_id, a bad expires_in, …).
	CodeInvalidResponse = "invalid_response"
	// CodeUnrecorded: the user approved, but the approval could not be
	// written to the audit trail, so it does not count.
	CodeUnrecorded = "audit_unavailable"
)

// handle acts on one report of the poller: approvals are verified and
// settled, denials, expiries and errors recorded.
func (r *Runner) handle(ctx context.Context, c backchannel.Change) {
	id, st := c.ID, c.State
	if st.Status == backchannel.StatusPending {
		return
	}
	o, err := r.cfg.Offers.GetCIBAOffer(ctx, id)
	if err != nil {
		r.log.ErrorContext(ctx, "ciba request without its offer", "id", id, "decision_id", st.DecisionID, "err", err)
		o = Offer{ID: id, DecisionID: st.DecisionID, Issuer: st.Issuer}
	}
	if st.Status == backchannel.StatusApproved {
		r.settle(ctx, o, st.IDToken)
		return
	}
	r.audit(ctx, o, string(st.Status), st.Code, st.Error, nil)
}

// settle verifies the ID token of an approval, stores the verified claims
// (or turns the request into an error) and records the outcome. Only the
// caller whose Settle went through records it: the poller's report and a
// status read may settle the same approval at once.
func (r *Runner) settle(ctx context.Context, o Offer, rawIDToken string) {
	claims, verr := r.verifyApproval(ctx, o, rawIDToken)
	var raw json.RawMessage
	if verr == nil {
		var err error
		if raw, err = json.Marshal(claims); err != nil {
			verr = fmt.Errorf("encode verified claims: %w", err)
		}
	}
	// The outcome is recorded by the one caller that settles, before the
	// settlement is stored: an approval whose record cannot be written
	// ends as an error, never as an approval nobody can audit.
	err := r.poller.SettleRecorded(ctx, o.ID, raw, verr, func(ctx context.Context, verr error) error {
		if verr != nil {
			return r.record(ctx, o, string(backchannel.StatusError), approvalErrorCode(verr), "id token verification failed: "+verr.Error(), nil)
		}
		return r.record(ctx, o, string(backchannel.StatusApproved), "", "approved on the user's device: "+o.Requirements.Describe()+" met", proofOf(claims))
	})
	switch {
	case errors.Is(err, backchannel.ErrSettled), errors.Is(err, backchannel.ErrNotApproved), errors.Is(err, backchannel.ErrLeaseLost):
		// settled, or being settled, by another caller, who records it
	case errors.Is(err, backchannel.ErrUnrecorded):
		r.log.ErrorContext(ctx, "ciba approval refused: it could not be recorded", "id", o.ID, "decision_id", o.DecisionID, "err", err)
		r.audit(ctx, o, string(backchannel.StatusError), CodeUnrecorded, "the approval could not be recorded in the audit trail", nil)
	case err != nil:
		r.log.WarnContext(ctx, "ciba approval could not be settled", "id", o.ID, "decision_id", o.DecisionID, "err", err)
	}
}

// approvalErrorCode is the stable code of a failed approval check: the
// proof check's own code, else invalid_token.
func approvalErrorCode(err error) string {
	if ve, ok := errors.AsType[*trust.VerifyError](err); ok && ve.Code != "" {
		return ve.Code
	}
	return trust.VerifyInvalidToken
}

// startErrorCode is the code of a backchannel request that could not be
// started: the IdP's OAuth error when it sent one.
func startErrorCode(err error) string {
	be, ok := errors.AsType[*backchannel.Error](err)
	switch {
	case errors.Is(err, backchannel.ErrInvalidRequest):
		return backchannel.CodeInvalidRequest
	case ok && be.Code != "":
		return be.Code
	case ok && be.StatusCode == http.StatusOK:
		return CodeInvalidResponse
	}
	return CodeUnavailable // unreachable, a server error without a code, or no usable discovery
}

// proofOf takes the authentication facts from verified ID token claims.
func proofOf(claims map[string]any) *trust.ProofFacts {
	p := &trust.ProofFacts{AMR: policy.AMRValues(claims["amr"])}
	p.ACR, _ = claims["acr"].(string)
	if at, ok := policy.NumericClaim(claims["auth_time"]); ok {
		p.AuthTime = time.Unix(at, 0).UTC()
	}
	return p
}

// audit records one transition. A record that cannot be written is logged:
// the IdP's answer is already stored and the request's status reports it.
// (An approval is recorded with record before it counts; see settle.)
func (r *Runner) audit(ctx context.Context, o Offer, outcome, code, reason string, proof *trust.ProofFacts) {
	if err := r.record(ctx, o, outcome, code, reason, proof); err != nil {
		r.log.ErrorContext(ctx, "ciba transition could not be audited", "id", o.ID, "decision_id", o.DecisionID, "outcome", outcome, "err", err)
	}
}

// record writes one transition's audit record.
func (r *Runner) record(ctx context.Context, o Offer, outcome, code, reason string, proof *trust.ProofFacts) error {
	if r.cfg.Audit == nil {
		return nil
	}
	ev := flow.Event{Time: r.cfg.Now(), Kind: flow.KindCIBA, DecisionID: o.DecisionID, ClientID: o.ClientID,
		Subject: o.Subject, Issuer: o.Issuer, Action: o.Action, Outcome: outcome, Code: code, CIBAID: o.ID,
		Reasons: []string{}, Proof: proof}
	if reason != "" {
		ev.Reasons = []string{reason}
	}
	return r.cfg.Audit.RecordFlow(ctx, ev)
}
