package pdp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Error codes of step-up verification, returned as `error` by
// POST /v1/stepup/verify.
const (
	VerifyInvalidRequest     = "invalid_request"
	VerifyUnknownTransaction = "unknown_transaction"
	VerifyTransactionUsed    = "transaction_used"
	VerifyTransactionExpired = "transaction_expired"
	VerifyInvalidToken       = "invalid_token"
	VerifyNonceMismatch      = "nonce_mismatch"
	VerifyMissingAuthTime    = "missing_auth_time"
	VerifyStaleAuthTime      = "stale_auth_time"
	VerifyInsufficient       = "insufficient_authentication"
	VerifySubjectMismatch    = "subject_mismatch"
	VerifyUnavailable        = "temporarily_unavailable"
)

// VerifyError says why a step-up could not be verified.
type VerifyError struct {
	Code        string
	Description string
	Err         error
}

func (e *VerifyError) Error() string { return "step-up verification: " + e.Code + ": " + e.Description }
func (e *VerifyError) Unwrap() error { return e.Err }

func verifyErr(code, format string, args ...any) *VerifyError {
	return &VerifyError{Code: code, Description: fmt.Sprintf(format, args...)}
}

// StepUpResult is a successfully verified step-up.
type StepUpResult struct {
	Claims      map[string]any
	Transaction Transaction
	// Proof holds the authentication facts the ID token showed.
	Proof ProofFacts
}

// VerifyStepUp checks the ID token the user came back with against the
// transaction the step-up created (see CheckProof for what it must show),
// and records the attempt, accepted or refused, in the audit trail linked to
// the decision. The transaction is consumed first, so every transaction is
// tried at most once whatever the outcome: a token cannot be retried against
// it, and an attacker cannot probe it. An accepted step-up that cannot be
// recorded is refused (temporarily_unavailable): no proof without a record.
func (s *Service) VerifyStepUp(ctx context.Context, c Client, transactionID, idToken string) (*StepUpResult, error) {
	now := s.now()
	ev := FlowEvent{Time: now, Kind: FlowStepUp, ClientID: c.ID, StepUpID: auditableID(transactionID)}
	res, verr := s.verifyStepUp(ctx, c, transactionID, idToken, now, &ev)
	if verr == nil {
		ev.Outcome = "verified"
		ev.Reasons = []string{"step-up verified: " + describe(res.Transaction.Requirements) + " met"}
	} else {
		ev.Outcome, ev.Code, ev.Reasons = verr.Code, verr.Code, []string{verr.Description}
	}
	if s.cfg.Flows != nil {
		if err := s.cfg.Flows.RecordFlow(ctx, ev); err != nil {
			s.log.ErrorContext(ctx, "step-up verification could not be audited", "decision_id", ev.DecisionID, "outcome", ev.Outcome, "err", err)
			if verr == nil {
				return nil, &VerifyError{Code: VerifyUnavailable, Description: "the verification could not be recorded; start a new step-up", Err: err}
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
func (s *Service) verifyStepUp(ctx context.Context, c Client, transactionID, idToken string, now time.Time, ev *FlowEvent) (*StepUpResult, *VerifyError) {
	if transactionID == "" || idToken == "" {
		return nil, verifyErr(VerifyInvalidRequest, "transaction_id and id_token are required")
	}
	tx, err := s.cfg.Transactions.ConsumeStepUp(ctx, transactionID, now)
	if tx.ClientID == c.ID {
		// Also for a used or expired transaction: the refusal belongs to
		// its decision in the trail.
		ev.DecisionID, ev.Subject, ev.Issuer, ev.Action = tx.DecisionID, tx.Subject, tx.Issuer, tx.Action
	}
	switch {
	case errors.Is(err, ErrTransactionNotFound):
		return nil, verifyErr(VerifyUnknownTransaction, "no such step-up transaction")
	case errors.Is(err, ErrTransactionUsed):
		return nil, verifyErr(VerifyTransactionUsed, "the step-up transaction was already used; start a new step-up")
	case errors.Is(err, ErrTransactionExpired):
		return nil, verifyErr(VerifyTransactionExpired, "the step-up transaction expired; start a new step-up")
	case err != nil:
		return nil, &VerifyError{Code: VerifyUnavailable, Description: "the step-up transaction could not be read", Err: err}
	}
	if tx.ClientID != c.ID {
		// Do not reveal that the transaction exists for someone else.
		return nil, verifyErr(VerifyUnknownTransaction, "no such step-up transaction")
	}
	tok, err := s.cfg.Verifier.VerifyIDToken(ctx, idToken, tx.Issuer, tx.AppClientID)
	if err != nil {
		return nil, &VerifyError{Code: VerifyInvalidToken, Description: err.Error(), Err: err}
	}
	if ev.Subject == "" {
		ev.Subject = tok.Subject
	}
	facts, verr := CheckProof(tok.Claims, Proof{Nonce: tx.Nonce, Subject: tx.Subject, Requirements: tx.Requirements,
		RequestedAt: tx.IssuedAt, Skew: s.cfg.AuthTimeSkew, MFAACR: tok.Issuer.EffectiveMFAACRValues()}, now)
	ev.Proof = &facts
	if verr != nil {
		return nil, verr
	}
	return &StepUpResult{Claims: tok.Claims, Transaction: tx, Proof: facts}, nil
}

// auditableID keeps a caller-supplied transaction id for the audit record
// only when it looks like one stepgate issues.
func auditableID(id string) string {
	if len(id) > 64 || !ValidSessionID(id) {
		return ""
	}
	return id
}

func describe(r Requirements) string {
	var parts []string
	if len(r.AMRAny) > 0 {
		parts = append(parts, "amr any of "+strings.Join(r.AMRAny, ","))
	}
	if len(r.ACRValues) > 0 {
		parts = append(parts, "acr one of "+strings.Join(r.ACRValues, ","))
	}
	if r.MaxAge != nil {
		parts = append(parts, fmt.Sprintf("max_age %d", *r.MaxAge))
	}
	if r.NeedsFreshLogin() {
		parts = append(parts, "a fresh login")
	}
	if len(parts) == 0 {
		return "an authentication"
	}
	return strings.Join(parts, "; ")
}
