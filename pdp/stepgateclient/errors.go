package stepgateclient

import (
	"errors"
	"fmt"
	"net/http"
)

// Why a step-up callback failed. A *CallbackError matches exactly one of
// them with errors.Is.
var (
	// ErrCancelled: the user cancelled at the IdP (error=access_denied).
	ErrCancelled = errors.New("step-up cancelled by the user")
	// ErrExpired: the step-up took longer than its transaction allows.
	ErrExpired = errors.New("step-up expired")
	// ErrUnknownState: the callback's state matches no step-up started in
	// this browser (altered, or the browser lost the cookie).
	ErrUnknownState = errors.New("no pending step-up for this state")
	// ErrReplayed: the callback of a step-up already taken came again
	// (Back, reload, a copied URL).
	ErrReplayed = errors.New("step-up callback already used")
	// ErrRefused: stepgate did not accept the sign-in; Code says why.
	ErrRefused = errors.New("step-up refused by stepgate")
	// ErrProvider: the IdP answered with an error other than a
	// cancellation, or its token endpoint refused the code.
	ErrProvider = errors.New("identity provider error")
	// ErrUnavailable: the IdP or stepgate could not be reached.
	ErrUnavailable = errors.New("step-up could not be checked")
)

// ErrNoPending is ErrUnknownState under its earlier name.
var ErrNoPending = ErrUnknownState

// CallbackError says why a step-up callback failed, with what the app
// needs to log it and to offer a way back.
type CallbackError struct {
	// Kind is one of the Err* sentinels above.
	Kind error
	// Code is stepgate's verify error code (ErrRefused, ErrExpired,
	// ErrReplayed) or the IdP's OAuth error code (ErrCancelled,
	// ErrProvider); "" when there is none.
	Code string
	// Description is the IdP's or stepgate's wording, for logs only: it
	// may name engine details a user should not read.
	Description string
	// DecisionID is the step_up decision the callback belongs to ("" for
	// an unknown state).
	DecisionID string
	// TransactionID is stepgate's step-up transaction ("" when unknown).
	TransactionID string
	// ReturnTo is the page the user wanted, relative to the app ("" when
	// unknown).
	ReturnTo string
	// Err is the underlying failure, if any.
	Err error
}

func (e *CallbackError) Error() string {
	msg := "step-up callback: " + e.Kind.Error()
	if e.Code != "" {
		msg += " (" + e.Code + ")"
	}
	if e.Description != "" {
		msg += ": " + e.Description
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap makes errors.Is match the Kind and the underlying error.
func (e *CallbackError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// Status is the HTTP status the default error page answers with.
func (e *CallbackError) Status() int {
	switch e.Kind {
	case ErrCancelled, ErrRefused:
		return http.StatusForbidden
	case ErrExpired:
		return http.StatusGone
	case ErrReplayed:
		return http.StatusConflict
	case ErrProvider:
		return http.StatusBadGateway
	case ErrUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusBadRequest
}

// stepgate's verify error codes the callback tells apart (see
// POST /v1/stepup/verify).
const (
	codeUnknownTransaction = "unknown_transaction"
	codeTransactionUsed    = "transaction_used"
	codeTransactionExpired = "transaction_expired"
	codeUnavailable        = "temporarily_unavailable"
	codeInsufficient       = "insufficient_authentication"
	codeStaleAuthTime      = "stale_auth_time"
	codeMissingAuthTime    = "missing_auth_time"
	codeSubjectMismatch    = "subject_mismatch"
)

// verifyFailure classifies a failed VerifyStepUp.
func verifyFailure(err error, p Pending) *CallbackError {
	ce := &CallbackError{Kind: ErrUnavailable, DecisionID: p.DecisionID, TransactionID: p.TransactionID,
		ReturnTo: p.ReturnTo, Err: err}
	var se *Error
	if !errors.As(err, &se) {
		return ce
	}
	ce.Code, ce.Description = se.Code, se.Description
	switch {
	case se.Code == codeTransactionUsed:
		ce.Kind = ErrReplayed
	case se.Code == codeTransactionExpired || se.Code == codeUnknownTransaction:
		ce.Kind = ErrExpired
	case se.Code == codeUnavailable || se.Status >= 500 || se.Status == http.StatusUnauthorized:
		ce.Kind = ErrUnavailable // stepgate down, or the app's key refused: not the user's doing
	default:
		ce.Kind = ErrRefused
	}
	return ce
}

// storeFailure wraps a StepUpStore error.
func storeFailure(err error, p Pending) *CallbackError {
	ce := &CallbackError{DecisionID: p.DecisionID, ReturnTo: p.ReturnTo, TransactionID: p.TransactionID}
	switch {
	case errors.Is(err, ErrReplayed):
		ce.Kind = ErrReplayed
	case errors.Is(err, ErrExpired):
		ce.Kind = ErrExpired
	case errors.Is(err, ErrUnknownState):
		ce.Kind = ErrUnknownState
	default:
		ce.Kind, ce.Err = ErrUnavailable, fmt.Errorf("step-up store: %w", err)
	}
	return ce
}
