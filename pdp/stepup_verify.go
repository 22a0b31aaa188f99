package pdp

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
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
}

// VerifyStepUp checks the ID token the user came back with against the
// transaction the step-up created. The transaction is consumed first, so
// every transaction is tried at most once whatever the outcome: a token
// cannot be retried against it, and an attacker cannot probe it.
//
// The token must be valid for the transaction's issuer and app client; its
// nonce must equal the transaction's; auth_time must be present and not
// earlier than when the step-up was issued (less AuthTimeSkew) — this, not
// prompt=login, proves that the user authenticated again; amr/acr must meet
// the requirement; and the subject must be the user who was stepped up.
func (s *Service) VerifyStepUp(ctx context.Context, c Client, transactionID, idToken string) (*StepUpResult, error) {
	if transactionID == "" || idToken == "" {
		return nil, verifyErr(VerifyInvalidRequest, "transaction_id and id_token are required")
	}
	tx, err := s.cfg.Transactions.ConsumeStepUp(ctx, transactionID, s.now())
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
	claims := tok.Claims
	if nonce, _ := claims["nonce"].(string); nonce != tx.Nonce {
		return nil, verifyErr(VerifyNonceMismatch, "the ID token's nonce does not match the step-up request")
	}
	if tx.Subject != "" && tok.Subject != tx.Subject {
		return nil, verifyErr(VerifySubjectMismatch, "the ID token is for another user than the one stepped up")
	}
	authTime, ok := claimInt(claims["auth_time"])
	if !ok {
		return nil, verifyErr(VerifyMissingAuthTime, "the ID token has no auth_time, so a fresh authentication is not proven")
	}
	issued := tx.IssuedAt.Add(-s.cfg.AuthTimeSkew).Unix()
	if authTime < issued {
		return nil, verifyErr(VerifyStaleAuthTime, "auth_time %d is before the step-up was requested (%d): the user did not authenticate again",
			authTime, tx.IssuedAt.Unix())
	}
	authn := NormalizeAuthn(claims, tokMFAACR(tok, tx), s.now().Unix())
	if ok, why := tx.Requirements.Satisfies(authn, s.now().Unix()); !ok {
		return nil, verifyErr(VerifyInsufficient, "%s (required: %s; got amr %v, acr %q)", why, describe(tx.Requirements), authn.Methods, authn.ACR)
	}
	return &StepUpResult{Claims: claims, Transaction: tx}, nil
}

func tokMFAACR(tok *Token, tx Transaction) []string {
	acr := tok.Issuer.EffectiveMFAACRValues()
	if len(acr) == 0 && slices.Contains(tx.Requirements.AMRAny, "mfa") {
		// The acr values sent for "mfa" are the ones that mean MFA.
		return tx.Requirements.ACRValues
	}
	return acr
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
	if len(parts) == 0 {
		return "a fresh authentication"
	}
	return strings.Join(parts, "; ")
}
