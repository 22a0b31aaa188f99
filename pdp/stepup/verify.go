package stepup

import (
	"context"
	"errors"
	"time"

	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/flow"
	"github.com/stepgate/stepgate/pdp/session"
	"github.com/stepgate/stepgate/pdp/trust"
)

// Result is a successfully verified step-up.
type Result struct {
	Claims      map[string]any
	Transaction Transaction
	// Proof holds the authentication facts the ID token showed.
	Proof trust.ProofFacts
}

// Verify checks the ID token the user came back with against the
// transaction the step-up created (see CheckProof for what it must show),
// and records the attempt, accepted or refused, in the audit trail linked to
// the decision. The transaction is consumed first, so every transaction is
// tried at most once whatever the outcome: a token cannot be retried against
// it, and an attacker cannot probe it. Only the client that asked for the
// step-up can consume it: any other gets unknown_transaction, as for an id
// that does not exist, and the transaction stays usable. An accepted
// step-up that cannot be recorded is refused (temporarily_unavailable): no
// proof without a record.
func (s *Service) Verify(ctx context.Context, c clientauth.Client, transactionID, idToken string) (*Result, error) {
	now := s.now()
	ev := flow.Event{Time: now, Kind: flow.KindStepUp, ClientID: c.ID, StepUpID: auditableID(transactionID)}
	res, verr := s.verifyStepUp(ctx, c, transactionID, idToken, now, &ev)
	if verr == nil {
		ev.Outcome = "verified"
		ev.Reasons = []string{"step-up verified: " + res.Transaction.Requirements.Describe() + " met"}
	} else {
		ev.Outcome, ev.Code, ev.Reasons = verr.Code, verr.Code, []string{verr.Description}
	}
	if s.cfg.Flows != nil {
		if err := s.cfg.Flows.RecordFlow(ctx, ev); err != nil {
			s.log.ErrorContext(ctx, "step-up verification could not be audited", "decision_id", ev.DecisionID, "outcome", ev.Outcome, "err", err)
			if verr == nil {
				return nil, &trust.VerifyError{Code: trust.VerifyUnavailable, Description: "the verification could not be recorded; start a new step-up", Err: err}
			}
		}
	}
	if verr != nil {
		return nil, verr
	}
	return res, nil
}

// verifyStepUp does the checks and fills what the audit record should say
// about the transaction and the token into ev.
func (s *Service) verifyStepUp(ctx context.Context, c clientauth.Client, transactionID, idToken string, now time.Time, ev *flow.Event) (*Result, *trust.VerifyError) {
	if transactionID == "" || idToken == "" {
		return nil, trust.VerifyErrorf(trust.VerifyInvalidRequest, "transaction_id and id_token are required")
	}
	// Bound to the client that asked: another client's transaction is not
	// found, and stays usable for its owner.
	tx, err := s.cfg.Transactions.ConsumeStepUp(ctx, transactionID, c.ID, now)
	if tx.ClientID == c.ID {
		// Also for a used or expired transaction: the refusal belongs to
		// its decision in the trail.
		ev.DecisionID, ev.Subject, ev.Issuer, ev.Action = tx.DecisionID, tx.Subject, tx.Issuer, tx.Action
	}
	switch {
	case errors.Is(err, ErrTransactionNotFound):
		return nil, trust.VerifyErrorf(trust.VerifyUnknownTransaction, "no such step-up transaction")
	case errors.Is(err, ErrTransactionUsed):
		return nil, trust.VerifyErrorf(trust.VerifyTransactionUsed, "the step-up transaction was already used; start a new step-up")
	case errors.Is(err, ErrTransactionExpired):
		return nil, trust.VerifyErrorf(trust.VerifyTransactionExpired, "the step-up transaction expired; start a new step-up")
	case err != nil:
		return nil, &trust.VerifyError{Code: trust.VerifyUnavailable, Description: "the step-up transaction could not be read", Err: err}
	}
	if tx.ClientID != c.ID {
		// A store that ignored the binding: still refuse, and say no more
		// than for an unknown id.
		return nil, trust.VerifyErrorf(trust.VerifyUnknownTransaction, "no such step-up transaction")
	}
	tok, err := s.cfg.Verifier.VerifyIDToken(ctx, idToken, tx.Issuer, tx.AppClientID)
	if err != nil {
		return nil, &trust.VerifyError{Code: trust.VerifyInvalidToken, Description: err.Error(), Err: err}
	}
	if ev.Subject == "" {
		ev.Subject = tok.Subject
	}
	facts, verr := trust.CheckProof(tok.Claims, trust.Proof{Nonce: tx.Nonce, Subject: tx.Subject, Requirements: tx.Requirements,
		RequestedAt: tx.IssuedAt, Skew: s.cfg.Skew, MFAACR: tok.Issuer.EffectiveMFAACRValues()}, now)
	ev.Proof = &facts
	if verr != nil {
		return nil, verr
	}
	return &Result{Claims: tok.Claims, Transaction: tx, Proof: facts}, nil
}

// auditableID keeps a caller-supplied transaction id for the audit record
// only when it looks like one stepgate issues.
func auditableID(id string) string {
	if len(id) > 64 || !session.ValidSessionID(id) {
		return ""
	}
	return id
}
